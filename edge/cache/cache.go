package cache

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Config is what a Cache needs.
type Config struct {
	// MemoryBytes bounds the memory tier.
	MemoryBytes int64
	// DiskDir holds the disk tier; empty turns the tier off.
	DiskDir string
	// DiskBytes bounds the disk tier.
	DiskBytes int64
	Logger    *slog.Logger
	// Now is the clock; tests pass their own.
	Now func() time.Time
}

// DefaultConfig is a cache of 256 MiB in memory and 1 GiB on disk in dir.
func DefaultConfig(dir string) Config {
	return Config{MemoryBytes: 256 << 20, DiskDir: dir, DiskBytes: 1 << 30}
}

// Stats are the cache's counters. They live with the cache, which outlives
// config reloads, and each config's metrics read them.
type Stats struct {
	MemHits, DiskHits, Misses, Stale atomic.Int64
	MemBytesServed, DiskBytesServed  atomic.Int64
	UpstreamBytes, StaleBytesServed  atomic.Int64
	MemEvictions, MemRejects         atomic.Int64
	DiskEvictions, Corrupt, Purges   atomic.Int64
	DiskBytes, DiskObjects           atomic.Int64
}

// Cache is the two tiers together, with the bookkeeping purges need.
type Cache struct {
	mem   *memory
	disk  *disk // nil when the disk tier is off
	stats *Stats
	log   *slog.Logger
	now   func() time.Time

	// mu orders stores against purges: a fill that began before a purge
	// must not store what the purge removed.
	mu       sync.Mutex
	gens     map[string]uint64 // video → purge generation
	nextGen  uint64
	closed   bool
	removing sync.WaitGroup

	// memMu guards memKeys alone. Ristretto's eviction callback takes it,
	// so nothing may call into ristretto while holding it.
	memMu   sync.Mutex
	memKeys map[string]map[string]*Object // video → key → object last set
}

// Open makes the memory tier and opens (or creates) the disk tier,
// rebuilding its index from the files.
func Open(cfg Config) (*Cache, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MemoryBytes <= 0 {
		return nil, errors.New("cache: the memory tier needs a positive size")
	}
	c := &Cache{stats: &Stats{}, log: cfg.Logger, now: cfg.Now,
		memKeys: map[string]map[string]*Object{}, gens: map[string]uint64{}}
	var err error
	if c.mem, err = newMemory(cfg.MemoryBytes, c.stats, c.forgetMem); err != nil {
		return nil, err
	}
	if cfg.DiskDir != "" && cfg.DiskBytes > 0 {
		if c.disk, err = openDisk(cfg.DiskDir, cfg.DiskBytes, c.stats, cfg.Logger, cfg.Now); err != nil {
			c.mem.close()
			return nil, err
		}
	}
	return c, nil
}

// Stats are the live counters.
func (c *Cache) Stats() *Stats { return c.stats }

// MemoryUsed is the bytes the memory tier holds.
func (c *Cache) MemoryUsed() int64 { return c.mem.used() }

// Memory returns key from the memory tier. It is the hit path: no lock,
// no allocation.
func (c *Cache) Memory(key string) (*Object, bool) { return c.mem.get(key) }

// Disk reads key from the disk tier, checking its checksums, and offers it
// to the memory tier.
func (c *Cache) Disk(key string) (*Object, bool) {
	if c.disk == nil {
		return nil, false
	}
	o, ok := c.disk.get(key)
	if !ok {
		return nil, false
	}
	c.mu.Lock()
	c.setMemLocked(o)
	c.mu.Unlock()
	return o, true
}

// Has reports whether either tier holds key. It reads no file; in memory
// it counts as an access, as any lookup does in ristretto.
func (c *Cache) Has(key string) bool {
	if _, ok := c.mem.get(key); ok {
		return true
	}
	return c.disk != nil && c.disk.has(key)
}

// Gen is the purge generation of video. A fill reads it when it starts
// and passes it to Store, which refuses the object if a purge came between.
func (c *Cache) Gen(video string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gens[video]
}

// ErrPurged is returned by Store for an object whose video was purged
// while it was being fetched.
var ErrPurged = errors.New("cache: the video was purged during the fetch")

// Store puts o in both tiers unless video's generation moved past gen. It
// returns once the memory tier has taken (or refused) it and the disk
// file is in place, so a request after Store finds it.
func (c *Cache) Store(o *Object, gen uint64) error {
	if err := c.StoreMemory(o, gen); err != nil {
		return err
	}
	return c.StoreDisk(o, gen)
}

