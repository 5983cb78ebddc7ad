package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/reqid"
	"github.com/stratavideo/strata/edge/access"
	"github.com/stratavideo/strata/edge/cache"
	"github.com/stratavideo/strata/edge/flight"
	"github.com/stratavideo/strata/edge/ranges"
	"github.com/stratavideo/strata/edge/upstream"
)

func init() {
	caddy.RegisterModule(new(Handler))
}

// Handler is the strata_edge HTTP handler: /media/ through the cache.
type Handler struct {
	// Origin fetches from remote origins: Caddy's reverse_proxy, with its
	// upstreams, health checks, selection policy, retries and transport.
	// Without it, the route's next handler is the origin (the all-in-one
	// node's strata_media, in the same process).
	Origin *reverseproxy.Handler `json:"origin,omitempty"`
	// Parent is a shield: edges asked before the origins.
	Parent *reverseproxy.Handler `json:"parent,omitempty"`
	// ManifestTTL is how long a no-cache response (manifests) is served
	// before it is revalidated. Default 2s.
	ManifestTTL caddy.Duration `json:"manifest_ttl,omitempty"`
	// DefaultTTL is the freshness of a response that states none. Default 10m.
	DefaultTTL caddy.Duration `json:"default_ttl,omitempty"`
	// MaxTTL caps max-age. Default 365 days.
	MaxTTL caddy.Duration `json:"max_ttl,omitempty"`
	// StaleIfError is how long past its freshness a copy may stand in
	// while every upstream fails. Default 24h.
	StaleIfError caddy.Duration `json:"stale_if_error,omitempty"`
	// Prefetch is how many segments after a requested one are fetched in
	// the background. Default 2; 0 turns prefetch off.
	Prefetch *int `json:"prefetch,omitempty"`
	// CoalesceWait bounds how long a request waits for another's fetch to
	// start answering before it goes upstream on its own. Default 10s.
	CoalesceWait caddy.Duration `json:"coalesce_wait,omitempty"`
	// FetchTimeout bounds one upstream fetch, body included. Default 60s.
	FetchTimeout caddy.Duration `json:"fetch_timeout,omitempty"`
	// MaxRanges is the most ranges one request may ask for; more get the
	// whole object. Default 16.
	MaxRanges int `json:"max_ranges,omitempty"`
	// MaxObjectBytes is the largest object cached; larger ones are passed
	// through. Default 64 MiB.
	MaxObjectBytes int64 `json:"max_object_bytes,omitempty"`

	role *Role
	// ctx ends with this config; fills run under it, not under the
	// request that started them, and Cleanup waits for them.
	ctx          context.Context
	fillsRunning sync.WaitGroup
	log          *slog.Logger
	now          func() time.Time
	fresh        freshness
	staleIfError time.Duration
	coalesceWait time.Duration
	fetchTimeout time.Duration
	maxObject    int64
	prefetch     int
	prefetchSem  chan struct{}
	fills        flight.Group[*fill]
	copyBufs     sync.Pool
}

