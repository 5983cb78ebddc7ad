package edge

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stratavideo/strata/cluster/model"
)

// TestFailover: with one origin down (connection refused) or failing
// (500), every request is served from the other, through Caddy's reverse
// proxy retries and passive health checks.
func TestFailover(t *testing.T) {
	for name, bad := range map[string]func(t *testing.T) string{
		"origin down": closedAddr,
		"origin answers 500": func(t *testing.T) string {
			o := newTestOrigin(t)
			o.setStatus(http.StatusInternalServerError)
			return o.addr()
		},
	} {
		t.Run(name, func(t *testing.T) {
			good := newTestOrigin(t)
			e := newEdge(t, "", withOrigins(bad(t), good.addr()))
			e.videos.set("vid1", model.Public)
			for i := range 10 {
				path := "/media/vid1/init-" + string(rune('a'+i)) + ".m4s"
				body := segment(1000 + i)
				good.put(path, body)
				resp, got := e.get(path)
				if resp.StatusCode != 200 || !bytes.Equal(got, body) {
					t.Fatalf("%s: %d, %d bytes", path, resp.StatusCode, len(got))
				}
			}
		})
	}
}

// TestParentThenOrigin: a shield edge is asked first; when it fails the
// origin is.
func TestParentThenOrigin(t *testing.T) {
	parent := newTestOrigin(t)
	origin := newTestOrigin(t)
	parent.put(segPath, []byte("from the parent"))
	origin.put(segPath, []byte("from the origin"))
	origin.put(manifestPath, []byte("#EXTM3U\n"))
	e := newEdge(t, "", withOrigins(origin.addr()), func(h *Handler, c *cacheConfig) {
		withOrigins(parent.addr())(h, c)
		h.Parent, h.Origin = h.Origin, nil
		withOrigins(origin.addr())(h, c)
	})
	e.videos.set("vid1", model.Public)
	if _, body := e.get(segPath); string(body) != "from the parent" {
		t.Fatalf("got %q", body)
	}
	parent.setStatus(http.StatusBadGateway)
	if resp, body := e.get(manifestPath); resp.StatusCode != 200 || string(body) != "#EXTM3U\n" {
		t.Fatalf("with the parent failing: %d %q", resp.StatusCode, body)
	}
}

// TestLocalOriginInProcess: without an origin block the next handler is
// the origin (the all-in-one node's strata_media), called in-process.
func TestLocalOriginInProcess(t *testing.T) {
	e := newEdge(t, "")
	e.videos.set("vid1", model.Public)
	body := segment(5000)
	calls := 0
	e.next = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if r.URL.Path != segPath {
			http.NotFound(w, r) // prefetches of the next segments
			return nil
		}
		calls++
		// The fill asks for the whole object, carrying the media token
		// (checked by the edge, needed by the origin for a private
		// video) and nothing else of the query.
		if r.Header.Get("Range") != "" || r.URL.RawQuery != "token=t" {
			t.Errorf("the fill forwarded Range %q / query %q", r.Header.Get("Range"), r.URL.RawQuery)
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("ETag", `"x"`)
		http.ServeContent(w, r, "seg.m4s", time.Time{}, bytes.NewReader(body))
		return nil
	})
	for i, want := range []string{"MISS", "HIT-MEM"} {
		if i == 1 {
			// A range is answered before the whole object is in; wait
			// for it, then the same range is a hit.
			waitFor(t, "the object stored", 5*time.Second, func() bool { _, ok := e.cache.Memory(segPath); return ok })
		}
		resp, got := e.get(segPath+"?token=t&utm=x", "Range: bytes=0-99")
		if resp.StatusCode != 206 || !bytes.Equal(got, body[:100]) || resp.Header.Get("X-Cache") != want {
			t.Fatalf("request %d: %d %s, %d bytes", i, resp.StatusCode, resp.Header.Get("X-Cache"), len(got))
		}
	}
	if calls != 1 {
		t.Fatalf("next handler called %d times", calls)
	}
}

// TestPrefetch: a request for segment N fetches N+1 and N+2 in the
// background; asking for them then is a hit.
func TestPrefetch(t *testing.T) {
	o := newTestOrigin(t)
	names := []string{"chunk-ab12-0-00009.m4s", "chunk-ab12-0-00010.m4s", "chunk-ab12-0-00011.m4s", "chunk-ab12-0-00012.m4s"}
	for _, n := range names {
		o.put("/media/vid1/"+n, segment(2000))
	}
	e := newEdge(t, "", withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)
	e.get("/media/vid1/" + names[0])
	for _, n := range names[1:3] {
		waitFor(t, n+" prefetched", 5*time.Second, func() bool { return e.cache.Has("/media/vid1/" + n) })
		if resp, _ := e.get("/media/vid1/" + n); resp.Header.Get("X-Cache") != "HIT-MEM" {
			t.Fatalf("%s: %s", n, resp.Header.Get("X-Cache"))
		}
		if c := o.count("/media/vid1/" + n); c != 1 {
			t.Fatalf("%s fetched %d times", n, c)
		}
	}
	// The hit on 00010 prefetched 00012.
	waitFor(t, "00012 prefetched", 5*time.Second, func() bool { return e.cache.Has("/media/vid1/" + names[3]) })
}

func TestSuccessors(t *testing.T) {
	for key, want := range map[string]string{
		"/media/v/chunk-ab12-0-00009.m4s": "/media/v/chunk-ab12-0-00010.m4s /media/v/chunk-ab12-0-00011.m4s",
		"/media/v/seg99.ts":               "/media/v/seg100.ts /media/v/seg101.ts",
		"/media/v/init-ab12-0.m4s":        "",
		"/media/v/master.m3u8":            "",
		"/media/v/poster.jpg":             "",
		"/media/v/12345.m4s":              "",
	} {
		got := successors(key, 2)
		if s := strings.Join(got, " "); s != want {
			t.Errorf("successors(%s) = %q, want %q", key, s, want)
		}
	}
}