// StoreMemory offers o to the memory tier unless video's generation
// moved past gen, and returns once the tier has taken or refused it.
func (c *Cache) StoreMemory(o *Object, gen uint64) error {
	c.mu.Lock()
	if c.closed || c.gens[o.VideoID] != gen {
		c.mu.Unlock()
		return ErrPurged
	}
	c.setMemLocked(o)
	c.mu.Unlock()
	c.mem.wait()
	return nil
}

// StoreDisk writes o to the disk tier unless video's generation moved
// past gen, before or during the write.
func (c *Cache) StoreDisk(o *Object, gen uint64) error {
	if c.disk == nil {
		return nil
	}
	c.mu.Lock()
	purged := c.closed || c.gens[o.VideoID] != gen
	c.mu.Unlock()
	if purged {
		return ErrPurged
	}
	if err := c.disk.put(o); err != nil {
		return err
	}
	// A purge may have run while the file was written.
	c.mu.Lock()
	purged = c.gens[o.VideoID] != gen
	c.mu.Unlock()
	if purged {
		removeFiles(c.disk.purgeKey(o.Key))
		return ErrPurged
	}
	return nil
}

func (c *Cache) setMemLocked(o *Object) {
	c.memMu.Lock()
	set := c.memKeys[o.VideoID]
	if set == nil {
		set = map[string]*Object{}
		c.memKeys[o.VideoID] = set
	}
	set[o.Key] = o
	c.memMu.Unlock()
	c.mem.set(o)
}

// forgetMem is ristretto's callback for an object it evicted or refused.
// Ristretto may hold its own locks while calling it, so it must not call
// back into ristretto. A key set again since o was set keeps its entry:
// the newer object is the one the tier holds.
func (c *Cache) forgetMem(o *Object) {
	c.memMu.Lock()
	defer c.memMu.Unlock()
	if set := c.memKeys[o.VideoID]; set != nil && set[o.Key] == o {
		delete(set, o.Key)
		if len(set) == 0 {
			delete(c.memKeys, o.VideoID)
		}
	}
}

// PurgeVideo removes every object of video from both tiers at once and
// stops fills in flight from storing theirs. Files are unlinked in the
// background: the caller may be the cluster's apply path, which must not
// wait on a disk.
func (c *Cache) PurgeVideo(video string) {
	c.mu.Lock()
	c.nextGen++
	c.gens[video] = c.nextGen
	c.memMu.Lock()
	keys := c.memKeys[video]
	delete(c.memKeys, video)
	c.memMu.Unlock()
	for key := range keys {
		c.mem.del(key)
	}
	var paths []string
	if c.disk != nil {
		paths = c.disk.purge(video)
	}
	c.mu.Unlock()
	c.stats.Purges.Add(1)
	c.unlink(paths)
}

// PurgeKey removes one object from both tiers.
func (c *Cache) PurgeKey(video, key string) {
	c.mu.Lock()
	c.nextGen++
	c.gens[video] = c.nextGen
	c.memMu.Lock()
	if set := c.memKeys[video]; set != nil {
		delete(set, key)
	}
	c.memMu.Unlock()
	c.mem.del(key)
	var paths []string
	if c.disk != nil {
		paths = c.disk.purgeKey(key)
	}
	c.mu.Unlock()
	c.stats.Purges.Add(1)
	c.unlink(paths)
}

func (c *Cache) unlink(paths []string) {
	if len(paths) == 0 {
		return
	}
	c.removing.Add(1)
	go func() {
		defer c.removing.Done()
		removeFiles(paths)
	}()
}

// WaitRemovals waits for purged files to be unlinked (tests, Close).
func (c *Cache) WaitRemovals() { c.removing.Wait() }

// DiskPath is the file holding key in the disk tier, or "" (tests).
func (c *Cache) DiskPath(key string) string {
	if c.disk == nil {
		return ""
	}
	return c.disk.pathOf(key)
}

// Resize changes the tiers' bounds, evicting at once what no longer fits.
func (c *Cache) Resize(memBytes, diskBytes int64) {
	if memBytes > 0 {
		c.mem.resize(memBytes)
	}
	if c.disk != nil && diskBytes > 0 {
		c.disk.resize(diskBytes)
	}
}

// Close stops the memory tier's goroutines. Disk files stay for the next
// start.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.removing.Wait()
	c.mem.close()
	return nil
}

// String names the cache in logs.
func (c *Cache) String() string {
	if c.disk == nil {
		return "memory-only edge cache"
	}
	return fmt.Sprintf("edge cache in %s", c.disk.dir)
}