// CaddyModule returns the Caddy module information.
func (*Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.strata_edge",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Defaults for the handler.
const (
	DefaultManifestTTL  = 2 * time.Second
	DefaultTTL          = 10 * time.Minute
	DefaultMaxTTL       = 365 * 24 * time.Hour
	DefaultStaleIfError = 24 * time.Hour
	DefaultPrefetch     = 2
	DefaultCoalesceWait = 10 * time.Second
	DefaultFetchTimeout = 60 * time.Second
	DefaultMaxObject    = 64 << 20
	// prefetchParallel bounds background prefetches at once.
	prefetchParallel = 4
)

// Provision finds the edge role, sets defaults and provisions the
// reverse proxies.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.log = cluster.NewLogger(ctx)
	h.ctx = ctx
	if h.now == nil {
		h.now = time.Now
	}
	if h.role == nil {
		app, err := cluster.FromContext(ctx)
		if err != nil {
			return err
		}
		r, ok := app.Role("edge").(*Role)
		if !ok {
			return errors.New("this node has no edge role: add `edge` to the strata global option")
		}
		h.role = r
	}
	h.fresh = freshness{
		manifestTTL: durOr(h.ManifestTTL, DefaultManifestTTL),
		defaultTTL:  durOr(h.DefaultTTL, DefaultTTL),
		maxTTL:      durOr(h.MaxTTL, DefaultMaxTTL),
	}
	h.staleIfError = durOr(h.StaleIfError, DefaultStaleIfError)
	h.coalesceWait = durOr(h.CoalesceWait, DefaultCoalesceWait)
	h.fetchTimeout = durOr(h.FetchTimeout, DefaultFetchTimeout)
	h.maxObject = h.MaxObjectBytes
	if h.maxObject <= 0 {
		h.maxObject = DefaultMaxObject
	}
	if h.MaxRanges <= 0 {
		h.MaxRanges = ranges.DefaultMaxRanges
	}
	h.prefetch = DefaultPrefetch
	if h.Prefetch != nil {
		h.prefetch = *h.Prefetch
	}
	h.prefetchSem = make(chan struct{}, prefetchParallel)
	h.copyBufs.New = func() any { b := make([]byte, 32<<10); return &b }
	for _, rp := range []*reverseproxy.Handler{h.Parent, h.Origin} {
		if rp == nil {
			continue
		}
		proxyDefaults(rp)
		if err := rp.Provision(ctx); err != nil {
			return fmt.Errorf("upstream proxy: %w", err)
		}
	}
	h.role.addHandler(h)
	return nil
}

func durOr(d caddy.Duration, def time.Duration) time.Duration {
	if d > 0 {
		return time.Duration(d)
	}
	return def
}

// Validate checks the configuration without side effects.
func (h *Handler) Validate() error {
	if h.Prefetch != nil && (*h.Prefetch < 0 || *h.Prefetch > 16) {
		return fmt.Errorf("prefetch %d: want 0 to 16", *h.Prefetch)
	}
	if h.MaxRanges < 0 {
		return fmt.Errorf("max_ranges %d: want a positive number", h.MaxRanges)
	}
	for name, rp := range map[string]*reverseproxy.Handler{"origin": h.Origin, "parent": h.Parent} {
		if rp != nil && len(rp.Upstreams) == 0 && rp.DynamicUpstreams == nil {
			return fmt.Errorf("%s: no upstreams", name)
		}
	}
	return nil
}

// Cleanup waits for the fills in flight (the config's context has ended,
// so their fetches are stopping) and releases the reverse proxies'
// upstream hosts.
func (h *Handler) Cleanup() error {
	if h.role != nil {
		h.role.removeHandler(h)
	}
	h.fillsRunning.Wait()
	var errs []error
	for _, rp := range []*reverseproxy.Handler{h.Parent, h.Origin} {
		if rp != nil {
			errs = append(errs, rp.Cleanup())
		}
	}
	return errors.Join(errs...)
}

// ServeHTTP implements caddyhttp.MiddlewareHandler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	reqid.Ensure(w, r)
	cors(w.Header())
	if r.Method == http.MethodOptions {
		preflight(w)
		return nil
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "media is read-only")
	}
	id, _, ok := splitPath(r.URL.Path)
	if !ok {
		return writeError(w, http.StatusNotFound, "not_found", "media file not found")
	}
	rs := h.role.current()
	if rs == nil {
		return writeError(w, http.StatusServiceUnavailable, "unavailable", "the edge is starting; try again in a moment")
	}
	switch d, err := rs.gate.Check(r, id); {
	case err != nil:
		h.log.Error("edge: access check", "video_id", id, "error", err, "request_id", reqid.Of(r))
		return writeError(w, http.StatusInternalServerError, "internal", "internal error")
	case d == access.Forbidden:
		return writeError(w, http.StatusForbidden, "forbidden", "this video is private: its media needs a valid token")
	case d != access.Allow:
		return writeError(w, http.StatusNotFound, "not_found", "media file not found")
	}
	c := rs.cache
	key := r.URL.Path
	stats := c.Stats()

	var stale *cache.Object
	if o, ok := c.Memory(key); ok {
		if o.Fresh(h.now()) {
			stats.MemHits.Add(1)
			stats.MemBytesServed.Add(o.Size())
			if plain(r) {
				serveWhole(w, r, o, hdrHitMem)
			} else if err := respond(w, r, objectEntity(o), xHitMem, h.MaxRanges); err != nil {
				return nil // the client went away
			}
			if h.prefetch > 0 && o.MarkPrefetched() {
				h.prefetchAfter(c, r, next, key, id)
			}
			return nil
		}
		stale = o
	}
	return h.serveMiss(w, r, next, c, key, id, stale)
}

