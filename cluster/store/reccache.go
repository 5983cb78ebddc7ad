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

// recordCache keeps records decoded as the last commit left them.
// Decoding a stored video's JSON costs ~5 µs for bench-cluster's small
// ones and ~11 µs for a ready one (five rungs, its files, a 500-character
// description); the FSM decodes one for every change it applies (on every
// node) and the API one for every read, for every write it checks and,
// for a token, every request it authenticates. At 16 writers that was
// about a tenth of a three-node cluster's CPU. Cloning the ready video
// costs ~0.45 µs.
//
// It never shows a state bbolt would not, and never one older than a
// read before it showed: the writer (the FSM, one transaction at a time)
// drops a transaction's records before it commits and puts their new
// values after, bumping gen both times. A reader that decoded from bbolt
// keeps its value only if gen did not move while it read and no commit
// is in flight, so a value read before a commit cannot land after it
// (TestVideoCacheMonotonicUnderLoad caught the in-flight case). Entries
// are never handed out, only clones of them.
type recordCache[T any] struct {
	clone func(*T) *T
	// hits and misses count gets, for the operator's metrics: a low hit
	// ratio says the catalog's working set outgrew cacheSize.
	hits, misses atomic.Uint64

	mu  sync.Mutex
	gen uint64
	// committing is set from drop to settle: bbolt may hold either side
	// of the commit, so nothing read then is kept.
	committing bool
	m          map[string]*T
}

func newRecordCache[T any](clone func(*T) *T) *recordCache[T] {
	return &recordCache[T]{clone: clone, m: make(map[string]*T)}
}

// get returns a clone of the cached record, or the generation to pass to
// fill after reading it from bbolt.
func (c *recordCache[T]) get(key string) (*T, uint64) {
	c.mu.Lock()
	v, gen := c.m[key], c.gen
	c.mu.Unlock()
	if v != nil {
		c.hits.Add(1)
		return c.clone(v), gen
	}
	c.misses.Add(1)
	return nil, gen
}

// fill keeps a clone of v if nothing was committed since gen was read.
func (c *recordCache[T]) fill(key string, v *T, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen && !c.committing {
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

// drop forgets the records a transaction wrote (written maps each key to
// its new value, nil when deleted), before it commits.
func (c *recordCache[T]) drop(written map[string]*T) {
	if len(written) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.committing = true
	for k := range written {
		delete(c.m, k)
	}
}

// settle ends what drop began: when the transaction committed, the cache
// keeps the records it wrote, which it now owns.
func (c *recordCache[T]) settle(written map[string]*T, committed bool) {
	if len(written) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.committing = false
	if !committed {
		return
	}
	for k, v := range written {
		if v != nil {
			c.putLocked(k, v)
		}
	}
}

// reset forgets everything (a restored store).
func (c *recordCache[T]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

// txRead reads a record for a change. One the transaction has not
// written yet is as the last commit left it, which the cache holds when it
// holds it at all: the FSM is the store's only writer.
func txRead[T any](t *Tx, c *recordCache[T], written map[string]*T, bucket []byte, key, what string) (*T, error) {
	_, wrote := written[key]
	var gen uint64
	if !wrote {
		var v *T
		if v, gen = c.get(key); v != nil {
			return v, nil
		}
	}
	v := new(T)
	ok, err := getJSON(t.tx.Bucket(bucket), key, v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s %q: %w", what, key, ErrNotFound)
	}
	if !wrote {
		c.fill(key, v, gen)
	}
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

func (c caches) drop(w written) {
	c.videos.drop(w.videos)
	c.users.drop(w.users)
	c.tokens.drop(w.tokens)
}

func (c caches) settle(w written, committed bool) {
	c.videos.settle(w.videos, committed)
	c.users.settle(w.users, committed)
	c.tokens.settle(w.tokens, committed)
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
