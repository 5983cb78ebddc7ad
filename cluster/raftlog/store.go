// Package raftlog is Raft's log and stable store: a write-ahead journal
// in front of segment files (Segments).
//
// When the log was raft-boltdb, every node of a cluster made a bbolt
// commit (two fsyncs, pages rewritten) per append, so a write waited for
// that on a follower and (hashicorp/raft storing the leader's entries
// before it sends them) on the leader too. Here every append is written
// to a journal (see journal), which costs one fdatasync of the new
// records, and entries reach the backend later in large batches (a flush
// every flushAfter or flushEntries), as etcd keeps its WAL apart from its
// bbolt backend; Segments takes a batch with one write and one
// fdatasync. Until then they stay in memory, where GetLog finds them.
//
// A follower's StoreLogs syncs the journal before it returns, as Raft
// requires of the acknowledgement it sends. The leader's returns once the
// records are written, and a syncer goroutine makes them durable beside
// replication (etcd overlaps the leader's WAL write with sending the same
// way; Raft thesis 10.2.1). The leader counts itself among the copies as
// soon as StoreLogs returns, so an entry may be committed (and applied)
// before it is on the leader's disk, as in etcd 3.4 and 3.5. Callers wait
// with WaitDurable for the entry's index before they tell a client its
// write succeeded, so an acknowledged write is on the disks of the leader
// and of at least one follower (a majority of three). A killed process
// loses nothing written: the kernel has the journal, and the next start
// stores its entries in bbolt.
package raftlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Backend is the durable store behind the journal: Segments, or an
// earlier version's raft-boltdb file while it is imported. Its StoreLogs
// is durable when it returns.
type Backend interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

const (
	// maxPending bounds the entries held in memory: past it StoreLogs
	// flushes before it appends (a slow disk slows writes rather than
	// filling memory).
	maxPending = 8192
	// flushEntries and flushBytes start a flush at once; otherwise
	// entries wait up to flushAfter for company. Each flush is one bbolt
	// commit, off the path of every write.
	flushEntries = 2048
	flushBytes   = 4 << 20
	flushAfter   = 100 * time.Millisecond
)

// ErrClosed is returned once the store is closed.
var ErrClosed = errors.New("raft log store is closed")

// Options configure a Store.
type Options struct {
	// Dir holds the journal. Without it every follower append is a
	// backend commit and the leader's entries are only in memory until
	// flushed (tests).
	Dir    string
	Logger *slog.Logger
	// NoSync skips the journal's fdatasync (tests, and nodes told to run
	// without sync).
	NoSync bool
}

// Store is Raft's LogStore and StableStore.
type Store struct {
	backend Backend
	log     *slog.Logger
	leading func() bool
	// journal holds every entry not yet in the backend (nil: none).
	journal *journal

	// syncMu serialises journal syncs with each other and with tail
	// truncations. Lock order: syncMu, writeMu, mu.
	syncMu sync.Mutex
	// writeMu serialises writes to the backend, so entries reach it in
	// log order whoever writes them.
	writeMu sync.Mutex

	mu sync.Mutex
	// pending are appended entries not yet handed to the backend, and
	// flushing the ones being committed now; both stay readable until the
	// backend has them. Together they are contiguous and follow the
	// backend's last entry.
	pending      []*raft.Log
	pendingBytes int
	flushing     []*raft.Log
	// durable is the highest index whose entry, and every one before it,
	// is on disk (in the backend, or in a synced journal).
	durable uint64
	// changed is closed and replaced whenever durable or err changes.
	changed chan struct{}
	// err is a failed write: the entries it held may not be on disk, and
	// the store refuses further writes (the node must restart).
	err    error
	closed bool

	kick     chan struct{}
	syncKick chan struct{}
	stop     chan struct{}
	done     sync.WaitGroup
}

// New wraps backend and starts its flusher; until SetLeading is called
// every append is synchronous. Entries a stopped process left in the
// journal are stored in the backend first.
func New(backend Backend, o Options) (*Store, error) {
	logger := o.Logger
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
		kick:    make(chan struct{}, 1), syncKick: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	if o.Dir != "" {
		if s.journal, last, err = recoverJournal(backend, o.Dir, o.NoSync, last, logger); err != nil {
			return nil, err
		}
	}
	s.durable = last
	s.done.Add(2)
	go s.flusher()
	go s.syncer()
	return s, nil
}

// recoverJournal opens the journal in dir, stores the entries it holds
// past the backend's last (and those of an earlier version's journal),
// and empties it. It returns the backend's new last index.
func recoverJournal(backend Backend, dir string, noSync bool, last uint64, logger *slog.Logger) (*journal, uint64, error) {
	j, err := openJournal(dir, noSync)
	if err != nil {
		return nil, 0, err
	}
	legacy, removeLegacy, err := readLegacy(dir)
	var left []*raft.Log
	if err == nil {
		left, err = j.recover(last, legacy)
	}
	if err == nil && len(left) > 0 {
		if err = backend.StoreLogs(left); err == nil {
			logger.Info("raft log: stored the journal's entries", "from", left[0].Index, "to", left[len(left)-1].Index)
			last = left[len(left)-1].Index
		}
	}
	if err == nil {
		err = j.resetAll(true)
	}
	if err == nil {
		err = removeLegacy()
	}
	if err != nil {
		j.close()
		return nil, 0, fmt.Errorf("raft log: journal: %w", err)
	}
	return j, last, nil
}

