// Package raftlog is Raft's log and stable store: raft-boltdb, with the
// leader's appends written behind.
//
// hashicorp/raft stores the leader's new entries before it sends them to
// the followers, so with a synchronous store every write waits for two
// fsyncs in a row (the leader's, then a follower's). etcd overlaps them:
// its leader sends while it writes its WAL (Raft thesis 10.2.1). Store does
// the same for hashicorp/raft. While this node leads, StoreLogs keeps the
// entries in memory, where GetLog finds them at once, and a flusher commits
// them to bbolt (fsynced) in the background, many batches per commit when
// writes arrive together. A follower's StoreLogs commits before it returns,
// as Raft requires of the acknowledgement it sends.
//
// The entries written behind are journaled to a plain file (written, not
// fsynced) before StoreLogs returns, so a killed process loses none: the
// kernel has them, and the next start stores them (see journal).
//
// The leader counts itself among the copies as soon as StoreLogs returns,
// so an entry may be committed (and applied) before it is on the leader's
// disk, as in etcd 3.4 and 3.5, whose leader also acknowledges its own
// append before its WAL is synced. Acknowledgements here wait further:
// callers wait with WaitDurable for the entry's index before they tell a
// client its write succeeded, so an acknowledged write is on the disks of
// the leader and of at least one follower (a majority of three). Only a
// machine failure of the leader within a flush (about a millisecond) can
// lose the journal's unsynced tail; such entries were never acknowledged,
// and they are still on the follower that counted for the commit.
package raftlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/hashicorp/raft"
)

// Backend is the durable store behind the buffer: raft-boltdb's BoltStore
// (its StoreLogs commits and fsyncs).
type Backend interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

// maxPending bounds the entries held in memory: past it the leader's
// StoreLogs waits for the flusher (a slow disk slows writes rather than
// filling memory).
const maxPending = 8192

// ErrClosed is returned once the store is closed.
var ErrClosed = errors.New("raft log store is closed")

// Store is Raft's LogStore and StableStore.
type Store struct {
	backend Backend
	log     *slog.Logger
	leading func() bool
	// journal holds pending entries in the page cache (nil: none).
	journal *journal

	// writeMu serialises writes to the backend, so entries reach it in
	// log order whoever writes them (the flusher or a follower's append).
	writeMu sync.Mutex

	mu sync.Mutex
	// pending are appended entries not yet handed to the backend, and
	// flushing the ones being committed now; both stay readable until the
	// backend has them. Together they are contiguous and follow the
	// backend's last entry.
	pending  []*raft.Log
	flushing []*raft.Log
	// durable is the highest index whose entry, and every one before it,
	// is committed to disk.
	durable uint64
	// changed is closed and replaced whenever durable or err changes.
	changed chan struct{}
	// err is a failed flush: the entries it held are not on disk, and the
	// store refuses further writes (the node must restart).
	err    error
	closed bool

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// New wraps backend and starts its flusher; until SetLeading is called
// every append is synchronous. With dir set, the leader's pending entries
// are journaled there (see journal), and entries a killed process left in
// the journal are stored first.
func New(backend Backend, dir string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	last, err := backend.LastIndex()
	if err != nil {
		return nil, fmt.Errorf("raft log: last index: %w", err)
	}
	s := &Store{
		backend: backend, log: logger, leading: func() bool { return false },
		changed: make(chan struct{}),
		kick:    make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if dir != "" {
		if s.journal, err = openJournal(dir); err != nil {
			return nil, err
		}
		left, err := s.journal.recover(last)
		if err == nil && len(left) > 0 {
			if err = backend.StoreLogs(left); err == nil {
				logger.Info("raft log: stored the entries a stopped leader had not written", "from", left[0].Index, "to", left[len(left)-1].Index)
				last = left[len(left)-1].Index
			}
		}
		if err == nil {
			err = s.journal.emptyAll(true)
		}
		if err != nil {
			s.journal.close()
			return nil, fmt.Errorf("raft log: journal: %w", err)
		}
	}
	s.durable = last
	go s.flusher()
	return s, nil
}

// SetLeading tells the store how to learn whether this node leads: the
// leader's appends are written behind, everyone else's at once. Set it
// once Raft exists, before it runs.
func (s *Store) SetLeading(leading func() bool) {
	s.mu.Lock()
	s.leading = leading
	s.mu.Unlock()
}

// StoreLog implements raft.LogStore.
func (s *Store) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs implements raft.LogStore: in memory for the flusher while this
// node leads, on disk before it returns otherwise.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	s.mu.Lock()
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	if s.leading() && len(s.pending) < maxPending {
		if s.journal != nil {
			if err := s.journal.append(logs); err != nil {
				s.fail(err)
				s.mu.Unlock()
				return err
			}
		}
		s.pending = append(s.pending, logs...)
		s.mu.Unlock()
		select {
		case s.kick <- struct{}{}:
		default:
		}
		return nil
	}
	s.mu.Unlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// What was written behind goes first, then these, in log order.
	if err := s.flushLocked(); err != nil {
		return err
	}
	if err := s.backend.StoreLogs(logs); err != nil {
		return err
	}
	s.mu.Lock()
	s.setDurable(max(s.durable, logs[len(logs)-1].Index))
	s.mu.Unlock()
	return nil
}

// usable reports why the store takes no writes, if it does not. s.mu held.
func (s *Store) usable() error {
	if s.closed {
		return ErrClosed
	}
	if s.err != nil {
		return fmt.Errorf("raft log store failed earlier: %w", s.err)
	}
	return nil
}

// setDurable records a new durable index and wakes the waiters. s.mu held.
func (s *Store) setDurable(idx uint64) {
	s.durable = idx
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Store) flusher() {
	defer close(s.done)
	for {
		select {
		case <-s.kick:
			if err := s.flush(); err != nil {
				s.log.Error("raft log: writing the leader's entries failed; this node must restart", "error", err)
			}
		case <-s.stop:
			if err := s.flush(); err != nil {
				s.log.Error("raft log: writing the leader's entries at close failed", "error", err)
			}
			return
		}
	}
}

// flush commits every pending entry to the backend in one transaction.
func (s *Store) flush() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.flushLocked()
}

