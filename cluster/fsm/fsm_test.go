package fsm

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

// Every command type the codec knows has a handler, so no valid entry can
// reach the panic for a missing one.
func TestEveryCommandHasHandler(t *testing.T) {
	for k := range commandTypes() {
		if _, ok := handlers[k]; !ok {
			t.Errorf("command type %d has no handler", k)
		}
	}
}

func commandTypes() map[command.Type]bool {
	out := map[command.Type]bool{}
	for ty := range 256 {
		raw := []byte{byte(ty), 1, '{', '}'}
		if _, err := command.Decode(raw); !errors.Is(err, command.ErrUnknown) {
			out[command.Type(ty)] = true
		}
	}
	return out
}

func newFSM(t *testing.T) (*FSM, *store.Store) {
	dir := t.TempDir()
	cfg := store.DefaultConfig()
	cfg.NoSync = true
	st, err := store.Open(filepath.Join(dir, "fsm.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close(); st.Close() })
	return New(st, ix, nil), st
}

func entry(t *testing.T, idx uint64, c command.Command) *raft.Log {
	raw, err := command.Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: idx, Type: raft.LogCommand, Data: raw}
}

func TestApplyBatchSkipsAppliedAndReturnsBusinessErrors(t *testing.T) {
	f, st := newFSM(t)
	at := command.Stamp{At: time.Now()}
	create := &command.CreateVideo{Stamp: at, Video: model.Video{ID: "v1", Title: "One"}}
	res := f.ApplyBatch([]*raft.Log{entry(t, 1, create), entry(t, 2, create)})
	if r := res[0].(Result); r.Err != nil {
		t.Fatalf("first create: %v", r.Err)
	}
	if r := res[1].(Result); !errors.Is(r.Err, store.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", r.Err)
	}
	// A replay of entries the store holds changes nothing and returns nil.
	res = f.ApplyBatch([]*raft.Log{entry(t, 2, &command.DeleteVideo{Stamp: at, ID: "v1"})})
	if res[0] != nil {
		t.Fatalf("replayed entry result = %v", res[0])
	}
	if _, err := st.Video("v1"); err != nil {
		t.Fatalf("replayed delete took effect: %v", err)
	}
	if n, _ := st.Applied(); n != 2 {
		t.Fatalf("applied = %d", n)
	}
}

func TestApplyPanicsOnUndecodableEntry(t *testing.T) {
	f, _ := newFSM(t)
	defer func() {
		if recover() == nil {
			t.Fatal("an undecodable entry did not stop the replica")
		}
	}()
	f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: []byte{250, 1, '{', '}'}})
}

// eagerIndexer is an indexer over a new index that commits without
// lingering; both are closed when the test ends.
func eagerIndexer(t *testing.T) (*index.Index, *indexer) {
	t.Helper()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index"))
	if err != nil {
		t.Fatal(err)
	}
	x := newIndexer(ix, slog.New(slog.DiscardHandler), 0)
	t.Cleanup(func() {
		x.close()
		ix.Close()
	})
	x.mu.Lock()
	x.linger = 0
	x.mu.Unlock()
	return ix, x
}

// An entry without video changes that arrives while a batch is being
// written does not let WaitIndexed return before that batch is in.
func TestWaitIndexedCoversABatchInFlight(t *testing.T) {
	ix, x := eagerIndexer(t)
	x.commitMu.Lock() // the batch is taken, then held before it is written
	x.add(func(fn func(string, *model.Video)) { fn("v1", &model.Video{ID: "v1", Title: "One"}) }, 1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		x.mu.Lock()
		taken := x.committing
		x.mu.Unlock()
		if taken {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the indexer never took the batch")
		}
		time.Sleep(time.Millisecond) // poll interval
	}
	x.add(func(func(string, *model.Video)) {}, 2) // e.g. a membership change
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := x.wait(ctx, 2); err == nil {
		t.Fatal("WaitIndexed returned while entry 1's batch was still being written")
	}
	x.commitMu.Unlock()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := x.wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if n, err := ix.Count(); err != nil || n != 1 {
		t.Fatalf("documents after the wait: %d, %v", n, err)
	}
}

// A change that leaves a video's search document as it was (transcoding
// progress, where its copies are) does not go to Bleve; every change to
// what search sees does, and so does a video deleted and made again.
func TestIndexerSkipsUnchangedDocuments(t *testing.T) {
	ix, x := eagerIndexer(t)
	var idx uint64
	step := func(v *model.Video, id string) {
		t.Helper()
		idx++
		x.add(func(fn func(string, *model.Video)) { fn(id, v) }, idx)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := x.wait(ctx, idx); err != nil {
			t.Fatal(err)
		}
	}
	docs := func() int {
		x.commitMu.Lock()
		defer x.commitMu.Unlock()
		return x.docs
	}
	found := func(text string) uint64 {
		t.Helper()
		res, err := ix.Search(context.Background(), index.Query{Text: text, All: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	v := &model.Video{ID: "v1", Title: "Kites over the dunes", Progress: 10}
	step(v, "v1")
	if docs() != 1 || found("kites") != 1 {
		t.Fatalf("after the first write: %d documents written, %d found", docs(), found("kites"))
	}
	for p := 20.0; p <= 90; p += 10 {
		w := *v
		w.Progress, w.MediaHolders = p, []string{"a", "b"}
		step(&w, "v1")
	}
	if docs() != 1 {
		t.Fatalf("progress and holders changes wrote %d documents, want none", docs()-1)
	}
	w := *v
	w.Title = "Gulls over the dunes"
	step(&w, "v1")
	if docs() != 2 || found("gulls") != 1 || found("kites") != 0 {
		t.Fatalf("after a title change: %d documents written, gulls %d, kites %d", docs(), found("gulls"), found("kites"))
	}
	step(nil, "v1")
	if found("gulls") != 0 {
		t.Fatal("a deleted video is still found")
	}
	step(&w, "v1") // the same document as before the delete
	if docs() != 4 || found("gulls") != 1 {
		t.Fatalf("a video made again: %d documents written, found %d", docs(), found("gulls"))
	}
	// The position is still recorded when only skipped changes came last.
	w.Progress = 100
	step(&w, "v1")
	x.close()
	if n, err := ix.Applied(); err != nil || n != idx {
		t.Fatalf("recorded position %d (%v), want %d", n, err, idx)
	}
}
