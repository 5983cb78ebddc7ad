package edge

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stratavideo/strata/cluster/model"
)

// sinkWriter is a ResponseWriter that keeps nothing, so allocations
// counted around ServeHTTP are the handler's own.
type sinkWriter struct {
	h      http.Header
	status int
}

func (s *sinkWriter) Header() http.Header         { return s.h }
func (s *sinkWriter) Write(p []byte) (int, error) { return len(p), nil }
func (s *sinkWriter) WriteHeader(code int)        { s.status = code }

// TestHitPathAllocatesNothing: a memory hit costs the handler no
// allocation, its request ID included (IDs are made in batches); what a
// hit allocates is the HTTP server's.
func TestHitPathAllocatesNothing(t *testing.T) {
	o := newTestOrigin(t)
	o.put(segPath, segment(64<<10))
	e := newEdge(t, "", withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)
	e.get(segPath)
	e.get(segPath) // the first hit marks the object prefetched
	req := httptest.NewRequest(http.MethodGet, segPath, nil)
	w := &sinkWriter{h: http.Header{}}
	var next caddyhttp.Handler = e.next
	allocs := testing.AllocsPerRun(200, func() {
		clear(w.h)
		delete(req.Header, "X-Request-Id") // each hit makes an ID (reqid.Ensure)
		if err := e.h.ServeHTTP(w, req, next); err != nil || w.status != 200 || w.h.Get("X-Cache") != "HIT-MEM" {
			t.Fatalf("hit: %v %d %q", err, w.status, w.h.Get("X-Cache"))
		}
	})
	if allocs != 0 {
		t.Fatalf("a memory hit allocates %.1f times in the handler, want 0", allocs)
	}
}

// BenchmarkHit is the handler's share of a memory hit.
func BenchmarkHit(b *testing.B) {
	o := newTestOrigin(b)
	o.put(segPath, segment(64<<10))
	e := newEdge(b, "", withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)
	e.get(segPath)
	req := httptest.NewRequest(http.MethodGet, segPath, nil)
	w := &sinkWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		_ = e.h.ServeHTTP(w, req, e.next)
	}
}

// BenchmarkRangeHit is the handler's share of a single-range memory hit.
func BenchmarkRangeHit(b *testing.B) {
	o := newTestOrigin(b)
	o.put(segPath, segment(64<<10))
	e := newEdge(b, "", withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)
	e.get(segPath)
	req := httptest.NewRequest(http.MethodGet, segPath, nil)
	req.Header.Set("Range", "bytes=16384-32767")
	w := &sinkWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		_ = e.h.ServeHTTP(w, req, e.next)
	}
}
