package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/reqid"
	"github.com/stratavideo/strata/edge/access"
	"github.com/stratavideo/strata/edge/cache"
	"github.com/stratavideo/strata/edge/flight"
	"github.com/stratavideo/strata/edge/upstream"
)

// fill is one upstream fetch (or disk read) for a key that every request
// missing on the key waits on. Its outcome is set once, before ready
// closes; a fetched body keeps arriving in stream after that.
type fill struct {
	key, video string
	gen        uint64 // the video's purge generation when the fill began
	ready      chan struct{}
	once       sync.Once

	// One of these outcomes:
	obj    *cache.Object // a whole object: disk hit, revalidated or stale
	x      string        // and where it came from (X-Cache)
	status int           // a fetched response streaming in
	header http.Header
	size   int64
	stream *flight.Stream
	err    error // the fetch failed and nothing stale could stand in
	pass   bool  // too large to cache: each waiter fetches for itself
}

func newFill(key, video string, gen uint64) *fill {
	return &fill{key: key, video: video, gen: gen, ready: make(chan struct{})}
}

func (f *fill) settle(set func()) {
	f.once.Do(func() {
		set()
		close(f.ready)
	})
}

func (f *fill) resolve(o *cache.Object, x string) { f.settle(func() { f.obj, f.x = o, x }) }
func (f *fill) fail(err error)                    { f.settle(func() { f.err = err }) }
func (f *fill) passThrough()                      { f.settle(func() { f.pass = true }) }
func (f *fill) start(status int, hdr http.Header, size int64, s *flight.Stream) {
	f.settle(func() { f.status, f.header, f.size, f.stream = status, hdr, size, s })
}

// errNotWhole: we never ask upstream for a range, so a 206 is a broken
// upstream, and storing it as the object would serve a fragment as a
// whole segment.
var errNotWhole = errors.New("upstream answered a whole-object request with 206")

// maxErrorBody bounds the body of a non-200 answer relayed to waiters.
const maxErrorBody = 1 << 20

// fillBase is what a fill takes from the request that started it, read
// before the fill goes to the background: the request itself belongs to
// its handler, which may return (and its server reuse or change it)
// while the fill still runs.
type fillBase struct {
	token      string // the media token, checked by the edge already
	host       string
	remoteAddr string
	rid        string            // the request ID: in the origin's logs too
	srv        *caddyhttp.Server // the Caddy server, for upstream.Prepare
}

func baseOf(r *http.Request) fillBase {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	b := fillBase{host: r.Host, remoteAddr: r.RemoteAddr, rid: reqid.Of(r), srv: srv}
	if r.URL.RawQuery != "" {
		b.token = r.URL.Query().Get(access.TokenParam)
	}
	return b
}

// startFill runs f in the background, counted for Cleanup; done, if not
// nil, runs after it.
func (h *Handler) startFill(f *fill, c *cache.Cache, base fillBase, next caddyhttp.Handler, stale *cache.Object, done func()) {
	h.fillsRunning.Add(1)
	go func() {
		defer h.fillsRunning.Done()
		if done != nil {
			defer done()
		}
		h.runFill(f, c, base, next, stale)
	}()
}

