package edge

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stratavideo/strata/cluster/model"
)

const segPath = "/media/vid1/chunk-ab12-0-00001.m4s"

func TestMissThenHitMem(t *testing.T) {
	o := newTestOrigin(t)
	body := segment(64 << 10)
	o.put(segPath, body)
	e := newEdge(t, t.TempDir(), withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)

	resp, got := e.get(segPath)
	if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "MISS" || !bytes.Equal(got, body) {
		t.Fatalf("first: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("X-Cache"), len(got))
	}
	resp, got = e.get(segPath)
	if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "HIT-MEM" || !bytes.Equal(got, body) {
		t.Fatalf("second: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("X-Cache"), len(got))
	}
	for k, want := range map[string]string{
		"Cache-Control":  "public, max-age=31536000, immutable",
		"Content-Type":   "video/iso.segment",
		"Content-Length": strconv.Itoa(len(body)),
		"Accept-Ranges":  "bytes",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if resp.Header.Get("ETag") == "" {
		t.Error("no ETag on a hit")
	}
	if n := o.count(segPath); n != 1 {
		t.Fatalf("origin asked %d times, want 1", n)
	}
	if hdr, _ := o.last(); hdr.Get("Accept-Encoding") != "identity" {
		h := hdr.Get("Accept-Encoding")
		t.Errorf("fill asked for Accept-Encoding %q, want identity", h)
	}
	// HEAD: headers, no body.
	resp, got = e.do(http.MethodHead, segPath)
	if resp.StatusCode != 200 || len(got) != 0 || resp.ContentLength != int64(len(body)) {
		t.Fatalf("HEAD: %d, %d bytes, length %d", resp.StatusCode, len(got), resp.ContentLength)
	}
	// Conditional: the ETag gets a 304.
	resp, _ = e.get(segPath, "If-None-Match: "+resp.Header.Get("ETag"))
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d, want 304", resp.StatusCode)
	}
	s := e.cache.Stats()
	if s.MemHits.Load() != 3 || s.Misses.Load() != 1 {
		t.Fatalf("stats: %d mem hits, %d misses", s.MemHits.Load(), s.Misses.Load())
	}
}

func TestAccessRules(t *testing.T) {
	o := newTestOrigin(t)
	for _, id := range []string{"pub", "unl", "priv", "gone"} {
		o.put("/media/"+id+"/master.m3u8", []byte("#EXTM3U\n"))
	}
	e := newEdge(t, "", withOrigins(o.addr()))
	e.videos.set("pub", model.Public)
	e.videos.set("unl", model.Unlisted)
	e.videos.set("priv", model.Private)
	for path, want := range map[string]int{
		"/media/pub/master.m3u8":            200,
		"/media/unl/master.m3u8":            200,
		"/media/priv/master.m3u8":           403, // no signing keys: refused outright
		"/media/priv/master.m3u8?token=abc": 403,
		"/media/gone/master.m3u8":           404, // not in the local store
		"/media/pub/../priv/master.m3u8":    404,
		"/media/pub/.hidden":                404,
		"/other/pub/master.m3u8":            404,
	} {
		if resp, _ := e.get(path); resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	if n := o.count("/media/priv/master.m3u8") + o.count("/media/gone/master.m3u8"); n != 0 {
		t.Fatalf("refused videos reached the origin %d times", n)
	}
	resp, _ := e.do(http.MethodPost, "/media/pub/master.m3u8")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	// The token is not part of the cache key: the query does not make a
	// second object.
	e.get("/media/pub/master.m3u8?token=abc")
	if n := o.count("/media/pub/master.m3u8"); n != 1 {
		t.Fatalf("origin asked %d times for one object", n)
	}
}

func TestRanges(t *testing.T) {
	o := newTestOrigin(t)
	body := segment(1000)
	o.put(segPath, body)
	e := newEdge(t, "", withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)
	resp, _ := e.get(segPath) // fill
	etag := resp.Header.Get("ETag")

	for _, tc := range []struct {
		name   string
		hdrs   []string
		status int
		want   []byte
		cr     string
	}{
		{"single", []string{"Range: bytes=10-99"}, 206, body[10:100], "bytes 10-99/1000"},
		{"open", []string{"Range: bytes=990-"}, 206, body[990:], "bytes 990-999/1000"},
		{"suffix", []string{"Range: bytes=-5"}, 206, body[995:], "bytes 995-999/1000"},
		{"past the end clipped", []string{"Range: bytes=900-5000"}, 206, body[900:], "bytes 900-999/1000"},
		{"if-range match", []string{"Range: bytes=0-9", "If-Range: " + etag}, 206, body[:10], "bytes 0-9/1000"},
		{"if-range mismatch", []string{"Range: bytes=0-9", `If-Range: "other"`}, 200, body, ""},
		{"if-range weak", []string{"Range: bytes=0-9", "If-Range: W/" + etag}, 200, body, ""},
		{"invalid", []string{"Range: bytes=9-1"}, 416, nil, "bytes */1000"},
		{"garbage", []string{"Range: bytes=x-y"}, 416, nil, "bytes */1000"},
		{"unsatisfiable", []string{"Range: bytes=1000-"}, 416, nil, "bytes */1000"},
		{"other unit", []string{"Range: items=0-1"}, 200, body, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, got := e.get(segPath, tc.hdrs...)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Range") != tc.cr {
				t.Fatalf("%d %q, want %d %q", resp.StatusCode, resp.Header.Get("Content-Range"), tc.status, tc.cr)
			}
			if tc.status != 416 && !bytes.Equal(got, tc.want) {
				t.Fatalf("body: %d bytes, want %d", len(got), len(tc.want))
			}
			if resp.Header.Get("X-Cache") != "HIT-MEM" {
				t.Fatalf("X-Cache = %q", resp.Header.Get("X-Cache"))
			}
		})
	}

	t.Run("multi", func(t *testing.T) {
		resp, got := e.get(segPath, "Range: bytes=0-9,500-509,-10")
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 206 || err != nil || mt != "multipart/byteranges" {
			t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl != len(got) {
			t.Fatalf("Content-Length %d, body %d", cl, len(got))
		}
		mr := multipart.NewReader(bytes.NewReader(got), params["boundary"])
		want := []struct {
			cr   string
			data []byte
		}{{"bytes 0-9/1000", body[:10]}, {"bytes 500-509/1000", body[500:510]}, {"bytes 990-999/1000", body[990:]}}
		for i, w := range want {
			p, err := mr.NextPart()
			if err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			data, _ := io.ReadAll(p)
			if p.Header.Get("Content-Range") != w.cr || !bytes.Equal(data, w.data) || p.Header.Get("Content-Type") != "video/iso.segment" {
				t.Fatalf("part %d: %q %q, %d bytes", i, p.Header.Get("Content-Range"), p.Header.Get("Content-Type"), len(data))
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Fatalf("after the parts: %v", err)
		}
	})

	t.Run("HEAD range", func(t *testing.T) {
		resp, got := e.do(http.MethodHead, segPath, "Range: bytes=0-9")
		if resp.StatusCode != 206 || len(got) != 0 || resp.Header.Get("Content-Length") != "10" {
			t.Fatalf("%d, %d bytes, length %q", resp.StatusCode, len(got), resp.Header.Get("Content-Length"))
		}
	})
}

// TestApacheKillerBounded: hundreds of overlapping ranges cost one copy
// of the object, never hundreds (CVE-2011-3192).
func TestApacheKillerBounded(t *testing.T) {
	o := newTestOrigin(t)
	body := segment(100_000)
	o.put(segPath, body)
	e := newEdge(t, "", withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)
	e.get(segPath)
	for name, rng := range map[string]string{
		"killer":      "bytes=0-," + strings.Repeat("5-0,", 0) + strings.TrimSuffix(strings.Repeat("1-,", 400), ","),
		"overlapping": "bytes=0-60000,10000-70000,20000-80000",
		"many small":  "bytes=" + strings.TrimSuffix(strings.Repeat("0-0,", 17), ","),
	} {
		t.Run(name, func(t *testing.T) {
			resp, got := e.get(segPath, "Range: "+rng)
			if resp.StatusCode != 200 && resp.StatusCode != 416 {
				t.Fatalf("status %d, want 200 or 416", resp.StatusCode)
			}
			if len(got) > len(body) {
				t.Fatalf("%d bytes sent for a %d-byte object", len(got), len(body))
			}
		})
	}
	// Within the bounds, several disjoint ranges are still served.
	resp, _ := e.get(segPath, "Range: "+fmt.Sprintf("bytes=0-0,%d-%d", 50_000, 50_001))
	if resp.StatusCode != 206 {
		t.Fatalf("two disjoint ranges: %d", resp.StatusCode)
	}
}

// TestUpstream206NotStored: an upstream that answers our whole-object GET
// with 206 is broken; its fragment is never stored as the object.
func TestUpstream206NotStored(t *testing.T) {
	calls := 0
	o := newTestOrigin(t)
	o.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Range", "bytes 0-9/1000")
		w.Header().Set("Content-Length", "10")
		w.WriteHeader(http.StatusPartialContent)
		w.Write(segment(10))
	})
	e := newEdge(t, t.TempDir(), withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)
	for range 2 {
		if resp, _ := e.get(segPath); resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", resp.StatusCode)
		}
	}
	if e.cache.Has(segPath) || calls != 2 {
		t.Fatalf("stored a 206 (cached %v, %d calls)", e.cache.Has(segPath), calls)
	}
}

func TestNotFoundRelayedNotStored(t *testing.T) {
	o := newTestOrigin(t)
	e := newEdge(t, "", withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)
	for range 2 {
		resp, _ := e.get("/media/vid1/missing.m4s")
		if resp.StatusCode != 404 || resp.Header.Get("X-Cache") != "MISS" {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("X-Cache"))
		}
	}
	if n := o.count("/media/vid1/missing.m4s"); n != 2 {
		t.Fatalf("origin asked %d times; a 404 must not be cached", n)
	}
}

func TestSplitPath(t *testing.T) {
	for in, want := range map[string]string{
		"/media/abc/master.m3u8":          "abc|master.m3u8",
		"/media/abc/sub/media_0.m3u8":     "abc|sub/media_0.m3u8",
		"/media/abc/../def/master.m3u8":   "",
		"/media/abc/sub/../../etc/passwd": "",
		"/media/abc/.hidden":              "",
		"/media/abc/":                     "",
		"/media//master.m3u8":             "",
		"/media/ab c/master.m3u8":         "",
	} {
		id, file, ok := splitPath(in)
		got := ""
		if ok {
			got = id + "|" + file
		}
		if got != want {
			t.Errorf("splitPath(%q) = %q, want %q", in, got, want)
		}
	}
}