// flushLocked is flush with s.writeMu held.
func (s *Store) flushLocked() error {
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return err
	}
	batch := s.pending
	s.pending, s.flushing = nil, batch
	file := -1
	if s.journal != nil && len(batch) > 0 {
		file = s.journal.swap()
	}
	s.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := s.backend.StoreLogs(batch)
	if err == nil && file >= 0 {
		// The batch is exactly what that file held; appends go to the
		// other one meanwhile.
		err = s.journal.empty(file, false)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushing = nil
	if err != nil {
		s.fail(err)
		return err
	}
	s.setDurable(max(s.durable, batch[len(batch)-1].Index))
	return nil
}

// fail records a write that did not happen: the store takes no more. s.mu
// held.
func (s *Store) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitDurable waits until the entry at index, and every one before it, is
// on this node's disk. A write is acknowledged to its client only after
// this returns on the leader.
func (s *Store) WaitDurable(ctx context.Context, index uint64) error {
	for {
		s.mu.Lock()
		switch {
		case s.durable >= index:
			s.mu.Unlock()
			return nil
		case s.err != nil:
			err := s.err
			s.mu.Unlock()
			return fmt.Errorf("raft log entry %d not saved: %w", index, err)
		case s.closed:
			s.mu.Unlock()
			return ErrClosed
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for raft log entry %d to reach the disk: %w", index, ctx.Err())
		}
	}
}

// inMemory finds index among the entries not yet in the backend. s.mu held.
func (s *Store) inMemory(index uint64) *raft.Log {
	for _, list := range [][]*raft.Log{s.flushing, s.pending} {
		if len(list) == 0 {
			continue
		}
		first := list[0].Index
		if index >= first && index < first+uint64(len(list)) {
			return list[index-first]
		}
	}
	return nil
}

// GetLog implements raft.LogStore. Entries leave memory only after the
// backend has them, so one that is not in memory is in the backend.
func (s *Store) GetLog(index uint64, out *raft.Log) error {
	s.mu.Lock()
	if l := s.inMemory(index); l != nil {
		*out = *l
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	return s.backend.GetLog(index, out)
}

// FirstIndex implements raft.LogStore.
func (s *Store) FirstIndex() (uint64, error) {
	first, err := s.backend.FirstIndex()
	if err != nil || first != 0 {
		return first, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, list := range [][]*raft.Log{s.flushing, s.pending} {
		if len(list) > 0 {
			return list[0].Index, nil
		}
	}
	return 0, nil
}

// LastIndex implements raft.LogStore.
func (s *Store) LastIndex() (uint64, error) {
	s.mu.Lock()
	for _, list := range [][]*raft.Log{s.pending, s.flushing} {
		if len(list) > 0 {
			last := list[len(list)-1].Index
			s.mu.Unlock()
			return last, nil
		}
	}
	s.mu.Unlock()
	return s.backend.LastIndex()
}

// DeleteRange implements raft.LogStore: what is pending is written first,
// so the range is deleted where it lives.
func (s *Store) DeleteRange(min, max uint64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.flushLocked(); err != nil {
		return err
	}
	first, err := s.backend.FirstIndex()
	if err != nil {
		return err
	}
	tail := min > first
	if tail && s.journal != nil {
		// A conflict with a new leader takes the tail (this node follows:
		// nothing is pending). The journal forgets it first, durably, so
		// a restart cannot bring the deleted entries back.
		s.mu.Lock()
		err := s.journal.emptyAll(true)
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
	if err := s.backend.DeleteRange(min, max); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tail && min <= s.durable {
		// Entries written at those indexes from now on are new ones.
		// (Compaction takes the head, which stays durable in the
		// snapshot.)
		s.setDurable(min - 1)
	}
	return nil
}

// Set implements raft.StableStore (synchronous: terms and votes).
func (s *Store) Set(key, val []byte) error { return s.backend.Set(key, val) }

// Get implements raft.StableStore.
func (s *Store) Get(key []byte) ([]byte, error) { return s.backend.Get(key) }

// SetUint64 implements raft.StableStore.
func (s *Store) SetUint64(key []byte, val uint64) error { return s.backend.SetUint64(key, val) }

// GetUint64 implements raft.StableStore.
func (s *Store) GetUint64(key []byte) (uint64, error) { return s.backend.GetUint64(key) }

// Close writes what is pending and closes the backend.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if s.journal != nil {
		if err == nil {
			err = s.journal.emptyAll(false)
		}
		err = errors.Join(err, s.journal.close())
	}
	return errors.Join(err, s.backend.Close())
}