// runFill does f's work: the disk tier, then upstream (conditionally when
// a stale copy exists), then stores a cacheable 200. It runs detached
// from any one viewer (under the config's context, bounded by
// fetch_timeout): a viewer that leaves does not waste the fetch the next
// one needs. base is read from the request that started it; next is its route's
// next handler, the local origin when no remote one is configured.
func (h *Handler) runFill(f *fill, c *cache.Cache, base fillBase, next caddyhttp.Handler, stale *cache.Object) {
	defer h.fills.Done(f.key, f)
	gen := f.gen
	staleX := xHitMem
	if stale == nil {
		if o, ok := c.Disk(f.key); ok {
			if o.Fresh(h.now()) {
				f.resolve(o, xHitDisk)
				return
			}
			stale, staleX = o, xHitDisk
		}
	}
	ctx, cancel := context.WithTimeout(h.ctx, h.fetchTimeout)
	defer cancel()
	rid := base.rid // the request that started the fill: in the origin's logs too
	resp, err := h.fetcher(next).Fetch(h.upstreamRequest(ctx, base, f.key, stale))
	now := h.now()
	if err != nil || resp.StatusCode >= 500 {
		if stale != nil && now.Before(stale.Expires.Add(h.staleIfError)) {
			if resp != nil {
				resp.Body.Close()
			}
			h.log.Warn("edge: upstream failing; serving a stale copy", "key", f.key, "error", err, "status", statusOf(resp), "request_id", rid)
			f.resolve(stale, xStale)
			return
		}
		if err != nil {
			h.log.Warn("edge: fetch failed", "key", f.key, "error", err, "request_id", rid)
			f.fail(err)
			return
		}
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && stale != nil:
		resp.Body.Close()
		ttl, _ := h.fresh.ttl(resp.Header)
		if len(resp.Header.Values("Cache-Control")) == 0 {
			ttl, _ = h.fresh.ttl(stale.Header)
		}
		o := stale.Refreshed(resp.Header, now, now.Add(ttl))
		if err := c.Store(o, gen); err != nil && !errors.Is(err, cache.ErrPurged) {
			h.log.Warn("edge: storing a revalidated object", "key", f.key, "error", err)
		}
		f.resolve(o, staleX)
		return
	case resp.StatusCode == http.StatusPartialContent:
		resp.Body.Close()
		f.fail(fmt.Errorf("%s: %w", f.key, errNotWhole))
		return
	case resp.StatusCode == http.StatusOK && resp.ContentLength > h.maxObject:
		resp.Body.Close()
		f.passThrough()
		return
	}
	limit := int64(maxErrorBody)
	if resp.StatusCode == http.StatusOK {
		limit = h.maxObject
	}
	hdr := storedHeader(resp.Header)
	stream := flight.NewStream(resp.ContentLength, limit)
	f.start(resp.StatusCode, hdr, resp.ContentLength, stream)

	buf := h.copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(stream, resp.Body, *buf)
	h.copyBufs.Put(buf)
	resp.Body.Close()
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	c.Stats().UpstreamBytes.Add(n)
	if err != nil {
		stream.Close(err)
		h.log.Warn("edge: fetch broke off", "key", f.key, "bytes", n, "error", err, "request_id", rid)
		return
	}
	ttl, ok := h.fresh.ttl(resp.Header)
	if resp.StatusCode != http.StatusOK || !ok {
		stream.Close(nil)
		return
	}
	// Into memory before the last byte is released, so a viewer who has
	// the whole object and asks again gets a hit; then to disk.
	o := cache.New(f.key, f.video, hdr, stream.Buffered(), now, now.Add(ttl))
	merr := c.StoreMemory(o, gen)
	stream.Close(nil)
	if merr == nil {
		merr = c.StoreDisk(o, gen)
	}
	if merr != nil && !errors.Is(merr, cache.ErrPurged) {
		h.log.Warn("edge: storing an object", "key", f.key, "error", merr)
	}
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// upstreamRequest is the request a fill sends: a plain GET of the key, no
// query (a signed token is checked here, never forwarded or keyed), no
// compression (the cache stores what it serves), conditional on the stale
// copy's validators.
func (h *Handler) upstreamRequest(ctx context.Context, base fillBase, key string, stale *cache.Object) *http.Request {
	// The fetch carries the viewer's media token, which the edge checked
	// already, so the origin serves a private video's files; the cache key
	// stays the path alone.
	u := &url.URL{Path: key}
	if base.token != "" {
		u.RawQuery = url.Values{access.TokenParam: {base.token}}.Encode()
	}
	req := (&http.Request{
		Method:     http.MethodGet,
		URL:        u,
		RequestURI: u.RequestURI(),
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:     http.Header{"Accept-Encoding": {"identity"}},
		Host:       base.host,
		RemoteAddr: base.remoteAddr,
		Body:       http.NoBody,
	}).WithContext(ctx)
	if base.rid != "" {
		req.Header.Set(reqid.Header, base.rid)
	}
	if stale != nil {
		if stale.ETag != "" {
			req.Header.Set("If-None-Match", stale.ETag)
		} else if lm := stale.Header.Get("Last-Modified"); lm != "" {
			req.Header.Set("If-Modified-Since", lm)
		}
	}
	if rs := h.role.current(); rs != nil && rs.nodeID != "" {
		req.Header[cluster.EdgeHeader] = []string{rs.nodeID}
	}
	return upstream.Prepare(req, base.srv)
}

// fetcher is the upstream chain: parent edges first, then origins, or the
// next handler (the local origin) when no origin is configured.
func (h *Handler) fetcher(next caddyhttp.Handler) upstream.Fetcher {
	var chain upstream.Chain
	if h.Parent != nil {
		chain = append(chain, upstream.Handler{Handler: upstream.Middleware(h.Parent)})
	}
	if h.Origin != nil {
		chain = append(chain, upstream.Handler{Handler: upstream.Middleware(h.Origin)})
	} else {
		chain = append(chain, upstream.Handler{Handler: next})
	}
	return chain
}
