package api

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/account"
	"github.com/stratavideo/strata/origin/caption"
	"github.com/stratavideo/strata/origin/httperr"
)

// Caption is the API's view of a caption track.
type Caption struct {
	Lang      string    `json:"lang"`
	Label     string    `json:"label"`
	URL       string    `json:"url"`
	SizeBytes int64     `json:"size_bytes"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CaptionFile is a caption's WebVTT file under /media/{id}/; the media
// handler serves it from the replicated store.
func CaptionFile(lang string) string { return "captions/" + lang + ".vtt" }

func captionViews(v *model.Video) []Caption {
	out := make([]Caption, 0, len(v.Captions))
	for _, c := range v.Captions {
		out = append(out, Caption{Lang: c.Lang, Label: c.Label, URL: MediaURL(v.ID, CaptionFile(c.Lang)),
			SizeBytes: c.SizeBytes, UpdatedAt: c.UpdatedAt})
	}
	return out
}

// maxCaptionLabel bounds a caption's label, as the store does.
const maxCaptionLabel = 100

func (h *Handler) listCaptions(w http.ResponseWriter, r *http.Request) {
	if p, ok := h.parts(w); ok {
		h.runListCaptions(w, r, p.Node)
	}
}

func (h *Handler) putCaption(w http.ResponseWriter, r *http.Request) {
	if p, ok := h.parts(w); ok {
		h.runPutCaption(w, r, p.Node)
	}
}

func (h *Handler) deleteCaption(w http.ResponseWriter, r *http.Request) {
	if p, ok := h.parts(w); ok {
		h.runDeleteCaption(w, r, p.Node)
	}
}

// runListCaptions: GET /api/v1/videos/{id}/captions — whoever may see the
// video may see its captions (with the media token on a private video's
// URLs, as on its manifests).
func (h *Handler) runListCaptions(w http.ResponseWriter, r *http.Request, n *cluster.Node) {
	v, err := n.Video(r.PathValue("id"))
	if err != nil || !visibleByID(r, v) {
		httperr.NotFound(w, "video")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"captions": h.viewFor(v, account.FromContext(r.Context())).Captions})
}

// runPutCaption: PUT /api/v1/videos/{id}/captions/{lang}?label= with a
// WebVTT or SRT body. It is authorised as PATCH of the video is (404 for
// a video the caller cannot see, then 401/403 unless owner, moderator or
// admin), then checks the language, the label, the size (413) and the
// cues (400, with the reason), and replicates the WebVTT text. 201 for a
// new language, 200 for a replaced one.
func (h *Handler) runPutCaption(w http.ResponseWriter, r *http.Request, n *cluster.Node) {
	v, lang, label, ok := captionTarget(w, r, n)
	if !ok {
		return
	}
	id := v.ID
	if l := strings.TrimSpace(r.URL.Query().Get("label")); l != "" {
		label = l
	}
	if utf8.RuneCountInString(label) > maxCaptionLabel || !caption.LabelOK(label) {
		httperr.BadRequest(w, "the label must have at most 100 characters, without double quotes or control characters")
		return
	}
	body, ok := readCaptionBody(w, r)
	if !ok {
		return
	}
	vtt, _, err := caption.ToWebVTT(body)
	if err != nil {
		httperr.BadRequest(w, captionMessage(err))
		return
	}
	if len(vtt) > command.MaxCaptionBytes {
		tooLarge(w)
		return
	}
	existed := v.Caption(lang) != nil
	res, err := n.Apply(r.Context(), &command.SetCaption{Stamp: command.Stamp{At: time.Now().UTC()},
		VideoID: id, Lang: lang, Label: label, VTT: vtt})
	if err != nil {
		h.writeStoreError(w, err, "video")
		return
	}
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	for _, c := range h.viewFor(res.(*model.Video), account.FromContext(r.Context())).Captions {
		if c.Lang == lang {
			writeJSON(w, status, c)
			return
		}
	}
	httperr.Internal(w)
}

// captionTarget authorises a caption change as PATCH of the video is (404
// for a video the caller cannot see, then 401/403) and reads the language
// from the path; it has answered when ok is false.
func captionTarget(w http.ResponseWriter, r *http.Request, n *cluster.Node) (v *model.Video, lang, label string, ok bool) {
	v, err := n.Video(r.PathValue("id"))
	if err != nil || !visibleByID(r, v) {
		httperr.NotFound(w, "video")
		return nil, "", "", false
	}
	if !editable(w, r, v) {
		return nil, "", "", false
	}
	if lang, label, err = caption.Lang(r.PathValue("lang")); err != nil {
		httperr.BadRequest(w, captionMessage(err))
		return nil, "", "", false
	}
	return v, lang, label, true
}

// runDeleteCaption: DELETE /api/v1/videos/{id}/captions/{lang}, authorised
// as the video's PATCH; 204, or 404 when there is no such caption.
func (h *Handler) runDeleteCaption(w http.ResponseWriter, r *http.Request, n *cluster.Node) {
	v, lang, _, ok := captionTarget(w, r, n)
	if !ok {
		return
	}
	id := v.ID
	_, err := n.Apply(r.Context(), &command.DeleteCaption{Stamp: command.Stamp{At: time.Now().UTC()}, VideoID: id, Lang: lang})
	if err != nil {
		h.writeStoreError(w, err, "caption")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readCaptionBody reads at most MaxCaptionBytes, answering 413 for more:
// before reading when Content-Length says so, else as the limit is hit.
func readCaptionBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > command.MaxCaptionBytes {
		tooLarge(w)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, command.MaxCaptionBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		tooLarge(w)
		return nil, false
	case err != nil:
		httperr.BadRequest(w, "the caption file could not be read: "+err.Error())
		return nil, false
	}
	return body, true
}

func tooLarge(w http.ResponseWriter) {
	httperr.Write(w, http.StatusRequestEntityTooLarge, "too_large", "a caption file is at most 1 MiB")
}

// captionMessage is the refusal's reason without the package's prefix.
func captionMessage(err error) string {
	return strings.TrimPrefix(err.Error(), caption.ErrInvalid.Error()+": ")
}
