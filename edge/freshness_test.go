package edge

import (
	"bytes"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

const manifestPath = "/media/vid1/master.m3u8"

// TestManifestRevalidation: a no-cache manifest is served from the cache
// for manifest_ttl, then revalidated with its ETag; a 304 keeps the copy
// and starts a new TTL, a changed manifest replaces it.
func TestManifestRevalidation(t *testing.T) {
	o := newTestOrigin(t)
	o.put(manifestPath, []byte("#EXTM3U\n#v1\n"))
	e := newEdge(t, "", withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)

	if resp, _ := e.get(manifestPath); resp.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("first: %s", resp.Header.Get("X-Cache"))
	}
	e.advance(DefaultManifestTTL / 2)
	if resp, _ := e.get(manifestPath); resp.Header.Get("X-Cache") != "HIT-MEM" || o.count(manifestPath) != 1 {
		t.Fatalf("within the TTL: %s, origin asked %d times", resp.Header.Get("X-Cache"), o.count(manifestPath))
	}
	// Past the TTL: a conditional request, answered 304, body from memory.
	e.advance(DefaultManifestTTL)
	resp, body := e.get(manifestPath)
	if resp.StatusCode != 200 || string(body) != "#EXTM3U\n#v1\n" || resp.Header.Get("X-Cache") != "HIT-MEM" {
		t.Fatalf("revalidated: %d %s %q", resp.StatusCode, resp.Header.Get("X-Cache"), body)
	}
	if hdr, notMod := o.last(); o.count(manifestPath) != 2 || notMod != 1 || hdr.Get("If-None-Match") == "" {
		t.Fatalf("origin asked %d times, %d 304s, If-None-Match %q", o.count(manifestPath), notMod, hdr.Get("If-None-Match"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, no-cache" {
		t.Fatalf("Cache-Control to viewers = %q; players must keep revalidating", cc)
	}
	// The 304 started a new TTL.
	e.advance(DefaultManifestTTL / 2)
	e.get(manifestPath)
	if o.count(manifestPath) != 2 {
		t.Fatalf("revalidated again within the new TTL")
	}
	// A changed manifest replaces the copy.
	o.put(manifestPath, []byte("#EXTM3U\n#v2\n"))
	e.advance(DefaultManifestTTL)
	if _, body := e.get(manifestPath); string(body) != "#EXTM3U\n#v2\n" {
		t.Fatalf("after a change: %q", body)
	}
	// Viewers revalidate with the edge: their ETag gets a 304 here.
	resp, _ = e.get(manifestPath)
	if r2, _ := e.get(manifestPath, "If-None-Match: "+resp.Header.Get("ETag")); r2.StatusCode != http.StatusNotModified {
		t.Fatalf("viewer revalidation: %d", r2.StatusCode)
	}
}

// TestStaleIfError: with every upstream failing, an expired copy is served
// as STALE for stale_if_error, then no longer.
func TestStaleIfError(t *testing.T) {
	for name, breakOrigin := range map[string]func(*testOrigin){
		"origin answers 500": func(o *testOrigin) { o.setStatus(http.StatusInternalServerError) },
		"origin down":        func(o *testOrigin) { o.srv.Close() },
	} {
		t.Run(name, func(t *testing.T) {
			o := newTestOrigin(t)
			o.put(manifestPath, []byte("#EXTM3U\n"))
			e := newEdge(t, "", withOrigins(o.addr()))
			e.videos.set("vid1", model.Public)
			e.get(manifestPath)
			breakOrigin(o)
			e.advance(time.Hour)
			resp, body := e.get(manifestPath)
			if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "STALE" || string(body) != "#EXTM3U\n" {
				t.Fatalf("with the origin failing: %d %s %q", resp.StatusCode, resp.Header.Get("X-Cache"), body)
			}
			if e.cache.Stats().Stale.Load() != 1 {
				t.Fatalf("stale count %d", e.cache.Stats().Stale.Load())
			}
			e.advance(DefaultStaleIfError)
			if resp, _ := e.get(manifestPath); resp.StatusCode < 500 {
				t.Fatalf("past stale_if_error: %d, want an upstream error", resp.StatusCode)
			}
		})
	}
}

// TestDiskTierThroughHandler: after a restart (a new cache over the same
// folder) objects come from disk; a corrupted one is dropped and fetched
// again, never served.
func TestDiskTierThroughHandler(t *testing.T) {
	o := newTestOrigin(t)
	body := segment(64 << 10)
	o.put(segPath, body)
	dir := t.TempDir()
	e := newEdge(t, dir, withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)
	e.get(segPath)
	waitFor(t, "the object written to disk", 5*time.Second, func() bool { return e.cache.DiskPath(segPath) != "" })
	e.cache.Close()

	// Restart: the index is rebuilt from the files.
	e2 := newEdge(t, dir, withOrigins(o.addr()))
	e2.videos.set("vid1", model.Public)
	resp, got := e2.get(segPath)
	if resp.Header.Get("X-Cache") != "HIT-DISK" || !bytes.Equal(got, body) || o.count(segPath) != 1 {
		t.Fatalf("after restart: %s, %d bytes, origin asked %d times", resp.Header.Get("X-Cache"), len(got), o.count(segPath))
	}
	// The disk hit offers the object to the memory tier without waiting
	// for ristretto's buffers: a following request finds it there soon.
	waitFor(t, "a disk hit promoted to memory", 5*time.Second, func() bool {
		resp, _ := e2.get(segPath)
		return resp.Header.Get("X-Cache") == "HIT-MEM"
	})
	path := e2.cache.DiskPath(segPath)
	e2.cache.Close()

	// Corrupt the file, restart again: the checksum catches it.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1000] ^= 0x55
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	e3 := newEdge(t, dir, withOrigins(o.addr()))
	e3.videos.set("vid1", model.Public)
	resp, got = e3.get(segPath)
	if resp.Header.Get("X-Cache") != "MISS" || !bytes.Equal(got, body) || o.count(segPath) != 2 {
		t.Fatalf("corrupt copy: %s, intact %v, origin asked %d times", resp.Header.Get("X-Cache"), bytes.Equal(got, body), o.count(segPath))
	}
	if e3.cache.Stats().Corrupt.Load() != 1 {
		t.Fatalf("corrupt count %d", e3.cache.Stats().Corrupt.Load())
	}
}
