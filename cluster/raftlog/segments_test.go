package raftlog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
)

func openSegments(t *testing.T, dir string) *Segments {
	t.Helper()
	s, err := OpenSegments(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustStore(t *testing.T, s raft.LogStore, logs []*raft.Log) {
	t.Helper()
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
}

func segmentFiles(t *testing.T, dir string) []uint64 {
	t.Helper()
	seqs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

// Entries, a deleted tail and the entries stored over it read back the
// same after a restart.
func TestSegmentsKeepEntriesAndTruncations(t *testing.T) {
	dir := t.TempDir()
	s := openSegments(t, dir)
	mustStore(t, s, entries(1, 10, 1))
	if err := s.DeleteRange(6, 10); err != nil {
		t.Fatal(err)
	}
	checkLog(t, s, 1, 5, term1)
	mustStore(t, s, entries(6, 8, 2))
	checkLog(t, s, 1, 8, termsSplitAt(5, 1, 2))
	s.Close()
	s = openSegments(t, dir)
	checkLog(t, s, 1, 8, termsSplitAt(5, 1, 2))
	var l raft.Log
	if err := s.GetLog(9, &l); err != raft.ErrLogNotFound {
		t.Fatalf("GetLog past the end = %v, want ErrLogNotFound", err)
	}
}

// A store over part of the tail without a deletion first replaces it.
func TestSegmentsOverwriteTail(t *testing.T) {
	dir := t.TempDir()
	s := openSegments(t, dir)
	mustStore(t, s, entries(1, 10, 1))
	mustStore(t, s, entries(4, 5, 3))
	checkLog(t, s, 1, 5, termsSplitAt(3, 1, 3))
	s.Close()
	checkLog(t, openSegments(t, dir), 1, 5, termsSplitAt(3, 1, 3))
}

// Deleting everything, then storing past the old end (after a
// snapshot), leaves only the new run, also after a restart; so does
// storing past a gap.
func TestSegmentsResetAndGap(t *testing.T) {
	dir := t.TempDir()
	s := openSegments(t, dir)
	mustStore(t, s, entries(1, 10, 1))
	if err := s.DeleteRange(1, 10); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.FirstIndex(); f != 0 {
		t.Fatalf("first index %d after deleting everything", f)
	}
	if l, _ := s.LastIndex(); l != 0 {
		t.Fatalf("last index %d after deleting everything", l)
	}
	mustStore(t, s, entries(100, 105, 2))
	mustStore(t, s, entries(200, 202, 3))
	checkLog(t, s, 200, 202, func(uint64) uint64 { return 3 })
	s.Close()
	checkLog(t, openSegments(t, dir), 200, 202, func(uint64) uint64 { return 3 })
}

// Compaction removes the files it emptied; the entries it kept, and any
// it deleted from the file it kept, read back after a restart.
func TestSegmentsCompactionDropsFiles(t *testing.T) {
	dir := t.TempDir()
	s := openSegments(t, dir)
	s.maxSize = 1 << 10
	for i := uint64(1); i <= 200; i += 10 {
		mustStore(t, s, entries(i, i+9, 1))
	}
	before := len(segmentFiles(t, dir))
	if before < 5 {
		t.Fatalf("%d files for 200 entries of 1 KB files", before)
	}
	if err := s.DeleteRange(1, 150); err != nil {
		t.Fatal(err)
	}
	checkLog(t, s, 151, 200, term1)
	after := segmentFiles(t, dir)
	if len(after) >= before/2 {
		t.Fatalf("compaction left %d of %d files", len(after), before)
	}
	s.Close()
	s = openSegments(t, dir)
	first, _ := s.FirstIndex()
	if first > 151 || first < 131 {
		t.Fatalf("first index %d after a restart, want the kept file's first (131-151)", first)
	}
	checkLog(t, s, first, 200, term1)
	mustStore(t, s, entries(201, 210, 1))
	checkLog(t, s, first, 210, term1)
}

// A torn last record is dropped at start-up, and appends go to a new
// file rather than behind the damage.
func TestSegmentsTornTail(t *testing.T) {
	dir := t.TempDir()
	s := openSegments(t, dir)
	mustStore(t, s, entries(1, 5, 1))
	mustStore(t, s, entries(6, 6, 1))
	s.Close()
	seqs := segmentFiles(t, dir)
	name := filepath.Join(dir, segmentName(seqs[len(seqs)-1]))
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(name, fi.Size()-3); err != nil {
		t.Fatal(err)
	}
	s = openSegments(t, dir)
	checkLog(t, s, 1, 5, term1)
	mustStore(t, s, entries(6, 9, 2))
	if got := segmentFiles(t, dir); len(got) != len(seqs)+1 {
		t.Fatalf("files %v after appending behind a torn tail, want a new one after %v", got, seqs)
	}
	s.Close()
	checkLog(t, openSegments(t, dir), 1, 9, termsSplitAt(5, 1, 2))
}

// smallFiles writes entries 1-40 of term 1 into files of about 512 bytes
// and returns their numbers.
func smallFiles(t *testing.T, dir string) []uint64 {
	t.Helper()
	s := openSegments(t, dir)
	s.maxSize = 512
	for i := uint64(1); i <= 40; i += 4 {
		mustStore(t, s, entries(i, i+3, 1))
	}
	s.Close()
	return segmentFiles(t, dir)
}

// Damage inside an older file, with entries after it, is refused rather
// than read as a shorter log.
func TestSegmentsRefuseDamageBeforeLaterFiles(t *testing.T) {
	dir := t.TempDir()
	seqs := smallFiles(t, dir)
	if len(seqs) < 3 {
		t.Fatalf("only %d files", len(seqs))
	}
	name := filepath.Join(dir, segmentName(seqs[1]))
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	raw[20] ^= 0xff // inside the file's first record
	if err := os.WriteFile(name, raw, 0o640); err != nil {
		t.Fatal(err)
	}
	if s, err := OpenSegments(dir, false); err == nil {
		s.Close()
		t.Fatal("opened a log with a damaged file in the middle")
	}
}

// A compaction the machine stopped in the middle of (a later file
// removed, an older one not) leaves a gap after a whole file: the
// entries before it are the compacted ones.
func TestSegmentsHalfDoneCompaction(t *testing.T) {
	dir := t.TempDir()
	seqs := smallFiles(t, dir)
	if err := os.Remove(filepath.Join(dir, segmentName(seqs[1]))); err != nil {
		t.Fatal(err)
	}
	s := openSegments(t, dir)
	first, _ := s.FirstIndex()
	if first <= 4 {
		t.Fatalf("first index %d: entries before the gap were kept", first)
	}
	checkLog(t, s, first, 40, term1)
}

// Terms and votes survive a restart; a missing key is "not found", as
// Raft expects.
func TestSegmentsStableStore(t *testing.T) {
	dir := t.TempDir()
	s := openSegments(t, dir)
	if _, err := s.GetUint64([]byte("CurrentTerm")); err == nil || err.Error() != "not found" {
		t.Fatalf("missing key: %v", err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
		t.Fatal(err)
	}
	if err := s.Set([]byte("LastVoteCand"), []byte("node-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 8); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openSegments(t, dir)
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 8 {
		t.Fatalf("CurrentTerm = %d, %v", v, err)
	}
	if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != "node-2" {
		t.Fatalf("LastVoteCand = %q, %v", v, err)
	}
}

// An earlier version's raft-boltdb log moves over whole.
func TestSegmentsImportBolt(t *testing.T) {
	dir := t.TempDir()
	bolt := openBoltStore(t, filepath.Join(dir, "raft.db"))
	mustStore(t, bolt, entries(5, 1500, 2))
	if err := bolt.SetUint64([]byte("CurrentTerm"), 2); err != nil {
		t.Fatal(err)
	}
	s := openSegments(t, filepath.Join(dir, "segs"))
	mustStore(t, s, entries(1, 3, 1)) // a half-done earlier import
	if err := s.Import(bolt); err != nil {
		t.Fatal(err)
	}
	bolt.Close()
	s.Close()
	s = openSegments(t, filepath.Join(dir, "segs"))
	checkLog(t, s, 5, 1500, func(uint64) uint64 { return 2 })
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 2 {
		t.Fatalf("CurrentTerm = %d, %v", v, err)
	}
}

// Whatever a file holds, opening it returns a log or an error, never a
// panic, and what it returns reads back.
func FuzzOpenSegments(f *testing.F) {
	var good []byte
	for _, l := range entries(1, 3, 1) {
		good = appendRecord(good, tagEntry, l)
	}
	f.Add(good)
	f.Add(appendMarker(append([]byte(nil), good...), tagTruncate, 1))
	f.Add(appendMarker(append([]byte(nil), good...), tagReset, 0))
	f.Add(good[:len(good)-5])
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o640); err != nil {
			t.Fatal(err)
		}
		s, err := OpenSegments(dir, true)
		if err != nil {
			return
		}
		defer s.Close()
		first, _ := s.FirstIndex()
		last, _ := s.LastIndex()
		for i := first; i != 0 && i <= last; i++ {
			var l raft.Log
			if err := s.GetLog(i, &l); err != nil {
				t.Fatalf("GetLog(%d) of %d-%d: %v", i, first, last, err)
			}
		}
		if err := s.StoreLogs([]*raft.Log{{Index: last + 1, Term: 1}}); err != nil {
			t.Fatal(err)
		}
	})
}
