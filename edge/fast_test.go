package edge

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/edge/reqhead"
)

// fastEdge is an edge handler served twice: behind the fast listener,
// and on a plain net/http server (the reference). Both set Caddy's
// Server field before the handler, as Caddy's server does.
type fastEdge struct {
	*edgeHarness
	fast, ref string // addresses
	ln        *fastListener
	slow      atomic.Int64 // requests that reached net/http behind the fast listener
}

func newFastEdge(t *testing.T, header time.Duration, opts ...harnessOpt) *fastEdge {
	return newFastEdgeOn(t, "", header, opts...)
}

// newFastEdgeOn is newFastEdge with a disk tier in diskDir ("" for none).
func newFastEdgeOn(t *testing.T, diskDir string, header time.Duration, opts ...harnessOpt) *fastEdge {
	t.Helper()
	f := &fastEdge{edgeHarness: newEdge(t, diskDir, opts...)}
	handler := func(count bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if count {
				f.slow.Add(1)
			}
			w.Header()["Server"] = []string{"Caddy"}
			if err := f.h.ServeHTTP(w, r, f.next); err != nil {
				t.Errorf("ServeHTTP: %v", err)
			}
		})
	}
	serve := func(ln net.Listener, h http.Handler) {
		// The ConnState hook Caddy's server gets from the listener's
		// Provision (harmless on the reference server).
		srv := &http.Server{Handler: h, ConnState: fastConnState}
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		srv.Protocols = &p
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = newFastListener(raw, f.role, nil, time.Minute, header)
	f.fast = raw.Addr().String()
	serve(f.ln, handler(true))
	ref, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ref = ref.Addr().String()
	serve(ref, handler(false))
	return f
}

// rawConn is a client connection that keeps responses' bytes.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// roundTrip sends req (a whole request head) and returns the response's
// bytes: head and body (none for HEAD).
func (rc *rawConn) roundTrip(req string) []byte {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, req); err != nil {
		rc.t.Fatal(err)
	}
	return rc.read(strings.HasPrefix(req, "HEAD "))
}

