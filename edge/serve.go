package edge

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stratavideo/strata/edge/cache"
	"github.com/stratavideo/strata/edge/flight"
	"github.com/stratavideo/strata/edge/ranges"
)

// X-Cache values: where the body came from.
const (
	xHitMem  = "HIT-MEM"
	xHitDisk = "HIT-DISK"
	xMiss    = "MISS"
	xStale   = "STALE"
)

// Shared header values. They are never modified, only assigned into
// response header maps, so every hit reuses them.
var (
	hdrBytes   = []string{"bytes"}
	hdrHitMem  = []string{xHitMem}
	hdrHitDisk = []string{xHitDisk}
	hdrMiss    = []string{xMiss}
	hdrStale   = []string{xStale}
)

func xcacheValue(x string) []string {
	switch x {
	case xHitMem:
		return hdrHitMem
	case xHitDisk:
		return hdrHitDisk
	case xStale:
		return hdrStale
	default:
		return hdrMiss
	}
}

// plain reports whether r asks for the whole object without conditions:
// the case the hit path answers without parsing anything.
func plain(r *http.Request) bool {
	h := r.Header
	return len(h["Range"]) == 0 && len(h["If-None-Match"]) == 0 && len(h["If-Modified-Since"]) == 0 &&
		len(h["If-Match"]) == 0 && len(h["If-Unmodified-Since"]) == 0
}

// serveWhole answers a plain request from a whole object: headers assigned
// from shared slices and the body in one Write, which for a 64 KB segment
// is what http.ServeContent spends its time around.
func serveWhole(w http.ResponseWriter, r *http.Request, o *cache.Object, x []string) {
	hdr := w.Header()
	for _, p := range o.Pairs() {
		hdr[p.Key] = p.Values
	}
	hdr["Content-Length"] = o.ContentLength()
	hdr["Accept-Ranges"] = hdrBytes
	hdr["X-Cache"] = x
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(o.Body)
	}
}

// body is an entity's bytes: whole in memory or still arriving.
type body interface {
	writeRange(ctx context.Context, w io.Writer, off, n int64) error
}

type bytesBody []byte

func (b bytesBody) writeRange(_ context.Context, w io.Writer, off, n int64) error {
	if n < 0 {
		n = int64(len(b)) - off
	}
	_, err := w.Write(b[off : off+n])
	return err
}

type streamBody struct{ *flight.Stream }

func (s streamBody) writeRange(ctx context.Context, w io.Writer, off, n int64) error {
	return s.WriteRange(ctx, w, off, n)
}

// entity is what a full response (conditions, ranges) is made from.
type entity struct {
	header       http.Header
	etag         string
	lastModified time.Time
	size         int64 // -1 when not known yet
	body         body
}

func objectEntity(o *cache.Object) *entity {
	return &entity{header: o.Header, etag: o.ETag, lastModified: o.LastModified, size: o.Size(), body: bytesBody(o.Body)}
}

func streamEntity(hdr http.Header, size int64, s *flight.Stream) *entity {
	e := &entity{header: hdr, etag: hdr.Get("ETag"), size: size, body: streamBody{s}}
	if lm := hdr.Get("Last-Modified"); lm != "" {
		e.lastModified, _ = http.ParseTime(lm)
	}
	return e
}

// respond answers r from e with conditional requests (RFC 9110 §13.2.2),
// If-Range, single and multiple ranges, and HEAD.
func respond(w http.ResponseWriter, r *http.Request, e *entity, x string, maxRanges int) error {
	hdr := w.Header()
	for k, v := range e.header {
		hdr[k] = v
	}
	hdr["Accept-Ranges"] = hdrBytes
	hdr["X-Cache"] = xcacheValue(x)
	switch preconditions(r, e) {
	case http.StatusNotModified:
		delete(hdr, "Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return nil
	case http.StatusPreconditionFailed:
		delete(hdr, "Content-Type")
		hdr.Set("Content-Length", "0")
		w.WriteHeader(http.StatusPreconditionFailed)
		return nil
	}
	ctx := r.Context()
	if rh := r.Header.Get("Range"); rh != "" && e.size >= 0 && ifRange(r, e) {
		rs, err := ranges.Parse(rh, e.size, maxRanges)
		switch {
		case err != nil:
			delete(hdr, "Content-Type")
			hdr.Set("Content-Range", ranges.Unsatisfied(e.size))
			hdr.Set("Content-Length", "0")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return nil
		case len(rs) == 1:
			hdr.Set("Content-Range", rs[0].ContentRange(e.size))
			hdr.Set("Content-Length", strconv.FormatInt(rs[0].Length, 10))
			w.WriteHeader(http.StatusPartialContent)
			if r.Method == http.MethodHead {
				return nil
			}
			return e.body.writeRange(ctx, w, rs[0].Start, rs[0].Length)
		case len(rs) > 1:
			mp := ranges.Layout(rs, e.size, hdr.Get("Content-Type"))
			hdr.Set("Content-Type", mp.ContentType())
			hdr.Set("Content-Length", strconv.FormatInt(mp.Length, 10))
			w.WriteHeader(http.StatusPartialContent)
			if r.Method == http.MethodHead {
				return nil
			}
			for i, rg := range rs {
				if _, err := w.Write(mp.Heads[i]); err != nil {
					return err
				}
				if err := e.body.writeRange(ctx, w, rg.Start, rg.Length); err != nil {
					return err
				}
			}
			_, err := w.Write(mp.Tail)
			return err
		}
		// nil ranges, nil error: the bounds refused them; send it whole.
	}
	if e.size >= 0 {
		hdr.Set("Content-Length", strconv.FormatInt(e.size, 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	return e.body.writeRange(ctx, w, 0, e.size)
}

// preconditions evaluates If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since in the RFC's order; 0 means go on.
func preconditions(r *http.Request, e *entity) int {
	if im := r.Header.Get("If-Match"); im != "" {
		if !etagListMatch(im, e.etag, true) {
			return http.StatusPreconditionFailed
		}
	} else if ius := r.Header.Get("If-Unmodified-Since"); ius != "" && !e.lastModified.IsZero() {
		if t, err := http.ParseTime(ius); err == nil && e.lastModified.Truncate(time.Second).After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagListMatch(inm, e.etag, false) {
			return http.StatusNotModified
		}
		return 0
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !e.lastModified.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !e.lastModified.Truncate(time.Second).After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

// ifRange reports whether the Range header applies: no If-Range, or one
// naming this exact representation (strong ETag or exact date).
func ifRange(r *http.Request, e *entity) bool {
	ir := r.Header.Get("If-Range")
	if ir == "" {
		return true
	}
	if strings.HasPrefix(ir, `"`) || strings.HasPrefix(ir, "W/") {
		return !strings.HasPrefix(ir, "W/") && !strings.HasPrefix(e.etag, "W/") && ir == e.etag
	}
	t, err := http.ParseTime(ir)
	return err == nil && !e.lastModified.IsZero() && e.lastModified.Truncate(time.Second).Equal(t)
}

// etagListMatch compares an If-Match/If-None-Match list with etag:
// strongly (If-Match) or weakly (If-None-Match).
func etagListMatch(list, etag string, strong bool) bool {
	if strings.TrimSpace(list) == "*" {
		return etag != "" || !strong
	}
	if etag == "" {
		return false
	}
	if strong && strings.HasPrefix(etag, "W/") {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for tag := range strings.SplitSeq(list, ",") {
		tag = strings.TrimSpace(tag)
		if strong && strings.HasPrefix(tag, "W/") {
			continue
		}
		if strings.TrimPrefix(tag, "W/") == want {
			return true
		}
	}
	return false
}
