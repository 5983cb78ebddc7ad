package edge

import (
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/edge/access"
	"github.com/stratavideo/strata/edge/cache"
)

// testOrigin is an origin for unit tests: files by path, ETags, the
// origin's Cache-Control rules, counts of what it was asked.
type testOrigin struct {
	srv *httptest.Server

	mu       sync.Mutex
	files    map[string][]byte
	requests map[string]int
	notMod   int
	status   int           // when set, every answer is this status
	hold     chan struct{} // when set, bodies stop half-way until it closes
	lastHdr  http.Header
	hdrs     map[string]http.Header // the last request's header by path
}

func newTestOrigin(t testing.TB) *testOrigin {
	o := &testOrigin{files: map[string][]byte{}, requests: map[string]int{}, hdrs: map[string]http.Header{}}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *testOrigin) put(path string, body []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.files[path] = body
}

func (o *testOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.requests[path]
}

// last is the header of the last request, and the 304s sent so far.
func (o *testOrigin) last() (http.Header, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastHdr, o.notMod
}

// lastFor is the header of the last request for path: prefetches of
// other paths may reach the origin later than the request of interest.
func (o *testOrigin) lastFor(path string) http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hdrs[path]
}

func (o *testOrigin) setStatus(s int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.status = s
}

func (o *testOrigin) addr() string { return strings.TrimPrefix(o.srv.URL, "http://") }

func (o *testOrigin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.requests[r.URL.Path]++
	o.lastHdr = r.Header.Clone()
	o.hdrs[r.URL.Path] = o.lastHdr
	body, ok := o.files[r.URL.Path]
	status, hold := o.status, o.hold
	o.mu.Unlock()
	if status != 0 {
		http.Error(w, "origin says no", status)
		return
	}
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	etag := fmt.Sprintf(`"%08x"`, crc32.ChecksumIEEE(body))
	h := w.Header()
	// Strata's origin answers with the request's ID (reqid.Ensure).
	if id := r.Header.Get("X-Request-ID"); id != "" {
		h.Set("X-Request-ID", id)
	}
	h.Set("ETag", etag)
	h.Set("Content-Type", "video/iso.segment")
	if strings.HasSuffix(r.URL.Path, ".m3u8") {
		h.Set("Content-Type", "application/vnd.apple.mpegurl")
		h.Set("Cache-Control", "public, no-cache")
	} else {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	if r.Header.Get("If-None-Match") == etag {
		o.mu.Lock()
		o.notMod++
		o.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if hold == nil {
		w.Write(body)
		return
	}
	half := len(body) / 2
	w.Write(body[:half])
	w.(http.Flusher).Flush()
	<-hold
	w.Write(body[half:])
}

// fakeVideos is the local store as the access gate sees it.
type fakeVideos struct {
	mu sync.Mutex
	m  map[string]*model.Video
}

func (f *fakeVideos) Video(id string) (*model.Video, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.m[id]; ok {
		c := *v
		return &c, nil
	}
	return nil, fmt.Errorf("video %q: %w", id, store.ErrNotFound)
}

func (f *fakeVideos) set(id string, vis model.Visibility) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*model.Video{}
	}
	f.m[id] = &model.Video{ID: id, Status: model.StatusReady, Visibility: vis}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// edgeHarness is a provisioned strata_edge handler behind an HTTP server.
type edgeHarness struct {
	t      testing.TB
	h      *Handler
	role   *Role
	cache  *cache.Cache
	videos *fakeVideos
	clock  *fakeClock
	srv    *httptest.Server
	next   caddyhttp.Handler
}

type cacheConfig = cache.Config

type harnessOpt func(*Handler, *cacheConfig)

func caddyDuration(d time.Duration) caddy.Duration { return caddy.Duration(d) }

// withOrigins points the handler at origins through Caddy's reverse proxy.
func withOrigins(addrs ...string) harnessOpt {
	return func(h *Handler, _ *cache.Config) {
		rp := &reverseproxy.Handler{}
		for _, a := range addrs {
			rp.Upstreams = append(rp.Upstreams, &reverseproxy.Upstream{Dial: a})
		}
		h.Origin = rp
	}
}

// TestMain runs an empty Caddy config: Caddy's reverse proxy provisions
// only inside a loaded config (it looks up the events app).
func TestMain(m *testing.M) {
	if err := caddy.Load([]byte(`{"admin":{"disabled":true,"config":{"persist":false}}}`), true); err != nil {
		fmt.Fprintln(os.Stderr, "loading an empty Caddy config:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = caddy.Stop()
	os.Exit(code)
}

// withRole serves with a started role (a real cluster node and its
// cache) instead of a test cache and fake store.
func withRole(r *Role) harnessOpt {
	return func(h *Handler, _ *cacheConfig) { h.role = r }
}

func newEdge(t testing.TB, diskDir string, opts ...harnessOpt) *edgeHarness {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.ActiveContext())
	clock := &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	h := &Handler{}
	cfg := cache.Config{MemoryBytes: 64 << 20, DiskDir: diskDir, DiskBytes: 256 << 20, Now: clock.Now}
	for _, o := range opts {
		o(h, &cfg)
	}
	videos := &fakeVideos{}
	var c *cache.Cache
	if h.role == nil {
		var err error
		if c, err = cache.Open(cfg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		role := &Role{}
		role.running.Store(&running{cache: c, gate: access.NewGate(videos, nil)})
		h.role = role
		h.now = clock.Now
	} else {
		c = h.role.Cache()
	}
	role := h.role
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-registered first: the context ends before
	// Cleanup waits for the fills, as when Caddy unloads a config.
	t.Cleanup(func() { h.Cleanup() })
	t.Cleanup(cancel)
	e := &edgeHarness{t: t, h: h, role: role, cache: c, videos: videos, clock: clock,
		next: caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			http.Error(w, "no next handler in this test", http.StatusTeapot)
			return nil
		})}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.ServeHTTP(w, r, e.next); err != nil {
			t.Errorf("ServeHTTP: %v", err)
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// settle waits until no fill is in flight: a request that comes while a
// fill is finishing shares its outcome, which a test moving the clock
// must not count on either way.
func (e *edgeHarness) settle() {
	e.t.Helper()
	waitFor(e.t, "fills settled", 5*time.Second, func() bool { return e.h.fills.Len() == 0 })
}

// advance settles, then moves the clock.
func (e *edgeHarness) advance(d time.Duration) {
	e.t.Helper()
	e.settle()
	e.clock.Advance(d)
}

// get fetches path with headers given as "Name: value" and reads it all.
func (e *edgeHarness) get(path string, hdrs ...string) (*http.Response, []byte) {
	e.t.Helper()
	return e.do(http.MethodGet, path, hdrs...)
}

func (e *edgeHarness) do(method, path string, hdrs ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	for _, h := range hdrs {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	return resp, body
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(5 * time.Millisecond) // poll interval
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// segment makes a body whose bytes tell their offset apart.
func segment(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}
