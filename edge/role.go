package edge

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/edge/access"
	"github.com/stratavideo/strata/edge/cache"
)

func init() {
	caddy.RegisterModule(new(Role))
}

// caches shares open caches across config reloads, keyed by the disk
// tier's folder. Caddy starts a new config before it stops the old one
// (FACTS.md): the new role must take over the warm cache and its files,
// not open them a second time. Process-wide by necessity, like the
// cluster app's node pool.
var caches = caddy.NewUsagePool()

// Role is the strata.roles.edge module: the node's media cache, kept true
// to the cluster log.
type Role struct {
	// MemoryBytes bounds the memory tier. Default 256 MiB.
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
	// DiskBytes bounds the disk tier. Default 1 GiB.
	DiskBytes int64 `json:"disk_bytes,omitempty"`
	// DiskDir holds the disk tier. Default: edge-cache in the node's data
	// folder.
	DiskDir string `json:"disk_dir,omitempty"`
	// NoDisk turns the disk tier off.
	NoDisk bool `json:"no_disk,omitempty"`
	// PublicURL is where viewers reach this edge (scheme, host, port, an
	// optional path prefix). With it the edge is in the cluster's edge
	// registry and origins send viewers here; without it, only this
	// node's own pages use it.
	PublicURL string `json:"public_url,omitempty"`
	// Region names the edge for people.
	Region string `json:"region,omitempty"`
	// Coverage are the client networks (CIDR blocks) this edge serves.
	Coverage []string `json:"coverage,omitempty"`

	log     *slog.Logger
	running atomic.Pointer[running]

	// fastMu guards fastFrom, the strata_edge handlers of this config;
	// fast is what they tell the fast path (fast.go), nil without any.
	fastMu   sync.Mutex
	fastFrom map[*Handler]struct{}
	fast     atomic.Pointer[fastSettings]
	// fastHandoffs and fastReturns count connections the fast path gave
	// net/http and got back (strata_edge_fast_connections_total).
	fastHandoffs, fastReturns atomic.Int64
}

// running is what Start made and Stop releases.
type running struct {
	cache    *cache.Cache
	gate     *access.Gate
	poolKey  string
	unlisten func()
	// unhistory takes the cache history out of the node's status.
	unhistory func()
	// unedge takes the edge's entry and load out of the node's care.
	unedge func()
	// nodeID names this edge to origins on its fills (EdgeHeader).
	nodeID string
}

// Role defaults.
const (
	DefaultMemoryBytes = 256 << 20
	DefaultDiskBytes   = 1 << 30
)

// CaddyModule returns the Caddy module information.
func (*Role) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "strata.roles.edge",
		New: func() caddy.Module { return new(Role) },
	}
}

// Provision sets defaults and registers the cache's metrics in the
// config's registry.
func (e *Role) Provision(ctx caddy.Context) error {
	e.log = cluster.NewLogger(ctx)
	if e.MemoryBytes <= 0 {
		e.MemoryBytes = DefaultMemoryBytes
	}
	if e.DiskBytes <= 0 {
		e.DiskBytes = DefaultDiskBytes
	}
	if err := registerMetrics(ctx.GetMetricsRegistry(), e); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// Validate checks the configuration.
func (e *Role) Validate() error {
	if e.MemoryBytes < 1<<20 {
		return fmt.Errorf("memory_bytes %d: want at least 1 MiB", e.MemoryBytes)
	}
	if !e.NoDisk && e.DiskBytes < 1<<20 {
		return fmt.Errorf("disk_bytes %d: want at least 1 MiB", e.DiskBytes)
	}
	if e.PublicURL == "" && (e.Region != "" || len(e.Coverage) > 0) {
		return errors.New("region and coverage need a public_url: viewers are sent to an edge by its public URL")
	}
	if e.PublicURL != "" {
		entry := e.entry()
		entry.ID = "check"
		if err := store.CheckEdge(&entry); err != nil {
			return err
		}
	}
	return nil
}

// entry is the edge registry entry this role asks for.
func (e *Role) entry() model.Edge {
	return model.Edge{PublicURL: e.PublicURL, Region: e.Region, Coverage: slices.Clone(e.Coverage)}
}

// Start opens the cache (or takes over the one a previous config opened)
// and follows the cluster log for purges.
func (e *Role) Start(n *cluster.Node) error {
	dir := e.DiskDir
	if dir == "" {
		dir = filepath.Join(n.DataDir(), "edge-cache")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("disk_dir: %w", err)
	}
	cfg := cache.Config{MemoryBytes: e.MemoryBytes, DiskDir: dir, DiskBytes: e.DiskBytes, Logger: e.log}
	key := "edge-cache:" + dir
	if e.NoDisk {
		cfg.DiskDir = ""
		key = "edge-cache:memory:" + n.DataDir()
	}
	val, loaded, err := caches.LoadOrNew(key, func() (caddy.Destructor, error) {
		c, err := cache.Open(cfg)
		if err != nil {
			return nil, err
		}
		return newPooledCache(c), nil
	})
	if err != nil {
		return fmt.Errorf("open the edge cache: %w", err)
	}
	pc := val.(*pooledCache)
	c := pc.Cache
	if loaded {
		c.Resize(e.MemoryBytes, e.DiskBytes)
	}
	// Private media needs a token signed with the cluster's media keys.
	r := &running{cache: c, gate: access.NewGate(n, access.NewSignedTokens(n)), poolKey: key, nodeID: n.ID()}
	r.unlisten = n.Listen(r.onEvent)
	r.unhistory = n.SetCacheHistory(pc.history.snapshot)
	r.unedge = n.SetEdge(e.entry(), pc.history.rate)
	e.running.Store(r)
	e.log.Info("edge role started", "cache", c.String(), "memory_bytes", e.MemoryBytes, "disk_bytes", e.DiskBytes)
	return nil
}

// Stop stops following the log and releases this config's hold on the
// cache; the last holder closes it.
func (e *Role) Stop() error {
	r := e.running.Swap(nil)
	if r == nil {
		return nil
	}
	r.unlisten()
	r.unhistory()
	r.unedge()
	_, err := caches.Delete(r.poolKey)
	return err
}

// Ready reports whether the role is running.
func (e *Role) Ready() error {
	if e.running.Load() == nil {
		return errors.New("the edge role is not running")
	}
	return nil
}

// current is what the running role serves with, or nil.
func (e *Role) current() *running { return e.running.Load() }

// Cache is the running role's cache, or nil.
func (e *Role) Cache() *cache.Cache {
	if r := e.running.Load(); r != nil {
		return r.cache
	}
	return nil
}

// pooledCache is the cache shared across reloads, with its history and
// the sampler that fills it.
type pooledCache struct {
	*cache.Cache
	history *history
	stop    chan struct{}
}

func newPooledCache(c *cache.Cache) *pooledCache {
	stats := c.Stats()
	p := &pooledCache{
		Cache:   c,
		history: newHistory(historyStep, historySlots, time.Now, func() figures { return readFigures(stats) }),
		stop:    make(chan struct{}),
	}
	go p.history.run(p.stop)
	return p
}

// Destruct implements caddy.Destructor.
func (p *pooledCache) Destruct() error {
	close(p.stop)
	return p.Close()
}

// Interface guards
var (
	_ cluster.Role         = (*Role)(nil)
	_ cluster.ReadyChecker = (*Role)(nil)
	_ caddy.Provisioner    = (*Role)(nil)
	_ caddy.Validator      = (*Role)(nil)
	_ caddy.Destructor     = (*pooledCache)(nil)
)
