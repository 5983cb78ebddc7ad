package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/jsonio"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/account"
	"github.com/stratavideo/strata/origin/httperr"
	"github.com/stratavideo/strata/origin/upload"
)

// visibleByID reports whether the caller may see v by its ID: anyone may
// see public and unlisted videos, only the owner and admins private ones.
func visibleByID(r *http.Request, v *model.Video) bool {
	return account.FromContext(r.Context()).CanSee(v)
}

// editable answers 401 or 403 and returns false unless the caller may
// change or delete v: its owner, a moderator or an admin.
func editable(w http.ResponseWriter, r *http.Request, v *model.Video) bool {
	p := account.Need(w, r, model.ScopeUpload)
	if p == nil {
		return false
	}
	if !p.CanEdit(v) {
		httperr.Write(w, http.StatusForbidden, "forbidden", "only the video's owner, moderators and admins may change it")
		return false
	}
	return true
}

// listed reports whether v belongs in public lists.
func listed(v *model.Video) bool {
	return v.Visibility == model.Public && v.Status == model.StatusReady
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// listVideos: GET /api/v1/videos?limit=&cursor=&owner= — public, ready
// videos, newest first. With owner (an account's name) only that account's
// videos, and the account's names beside them; the owner and admins see
// all of them, whatever their status and visibility. An unknown owner is
// a 404.
func (h *Handler) listVideos(w http.ResponseWriter, r *http.Request) {
	p, ok := h.parts(w)
	if !ok {
		return
	}
	h.runListVideos(w, r, p.Node)
}

func (h *Handler) runListVideos(w http.ResponseWriter, r *http.Request, n *cluster.Node) {
	limit, err := intParam(r, "limit", 20, 1, 100)
	if err != nil {
		httperr.BadRequest(w, err.Error())
		return
	}
	keep := listed
	var owner *Owner
	if name := r.URL.Query().Get("owner"); name != "" {
		u, err := n.UserByName(name)
		if err != nil {
			h.writeStoreError(w, err, "user")
			return
		}
		owner = &Owner{Name: u.Name, DisplayName: u.DisplayName}
		caller := account.FromContext(r.Context())
		all := caller != nil && (caller.User.ID == u.ID || caller.IsAdmin())
		keep = func(v *model.Video) bool { return v.Owner == u.ID && (all || listed(v)) }
	}
	vs, next, err := n.ListVideos(r.URL.Query().Get("cursor"), limit, keep)
	if err != nil {
		h.writeStoreError(w, err, "cursor")
		return
	}
	caller := account.FromContext(r.Context())
	names := ownerNames(n)
	out := make([]Video, 0, len(vs))
	for _, v := range vs {
		vv := h.viewFor(v, caller)
		names(&vv)
		out = append(out, vv)
	}
	body := map[string]any{"videos": out, "next_cursor": next}
	if owner != nil {
		body["owner"] = owner
	}
	writeJSON(w, http.StatusOK, body)
}

// Owner is an account as lists of its videos name it.
type Owner struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// ownerNames returns a function that fills in a view's owner names,
// reading each account once.
func ownerNames(n *cluster.Node) func(*Video) {
	seen := map[string]*model.User{}
	return func(v *Video) {
		if v.Owner == "" {
			return
		}
		u, ok := seen[v.Owner]
		if !ok {
			u, _ = n.User(v.Owner)
			seen[v.Owner] = u
		}
		if u != nil {
			v.OwnerName, v.OwnerDisplayName = u.Name, u.DisplayName
		}
	}
}

// getVideo: GET /api/v1/videos/{id}. Reads are local to the node; with
// ?consistent=1 the node first makes sure it has applied everything the
// leader had committed (a linearizable read), for callers that must see the
// latest state.
func (h *Handler) getVideo(w http.ResponseWriter, r *http.Request) {
	p, ok := h.parts(w)
	if !ok {
		return
	}
	if consistent(r) {
		if err := p.Node.ConsistentRead(r.Context()); err != nil {
			h.writeStoreError(w, err, "video")
			return
		}
	}
	v, err := p.Node.Video(r.PathValue("id"))
	if err == nil && !visibleByID(r, v) {
		httperr.NotFound(w, "video")
		return
	}
	if err != nil {
		h.writeStoreError(w, err, "video")
		return
	}
	out := h.viewFor(v, account.FromContext(r.Context()))
	ownerNames(p.Node)(&out)
	h.chooseEdge(r, p.Node, &out)
	writeJSON(w, http.StatusOK, out)
}

// patchBody is what PATCH takes; absent fields are left alone. Tags may be
// a list or a comma-separated string, as in the upload metadata.
type patchBody struct {
	Title       *string           `json:"title"`
	Description *string           `json:"description"`
	Tags        json.RawMessage   `json:"tags"`
	Visibility  *model.Visibility `json:"visibility"`
}

func (h *Handler) patchVideo(w http.ResponseWriter, r *http.Request) {
	p, ok := h.parts(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	v, err := p.Node.Video(id)
	if err != nil || !visibleByID(r, v) {
		httperr.NotFound(w, "video")
		return
	}
	if !editable(w, r, v) {
		return
	}
	var body patchBody
	if err := jsonio.ReadStrict(http.MaxBytesReader(w, r.Body, 64<<10), &body); err != nil {
		httperr.BadRequest(w, "the body must be a JSON object with title, description, tags or visibility: "+err.Error())
		return
	}
	c := &command.UpdateVideo{Stamp: command.Stamp{At: time.Now().UTC()}, ID: id,
		Description: body.Description, Visibility: body.Visibility}
	if body.Title != nil {
		t := strings.TrimSpace(*body.Title)
		if t == "" || utf8.RuneCountInString(t) > 200 {
			httperr.BadRequest(w, "the title must have 1 to 200 characters")
			return
		}
		c.Title = &t
	}
	if body.Description != nil && utf8.RuneCountInString(*body.Description) > 5000 {
		httperr.BadRequest(w, "the description must have at most 5000 characters")
		return
	}
	if body.Visibility != nil && !body.Visibility.Valid() {
		httperr.BadRequest(w, "visibility must be public, unlisted or private")
		return
	}
	if len(body.Tags) > 0 {
		tags, err := parseTagsJSON(body.Tags)
		if err != nil {
			httperr.BadRequest(w, err.Error())
			return
		}
		c.Tags = &tags
	}
	res, err := p.Node.Apply(r.Context(), c)
	if err != nil {
		h.writeStoreError(w, err, "video")
		return
	}
	writeJSON(w, http.StatusOK, h.viewFor(res.(*model.Video), account.FromContext(r.Context())))
}

func parseTagsJSON(raw json.RawMessage) ([]string, error) {
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return upload.NormalizeTags(list)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return upload.ParseTags(s)
	}
	return nil, fmt.Errorf("tags must be a list of strings or a comma-separated string")
}

// deleteVideo removes the video from the cluster, then its files.
func (h *Handler) deleteVideo(w http.ResponseWriter, r *http.Request) {
	p, ok := h.parts(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	v, err := p.Node.Video(id)
	if err != nil || !visibleByID(r, v) {
		httperr.NotFound(w, "video")
		return
	}
	if !editable(w, r, v) {
		return
	}
	// Every origin removes its own copies of the files when it applies the
	// delete (origin/replica), so nothing is left on a node that was not
	// asked.
	if _, err := p.Node.Apply(r.Context(), &command.DeleteVideo{Stamp: command.Stamp{At: time.Now().UTC()}, ID: id}); err != nil {
		h.writeStoreError(w, err, "video")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// consistent reports whether the caller asked for a linearizable read.
func consistent(r *http.Request) bool {
	switch r.URL.Query().Get("consistent") {
	case "1", "true", "yes":
		return true
	}
	return false
}
