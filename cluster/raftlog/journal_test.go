package raftlog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A leader killed before its flusher wrote anything loses no entry: the
// journal is in the page cache, and the next start stores it.
func TestKilledLeaderLosesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "raft.db")
	bolt := openBolt(t, path)
	if err := bolt.StoreLogs(entries(1, 5, 1)); err != nil {
		t.Fatal(err)
	}
	gate := &gatedBackend{Backend: bolt, gate: make(chan struct{})}
	s, err := New(gate, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetLeading(func() bool { return true })
	for i := uint64(6); i <= 40; i += 5 {
		if err := s.StoreLogs(entries(i, i+4, 2)); err != nil {
			t.Fatal(err)
		}
	}
	// The process dies: its memory is gone, the files stay as they are.
	if err := bolt.Close(); err != nil {
		t.Fatal(err)
	}
	close(gate.gate) // the stuck flusher fails against the closed file
	s2 := reopen(t, path)
	checkLog(t, s2, 1, 40, termsSplitAt(5, 1, 2))
	if d := s2.durableIndex(); d != 40 {
		t.Fatalf("durable after recovery = %d, want 40", d)
	}
	for i := range 2 {
		if fi, err := os.Stat(filepath.Join(dir, "pending-"+string(rune('0'+i))+".journal")); err != nil || fi.Size() != 0 {
			t.Fatalf("journal %d after recovery: %v, %d bytes; want empty", i, err, fi.Size())
		}
	}
}

// Entries deleted from the tail never come back from the journal.
func TestTruncatedTailStaysGone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "raft.db")
	s, err := New(openBolt(t, path), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	leading := true
	s.SetLeading(func() bool { return leading })
	if err := s.StoreLogs(entries(1, 10, 1)); err != nil {
		t.Fatal(err)
	}
	leading = false
	if err := s.DeleteRange(6, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLogs(entries(6, 7, 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkLog(t, reopen(t, path), 1, 7, termsSplitAt(5, 1, 2))
}

// Reading stops at a torn or corrupt record.
func TestJournalStopsAtDamage(t *testing.T) {
	j, err := openJournal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	logs := entries(1, 3, 1)
	logs[1].Extensions = []byte("ext")
	logs[2].AppendedAt = time.Unix(1700000000, 123)
	if err := j.append(logs); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(j.files[0].Name())
	if err != nil {
		t.Fatal(err)
	}
	got := decodeRecords(data)
	if len(got) != 3 || !bytes.Equal(got[1].Extensions, []byte("ext")) || !got[2].AppendedAt.Equal(logs[2].AppendedAt) ||
		string(got[0].Data) != string(logs[0].Data) || got[2].Index != 3 || got[2].Term != 1 {
		t.Fatalf("round trip: %+v", got)
	}
	if n := len(decodeRecords(data[:len(data)-1])); n != 2 {
		t.Fatalf("torn last record: %d entries, want 2", n)
	}
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 0xff
	if n := len(decodeRecords(bad)); n >= 3 {
		t.Fatalf("corrupt record read as %d entries", n)
	}
	// recover keeps only the contiguous run after the backend's last.
	left, err := j.recover(1)
	if err != nil || len(left) != 2 || left[0].Index != 2 {
		t.Fatalf("recover(1) = %d entries, %v", len(left), err)
	}
	if left, _ := j.recover(5); len(left) != 0 {
		t.Fatalf("recover past the journal = %d entries", len(left))
	}
}

// FuzzDecodeRecords: any bytes decode without panicking into entries
// whose data lies within the input.
func FuzzDecodeRecords(f *testing.F) {
	j, err := openJournal(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer j.close()
	if err := j.append(entries(1, 2, 1)); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(j.files[0].Name())
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 29, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range decodeRecords(data) {
			if l == nil || len(l.Data)+len(l.Extensions) > len(data) {
				t.Fatalf("entry %+v from %d bytes", l, len(data))
			}
		}
	})
}
