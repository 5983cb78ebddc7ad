package cluster

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// TestBackupRestore: a backup of a node restores into a new folder as a
// one-node cluster holding every video (search included), which takes new
// writes, survives a restart, and gets its state back from its Raft
// snapshot when its store file is lost. A folder that already holds a
// node, and bytes that are not a backup, are refused.
func TestBackupRestore(t *testing.T) {
	src := openTestNode(t, t.TempDir())
	createReady(t, src, "harbour", "Lighthouse at the harbour")
	createReady(t, src, "kyoto", "Temples of Kyoto")
	mustApply(t, src, &command.UpdateVideo{Stamp: stamp(), ID: "kyoto", Title: ptr("Temples of Kyoto in autumn")})
	mustApply(t, src, &command.RecordReplica{Stamp: stamp(), VideoID: "harbour", Kind: model.KindMedia, NodeID: src.ID()})
	var image bytes.Buffer
	if _, err := src.Backup(context.Background(), &image); err != nil {
		t.Fatal(err)
	}
	src.Close()

	dir := filepath.Join(t.TempDir(), "restored")
	if err := RestoreBackup(RestoreConfig{DataDir: dir, WithMedia: true}, bytes.NewReader(image.Bytes())); err != nil {
		t.Fatal(err)
	}
	err := RestoreBackup(RestoreConfig{DataDir: dir}, bytes.NewReader(image.Bytes()))
	if err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Fatalf("restore over a node's state: %v", err)
	}
	if err := RestoreBackup(RestoreConfig{DataDir: t.TempDir()}, strings.NewReader("not a backup at all")); err == nil {
		t.Fatal("restored garbage")
	}

	n := openTestNode(t, dir)
	check := func(n *Node) {
		t.Helper()
		v, err := n.Video("kyoto")
		if err != nil || v.Title != "Temples of Kyoto in autumn" {
			t.Fatalf("restored kyoto = %+v, %v", v, err)
		}
		h, err := n.Video("harbour")
		if err != nil || !slices.Equal(h.MediaHolders, []string{n.ID()}) {
			t.Fatalf("restored harbour holders = %+v, %v (this node is %s)", h, err, n.ID())
		}
		if got := searchIDs(t, n, "lighthouse"); !slices.Equal(got, []string{"harbour"}) {
			t.Fatalf("search on the restored node = %v", got)
		}
	}
	check(n)
	createReady(t, n, "after", "Written after the restore")
	if got := searchIDs(t, n, "restore"); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("search for the new video = %v", got)
	}
	n.Close()

	n = openTestNode(t, dir)
	check(n)
	n.Close()
	// The store file lost: the Raft snapshot brings the backup back, the
	// log the write made after it.
	if err := removeAll(dir, "fsm.db"); err != nil {
		t.Fatal(err)
	}
	n = openTestNode(t, dir)
	defer n.Close()
	// The log after the snapshot is applied again once the node leads and
	// commits; a consistent read waits for that.
	if err := n.ConsistentRead(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(n)
	if _, err := n.Video("after"); err != nil {
		t.Fatalf("the write after the restore is lost: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
