package raftlog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// openBackend opens the segment backend in path's folder (beside the
// journal, as a node keeps them).
func openBackend(t *testing.T, path string) Backend {
	t.Helper()
	b, err := OpenSegments(filepath.Dir(path), false)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openBoltStore opens an earlier version's raft-boltdb file.
func openBoltStore(t *testing.T, path string) *raftboltdb.BoltStore {
	t.Helper()
	b, err := raftboltdb.New(raftboltdb.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func entries(from, to uint64, term uint64) []*raft.Log {
	var out []*raft.Log
	for i := from; i <= to; i++ {
		out = append(out, &raft.Log{Index: i, Term: term, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("entry %d term %d", i, term))})
	}
	return out
}

func checkLog(t *testing.T, s raft.LogStore, first, last uint64, term func(uint64) uint64) {
	t.Helper()
	if f, err := s.FirstIndex(); err != nil || f != first {
		t.Fatalf("FirstIndex = %d, %v; want %d", f, err, first)
	}
	if l, err := s.LastIndex(); err != nil || l != last {
		t.Fatalf("LastIndex = %d, %v; want %d", l, err, last)
	}
	for i := first; i <= last; i++ {
		var l raft.Log
		if err := s.GetLog(i, &l); err != nil {
			t.Fatalf("GetLog(%d): %v", i, err)
		}
		want := fmt.Sprintf("entry %d term %d", i, term(i))
		if l.Index != i || string(l.Data) != want {
			t.Fatalf("GetLog(%d) = %d %q, want %q", i, l.Index, l.Data, want)
		}
	}
}

func term1(uint64) uint64 { return 1 }

// termsSplitAt gives entries up to n term a and later ones term b.
func termsSplitAt(n, a, b uint64) func(uint64) uint64 {
	return func(i uint64) uint64 {
		if i > n {
			return b
		}
		return a
	}
}

// reopen opens the store at path again (its journal beside it), closed at
// the test's end.
func reopen(t *testing.T, path string) *Store {
	t.Helper()
	s, err := New(openBackend(t, path), Options{Dir: filepath.Dir(path)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A follower's append is on disk when StoreLogs returns: in the journal,
// before the backend has it.
func TestFollowerAppendIsDurableAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s, bolt, gate := heldStore(t, path, 0)
	if err := s.StoreLogs(entries(1, 10, 1)); err != nil {
		t.Fatal(err)
	}
	if d := s.durableIndex(); d != 10 {
		t.Fatalf("after a follower's append: durable %d, want 10", d)
	}
	checkLog(t, s, 1, 10, term1)
	crash(t, bolt, gate)
	checkLog(t, reopen(t, path), 1, 10, term1)
}

// heldStore opens a store over the bolt file at path (its journal beside
// it) holding entries 1 to seed of term 1, whose flushes wait until the
// gate is closed; crash ends it.
func heldStore(t *testing.T, path string, seed uint64) (*Store, Backend, *gatedBackend) {
	t.Helper()
	bolt := openBackend(t, path)
	if seed > 0 {
		if err := bolt.StoreLogs(entries(1, seed, 1)); err != nil {
			t.Fatal(err)
		}
	}
	gate := &gatedBackend{Backend: bolt, gate: make(chan struct{})}
	s, err := New(gate, Options{Dir: filepath.Dir(path)})
	if err != nil {
		t.Fatal(err)
	}
	return s, bolt, gate
}

// crash leaves a store as a killed process would: its backend closed
// under it, nothing flushed, the journal's files as they are.
func crash(t *testing.T, bolt Backend, gate *gatedBackend) {
	t.Helper()
	if err := bolt.Close(); err != nil {
		t.Fatal(err)
	}
	close(gate.gate) // a stuck flusher fails against the closed file
}

// The leader's appends are readable at once, durable after the flusher,
// and on disk after a reopen.
func TestLeaderAppendsAreWrittenBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s, err := New(openBackend(t, path), Options{Dir: filepath.Dir(path)})
	if err != nil {
		t.Fatal(err)
	}
	s.SetLeading(func() bool { return true })
	for i := uint64(1); i <= 200; i += 10 {
		if err := s.StoreLogs(entries(i, i+9, 1)); err != nil {
			t.Fatal(err)
		}
		checkLog(t, s, 1, i+9, term1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDurable(ctx, 200); err != nil {
		t.Fatal(err)
	}
	checkLog(t, s, 1, 200, term1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := reopen(t, path)
	checkLog(t, s2, 1, 200, term1)
	if err := s2.WaitDurable(ctx, 200); err != nil {
		t.Fatalf("a reopened store's entries are durable: %v", err)
	}
}

// Close writes what the leader had pending.
func TestCloseFlushesPending(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	b := openBackend(t, path)
	gate := &gatedBackend{Backend: b, gate: make(chan struct{})}
	s, err := New(gate, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s.SetLeading(func() bool { return true })
	if err := s.StoreLogs(entries(1, 5, 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLogs(entries(6, 9, 1)); err != nil {
		t.Fatal(err)
	}
	close(gate.gate)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkLog(t, reopen(t, path), 1, 9, term1)
}

// A node that stops leading appends as a follower: the entries it had
// journaled as leader become durable with the follower's append, in order.
func TestLeaderToFollowerKeepsOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s, bolt, gate := heldStore(t, path, 0)
	var leading atomic.Bool
	leading.Store(true)
	s.SetLeading(leading.Load)
	if err := s.StoreLogs(entries(1, 20, 1)); err != nil {
		t.Fatal(err)
	}
	leading.Store(false)
	if err := s.StoreLogs(entries(21, 30, 2)); err != nil {
		t.Fatal(err)
	}
	if d := s.durableIndex(); d != 30 {
		t.Fatalf("durable %d, want 30", d)
	}
	crash(t, bolt, gate)
	checkLog(t, reopen(t, path), 1, 30, termsSplitAt(20, 1, 2))
}

// A conflict truncates the tail, pending entries included, and lowers the
// durable index; compaction of the head does not.
func TestDeleteRange(t *testing.T) {
	s, err := New(openBackend(t, filepath.Join(t.TempDir(), "raft.db")), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var leading atomic.Bool
	s.SetLeading(leading.Load)
	if err := s.StoreLogs(entries(1, 50, 1)); err != nil {
		t.Fatal(err)
	}
	leading.Store(true)
	if err := s.StoreLogs(entries(51, 60, 1)); err != nil {
		t.Fatal(err)
	}
	leading.Store(false)
	if err := s.DeleteRange(41, 60); err != nil {
		t.Fatal(err)
	}
	checkLog(t, s, 1, 40, term1)
	if d := s.durableIndex(); d != 40 {
		t.Fatalf("durable after truncating the tail = %d, want 40", d)
	}
	if err := s.StoreLogs(entries(41, 45, 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(1, 30); err != nil {
		t.Fatal(err)
	}
	checkLog(t, s, 31, 45, termsSplitAt(40, 1, 3))
	if d := s.durableIndex(); d != 45 {
		t.Fatalf("durable after compacting the head = %d, want 45", d)
	}
}

// Readers see every entry while the flusher moves them to disk.
func TestReadsDuringFlushes(t *testing.T) {
	s, err := New(openBackend(t, filepath.Join(t.TempDir(), "raft.db")), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetLeading(func() bool { return true })
	var last atomic.Uint64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := last.Load()
				if n == 0 {
					continue
				}
				var l raft.Log
				if err := s.GetLog(n, &l); err != nil || l.Index != n {
					errs <- fmt.Errorf("GetLog(%d) = %d, %v", n, l.Index, err)
					return
				}
			}
		}()
	}
	for i := uint64(1); i <= 2000; i += 4 {
		if err := s.StoreLogs(entries(i, i+3, 1)); err != nil {
			t.Fatal(err)
		}
		last.Store(i + 3)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDurable(ctx, 2000); err != nil {
		t.Fatal(err)
	}
	checkLog(t, s, 1, 2000, term1)
}

// A failed flush fails the waiters and every later write: an entry that
// did not reach the disk is never acknowledged.
func TestFailedFlushIsReported(t *testing.T) {
	b := openBackend(t, filepath.Join(t.TempDir(), "raft.db"))
	f := &failingBackend{Backend: b}
	s, err := New(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetLeading(func() bool { return true })
	f.fail.Store(true)
	if err := s.StoreLogs(entries(1, 3, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDurable(ctx, 3); !errors.Is(err, errDisk) {
		t.Fatalf("WaitDurable after a failed flush = %v, want the disk error", err)
	}
	if err := s.StoreLogs(entries(4, 4, 1)); !errors.Is(err, errDisk) {
		t.Fatalf("StoreLogs after a failed flush = %v, want the disk error", err)
	}
}

// WaitDurable gives up with its context. (Without a journal the leader's
// entries are durable only once the backend, held here, has them.)
func TestWaitDurableHonoursContext(t *testing.T) {
	gate := &gatedBackend{Backend: openBackend(t, filepath.Join(t.TempDir(), "raft.db")), gate: make(chan struct{})}
	s, err := New(gate, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { close(gate.gate); s.Close() }()
	s.SetLeading(func() bool { return true })
	if err := s.StoreLogs(entries(1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.WaitDurable(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitDurable with the disk held = %v, want the context's deadline", err)
	}
}

func (s *Store) durableIndex() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.durable
}

// gatedBackend holds every StoreLogs until gate is closed.
type gatedBackend struct {
	Backend
	gate chan struct{}
}

func (g *gatedBackend) StoreLogs(logs []*raft.Log) error {
	<-g.gate
	return g.Backend.StoreLogs(logs)
}

var errDisk = errors.New("disk full")

// failingBackend fails StoreLogs while fail is set.
type failingBackend struct {
	Backend
	fail atomic.Bool
}

func (f *failingBackend) StoreLogs(logs []*raft.Log) error {
	if f.fail.Load() {
		return errDisk
	}
	return f.Backend.StoreLogs(logs)
}
