// Package media serves a video's HLS/DASH manifests, segments and images
// from the media blob store: the Caddy HTTP handler strata_media, under
// /media/{id}/{file}.
//
// Segments never change once written (a re-transcode writes new names), so
// they are immutable for a year; manifests and images are revalidated with
// their ETag on every use, which costs a 304 and keeps an edit visible.
package media

import (
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/mediatoken"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/reqid"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/origin"
	"github.com/stratavideo/strata/origin/blobstore"
	"github.com/stratavideo/strata/origin/httperr"
	"github.com/stratavideo/strata/origin/process"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler serves /media/.
type Handler struct {
	origin *origin.Origin
	log    *slog.Logger
	tokens *mediatoken.Verifier
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.strata_media",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision finds the origin role.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.log = cluster.NewLogger(ctx)
	o, err := origin.FromApp(ctx)
	if err != nil {
		return err
	}
	h.origin = o
	h.tokens = mediatoken.NewVerifier(nodeKeys{o})
	return nil
}

// nodeKeys reads the signing keys from the running node; the node may not
// be up yet when the handler is provisioned.
type nodeKeys struct{ o *origin.Origin }

func (k nodeKeys) SigningKeys() (*model.SigningKeys, error) {
	p, err := k.o.Parts()
	if err != nil {
		return nil, err
	}
	return p.Node.SigningKeys()
}

// ServeHTTP implements caddyhttp.MiddlewareHandler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	reqid.Ensure(w, r)
	start := time.Now()
	rec := &cluster.StatusRecorder{ResponseWriter: w}
	err := h.serveMedia(rec, r)
	cluster.ObserveRequest(mediaRoute(r.URL.Path), rec.Status, time.Since(start))
	return err
}

// mediaRoute names a media request's route for the metrics by the kind
// of file: a label per video would be unbounded.
func mediaRoute(p string) string {
	kind := "other"
	switch path.Ext(p) {
	case ".m3u8", ".mpd":
		kind = "manifest"
	case ".m4s", ".mp4", ".ts", ".m4a", ".m4v":
		kind = "segment"
	case ".jpg", ".jpeg", ".webp", ".png":
		kind = "image"
	case ".vtt":
		kind = "caption"
	}
	return "media " + kind
}

func (h *Handler) serveMedia(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httperr.Write(w, http.StatusMethodNotAllowed, "method_not_allowed", "media is read-only")
		return nil
	}
	id, file, ok := splitPath(r.URL.Path)
	if !ok {
		httperr.NotFound(w, "media file")
		return nil
	}
	p, err := h.origin.Parts()
	if err != nil {
		httperr.Unavailable(w, "the node is starting; try again in a moment")
		return nil
	}
	h.serve(w, r, p, id, file)
	return nil
}

// serve answers a media request from the origin's parts: the video's
// state and access rule first, then the file.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, p origin.Parts, id, file string) {
	v, err := p.Node.Video(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		httperr.NotFound(w, "video")
		return
	case err != nil:
		h.log.Error("media lookup", "video_id", id, "error", err, "request_id", reqid.Of(r))
		httperr.Internal(w)
		return
	case !v.Playable():
		httperr.NotFound(w, "media file")
		return
	case v.Visibility == model.Private:
		// The token is in the query, which is never part of a cache key;
		// the API hands it to the owner and admins with the manifest URLs.
		if err := h.tokens.Verify(id, r.URL.Query().Get("token")); err != nil {
			httperr.Write(w, http.StatusForbidden, "forbidden", "this video is private: "+err.Error())
			return
		}
	}
	h.serveFile(w, r, p, v, file)
}

// serveFile answers one file of a ready video the caller may have.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, p origin.Parts, v *model.Video, file string) {
	id := v.ID
	if strings.HasPrefix(file, captionsDir) {
		h.serveCaption(w, r, p, v, file)
		return
	}
	key := process.MediaPrefix(id) + file
	if h.serveRewritten(w, r, p, v, file, key) {
		return
	}
	ctx := r.Context()
	attrs, err := p.Media.Attributes(ctx, key)
	if err != nil {
		if blobstore.IsNotFound(err) {
			// Another origin may hold the video's media.
			h.setHeaders(w, key, file)
			if v.Visibility == model.Private {
				privateCache(w)
			}
			if p.Replicas == nil || !p.Replicas.Proxy(w, r, model.KindMedia, id, file) {
				w.Header().Del("Content-Type")
				httperr.NotFound(w, "media file")
			}
			return
		}
		h.log.Error("media attributes", "key", key, "error", err)
		httperr.Internal(w)
		return
	}
	rd, err := p.Media.NewReader(ctx, key, nil)
	if err != nil {
		if blobstore.IsNotFound(err) {
			httperr.NotFound(w, "media file")
			return
		}
		h.log.Error("media open", "key", key, "error", err)
		httperr.Internal(w)
		return
	}
	defer rd.Close()

	h.setHeaders(w, key, file)
	if v.Visibility == model.Private {
		privateCache(w)
	}
	if attrs.ETag != "" {
		w.Header().Set("ETag", attrs.ETag)
	}
	// ServeContent answers Range (single and multiple), If-Range,
	// If-None-Match, If-Modified-Since and HEAD from the seekable reader.
	http.ServeContent(w, r, file, attrs.ModTime, rd)
	return
}

// setHeaders sets what every media answer carries.
func (h *Handler) setHeaders(w http.ResponseWriter, key, file string) {
	hdr := w.Header()
	hdr.Set("Content-Type", blobstore.ContentType(key))
	hdr.Set("Cache-Control", cacheControl(file))
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("X-Content-Type-Options", "nosniff")
}

// privateCache keeps shared caches from storing a private video's media:
// only the viewer's browser may keep it.
func privateCache(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", strings.Replace(w.Header().Get("Cache-Control"), "public", "private", 1))
}

// cacheControl: segments are immutable; everything else is revalidated.
func cacheControl(file string) string {
	if strings.HasSuffix(file, ".m4s") || strings.HasSuffix(file, ".mp4") || strings.HasSuffix(file, ".m4a") {
		return "public, max-age=31536000, immutable"
	}
	return "public, no-cache"
}

// splitPath reads /media/{id}/{file}, refusing anything that could leave
// the video's prefix.
func splitPath(p string) (id, file string, ok bool) {
	rest, found := strings.CutPrefix(p, "/media/")
	if !found {
		return "", "", false
	}
	id, file, found = strings.Cut(rest, "/")
	if !found || id == "" || file == "" || !safe(id) {
		return "", "", false
	}
	if path.Clean("/"+file) != "/"+file || strings.Contains(file, "..") {
		return "", "", false
	}
	for _, part := range strings.Split(file, "/") {
		if !safe(part) {
			return "", "", false
		}
	}
	return id, file, true
}

func safe(s string) bool {
	if s == "" || s[0] == '.' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
