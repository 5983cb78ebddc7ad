package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/blobstore"
	"github.com/stratavideo/strata/origin/httperr"
	"github.com/stratavideo/strata/origin/process"
	"github.com/stratavideo/strata/origin/upload"
)

// visibleTo reports whether an anonymous viewer may see v by its ID.
// Private videos need an account (not yet built), so nobody sees them here.
func visibleByID(v *model.Video) bool { return v.Visibility != model.Private }

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

// listVideos: GET /api/v1/videos?limit=&cursor= — public, ready videos,
// newest first.
func (h *Handler) listVideos(w http.ResponseWriter, r *http.Request) {
	p, ok := h.parts(w)
	if !ok {
		return
	}
	limit, err := intParam(r, "limit", 20, 1, 100)
	if err != nil {
		httperr.BadRequest(w, err.Error())
		return
	}
	vs, next, err := p.Node.ListVideos(r.URL.Query().Get("cursor"), limit, listed)
	if err != nil {
		h.writeStoreError(w, err, "cursor")
		return
	}
	out := make([]Video, 0, len(vs))
	for _, v := range vs {
		out = append(out, view(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"videos": out, "next_cursor": next})
}

func (h *Handler) getVideo(w http.ResponseWriter, r *http.Request) {
	p, ok := h.parts(w)
	if !ok {
		return
	}
	v, err := p.Node.Video(r.PathValue("id"))
	if err == nil && !visibleByID(v) {
		httperr.NotFound(w, "video")
		return
	}
	if err != nil {
		h.writeStoreError(w, err, "video")
		return
	}
	writeJSON(w, http.StatusOK, view(v))
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
	if v, err := p.Node.Video(id); err != nil || !visibleByID(v) {
		httperr.NotFound(w, "video")
		return
	}
	var body patchBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
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
	writeJSON(w, http.StatusOK, view(res.(*model.Video)))
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
	if v, err := p.Node.Video(id); err != nil || !visibleByID(v) {
		httperr.NotFound(w, "video")
		return
	}
	if _, err := p.Node.Apply(r.Context(), &command.DeleteVideo{Stamp: command.Stamp{At: time.Now().UTC()}, ID: id}); err != nil {
		h.writeStoreError(w, err, "video")
		return
	}
	// The record is gone, so nothing links to the files any more; removing
	// them is cleanup that must not depend on the client waiting.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Minute)
	defer cancel()
	if err := blobstore.Delete(ctx, p.Raw, upload.RawKey(id)); err != nil {
		h.log.Warn("delete raw upload", "video_id", id, "error", err)
	}
	if err := blobstore.DeletePrefix(ctx, p.Media, process.MediaPrefix(id)); err != nil {
		h.log.Warn("delete media", "video_id", id, "error", err)
	}
	w.WriteHeader(http.StatusNoContent)
}

// search: GET /api/v1/search?q=&limit=&offset= on this node's index.
func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	p, ok := h.parts(w)
	if !ok {
		return
	}
	limit, err := intParam(r, "limit", 20, 1, index.MaxLimit)
	if err == nil {
		var offset int
		offset, err = intParam(r, "offset", 0, 0, 10000)
		if err == nil {
			h.runSearch(w, r, p.Node, limit, offset)
			return
		}
	}
	httperr.BadRequest(w, err.Error())
}

type searcher interface {
	Search(ctx context.Context, q index.Query) (*index.Result, error)
	Videos(ids []string) ([]*model.Video, error)
}

func (h *Handler) runSearch(w http.ResponseWriter, r *http.Request, s searcher, limit, offset int) {
	q := r.URL.Query().Get("q")
	if utf8.RuneCountInString(q) > 500 {
		httperr.BadRequest(w, "the query is longer than 500 characters")
		return
	}
	res, err := s.Search(r.Context(), index.Query{Text: q, Limit: limit, Offset: offset})
	if err != nil {
		h.writeStoreError(w, err, "search")
		return
	}
	ids := make([]string, len(res.Hits))
	scores := map[string]float64{}
	for i, hit := range res.Hits {
		ids[i] = hit.ID
		scores[hit.ID] = hit.Score
	}
	vs, err := s.Videos(ids)
	if err != nil {
		h.writeStoreError(w, err, "search")
		return
	}
	hits := make([]Video, 0, len(vs))
	for _, v := range vs {
		hv := view(v)
		sc := scores[v.ID]
		hv.Score = &sc
		hits = append(hits, hv)
	}
	writeJSON(w, http.StatusOK, map[string]any{"query": q, "total": res.Total, "hits": hits, "limit": limit, "offset": offset})
}
