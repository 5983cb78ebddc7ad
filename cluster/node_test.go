package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

func openTestNode(t *testing.T, dir string) *Node {
	t.Helper()
	cfg := DefaultNodeConfig(dir)
	cfg.SnapshotThreshold = 1 << 30 // tests snapshot by hand
	n, err := OpenNode(cfg)
	if err != nil {
		t.Fatalf("open node: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

func stamp() command.Stamp { return command.Stamp{At: time.Now().UTC()} }

func mustApply(t *testing.T, n *Node, c command.Command) any {
	t.Helper()
	v, err := n.Apply(context.Background(), c)
	if err != nil {
		t.Fatalf("apply %T: %v", c, err)
	}
	return v
}

func createReady(t *testing.T, n *Node, id, title string) {
	t.Helper()
	mustApply(t, n, &command.CreateVideo{Stamp: stamp(), Video: model.Video{ID: id, Title: title, Tags: []string{"Test"}}})
	mustApply(t, n, &command.VideoReady{Stamp: stamp(), ID: id, DurationS: 10, Master: "master.m3u8"})
}

func searchIDs(t *testing.T, n *Node, q string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := n.Search(context.Background(), index.Query{Text: q})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

// TestNodeSurvivesRestart: what was applied is in the store and the index
// after the node is closed and opened again.
func TestNodeSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	n := openTestNode(t, dir)
	createReady(t, n, "v1", "Sunset over the harbour")
	createReady(t, n, "v2", "Mountain bikes in the rain")
	if got := searchIDs(t, n, "harbour"); fmt.Sprint(got) != "[v1]" {
		t.Fatalf("search before restart = %v", got)
	}
	id := n.ID()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n = openTestNode(t, dir)
	defer n.Close()
	if n.ID() != id {
		t.Fatalf("node id changed across restart: %s -> %s", id, n.ID())
	}
	v, err := n.Video("v2")
	if err != nil || v.Status != model.StatusReady {
		t.Fatalf("video after restart = %+v, %v", v, err)
	}
	if got := searchIDs(t, n, "bikes"); fmt.Sprint(got) != "[v2]" {
		t.Fatalf("search after restart = %v", got)
	}
	// New writes continue from where the log left off.
	createReady(t, n, "v3", "Harbour at night")
	if got := searchIDs(t, n, "harbour"); len(got) != 2 {
		t.Fatalf("search after new write = %v", got)
	}
}

// TestNodeRebuildsLostStateFromSnapshot: with the FSM file and the index
// deleted, a restart restores the snapshot and replays the log after it.
func TestNodeRebuildsLostStateFromSnapshot(t *testing.T) {
	dir := t.TempDir()
	n := openTestNode(t, dir)
	createReady(t, n, "v1", "First clip")
	if err := n.Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	createReady(t, n, "v2", "Second clip")
	n.Close()

	for _, p := range []string{"fsm.db", "index"} {
		if err := removeAll(dir, p); err != nil {
			t.Fatal(err)
		}
	}
	n = openTestNode(t, dir)
	defer n.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ids := searchIDs(t, n, "clip")
		if len(ids) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after losing the store, search finds %v, want v1 and v2", ids)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not a wait for a condition
	}
}

// TestIndexRebuiltWhenBehind: an index that lags the store is rebuilt.
func TestIndexRebuiltWhenBehind(t *testing.T) {
	dir := t.TempDir()
	n := openTestNode(t, dir)
	createReady(t, n, "v1", "Lost index")
	n.Close()
	if err := removeAll(dir, "index"); err != nil {
		t.Fatal(err)
	}
	n = openTestNode(t, dir)
	defer n.Close()
	if got := searchIDs(t, n, "lost"); fmt.Sprint(got) != "[v1]" {
		t.Fatalf("search = %v", got)
	}
}

// TestBusinessErrorsComeBack: a refused command returns the store's error and
// changes nothing.
func TestBusinessErrorsComeBack(t *testing.T) {
	n := openTestNode(t, t.TempDir())
	defer n.Close()
	mustApply(t, n, &command.CreateVideo{Stamp: stamp(), Video: model.Video{ID: "v1", Title: "x"}})
	_, err := n.Apply(context.Background(), &command.CreateVideo{Stamp: stamp(), Video: model.Video{ID: "v1", Title: "y"}})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate create: err = %v, want ErrExists", err)
	}
	_, err = n.Apply(context.Background(), &command.UpdateVideo{Stamp: stamp(), ID: "nope"})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: err = %v, want ErrNotFound", err)
	}
	v, _ := n.Video("v1")
	if v.Title != "x" {
		t.Fatalf("title = %q after refused create", v.Title)
	}
}
