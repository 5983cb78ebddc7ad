package e2e

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEdgeCachesAndPurges: on the all-in-one node the edge serves /media/
// in front of the origin. A segment of a really transcoded video is a
// MISS, then a HIT-MEM with the same bytes; making the video private and
// deleting it purge it, so it is refused rather than served from the
// cache.
func TestEdgeCachesAndPurges(t *testing.T) {
	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	src := makeVideo(t, work, "edge.mp4", 4, "640x360")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	id := uploadWhole(t, n, data, "Edge cache")
	v := n.waitVideo(id, 3*time.Minute)
	if v.Status != "ready" {
		t.Fatalf("video failed: %s", v.Error)
	}

	// Find the first media segment through the playlists.
	_, master := get(t, n.base+v.HLS, nil)
	var playlist string
	for _, line := range strings.Split(string(master), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			playlist = line
			break
		}
	}
	base := n.base + v.HLS[:strings.LastIndex(v.HLS, "/")+1]
	_, media := get(t, base+playlist, nil)
	var segment string
	for _, line := range strings.Split(string(media), "\n") {
		if strings.HasSuffix(line, ".m4s") && strings.Contains(line, "chunk-") {
			segment = base + line
			break
		}
	}
	if segment == "" {
		t.Fatalf("no segment in %s:\n%s", playlist, media)
	}

	r1, b1 := get(t, segment, nil)
	r2, b2 := get(t, segment, nil)
	if r1.StatusCode != 200 || r1.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("first request: %d, X-Cache %q", r1.StatusCode, r1.Header.Get("X-Cache"))
	}
	if r2.StatusCode != 200 || r2.Header.Get("X-Cache") != "HIT-MEM" || !bytes.Equal(b1, b2) || len(b1) == 0 {
		t.Fatalf("second request: %d, X-Cache %q, same bytes %v", r2.StatusCode, r2.Header.Get("X-Cache"), bytes.Equal(b1, b2))
	}
	if cc := r2.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Fatalf("a cached segment lost its Cache-Control: %q", cc)
	}
	r3, part := get(t, segment, map[string]string{"Range": "bytes=10-99"})
	if r3.StatusCode != 206 || !bytes.Equal(part, b1[10:100]) || r3.Header.Get("X-Cache") != "HIT-MEM" {
		t.Fatalf("range from the cache: %d %q", r3.StatusCode, r3.Header.Get("X-Cache"))
	}
	// A browser's revalidation: a 304 from the cache.
	r4, _ := get(t, segment, map[string]string{"If-None-Match": r2.Header.Get("ETag"), "If-Modified-Since": r2.Header.Get("Last-Modified")})
	if r4.StatusCode != 304 || r4.Header.Get("X-Cache") != "HIT-MEM" || r2.Header.Get("ETag") == "" {
		t.Fatalf("revalidation: %d %q (ETag %q)", r4.StatusCode, r4.Header.Get("X-Cache"), r2.Header.Get("ETag"))
	}
	resp, body := get(t, n.base+"/metrics", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `strata_edge_requests_total{result="hit_mem"}`) {
		t.Fatalf("/metrics has no edge figures")
	}
	// The miss went to net/http and its connection (kept alive by the
	// client) came back to the fast path: Caddy's server runs the
	// listener's ConnState hook.
	if m := regexp.MustCompile(`strata_edge_fast_connections_total\{event="return"\} (\d+)`).FindSubmatch(body); m == nil || string(m[1]) == "0" {
		t.Fatalf("no connection came back to the fast path: %q", m)
	}

	// The admin API (Caddy's admin endpoint, a unix socket here) purges
	// one object: the next request is a MISS again, the one after a hit.
	admin := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(n.dataDir, "admin.sock"))
	}}}
	seg := segment[len(n.base+"/media/"+id+"/"):]
	presp, err := admin.Post("http://admin/strata/edge/purge/"+id+"/"+seg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	presp.Body.Close()
	if presp.StatusCode != 200 {
		t.Fatalf("admin purge: %d", presp.StatusCode)
	}
	for _, want := range []string{"MISS", "HIT-MEM"} {
		if r, _ := get(t, segment, nil); r.Header.Get("X-Cache") != want {
			t.Fatalf("after the admin purge: X-Cache %q, want %q", r.Header.Get("X-Cache"), want)
		}
	}

	// DELETE through the API: the purge follows the apply, and the
	// segment is refused, not served from memory or disk.
	req, _ := http.NewRequest(http.MethodDelete, n.base+"/api/v1/videos/"+id, nil)
	dresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	dresp.Body.Close()
	if dresp.StatusCode/100 != 2 {
		t.Fatalf("DELETE: %d", dresp.StatusCode)
	}
	deadline := time.Now().Add(time.Second)
	for {
		r, _ := get(t, segment, nil)
		if r.StatusCode == http.StatusNotFound && !strings.HasPrefix(r.Header.Get("X-Cache"), "HIT") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second after DELETE the segment is still served: %d %q", r.StatusCode, r.Header.Get("X-Cache"))
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}
