// Package store keeps the replicated state machine's data in bbolt.
//
// The store knows the records and the rules that change them (a lease is held
// by one worker, a deleted video takes its jobs with it); it knows nothing of
// Raft. The FSM opens one write transaction per batch of log entries, calls
// the Tx methods, and records the last applied log index in the same
// transaction, so after a crash the store knows exactly which entries it holds.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"go.etcd.io/bbolt"
)

// Business errors, returned as apply results. Callers test them with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrExists    = errors.New("already exists")
	ErrInvalid   = errors.New("invalid")
	ErrLeaseLost = errors.New("lease lost")
	// ErrExpired: a challenge, setup link or session past its lifetime at
	// the command's Stamp.
	ErrExpired = errors.New("expired")
	// ErrUsed: a single-use challenge or setup link consumed already.
	ErrUsed = errors.New("already used")
)

var (
	bucketMeta        = []byte("meta")
	bucketVideos      = []byte("videos")
	bucketVideosTime  = []byte("videos_by_time")
	bucketJobs        = []byte("jobs")
	bucketJobsOpen    = []byte("jobs_open")
	bucketJobsVideo   = []byte("jobs_by_video")
	bucketMembers     = []byte("members")
	bucketVideosOwner = []byte("videos_by_owner")
	bucketUsers       = []byte("users")
	bucketUsersName   = []byte("users_by_name")
	bucketPasskeys    = []byte("passkeys")
	bucketSessions    = []byte("sessions")
	bucketTokens      = []byte("tokens")
	bucketTokensHash  = []byte("tokens_by_hash")
	bucketChallenges  = []byte("challenges")
	bucketSetupLinks  = []byte("setup_links")
	bucketSigningKeys = []byte("signing_keys")
	bucketQoE         = []byte("qoe")
	bucketCaptions    = []byte("captions")
	bucketEdges       = []byte("edges")

	keyApplied = []byte("applied")
	keyJobSeq  = []byte("job_seq")

	allBuckets = [][]byte{bucketMeta, bucketVideos, bucketVideosTime, bucketJobs, bucketJobsOpen, bucketJobsVideo, bucketMembers,
		bucketVideosOwner, bucketUsers, bucketUsersName, bucketPasskeys, bucketSessions, bucketTokens, bucketTokensHash,
		bucketChallenges, bucketSetupLinks, bucketSigningKeys, bucketQoE, bucketCaptions, bucketEdges}
)

// Config tunes the bbolt file.
type Config struct {
	// InitialMmapSize is mapped up front so that a long snapshot read does
	// not block writers that would otherwise need to grow the map.
	InitialMmapSize int
	// NoSync skips fsync; only for tests.
	NoSync bool
	// OpenTimeout bounds the wait for the file lock held by another process.
	OpenTimeout time.Duration
}

// DefaultConfig is what a node uses.
func DefaultConfig() Config {
	return Config{InitialMmapSize: 64 << 20, OpenTimeout: 5 * time.Second}
}

// Store is the state machine's data. Reads may run at any time; writes come
// only from the FSM, one at a time.
type Store struct {
	path string
	cfg  Config

	// mu guards db against the swap in Restore.
	mu sync.RWMutex
	db *bbolt.DB
	// cache holds decoded records (see recordCache).
	cache caches
	// held is the write transaction kept open across the FSM's batches.
	held held
}

// holdFor is how long the store keeps its write transaction open across
// the FSM's batches before it commits. A bbolt commit rewrites every page
// the transaction dirtied plus the bucket roots and the meta page; with a
// commit per Raft batch, bbolt's Commit was 7.6 % of the three nodes' CPU
// in bench-cluster's profiles at 16 writers (5.5 % of the leader's, 9-12 %
// of a follower's). etcd's backend batches its commits the same way
// (every 100 ms). Nothing is lost by the wait: the Raft log is the
// durable record (this file is written without fsync anyway), and after
// a crash Raft replays the entries past the last committed applied
// index. Readers never wait for it: records the held transaction wrote
// are pinned in the cache, and a read of anything else that is not
// cached commits first (see view).
const holdFor = 20 * time.Millisecond

