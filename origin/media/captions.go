package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/origin"
	"github.com/stratavideo/strata/origin/blobstore"
	"github.com/stratavideo/strata/origin/httperr"
)

// Captions are not blobs: their WebVTT text is in the replicated store, so
// any node serves /media/{id}/captions/{lang}.vtt and the one-segment HLS
// subtitle playlist captions/{lang}.m3u8 from its own replica. The
// transcoder's manifests know nothing of them; the master playlist and the
// MPD are rewritten on the way out to list the captions a video has now,
// so adding a caption never touches the media store. A rewritten
// manifest's ETag is the digest of what is sent, so edges revalidating by
// ETag see every change of the caption set.

// subtitleGroup is the HLS GROUP-ID of the caption renditions.
const subtitleGroup = "subs"

// maxManifest bounds a manifest read into memory for rewriting.
const maxManifest = 4 << 20

// captionsDir is the folder the caption files appear in.
const captionsDir = "captions/"

// serveCaption answers captions/{lang}.vtt and captions/{lang}.m3u8.
func (h *Handler) serveCaption(w http.ResponseWriter, r *http.Request, p origin.Parts, v *model.Video, file string) {
	name := strings.TrimPrefix(file, captionsDir)
	lang, ext, ok := strings.Cut(name, ".")
	if !ok || strings.Contains(ext, ".") || (ext != "vtt" && ext != "m3u8") {
		httperr.NotFound(w, "caption")
		return
	}
	c := v.Caption(lang)
	if c == nil {
		httperr.NotFound(w, "caption")
		return
	}
	var body []byte
	if ext == "m3u8" {
		body = captionPlaylist(lang, v.DurationS)
	} else {
		text, err := p.Node.CaptionText(v.ID, lang)
		if errors.Is(err, store.ErrNotFound) {
			httperr.NotFound(w, "caption")
			return
		}
		if err != nil {
			h.log.Error("caption text", "video_id", v.ID, "lang", lang, "error", err)
			httperr.Internal(w)
			return
		}
		body = text
	}
	h.setHeaders(w, file, file)
	if v.Visibility == model.Private {
		privateCache(w)
	}
	serveBytes(w, r, file, c.UpdatedAt, body)
}

// serveBytes answers with body, its digest as the ETag; ServeContent does
// ranges, conditional requests and HEAD.
func serveBytes(w http.ResponseWriter, r *http.Request, name string, mod time.Time, body []byte) {
	sum := sha256.Sum256(body)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	http.ServeContent(w, r, name, mod, bytes.NewReader(body))
}

// captionPlaylist is the HLS media playlist of one caption: its WebVTT
// file as a single segment spanning the video.
func captionPlaylist(lang string, durationS float64) []byte {
	d := max(durationS, 0.001)
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n")
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", int(math.Ceil(d)))
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n")
	fmt.Fprintf(&b, "#EXTINF:%s,\n%s.vtt\n#EXT-X-ENDLIST\n", strconv.FormatFloat(d, 'f', 3, 64), lang)
	return b.Bytes()
}

// serveRewritten answers the master playlist or the MPD of a video with
// captions, rewritten to list them, and with content steering when edges
// serve the request (steer.go). It reports false for any other file, and
// for a manifest with nothing to add.
func (h *Handler) serveRewritten(w http.ResponseWriter, r *http.Request, p origin.Parts, v *model.Video, file, key string) bool {
	if file != v.Master && file != v.DASH {
		return false
	}
	pathways, perViewer := h.steer(r, p, v)
	if len(v.Captions) == 0 && len(pathways) == 0 {
		return false
	}
	data, mod, err := h.readManifest(r, p, v.ID, file, key)
	if blobstore.IsNotFound(err) {
		httperr.NotFound(w, "media file")
		return true
	}
	if err != nil {
		h.log.Error("read manifest", "key", key, "error", err)
		httperr.Internal(w)
		return true
	}
	out := data
	if len(v.Captions) > 0 {
		if file == v.Master {
			out, err = rewriteMaster(data, v.Captions)
		} else {
			out, err = rewriteMPD(data, v.Captions, v.DurationS)
		}
		if err != nil {
			// A manifest that cannot be rewritten still plays, without
			// captions: better than no video.
			h.log.Error("add captions to manifest", "key", key, "error", err)
			out = data
		}
	}
	out = h.addSteering(out, file == v.Master, v.ID, pathways, key)
	h.setHeaders(w, key, file)
	if v.Visibility == model.Private || perViewer {
		privateCache(w)
	}
	serveBytes(w, r, file, mod, out)
	return true
}

// readManifest reads a manifest from this origin's media store or, when
// it holds no copy, from an origin that does.
func (h *Handler) readManifest(r *http.Request, p origin.Parts, id, file, key string) ([]byte, time.Time, error) {
	ctx := r.Context()
	attrs, err := p.Media.Attributes(ctx, key)
	if err == nil {
		if attrs.Size > maxManifest {
			return nil, time.Time{}, fmt.Errorf("manifest %s of %d bytes is too large to rewrite", key, attrs.Size)
		}
		data, err := p.Media.ReadAll(ctx, key)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("read %s: %w", key, err)
		}
		return data, attrs.ModTime, nil
	}
	if !blobstore.IsNotFound(err) || p.Replicas == nil {
		return nil, time.Time{}, err
	}
	return proxyRead(ctx, r, p, id, file)
}

// proxyRead fetches a whole file from an origin that holds it, without
// the client's conditional or range headers (the rewritten answer has its
// own).
func proxyRead(ctx context.Context, r *http.Request, p origin.Parts, id, file string) ([]byte, time.Time, error) {
	req := r.Clone(ctx)
	req.Method = http.MethodGet
	for _, hd := range []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"} {
		req.Header.Del(hd)
	}
	cw := &captureWriter{hdr: http.Header{}}
	if !p.Replicas.Proxy(cw, req, model.KindMedia, id, file) {
		return nil, time.Time{}, fmt.Errorf("%s/%s: no holder answered: %w", id, file, blobstore.ErrNotFound)
	}
	if cw.code != http.StatusOK || cw.over {
		return nil, time.Time{}, fmt.Errorf("%s/%s from a holder: HTTP %d (over the limit: %v)", id, file, cw.code, cw.over)
	}
	mod, _ := http.ParseTime(cw.hdr.Get("Last-Modified"))
	return cw.buf.Bytes(), mod, nil
}

// captureWriter keeps a proxied answer in memory, up to maxManifest.
type captureWriter struct {
	hdr  http.Header
	code int
	buf  bytes.Buffer
	over bool
}

func (c *captureWriter) Header() http.Header { return c.hdr }

func (c *captureWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	if c.buf.Len()+len(b) > maxManifest {
		c.over = true
		return 0, errors.New("manifest too large")
	}
	return c.buf.Write(b)
}