// serveMiss joins (or starts) the fill for key and answers from it.
func (h *Handler) serveMiss(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, c *cache.Cache, key, id string, stale *cache.Object) error {
	gen := c.Gen(id)
	f, leader := h.fills.Join(key, func() *fill { return newFill(key, id, gen) })
	if leader {
		h.startFill(f, c, baseOf(r), next, stale, nil)
	} else if f.gen != gen {
		// The fill began before a purge of this video, and may still be
		// registered after it answered: its bytes are what was purged.
		return h.passThrough(w, r, next, c)
	}
	timer := time.NewTimer(h.coalesceWait)
	defer timer.Stop()
	select {
	case <-f.ready:
	case <-timer.C:
		h.log.Warn("edge: waited too long for a fetch in flight; fetching alone", "key", key, "wait", h.coalesceWait)
		return h.passThrough(w, r, next, c)
	case <-r.Context().Done():
		return nil
	}
	stats := c.Stats()
	switch {
	case f.pass:
		return h.passThrough(w, r, next, c)
	case f.err != nil:
		stats.Misses.Add(1)
		code := upstream.StatusOf(f.err)
		if errors.Is(f.err, errNotWhole) {
			code = http.StatusBadGateway
		}
		return writeError(w, code, "upstream_unavailable", "the media could not be fetched; try again")
	case f.obj != nil:
		switch f.x {
		case xHitDisk:
			stats.DiskHits.Add(1)
			stats.DiskBytesServed.Add(f.obj.Size())
		case xStale:
			stats.Stale.Add(1)
			stats.StaleBytesServed.Add(f.obj.Size())
		default:
			stats.MemHits.Add(1)
			stats.MemBytesServed.Add(f.obj.Size())
		}
		_ = respond(w, r, objectEntity(f.obj), f.x, h.MaxRanges)
	case f.status == http.StatusOK:
		stats.Misses.Add(1)
		_ = respond(w, r, streamEntity(f.header, f.size, f.stream), xMiss, h.MaxRanges)
	default:
		// A 404 or an upstream error status: relayed as is, not stored.
		stats.Misses.Add(1)
		hdr := w.Header()
		for k, v := range f.header {
			hdr[k] = v
		}
		hdr["X-Cache"] = hdrMiss
		w.WriteHeader(f.status)
		if r.Method != http.MethodHead {
			_ = f.stream.WriteRange(r.Context(), w, 0, -1)
		}
		return nil
	}
	if h.prefetch > 0 {
		h.prefetchAfter(c, r, next, key, id)
	}
	return nil
}

// passThrough fetches r for this client alone, uncached: objects too big
// to cache, and requests that waited too long on another's fetch.
func (h *Handler) passThrough(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, c *cache.Cache) error {
	c.Stats().Misses.Add(1)
	req := h.upstreamRequest(r.Context(), baseOf(r), r.URL.Path, nil)
	for _, k := range []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"} {
		if v := r.Header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := h.fetcher(next).Fetch(req)
	if err != nil {
		return writeError(w, upstream.StatusOf(err), "upstream_unavailable", "the media could not be fetched; try again")
	}
	defer resp.Body.Close()
	hdr := w.Header()
	for k, v := range resp.Header {
		if k != "Server" {
			hdr[k] = v
		}
	}
	hdr["X-Cache"] = hdrMiss
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		buf := h.copyBufs.Get().(*[]byte)
		_, _ = io.CopyBuffer(w, resp.Body, *buf)
		h.copyBufs.Put(buf)
	}
	return nil
}

// writeError writes the JSON error shape the API uses.
func writeError(w http.ResponseWriter, status int, code, msg string) error {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`+"\n", code, msg)
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