// held is the open write transaction and what it applied.
type held struct {
	mu sync.Mutex
	tx *bbolt.Tx
	// applied is the last applied index the transaction records.
	applied uint64
	// lazy are videos whose bytes are written at the commit, from their
	// pinned values (see putVideo).
	lazy map[string]struct{}
	// timer commits the transaction holdFor after it began.
	timer *time.Timer
	// err is a commit that failed: what the transaction applied is gone,
	// so the store must not take more (the FSM stops the node).
	err error
}

// Open opens or creates the store file at path.
func Open(path string, cfg Config) (*Store, error) {
	db, err := openDB(path, cfg)
	if err != nil {
		return nil, err
	}
	return &Store{path: path, cfg: cfg, db: db, cache: newCaches()}, nil
}

func openDB(path string, cfg Config) (*bbolt.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store dir: %w", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:         cfg.OpenTimeout,
		InitialMmapSize: cfg.InitialMmapSize,
		NoSync:          cfg.NoSync,
		FreelistType:    bbolt.FreelistMapType,
		// The freelist is rebuilt at open rather than written with every
		// commit (as etcd runs bbolt): one page fewer per apply, measured
		// at 7.9 page writes per write over three nodes against 8.9.
		NoFreelistSync: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init store %s: %w", path, err)
	}
	return db, nil
}

// Close closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := errors.Join(s.commitHeldLocked(), s.db.Close())
	s.db = nil
	return err
}

// Applied is the index of the last log entry the store holds (applied,
// whether or not committed yet).
func (s *Store) Applied() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.held.mu.Lock()
	if s.held.tx != nil {
		defer s.held.mu.Unlock()
		return s.held.applied, nil
	}
	s.held.mu.Unlock()
	if s.db == nil {
		return 0, errors.New("store is closed")
	}
	var n uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = getUint(tx.Bucket(bucketMeta), keyApplied)
		return nil
	})
	return n, err
}

// Update runs fn in the held write transaction (beginning one if none is
// open) and, if fn succeeds, records applied as the last applied log
// index in it. The transaction commits holdFor after it began, or when a
// reader needs bbolt's state (see view). An error leaves the store
// without what the transaction applied: the caller must stop.
func (s *Store) Update(applied uint64, fn func(*Tx) error) (*Tx, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, errors.New("store is closed")
	}
	h := &s.held
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return nil, fmt.Errorf("store failed to commit earlier: %w", h.err)
	}
	if h.tx == nil {
		btx, err := s.db.Begin(true)
		if err != nil {
			return nil, fmt.Errorf("begin: %w", err)
		}
		h.tx = btx
		h.timer = time.AfterFunc(holdFor, s.commitHeld)
	}
	t := &Tx{tx: h.tx, changed: map[string]*change{}, w: newWritten(), cache: s.cache}
	err := fn(t)
	if err == nil {
		err = putUint(h.tx.Bucket(bucketMeta), keyApplied, applied)
	}
	t.tx = nil
	if err != nil {
		h.timer.Stop()
		_ = h.tx.Rollback()
		h.tx = nil
		clear(h.lazy)
		s.cache.settle(false)
		h.err = err
		return nil, err
	}
	s.cache.pin(t.w)
	h.applied = applied
	for _, id := range t.lazy {
		if h.lazy == nil {
			h.lazy = map[string]struct{}{}
		}
		h.lazy[id] = struct{}{}
	}
	return t, nil
}

// commitHeld commits the held transaction, if one is open (the timer's
// call).
func (s *Store) commitHeld() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_ = s.commitHeldLocked()
}

