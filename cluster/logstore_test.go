package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/stratavideo/strata/cluster/raftlog"
)

// A node's raft folder as an earlier version left it (raft-boltdb's file,
// with the last entries only in its journal, as after a kill -9) opens
// with every entry and Raft's term, and without the old file.
func TestLogStoreImportsAnEarlierBoltLog(t *testing.T) {
	dir := t.TempDir()
	b, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		t.Fatal(err)
	}
	old, err := raftlog.New(b, raftlog.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var logs []*raft.Log
	for i := uint64(1); i <= 300; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: 4, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("entry %d", i))})
	}
	if err := old.StoreLogs(logs[:200]); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil { // entries 1-200 in raft.db
		t.Fatal(err)
	}
	if b, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetUint64([]byte("CurrentTerm"), 4); err != nil {
		t.Fatal(err)
	}
	if old, err = raftlog.New(b, raftlog.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if err := old.StoreLogs(logs[200:]); err != nil { // journaled and synced, not flushed
		t.Fatal(err)
	}
	b.Close() // the process dies: the journal keeps 201-300

	s, err := openLogStore(dir, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, "raft.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("raft.db still there after the import: %v", err)
	}
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	if first != 1 || last != 300 {
		t.Fatalf("log %d-%d after the import, want 1-300", first, last)
	}
	for i := first; i <= last; i++ {
		var l raft.Log
		if err := s.GetLog(i, &l); err != nil || string(l.Data) != fmt.Sprintf("entry %d", i) {
			t.Fatalf("entry %d: %q, %v", i, l.Data, err)
		}
	}
	if term, err := s.GetUint64([]byte("CurrentTerm")); err != nil || term != 4 {
		t.Fatalf("CurrentTerm %d, %v", term, err)
	}
}