// SetLeading tells the store how to learn whether this node leads: the
// leader's appends are synced behind, everyone else's at once. Set it
// once Raft exists, before it runs.
func (s *Store) SetLeading(leading func() bool) {
	s.mu.Lock()
	s.leading = leading
	s.mu.Unlock()
}

// StoreLog implements raft.LogStore.
func (s *Store) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs implements raft.LogStore: journaled, and synced before it
// returns unless this node leads.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	s.mu.Lock()
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	if len(s.pending) >= maxPending {
		s.mu.Unlock()
		if err := s.flush(); err != nil {
			return err
		}
		s.mu.Lock()
		if err := s.usable(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	leading := s.leading()
	if s.journal == nil && !leading {
		s.mu.Unlock()
		return s.storeNow(logs)
	}
	if s.journal != nil {
		if _, err := s.journal.append(logs); err != nil {
			s.fail(err)
			s.mu.Unlock()
			return err
		}
	}
	first := len(s.pending) == 0
	s.pending = append(s.pending, logs...)
	for _, l := range logs {
		s.pendingBytes += len(l.Data)
	}
	full := s.pendingFullLocked()
	s.mu.Unlock()
	// The flusher needs waking only to arm its timer (the first entry
	// since a flush) or to flush at once: not once per append.
	if s.journal == nil || first || full {
		notify(s.kick)
	}
	switch {
	case s.journal == nil:
		return nil
	case leading:
		notify(s.syncKick)
		return nil
	}
	return s.syncJournal()
}

// notify wakes the goroutine waiting on ch, if it is not already awake.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// storeNow commits logs to the backend after everything pending (no
// journal).
func (s *Store) storeNow(logs []*raft.Log) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
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

// syncJournal makes every journaled entry durable.
func (s *Store) syncJournal() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	target := s.lastInMemory()
	if target <= s.durable {
		s.mu.Unlock()
		return nil
	}
	files := s.journal.dirtyFiles()
	s.mu.Unlock()
	err := s.journal.syncFiles(files)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.fail(err)
		return err
	}
	s.setDurable(max(s.durable, target))
	return nil
}

// lastInMemory is the index of the last entry not yet in the backend, or
// 0. s.mu held.
func (s *Store) lastInMemory() uint64 {
	for _, list := range [][]*raft.Log{s.pending, s.flushing} {
		if len(list) > 0 {
			return list[len(list)-1].Index
		}
	}
	return 0
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

// syncer makes the leader's appends durable, as many per fdatasync as
// arrived while the last one ran.
func (s *Store) syncer() {
	defer s.done.Done()
	for {
		select {
		case <-s.syncKick:
			if err := s.syncJournal(); err != nil && !errors.Is(err, ErrClosed) {
				s.log.Error("raft log: syncing the journal failed; this node must restart", "error", err)
			}
		case <-s.stop:
			return
		}
	}
}

// flusher moves entries to the backend: at once without a journal or
// when many are pending, else flushAfter after the first of a batch.
func (s *Store) flusher() {
	defer s.done.Done()
	timer := time.NewTimer(flushAfter)
	timer.Stop()
	armed := false
	flush := func() {
		if err := s.flush(); err != nil {
			s.log.Error("raft log: writing entries to the backend failed; this node must restart", "error", err)
		}
	}
	for {
		select {
		case <-s.kick:
			if s.journal == nil || s.pendingFull() {
				flush()
			} else if !armed {
				timer.Reset(flushAfter)
				armed = true
			}
		case <-timer.C:
			armed = false
			flush()
		case <-s.stop:
			flush()
			return
		}
	}
}

// pendingFull reports whether a flush should start now.
func (s *Store) pendingFull() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingFullLocked()
}

// pendingFullLocked is pendingFull with s.mu held.
func (s *Store) pendingFullLocked() bool {
	return len(s.pending) >= flushEntries || s.pendingBytes >= flushBytes
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
	s.pending, s.pendingBytes, s.flushing = nil, 0, batch
	file := -1
	if s.journal != nil && len(batch) > 0 {
		file = s.journal.swap()
	}
	s.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := s.backend.StoreLogs(batch)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && file >= 0 {
		// The batch is exactly what that file held; appends go to the
		// other one meanwhile.
		err = s.journal.reset(file, false)
	}
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
	if last := s.lastInMemory(); last != 0 {
		s.mu.Unlock()
		return last, nil
	}
	s.mu.Unlock()
	return s.backend.LastIndex()
}

// DeleteRange implements raft.LogStore: what is pending is written first,
// so the range is deleted where it lives.
func (s *Store) DeleteRange(min, max uint64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.flushLocked(); err != nil {
		return err
	}
	first, err := s.backend.FirstIndex()
	if err != nil {
		return err
	}
	last, err := s.backend.LastIndex()
	if err != nil {
		return err
	}
	if s.journal != nil && max >= last {
		// A conflict with a new leader takes the tail, and a snapshot
		// may take everything: the journal forgets its records first,
		// durably, so a restart cannot bring deleted entries back. But a
		// compaction runs beside appends (Raft's snapshot goroutine):
		// entries appended since the flush above are in the journal
		// only, and are kept; such a deletion only takes committed
		// entries, which may come back harmlessly (see recover).
		s.mu.Lock()
		var err error
		if len(s.pending) == 0 {
			err = s.journal.resetAll(true)
		}
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
	if min > first && min <= s.durable {
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
	s.done.Wait()
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if s.journal != nil {
		if err == nil {
			// The backend has everything; the journal's records are
			// all older than its last entry.
			err = s.journal.resetAll(false)
		}
		err = errors.Join(err, s.journal.close())
	}
	return errors.Join(err, s.backend.Close())
}
