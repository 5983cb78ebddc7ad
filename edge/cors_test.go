package edge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/edge/access"
)

// TestCORS: every answer of the edge is readable by a page of another
// origin (a miss, a hit, a refusal, a 404), preflights are answered
// without touching the cache, and fills name the edge to the origin.
func TestCORS(t *testing.T) {
	o := newTestOrigin(t)
	o.put(segPath, segment(1024))
	e := newEdge(t, "", withOrigins(o.addr()))
	e.role.running.Store(&running{cache: e.cache, gate: access.NewGate(e.videos, nil), nodeID: "edge-7"})
	e.videos.set("vid1", model.Public)
	e.videos.set("priv", model.Private)
	for _, path := range []string{segPath, segPath, "/media/priv/master.m3u8", "/media/none/master.m3u8"} {
		resp, _ := e.get(path, "Origin: http://page.example")
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Content-Range") {
			t.Errorf("GET %s (%d, X-Cache %q): ACAO %q, expose %q", path, resp.StatusCode, resp.Header.Get("X-Cache"),
				resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Expose-Headers"))
		}
	}
	if hdr, _ := o.last(); hdr.Get(cluster.EdgeHeader) != "edge-7" {
		t.Errorf("the fill did not name the edge: %q", hdr.Get(cluster.EdgeHeader))
	}
	resp, _ := e.do(http.MethodOptions, segPath, "Origin: http://page.example", "Access-Control-Request-Method: GET",
		"Access-Control-Request-Headers: range")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Range") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if n := o.count(segPath); n != 1 {
		t.Fatalf("origin asked %d times, want 1", n)
	}
}