func (rc *rawConn) read(head bool) []byte {
	rc.t.Helper()
	var out bytes.Buffer
	cl := 0
	for {
		line, err := rc.br.ReadString('\n')
		if err != nil {
			rc.t.Fatalf("reading a response head: %v (so far %q)", err, out.String())
		}
		out.WriteString(line)
		if k, v, ok := strings.Cut(line, ": "); ok && strings.EqualFold(k, "Content-Length") {
			cl, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if line == "\r\n" {
			break
		}
	}
	if !head && cl > 0 {
		if _, err := io.CopyN(&out, rc.br, int64(cl)); err != nil {
			rc.t.Fatalf("reading a body: %v", err)
		}
	}
	return out.Bytes()
}

var (
	dateLine  = regexp.MustCompile(`(?m)^Date: [^\r]*\r$`)
	ridLine   = regexp.MustCompile(`(?m)^X-Request-Id: [0-9a-f]{24}\r$`)
	firstLine = regexp.MustCompile(`^HTTP/1.1 (\d+)`)
)

// normal blanks the Date and a made request ID.
func normal(b []byte) string {
	b = dateLine.ReplaceAll(b, []byte("Date: *\r"))
	return string(ridLine.ReplaceAll(b, []byte("X-Request-Id: *\r")))
}

func status(t *testing.T, b []byte) int {
	t.Helper()
	m := firstLine.FindSubmatch(b)
	if m == nil {
		t.Fatalf("not a response: %q", b)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func head(r []byte) string { h, _, _ := strings.Cut(string(r), "\r\n\r\n"); return h }

const manPath = "/media/vid1/720p.m3u8"

// warm fills segPath and manPath and hits them once through the handler
// (which marks them prefetched), so the fast path may serve them.
func (f *fastEdge) warm(t *testing.T, o *testOrigin) {
	t.Helper()
	o.put(segPath, segment(100_000))
	o.put(manPath, []byte("#EXTM3U\n#EXT-X-TARGETDURATION:4\n"))
	f.videos.set("vid1", model.Public)
	for _, p := range []string{segPath, manPath} {
		if resp, _ := f.get(p); resp.StatusCode != 200 {
			t.Fatalf("warming %s: %d", p, resp.StatusCode)
		}
		f.hot(t, p)
	}
}

// hot gets path until the memory tier holds it and a hit there has done
// its prefetch: what the fast path answers. Ristretto admits a new object
// asynchronously and may refuse it at first (then the next hit comes from
// disk and offers it again), so a fixed number of gets is not enough.
func (f *fastEdge) hot(t *testing.T, path string) {
	t.Helper()
	waitFor(t, path+" hot in memory", 10*time.Second, func() bool {
		if o, ok := f.cache.Memory(path); ok && o.Prefetched() {
			return true
		}
		if resp, _ := f.get(path); resp.StatusCode != 200 {
			t.Fatalf("warming %s: %d", path, resp.StatusCode)
		}
		f.settle()
		return false
	})
}

// TestFastPathMatchesTheHandler: for hits the fast path answers, its
// bytes are the handler's under net/http, Date and made IDs aside.
func TestFastPathMatchesTheHandler(t *testing.T) {
	o := newTestOrigin(t)
	f := newFastEdge(t, time.Minute, withOrigins(o.addr()))
	f.warm(t, o)
	fast, ref := dialRaw(t, f.fast), dialRaw(t, f.ref)
	for _, c := range []struct{ name, req string }{
		{"GET", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"},
		{"HEAD", "HEAD " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"},
		{"range", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nRange: bytes=0-65535\r\n\r\n"},
		{"open range", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nRange: bytes=99990-\r\n\r\n"},
		{"suffix range", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nRange: bytes=-7\r\n\r\n"},
		{"HEAD range", "HEAD " + segPath + " HTTP/1.1\r\nHost: edge\r\nRange: bytes=5-9\r\n\r\n"},
		{"request ID kept", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nX-Request-ID: abc-123\r\n\r\n"},
		{"bad request ID", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nX-Request-ID: a b\r\n\r\n"},
		{"two request IDs", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nX-Request-ID: a\r\nX-Request-ID: b\r\n\r\n"},
		{"keep-alive", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nConnection: keep-alive\r\nUser-Agent: x\r\nAccept: */*\r\n\r\n"},
		{"manifest", "GET " + manPath + " HTTP/1.1\r\nHost: edge:8080\r\nAccept-Encoding: gzip\r\n\r\n"},
		{"if-none-match other", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nIf-None-Match: \"other\"\r\n\r\n"},
		{"if-none-match *", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nIf-None-Match: *\r\n\r\n"},
		{"if-none-match ranged other", "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nIf-None-Match: \"other\"\r\nRange: bytes=1-10\r\n\r\n"},
		{"if-none-match HEAD *", "HEAD " + segPath + " HTTP/1.1\r\nHost: edge\r\nIf-None-Match: *\r\n\r\n"},
		{"if-none-match with since", "GET " + manPath + " HTTP/1.1\r\nHost: edge\r\nIf-Modified-Since: Mon, 02 Jan 2006 15:04:05 GMT\r\nIf-None-Match: \"other\"\r\n\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.slow.Load()
			hits := f.cache.Stats().MemHits.Load()
			got, want := fast.roundTrip(c.req), ref.roundTrip(c.req)
			if f.slow.Load() != before {
				t.Fatalf("the fast path handed it to net/http")
			}
			if g, w := normal(got), normal(want); g != w {
				t.Fatalf("fast path:\n%s\nhandler:\n%s", head(got), head(want))
			}
			if n := f.cache.Stats().MemHits.Load() - hits; n != 2 {
				t.Fatalf("mem hits counted %d, want 2 (one each)", n)
			}
			if strings.Contains(c.req, "abc-123") && !strings.Contains(string(got), "X-Request-Id: abc-123\r\n") {
				t.Fatalf("request ID not kept: %s", head(got))
			}
		})
	}
	// Revalidations naming the object's own ETag, as a browser sends
	// them: a 304, the same bytes as the handler's.
	o304, _ := f.cache.Memory(segPath)
	tag := o304.ETag
	for _, c := range []struct{ name, inm string }{
		{"its ETag", tag},
		{"weak", "W/" + tag},
		{"in a list", `"a", ` + tag + `, "b"`},
	} {
		t.Run("304 "+c.name, func(t *testing.T) {
			req := "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nIf-Modified-Since: Mon, 02 Jan 2006 15:04:05 GMT\r\nIf-None-Match: " + c.inm + "\r\nRange: bytes=0-9\r\n\r\n"
			before := f.slow.Load()
			got, want := fast.roundTrip(req), ref.roundTrip(req)
			if status(t, want) != 304 || f.slow.Load() != before {
				t.Fatalf("handler %d, handed to net/http: %v", status(t, want), f.slow.Load() != before)
			}
			if g, w := normal(got), normal(want); g != w {
				t.Fatalf("fast path:\n%s\nhandler:\n%s", head(got), head(want))
			}
		})
	}
}

// TestFastPathSendfile: a big body on the disk tier goes out with
// sendfile from the checked file, with the same bytes as the handler's,
// whole, ranged and HEAD; the file stays right after the tier drops it.
func TestFastPathSendfile(t *testing.T) {
	o := newTestOrigin(t)
	f := newFastEdgeOn(t, t.TempDir(), time.Minute, withOrigins(o.addr()))
	big := segment(700_000)
	o.put(segPath, big)
	f.videos.set("vid1", model.Public)
	f.get(segPath)
	waitFor(t, "the segment on disk", 5*time.Second, func() bool { return f.cache.DiskPath(segPath) != "" })
	f.hot(t, segPath)
	fast, ref := dialRaw(t, f.fast), dialRaw(t, f.ref)
	for i, req := range []string{
		"GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nX-Request-ID: s-1\r\n\r\n",
		"GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nX-Request-ID: s-2\r\nRange: bytes=100000-\r\n\r\n",
		"GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nX-Request-ID: s-3\r\nRange: bytes=0-65535\r\n\r\n",
		"GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nX-Request-ID: s-5\r\nRange: bytes=7-65542\r\n\r\n", // sendfile's least
		"GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nX-Request-ID: s-6\r\nRange: bytes=7-65541\r\n\r\n", // one byte short: writev
		"HEAD " + segPath + " HTTP/1.1\r\nHost: edge\r\nX-Request-ID: s-4\r\n\r\n",
	} {
		got, want := fast.roundTrip(req), ref.roundTrip(req)
		if f.slow.Load() != 0 {
			t.Fatalf("request %d went to net/http", i)
		}
		if normal(got) != normal(want) {
			t.Fatalf("request %d: fast path %d bytes:\n%s\nhandler %d bytes:\n%s", i, len(got), head(got), len(want), head(want))
		}
		if i == 0 {
			obj, _ := f.cache.Memory(segPath)
			if w, _ := obj.Wire().(*wire); w == nil || w.file == nil {
				t.Fatalf("no file for sendfile: %+v", w)
			}
		}
	}
	// The disk tier drops the file: the open one still holds the bytes.
	f.cache.Resize(64<<20, 1)
	f.cache.WaitRemovals()
	if f.cache.DiskPath(segPath) != "" {
		t.Fatal("the disk tier still holds the segment")
	}
	if got := fast.roundTrip("GET " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"); !bytes.HasSuffix(got, big) {
		t.Fatalf("after the file's removal: %s", head(got))
	}
}

// TestFastPathHandsOff: what the fast path does not answer reaches the
// handler on the same connection, which comes back to the fast path when
// the request ended with its head and stays with net/http otherwise.
func TestFastPathHandsOff(t *testing.T) {
	o := newTestOrigin(t)
	f := newFastEdge(t, time.Minute, withOrigins(o.addr()))
	f.warm(t, o)
	get := func(extra string) string {
		return "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\n" + extra + "\r\n"
	}
	for _, c := range []struct {
		name, req string
		status    int
		back      bool // the connection returns to the fast path after
	}{
		{"miss", "GET /media/vid1/chunk-ab12-0-00002.m4s HTTP/1.1\r\nHost: edge\r\n\r\n", 404, true},
		{"conditional", get("If-Match: \"nope\"\r\n"), 412, true},
		{"since alone", get("If-Modified-Since: Mon, 02 Jan 2006 15:04:05 GMT\r\n"), 200, true},
		{"two if-none-match", get("If-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\n"), 200, true},
		{"if-range", get("Range: bytes=0-9\r\nIf-Range: \"x\"\r\n"), 200, true},
		{"multi-range", get("Range: bytes=0-9,20-29\r\n"), 206, true},
		{"unsatisfiable range", get("Range: bytes=500000-\r\n"), 416, true},
		{"query", "GET " + segPath + "?token=x HTTP/1.1\r\nHost: edge\r\n\r\n", 200, true},
		{"connection close", get("Connection: close\r\n"), 200, false},
		{"no host", "GET " + segPath + " HTTP/1.1\r\n\r\n", 400, false},
		{"body", get("Content-Length: 2\r\n") + "ab", 200, false},
		{"expect", get("Expect: 100-continue\r\n"), 200, false},
		{"options", "OPTIONS " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n", 204, false},
		{"dot-dot", "GET /media/vid1/../vid1/x HTTP/1.1\r\nHost: edge\r\n\r\n", 404, true},
		{"obs-fold", get("X-A: b\r\n c\r\n"), 200, false}, // net/http's call
		{"bare LF", "GET " + segPath + " HTTP/1.1\nHost: edge\n\n", 200, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := dialRaw(t, f.fast)
			hit := "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"
			before := f.slow.Load()
			if r := rc.roundTrip(hit); !strings.Contains(string(r), "X-Cache: HIT-MEM") || f.slow.Load() != before {
				t.Fatalf("first hit not on the fast path: %s", head(r))
			}
			r := rc.roundTrip(c.req)
			if s := status(t, r); s != c.status {
				t.Fatalf("status %d, want %d: %s", s, c.status, head(r))
			}
			if c.status == 400 {
				return // net/http closes after a 400
			}
			if c.name != "no host" && f.slow.Load() != before+1 {
				t.Fatalf("net/http served %d requests, want 1", f.slow.Load()-before)
			}
			if c.name == "connection close" {
				return
			}
			// A request that ended with its head gives the connection
			// back once answered; anything else leaves it with net/http.
			want := before + 2
			if c.back {
				want = before + 1
			}
			for range 3 {
				if r := rc.roundTrip(hit); status(t, r) != 200 || !strings.Contains(string(r), "X-Cache: HIT-MEM") {
					t.Fatalf("hit after the hand-off: %s", head(r))
				}
				if !c.back {
					break
				}
			}
			if f.slow.Load() != want {
				t.Fatalf("after the hand-off, net/http served %d requests, want %d", f.slow.Load()-before, want-before)
			}
		})
	}
}

// TestFastPathKeepAliveThenMiss: many hits on one connection, then a
// miss that net/http answers on it, then more requests.
func TestFastPathKeepAliveThenMiss(t *testing.T) {
	o := newTestOrigin(t)
	f := newFastEdge(t, time.Minute, withOrigins(o.addr()))
	f.warm(t, o)
	next := "/media/vid1/chunk-ab12-0-00009.m4s"
	o.put(next, segment(5000))
	rc := dialRaw(t, f.fast)
	// Pipelined: three hits in one write.
	three := strings.Repeat("GET "+segPath+" HTTP/1.1\r\nHost: edge\r\n\r\n", 3)
	if _, err := io.WriteString(rc.c, three); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if r := rc.read(false); status(t, r) != 200 || len(r) < 100_000 {
			t.Fatalf("pipelined hit: %s", head(r))
		}
	}
	for i := range 500 {
		req := "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"
		if i%2 == 1 {
			req = "HEAD " + manPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"
		}
		if r := rc.roundTrip(req); status(t, r) != 200 {
			t.Fatalf("hit %d: %s", i, head(r))
		}
	}
	if n := f.slow.Load(); n != 0 {
		t.Fatalf("net/http served %d of the hits", n)
	}
	r := rc.roundTrip("GET " + next + " HTTP/1.1\r\nHost: edge\r\n\r\n")
	if status(t, r) != 200 || !strings.Contains(string(r), "X-Cache: MISS") || f.slow.Load() != 1 {
		t.Fatalf("miss: %s (net/http served %d)", head(r), f.slow.Load())
	}
	// The miss gave the connection back: hits are the fast path's again.
	for range 50 {
		if r := rc.roundTrip("GET " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"); status(t, r) != 200 || f.slow.Load() != 1 {
			t.Fatalf("hit after the miss: %s (net/http served %d)", head(r), f.slow.Load())
		}
	}
	if h, b := f.role.fastHandoffs.Load(), f.role.fastReturns.Load(); h != 1 || b != 1 {
		t.Fatalf("%d hand-offs and %d returns, want 1 and 1", h, b)
	}
}

// TestFastPathFollowsTheCache: a purge, a private video and a stale
// manifest are never answered from the fast path.
func TestFastPathFollowsTheCache(t *testing.T) {
	o := newTestOrigin(t)
	f := newFastEdge(t, time.Minute, withOrigins(o.addr()))
	f.warm(t, o)
	rc := dialRaw(t, f.fast)
	seg := "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"
	man := "GET " + manPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"

	// A manifest past its short TTL is revalidated by the handler.
	rc.roundTrip(man)
	_, notMod := o.last()
	f.advance(DefaultManifestTTL + time.Second)
	if r := rc.roundTrip(man); status(t, r) != 200 || f.slow.Load() != 1 {
		t.Fatalf("stale manifest: %s (net/http %d)", head(r), f.slow.Load())
	}
	if _, n := o.last(); n != notMod+1 {
		t.Fatalf("the stale manifest was not revalidated (%d 304s, before %d)", n, notMod)
	}

	// Purged: the next request is a miss, on a new connection too.
	rc = dialRaw(t, f.fast)
	if r := rc.roundTrip(seg); !strings.Contains(string(r), "X-Cache: HIT-MEM") || f.slow.Load() != 1 {
		t.Fatalf("before the purge: %s", head(r))
	}
	fetched := o.count(segPath)
	f.cache.PurgeVideo("vid1")
	if r := rc.roundTrip(seg); !strings.Contains(string(r), "X-Cache: MISS") || o.count(segPath) != fetched+1 {
		t.Fatalf("after the purge: %s", head(r))
	}
	f.settle()

	// Private: refused by the handler though the bytes are cached.
	for range 2 {
		rc = dialRaw(t, f.fast)
		rc.roundTrip(seg) // hit (the second marks it prefetched)
	}
	f.videos.set("vid1", model.Private)
	f.role.current().gate.Invalidate("vid1")
	rc = dialRaw(t, f.fast)
	if r := rc.roundTrip(seg); status(t, r) != http.StatusForbidden {
		t.Fatalf("private: %s", head(r))
	}
}

// TestFastPathMalformedAndSlow: odd bytes get net/http's answer (or a
// close), never a crash; a head sent in pieces is answered; a head that
// stops half-way is dropped after the header timeout.
func TestFastPathMalformedAndSlow(t *testing.T) {
	o := newTestOrigin(t)
	f := newFastEdge(t, 300*time.Millisecond, withOrigins(o.addr()))
	f.warm(t, o)
	// Each answer is the one net/http gives without the fast path. (Junk
	// is at least 24 bytes: shorter, net/http waits for the rest of a
	// possible HTTP/2 preface.)
	answer := func(addr, junk string) string {
		rc := dialRaw(t, addr)
		_, _ = io.WriteString(rc.c, junk)
		resp, err := http.ReadResponse(rc.br, nil)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return "closed"
			}
			return err.Error()
		}
		resp.Body.Close()
		return resp.Status
	}
	for _, junk := range []string{
		"GARBAGE-GARBAGE-GARBAGE-GARBAGE\r\n\r\n",
		"GET\r\n\r\n" + strings.Repeat("x", 24),
		"GET " + segPath + " HTTP/1.1\nHost: edge\n\n",
		"GET " + segPath + " HTTP/1.1\r\nHost: a\x00b\r\n\r\n",
		"GET " + segPath + " HTTP/9.9\r\nHost: edge\r\n\r\n",
		"GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nHost: other\r\n\r\n",
		"GET " + segPath + " HTTP/1.1\r\nHost: bad host\r\n\r\n",
		"GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"\x16\x03\x01\x00\x05hello-hello-hello-hello-hello\r\n\r\n",
		"GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nX: " + strings.Repeat("a", fastBufSize) + "\r\n\r\n",
	} {
		if got, want := answer(f.fast, junk), answer(f.ref, junk); got != want {
			t.Errorf("%.60q: %s, net/http alone %s", junk, got, want)
		}
	}

	// In pieces: wait until the fast path has read the first piece.
	rc := dialRaw(t, f.fast)
	req := "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"
	_, _ = io.WriteString(rc.c, req[:20])
	waitFor(t, "the first piece read", 5*time.Second, func() bool { return f.ln.buffered() == 20 })
	slow := f.slow.Load()
	_, _ = io.WriteString(rc.c, req[20:])
	if r := rc.read(false); status(t, r) != 200 || f.slow.Load() != slow {
		t.Fatalf("a head in pieces: %s (net/http %d)", head(r), f.slow.Load())
	}

	// Half a head, then nothing: closed after the header timeout.
	rc = dialRaw(t, f.fast)
	_, _ = io.WriteString(rc.c, req[:20])
	start := time.Now()
	if b, err := io.ReadAll(rc.br); err != nil || len(b) != 0 {
		t.Fatalf("half a head: %q %v", b, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("closed after %s", took)
	}
}

// buffered is the bytes read and not answered on the listener's only
// fast-path connection (0 when there is not exactly one).
func (l *fastListener) buffered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.active) != 1 {
		return 0
	}
	for fc := range l.active {
		return int(fc.unanswered.Load())
	}
	return 0
}

// TestFastPathHTTP2AndClose: an h2c connection with prior knowledge is
// net/http's; closing the listener closes idle fast-path connections.
func TestFastPathHTTP2AndClose(t *testing.T) {
	o := newTestOrigin(t)
	f := newFastEdge(t, time.Minute, withOrigins(o.addr()))
	f.warm(t, o)
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{}}}
	resp, err := client.Get("http://" + f.fast + segPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || len(body) != 100_000 || f.slow.Load() != 1 {
		t.Fatalf("h2c: %s %d, %d bytes, net/http %d", resp.Proto, resp.StatusCode, len(body), f.slow.Load())
	}

	rc := dialRaw(t, f.fast)
	rc.roundTrip("GET " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n")
	if err := f.ln.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(rc.br); err != nil || len(b) != 0 {
		t.Fatalf("after Close: %q %v", b, err)
	}
}

// TestFastPathAllocatesNothing: answering a hit, range or not, makes no
// allocation (made request IDs come in batches).
func TestFastPathAllocatesNothing(t *testing.T) {
	o := newTestOrigin(t)
	f := newFastEdge(t, time.Minute, withOrigins(o.addr()))
	f.warm(t, o)
	fc := &fastConn{l: f.ln, c: discardConn{}, buf: make([]byte, fastBufSize), out: make([]byte, 0, 1024),
		num: [2][]byte{make([]byte, 0, 24), make([]byte, 0, 64)}}
	for _, req := range []string{
		"GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nUser-Agent: wrk\r\n\r\n",
		"GET " + segPath + " HTTP/1.1\r\nHost: edge\r\nRange: bytes=0-65535\r\nX-Request-ID: r-1\r\n\r\n",
	} {
		fc.w = copy(fc.buf, req)
		allocs := testing.AllocsPerRun(200, func() {
			fc.r = 0
			if _, err := parseHead(fc.buf[fc.r:fc.w], fc); err != nil {
				t.Fatal(err)
			}
			if served, err := fc.answer(); !served || err != nil {
				t.Fatalf("not served: %v", err)
			}
		})
		if allocs != 0 {
			t.Errorf("%q: %.1f allocations per hit", req, allocs)
		}
	}
}

func parseHead(b []byte, fc *fastConn) (int, error) { return reqhead.Parse(b, &fc.head) }

// BenchmarkFastHit is the fast path's own cost of a 100 KB hit.
func BenchmarkFastHit(b *testing.B) {
	o := newTestOrigin(b)
	e := newEdge(b, "", withOrigins(o.addr()))
	o.put(segPath, segment(100_000))
	e.videos.set("vid1", model.Public)
	e.get(segPath)
	e.get(segPath)
	e.settle()
	ln := newFastListener(nil, e.role, nil, time.Minute, time.Minute)
	fc := &fastConn{l: ln, c: discardConn{}, buf: make([]byte, fastBufSize), out: make([]byte, 0, 1024),
		num: [2][]byte{make([]byte, 0, 24), make([]byte, 0, 64)}}
	fc.w = copy(fc.buf, "GET "+segPath+" HTTP/1.1\r\nHost: edge\r\nUser-Agent: wrk\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseHead(fc.buf[:fc.w], fc); err != nil {
			b.Fatal(err)
		}
		if served, err := fc.answer(); !served || err != nil {
			b.Fatal("not served")
		}
	}
}

// discardConn is a connection whose writes go nowhere.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

// TestFastPathComesBackOnlyWhenSafe: a connection returns to the fast
// path only when net/http has parsed nothing of the next request.
// Requests pipelined behind a miss keep it with net/http; a request
// written while a miss still streams goes back with the byte net/http
// took early. Every answer stays whole and in order.
func TestFastPathComesBackOnlyWhenSafe(t *testing.T) {
	o := newTestOrigin(t)
	f := newFastEdge(t, time.Minute, withOrigins(o.addr()))
	f.warm(t, o)
	hit := "GET " + segPath + " HTTP/1.1\r\nHost: edge\r\n\r\n"
	isHit := func(r []byte) bool {
		return status(t, r) == 200 && strings.Contains(string(r), "X-Cache: HIT-MEM") && len(r) > 100_000
	}
	// threeHits reads the answer to a hit already sent, then sends and
	// reads two more.
	threeHits := func(t *testing.T, rc *rawConn) {
		t.Helper()
		for i := range 3 {
			if i > 0 {
				if _, err := io.WriteString(rc.c, hit); err != nil {
					t.Fatal(err)
				}
			}
			if r := rc.read(false); !isHit(r) {
				t.Fatalf("hit %d: %s", i, head(r))
			}
		}
	}

	t.Run("pipelined behind a miss", func(t *testing.T) {
		before, returns := f.slow.Load(), f.role.fastReturns.Load()
		miss := "GET /media/vid1/chunk-ab12-0-00031.m4s HTTP/1.1\r\nHost: edge\r\n\r\n"
		rc := dialRaw(t, f.fast)
		if _, err := io.WriteString(rc.c, miss+hit); err != nil {
			t.Fatal(err)
		}
		if r := rc.read(false); status(t, r) != 404 {
			t.Fatalf("miss: %s", head(r))
		}
		threeHits(t, rc)
		if got := f.slow.Load() - before; got != 4 || f.role.fastReturns.Load() != returns {
			t.Fatalf("net/http served %d of 4, returns %d: the connection came back with a request in net/http's hands",
				got, f.role.fastReturns.Load()-returns)
		}
	})

	t.Run("written while a miss streams", func(t *testing.T) {
		next := "/media/vid1/chunk-ab12-0-00032.m4s"
		o.put(next, segment(200_000))
		o.mu.Lock()
		o.hold = make(chan struct{})
		o.mu.Unlock()
		before, returns := f.slow.Load(), f.role.fastReturns.Load()
		rc := dialRaw(t, f.fast)
		if _, err := io.WriteString(rc.c, "GET "+next+" HTTP/1.1\r\nHost: edge\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		// The head has come: the edge is streaming, the origin holds the
		// rest back. The next request goes out now, ahead of time.
		line, err := rc.br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("miss: %q %v", line, err)
		}
		if _, err := io.WriteString(rc.c, hit); err != nil {
			t.Fatal(err)
		}
		o.mu.Lock()
		close(o.hold)
		o.hold = nil
		o.mu.Unlock()
		r := rc.read(false)
		if !strings.Contains(string(r), "X-Cache: MISS") || !bytes.HasSuffix(r, segment(200_000)) {
			t.Fatalf("the streamed miss is not whole: %s", head(r))
		}
		threeHits(t, rc)
		// net/http took the early request's first byte while it watched
		// for the client going away; the byte went back with the socket.
		if got := f.slow.Load() - before; got != 1 || f.role.fastReturns.Load() != returns+1 {
			t.Fatalf("net/http served %d of 4 (want the miss alone), returns %d (want 1)", got, f.role.fastReturns.Load()-returns)
		}
	})

	t.Run("many connections missing and hitting", func(t *testing.T) {
		// Each connection alternates a miss (404) and hits, so it leaves
		// and comes back many times while others do the same.
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rc := dialRaw(t, f.fast)
				for i := range 40 {
					req := hit
					if i%4 == 0 {
						req = fmt.Sprintf("GET /media/vid1/none-%d-%d.m4s HTTP/1.1\r\nHost: edge\r\n\r\n", g, i)
					}
					r := rc.roundTrip(req)
					if req != hit && status(t, r) != 404 || req == hit && !isHit(r) {
						t.Errorf("conn %d request %d: %s", g, i, head(r))
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}

// TestReplayConnKeepsWhatNetHTTPMayHaveParsed: the guards for a net/http
// that read more than it does today. Four bytes held (enough for it to
// look for a request) or a second request it started itself: the
// connection stays with net/http. One byte goes back with the socket.
func TestReplayConnKeepsWhatNetHTTPMayHaveParsed(t *testing.T) {
	l := newFastListener(nil, &Role{}, nil, time.Minute, time.Minute)
	for _, c := range []struct {
		name string
		run  func(rc *replayConn, client net.Conn)
		back bool
	}{
		{"one byte while answering", func(rc *replayConn, client net.Conn) {
			go client.Write([]byte("G"))
			readAll(t, rc, 1)
			fastConnState(rc, http.StateIdle)
		}, true},
		{"four bytes while answering", func(rc *replayConn, client net.Conn) {
			go client.Write([]byte("GET "))
			readAll(t, rc, 4)
			fastConnState(rc, http.StateIdle)
		}, false},
		{"a second request", func(rc *replayConn, client net.Conn) {
			fastConnState(rc, http.StateActive)
			fastConnState(rc, http.StateIdle)
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			server, client := net.Pipe()
			defer client.Close()
			rc := &replayConn{Conn: server, back: l}
			fastConnState(rc, http.StateActive) // the handed-off request
			c.run(rc, client)
			rc.mu.Lock()
			back := rc.back != nil && rc.idle
			rc.mu.Unlock()
			if back != c.back {
				t.Fatalf("would go back: %v, want %v", back, c.back)
			}
		})
	}
}

func readAll(t *testing.T, c net.Conn, n int) {
	t.Helper()
	buf := make([]byte, n)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
}