// commitHeldLocked commits the held transaction, if one is open. s.mu
// held (either way).
func (s *Store) commitHeldLocked() error {
	h := &s.held
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return fmt.Errorf("store failed to commit earlier: %w", h.err)
	}
	if h.tx == nil {
		return nil
	}
	h.timer.Stop()
	err := s.writeLazy()
	if err == nil {
		err = h.tx.Commit()
	} else {
		_ = h.tx.Rollback()
	}
	h.tx = nil
	s.cache.settle(err == nil)
	if err != nil {
		h.err = err
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// writeLazy writes the videos whose bytes waited for the commit. s.held.mu
// held.
func (s *Store) writeLazy() error {
	h := &s.held
	defer clear(h.lazy)
	b := h.tx.Bucket(bucketVideos)
	for id := range h.lazy {
		v := s.cache.videos.pinnedValue(id)
		if v == nil {
			continue // deleted since
		}
		if err := putJSON(b, id, v); err != nil {
			return fmt.Errorf("put video %s: %w", id, err)
		}
	}
	return nil
}

// view reads bbolt's committed state, committing the held transaction
// first so that it is the applied state.
func (s *Store) view(fn func(*bbolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return errors.New("store is closed")
	}
	if err := s.commitHeldLocked(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// Snapshot is a consistent read of the whole store, open until Release.
type Snapshot struct {
	tx     *bbolt.Tx
	unlock func()
}

// Snapshot starts a read transaction that WriteTo streams. It holds the
// store's read lock, so a Restore waits for it.
func (s *Store) Snapshot() (*Snapshot, error) {
	s.mu.RLock()
	if s.db == nil {
		s.mu.RUnlock()
		return nil, errors.New("store is closed")
	}
	if err := s.commitHeldLocked(); err != nil {
		s.mu.RUnlock()
		return nil, err
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		s.mu.RUnlock()
		return nil, fmt.Errorf("begin snapshot: %w", err)
	}
	return &Snapshot{tx: tx, unlock: s.mu.RUnlock}, nil
}

// Applied is the index of the last log entry the snapshot holds.
func (sn *Snapshot) Applied() uint64 { return getUint(sn.tx.Bucket(bucketMeta), keyApplied) }

// WriteTo writes the snapshot as a bbolt file image.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) { return sn.tx.WriteTo(w) }

// Release ends the read transaction. It is safe to call more than once.
func (sn *Snapshot) Release() {
	if sn.tx == nil {
		return
	}
	_ = sn.tx.Rollback()
	sn.tx = nil
	sn.unlock()
}

// Restore replaces the whole store with the bbolt image read from r. The
// image goes to a new file first and is opened to check it, then swapped in,
// so a bad snapshot leaves the live store untouched.
func (s *Store) Restore(r io.Reader) error {
	tmp := s.path + ".restore"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("restore: copy snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("restore: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	check, err := openDB(tmp, s.cfg)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: snapshot is not a store: %w", err)
	}
	check.Close()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropHeldLocked()
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("restore: close live store: %w", err)
		}
		s.db = nil
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("restore: swap: %w", err)
	}
	s.cache.reset()
	db, err := openDB(s.path, s.cfg)
	if err != nil {
		return fmt.Errorf("restore: reopen: %w", err)
	}
	s.db = db
	return nil
}

func getUint(b *bbolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint(b *bbolt.Bucket, k []byte, n uint64) error {
	return b.Put(k, binary.BigEndian.AppendUint64(nil, n))
}

func getJSON(b *bbolt.Bucket, k string, v any) (bool, error) {
	raw := b.Get([]byte(k))
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("decode %s/%s: %w", b, k, err)
	}
	return true, nil
}

func putJSON(b *bbolt.Bucket, k string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(k), raw)
}

// Sync commits the held transaction and flushes the file to disk; a
// store opened with NoSync calls it before a clean close.
func (s *Store) Sync() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil
	}
	if err := s.commitHeldLocked(); err != nil {
		return err
	}
	return s.db.Sync()
}

// dropHeldLocked rolls the held transaction back: the store is being
// replaced. s.mu held for writing.
func (s *Store) dropHeldLocked() {
	h := &s.held
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tx != nil {
		h.timer.Stop()
		_ = h.tx.Rollback()
		h.tx = nil
	}
	clear(h.lazy)
	h.err = nil
	s.cache.settle(false)
}
