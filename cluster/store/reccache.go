package store

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/stratavideo/strata/cluster/model"
)

// cacheSize bounds the decoded records each cache keeps: a few MB at the
// sizes records have (a ready video with its ladder, files and holders is
// 2-4 KB decoded; users and tokens are smaller).
const cacheSize = 4096

// recordCache keeps records decoded as the FSM last applied them.
// Decoding a stored video's JSON costs ~5 µs for bench-cluster's small
// ones and ~11 µs for a ready one (five rungs, its files, a 500-character
// description); the FSM decodes one for every change it applies (on every
// node) and the API one for every read, for every write it checks and,
// for a token, every request it authenticates. At 16 writers that was
// about a tenth of a three-node cluster's CPU. Cloning the ready video
// costs ~0.45 µs.
//
// The store holds its write transaction open across batches (see
// Store.Update), so bbolt's committed state may lag what was applied. The
// records a held transaction wrote are pinned here (nil for a deleted
// one) until it commits; bbolt's committed state is right for every other
// key. So a reader sees the applied state: a pinned record, or a
// committed one, and a reader that needs more than one key's committed
// state (a list, an index) has the store commit first.
//
// It never shows a state older than a read before it showed: pin and
// settle bump gen, and a reader that decoded from bbolt keeps its value
// only if gen did not move while it read and its key is not pinned, so a
// value read before a commit cannot land after it
// (TestVideoCacheMonotonicUnderLoad). Entries are never handed out, only
// clones of them.
type recordCache[T any] struct {
	clone func(*T) *T
	// hits and misses count gets, for the operator's metrics: a low hit
	// ratio says the catalog's working set outgrew cacheSize.
	hits, misses atomic.Uint64

	mu  sync.Mutex
	gen uint64
	// pinned are the records written by the held transaction, as
	// applied; never evicted.
	pinned map[string]*T
	m      map[string]*T
}

func newRecordCache[T any](clone func(*T) *T) *recordCache[T] {
	return &recordCache[T]{clone: clone, m: make(map[string]*T), pinned: make(map[string]*T)}
}

// get returns a clone of the record as last applied if the cache has it
// (gone: deleted by the held transaction), else the generation to pass
// to fill after reading it from bbolt.
func (c *recordCache[T]) get(key string) (v *T, gone bool, gen uint64) {
	c.mu.Lock()
	v, pinned := c.pinned[key]
	if !pinned {
		v = c.m[key]
	}
	gen = c.gen
	c.mu.Unlock()
	switch {
	case v != nil:
		c.hits.Add(1)
		return c.clone(v), false, gen
	case pinned:
		c.hits.Add(1)
		return nil, true, gen
	}
	c.misses.Add(1)
	return nil, false, gen
}

// fill keeps a clone of v, read from bbolt's committed state, if nothing
// was pinned or committed since gen was read and the key is not pinned.
func (c *recordCache[T]) fill(key string, v *T, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, pinned := c.pinned[key]; c.gen == gen && !pinned {
		c.putLocked(key, c.clone(v))
	}
}

func (c *recordCache[T]) putLocked(key string, v *T) {
	if _, ok := c.m[key]; !ok && len(c.m) >= cacheSize {
		for k := range c.m { // map order: a random victim
			delete(c.m, k)
			break
		}
	}
	c.m[key] = v
}

// pin records what a batch of the held transaction wrote (written maps
// each key to its new value, nil when deleted); the cache owns the
// values from now on.
func (c *recordCache[T]) pin(written map[string]*T) {
	if len(written) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, v := range written {
		c.pinned[k] = v
		delete(c.m, k)
	}
}

// pinnedValue is the record the held transaction wrote at key (nil when
// deleted, or not written). The caller only reads it.
func (c *recordCache[T]) pinnedValue(key string) *T {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pinned[key]
}

// settle ends the held transaction: committed, its records become
// ordinary entries; rolled back, they are forgotten.
func (c *recordCache[T]) settle(committed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pinned) == 0 {
		return
	}
	c.gen++
	if committed {
		for k, v := range c.pinned {
			if v != nil {
				c.putLocked(k, v)
			}
		}
	}
	clear(c.pinned)
}

// reset forgets everything (a restored store).
func (c *recordCache[T]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
	clear(c.pinned)
}

// txRead reads a record for a change: as this batch wrote it, as an
// earlier batch of the held transaction left it (pinned in the cache), or
// as the last commit left it (cached, or in bbolt).
func txRead[T any](t *Tx, c *recordCache[T], written map[string]*T, bucket []byte, key, what string) (*T, error) {
	if v, wrote := written[key]; wrote {
		if v == nil {
			return nil, fmt.Errorf("%s %q: %w", what, key, ErrNotFound)
		}
		return c.clone(v), nil
	}
	v, gone, gen := c.get(key)
	switch {
	case v != nil:
		return v, nil
	case gone:
		return nil, fmt.Errorf("%s %q: %w", what, key, ErrNotFound)
	}
	v = new(T)
	ok, err := getJSON(t.tx.Bucket(bucket), key, v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s %q: %w", what, key, ErrNotFound)
	}
	c.fill(key, v, gen)
	return v, nil
}

// caches are the store's record caches, and what one transaction wrote
// to each.
type caches struct {
	videos *recordCache[model.Video]
	users  *recordCache[model.User]
	// tokens are keyed by the hash of their secret, the key requests
	// present.
	tokens *recordCache[model.APIToken]
}

func newCaches() caches {
	return caches{
		videos: newRecordCache((*model.Video).Clone),
		users:  newRecordCache((*model.User).Clone),
		tokens: newRecordCache((*model.APIToken).Clone),
	}
}

// written is what one transaction wrote to the cached buckets: clones of
// the records as encoded, nil for a deleted one.
type written struct {
	videos map[string]*model.Video
	users  map[string]*model.User
	tokens map[string]*model.APIToken
}

func newWritten() written {
	return written{videos: map[string]*model.Video{}, users: map[string]*model.User{},
		tokens: map[string]*model.APIToken{}}
}

func (c caches) pin(w written) {
	c.videos.pin(w.videos)
	c.users.pin(w.users)
	c.tokens.pin(w.tokens)
}

func (c caches) settle(committed bool) {
	c.videos.settle(committed)
	c.users.settle(committed)
	c.tokens.settle(committed)
}

func (c caches) reset() {
	c.videos.reset()
	c.users.reset()
	c.tokens.reset()
}

// CacheStats is how often reads of one record kind found it in the cache.
type CacheStats struct {
	Kind         string
	Hits, Misses uint64
}

// CacheStats reports the caches' hits and misses since the store opened.
func (s *Store) CacheStats() []CacheStats {
	return []CacheStats{
		{"video", s.cache.videos.hits.Load(), s.cache.videos.misses.Load()},
		{"user", s.cache.users.hits.Load(), s.cache.users.misses.Load()},
		{"token", s.cache.tokens.hits.Load(), s.cache.tokens.misses.Load()},
	}
}
