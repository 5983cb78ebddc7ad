package edge

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

// TestCoalescingStreams: N concurrent misses on one object make exactly
// one upstream request; every waiter gets the first half of the body
// while the origin still holds the second half back, and all end with
// identical, whole bytes.
func TestCoalescingStreams(t *testing.T) {
	const waiters = 50
	o := newTestOrigin(t)
	body := segment(256 << 10)
	o.put(segPath, body)
	o.hold = make(chan struct{})
	e := newEdge(t, t.TempDir(), withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	firstBytes := make(chan struct{}, waiters)
	results := make([][]byte, waiters)
	xcache := make([]string, waiters)
	errs := make(chan error, waiters)
	var wg sync.WaitGroup
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+segPath, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			xcache[i] = resp.Header.Get("X-Cache")
			half := make([]byte, len(body)/2)
			if _, err := io.ReadFull(resp.Body, half); err != nil {
				errs <- err
				return
			}
			firstBytes <- struct{}{}
			rest, err := io.ReadAll(resp.Body)
			if err != nil {
				errs <- err
				return
			}
			results[i] = append(half, rest...)
		}()
	}
	// Every waiter must see the first half before the origin lets go of
	// the second: bytes are streamed, not handed over when complete.
	for got := 0; got < waiters; got++ {
		select {
		case <-firstBytes:
		case err := <-errs:
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatalf("only %d of %d waiters got the first bytes before the fetch completed", got, waiters)
		}
	}
	close(o.hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := o.count(segPath); n != 1 {
		t.Fatalf("origin asked %d times for one object, want 1", n)
	}
	for i, r := range results {
		if !bytes.Equal(r, body) {
			t.Fatalf("waiter %d got %d bytes that differ from the object", i, len(r))
		}
		if xcache[i] != "MISS" {
			t.Fatalf("waiter %d: X-Cache %q", i, xcache[i])
		}
	}
	waitFor(t, "the object stored", 5*time.Second, func() bool { _, ok := e.cache.Memory(segPath); return ok })
	if resp, _ := e.get(segPath); resp.Header.Get("X-Cache") != "HIT-MEM" {
		t.Fatalf("after the fill: %s", resp.Header.Get("X-Cache"))
	}
}

// TestRangeOnMissAnswersEarly: a range in the first half of an object
// being fetched is answered while the rest is still on its way, from the
// whole-object fetch, which is then stored whole.
func TestRangeOnMissAnswersEarly(t *testing.T) {
	o := newTestOrigin(t)
	body := segment(200_000)
	o.put(segPath, body)
	o.hold = make(chan struct{})
	e := newEdge(t, "", withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)

	done := make(chan struct{})
	var resp *http.Response
	var got []byte
	go func() {
		defer close(done)
		resp, got = e.get(segPath, "Range: bytes=100-199")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(o.hold)
		t.Fatal("the range waited for the whole object")
	}
	close(o.hold)
	if resp.StatusCode != 206 || !bytes.Equal(got, body[100:200]) || resp.Header.Get("Content-Range") != "bytes 100-199/200000" {
		t.Fatalf("%d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(got))
	}
	waitFor(t, "the whole object stored", 5*time.Second, func() bool {
		obj, ok := e.cache.Memory(segPath)
		return ok && bytes.Equal(obj.Body, body)
	})
	if n := o.count(segPath); n != 1 {
		t.Fatalf("origin asked %d times", n)
	}
	if hdr, _ := o.last(); hdr.Get("Range") != "" {
		h := hdr.Get("Range")
		t.Fatalf("the fill forwarded Range %q; it must fetch the whole object", h)
	}
}

// TestCoalesceWaitBounded: a waiter whose fill has not started answering
// within coalesce_wait fetches for itself instead of waiting forever.
func TestCoalesceWaitBounded(t *testing.T) {
	release := make(chan struct{})
	o := newTestOrigin(t)
	o.put(segPath, segment(1000))
	var mu sync.Mutex
	first := true
	inner := o.srv.Config.Handler
	o.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stall := first
		first = false
		mu.Unlock()
		if stall {
			<-release // the first fetch hangs before its headers
		}
		inner.ServeHTTP(w, r)
	})
	defer close(release)
	e := newEdge(t, "", withOrigins(o.addr()), func(h *Handler, _ *cacheConfig) {
		h.CoalesceWait = caddyDuration(200 * time.Millisecond)
	})
	e.videos.set("vid1", model.Public)
	start := time.Now()
	resp, got := e.get(segPath)
	if resp.StatusCode != 200 || len(got) != 1000 || time.Since(start) > 5*time.Second {
		t.Fatalf("%d, %d bytes after %s", resp.StatusCode, len(got), time.Since(start))
	}
}
