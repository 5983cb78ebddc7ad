package api

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/stratavideo/strata/cluster/mediatoken"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin"
	"github.com/stratavideo/strata/origin/account"
	"github.com/stratavideo/strata/origin/httperr"
	"github.com/stratavideo/strata/origin/upload"
)

// authorizeUpload lets a logged-in user (or a token with the upload scope)
// upload, checks their quotas before tusd stores a byte, and keeps
// everyone else off an upload they did not start.
func (h *Handler) authorizeUpload(w http.ResponseWriter, r *http.Request, parts origin.Parts) (*http.Request, bool) {
	p := account.Need(w, r, model.ScopeUpload)
	if p == nil {
		return r, false
	}
	if r.Method == http.MethodPost {
		g := &upload.Grant{Owner: p.User.ID, Check: h.quotaCheck(p.User.ID)}
		return r.WithContext(upload.WithGrant(r.Context(), g)), true
	}
	// PATCH, HEAD, DELETE of an upload in progress: only its owner.
	if id := path.Base(r.URL.Path); id != "uploads" && id != "" {
		owner, err := parts.Uploads.Owner(r.Context(), id)
		if err == nil && owner != "" && owner != p.User.ID {
			httperr.Write(w, http.StatusForbidden, "forbidden", "this upload belongs to someone else")
			return r, false
		}
	}
	return r, true
}

// quotaCheck refuses an upload that would take the user past their storage
// or daily quota, read from the replicated account record.
func (h *Handler) quotaCheck(userID string) func(context.Context, int64) error {
	return func(_ context.Context, size int64) error {
		u, err := h.app.Node().User(userID)
		if err != nil {
			return fmt.Errorf("read account: %w", err)
		}
		if size < 0 && (u.StorageQuota > 0 || u.DailyUploadQuota > 0) {
			// A deferred length would let the bytes in before the quota
			// could be checked.
			return &upload.Refusal{Status: http.StatusLengthRequired, Code: "length_required",
				Message: "your account has a quota: say the upload's length (Upload-Length) when you create it"}
		}
		size = max(size, 0)
		if u.StorageQuota > 0 && u.StorageUsed+size > u.StorageQuota {
			return &upload.Refusal{Status: http.StatusRequestEntityTooLarge, Code: "quota_reached",
				Message: fmt.Sprintf("this upload would take you past your storage quota of %s (%s used)",
					humanize.IBytes(uint64(u.StorageQuota)), humanize.IBytes(uint64(u.StorageUsed)))}
		}
		var today int64
		if u.UploadDay == time.Now().UTC().Format(time.DateOnly) {
			today = u.UploadedToday
		}
		if u.DailyUploadQuota > 0 && today+size > u.DailyUploadQuota {
			return &upload.Refusal{Status: http.StatusRequestEntityTooLarge, Code: "quota_reached",
				Message: fmt.Sprintf("this upload would take you past your daily upload quota of %s (%s today)",
					humanize.IBytes(uint64(u.DailyUploadQuota)), humanize.IBytes(uint64(today)))}
		}
		return nil
	}
}

// myVideos is GET /api/v1/account/videos: the caller's own videos, every
// status and visibility, newest first.
func (h *Handler) myVideos(w http.ResponseWriter, r *http.Request) {
	p := account.Need(w, r, model.ScopeRead)
	if p == nil {
		return
	}
	limit, err := intParam(r, "limit", 50, 1, 500)
	if err != nil {
		httperr.BadRequest(w, err.Error())
		return
	}
	vs, err := h.app.Node().VideosOf(p.User.ID, limit)
	if err != nil {
		h.writeStoreError(w, err, "videos")
		return
	}
	out := make([]Video, 0, len(vs))
	for _, v := range vs {
		out = append(out, h.viewFor(v, p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"videos": out})
}

// viewFor is view(v) for a caller allowed to see it: a private video's
// media URLs carry a signed token, so the owner's player can fetch them.
// Players must add the same ?token= to every manifest, segment and image
// request, since relative URIs in a manifest drop the query.
func (h *Handler) viewFor(v *model.Video, p *account.Principal) Video {
	out := view(v)
	if v.Visibility != model.Private || !v.Playable() || !p.CanSee(v) {
		return out
	}
	tok, err := h.accounts.SignMedia(v.ID, mediatoken.DefaultTTL)
	if err != nil {
		h.log.Error("sign media token", "video_id", v.ID, "error", err)
		return out
	}
	urls := []*string{&out.HLS, &out.DASH, &out.Thumbnail, &out.Storyboard}
	for i := range out.Thumbnails {
		urls = append(urls, &out.Thumbnails[i].URL)
	}
	for i := range out.Captions {
		urls = append(urls, &out.Captions[i].URL)
	}
	for _, u := range urls {
		if *u != "" {
			*u += "?token=" + tok
		}
	}
	out.MediaToken = tok
	return out
}
