package raftlog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// A leader killed before its flusher wrote anything loses no entry: the
// journal is in the page cache, and the next start stores it.
func TestKilledLeaderLosesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "raft.db")
	s, bolt, gate := heldStore(t, path, 5)
	s.SetLeading(func() bool { return true })
	for i := uint64(6); i <= 40; i += 5 {
		if err := s.StoreLogs(entries(i, i+4, 2)); err != nil {
			t.Fatal(err)
		}
	}
	crash(t, bolt, gate)
	s2 := reopen(t, path)
	checkLog(t, s2, 1, 40, termsSplitAt(5, 1, 2))
	if d := s2.durableIndex(); d != 40 {
		t.Fatalf("durable after recovery = %d, want 40", d)
	}
	checkLog(t, s2.backend, 1, 40, termsSplitAt(5, 1, 2))
	for i := range 2 {
		data, err := os.ReadFile(filepath.Join(dir, journalName(i)))
		if n := len(decodeRecords(data)); err != nil || n != 0 {
			t.Fatalf("journal %d after recovery: %v, %d records; want none", i, err, n)
		}
	}
}

// Entries deleted from the tail never come back from the journal.
func TestTruncatedTailStaysGone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "raft.db")
	s, err := New(openBackend(t, path), Options{Dir: dir})
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

// A follower whose whole log was replaced by a snapshot keeps the entries
// it journals after it, though the backend is empty when it is killed.
func TestEntriesAfterASnapshotSurviveAKill(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "raft.db")
	s, bolt, gate := heldStore(t, path, 10)
	if err := s.DeleteRange(1, 10); err != nil { // a snapshot at 100 installed
		t.Fatal(err)
	}
	if err := s.StoreLogs(entries(101, 105, 2)); err != nil {
		t.Fatal(err)
	}
	crash(t, bolt, gate)
	checkLog(t, reopen(t, path), 101, 105, func(uint64) uint64 { return 2 })
}

// A reused file holds records of its earlier use past its new ones; they
// are never read back, even where their indexes would fit.
func TestReusedJournalReadsOnlyItsEpoch(t *testing.T) {
	j, err := openJournal(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if _, err := j.append(entries(1, 10, 1)); err != nil {
		t.Fatal(err)
	}
	if err := j.reset(0, false); err != nil {
		t.Fatal(err)
	}
	if left, err := j.recover(0, nil); err != nil || len(left) != 0 {
		t.Fatalf("a reset file gave %d entries, %v", len(left), err)
	}
	// Same sizes as before: entry 3 of the first use sits exactly where
	// a third new entry would.
	if _, err := j.append(entries(1, 2, 2)); err != nil {
		t.Fatal(err)
	}
	left, err := j.recover(0, nil)
	if err != nil || len(left) != 2 || left[1].Term != 2 {
		t.Fatalf("after reuse: %d entries, %v; want 2 of term 2", len(left), err)
	}
	if j.files[0].size != growChunk {
		t.Fatalf("file written to %d bytes, want one chunk of zeros (%d)", j.files[0].size, growChunk)
	}
}

// Entries in an earlier version's journal (pending-N.journal, written by
// a killed leader) are stored at start, and the old files removed.
func TestLegacyJournalIsRecovered(t *testing.T) {
	dir := t.TempDir()
	var b []byte
	for _, l := range entries(1, 4, 1) {
		b = append(b, legacyRecord(l)...)
	}
	if err := os.WriteFile(filepath.Join(dir, "pending-1.journal"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "raft.db")
	checkLog(t, reopen(t, path), 1, 4, term1)
	if _, err := os.Stat(filepath.Join(dir, "pending-1.journal")); !os.IsNotExist(err) {
		t.Fatalf("legacy journal still there: %v", err)
	}
}

// Reading stops at a torn or corrupt record.
func TestJournalStopsAtDamage(t *testing.T) {
	j, err := openJournal(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	logs := entries(1, 3, 1)
	logs[1].Extensions = []byte("ext")
	logs[2].AppendedAt = time.Unix(1700000000, 123)
	if _, err := j.append(logs); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(j.files[0].f.Name())
	if err != nil {
		t.Fatal(err)
	}
	data = data[:j.files[0].off]
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
	left, err := j.recover(1, nil)
	if err != nil || len(left) != 2 || left[0].Index != 2 {
		t.Fatalf("recover(1) = %d entries, %v", len(left), err)
	}
	if left, _ := j.recover(5, nil); len(left) != 0 {
		t.Fatalf("recover past the journal = %d entries", len(left))
	}
}

// legacyRecord encodes l as the earlier journal did: no epoch.
func legacyRecord(l *raft.Log) []byte {
	payload := appendRecord(nil, 0, l)[16:]
	frame := make([]byte, 8, 8+len(payload))
	putFrame(frame, payload)
	return append(frame, payload...)
}

// FuzzDecodeRecords: any bytes decode without panicking, in either
// format, into entries whose data lies within the input.
func FuzzDecodeRecords(f *testing.F) {
	var seed []byte
	for _, l := range entries(1, 2, 1) {
		seed = appendRecord(seed, 7, l)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 29, 0, 0, 0, 0})
	f.Add(legacyRecord(entries(1, 1, 1)[0]))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, decode := range []func([]byte) []*raft.Log{decodeRecords, decodeLegacy} {
			for _, l := range decode(data) {
				if l == nil || len(l.Data)+len(l.Extensions) > len(data) {
					t.Fatalf("entry %+v from %d bytes", l, len(data))
				}
			}
		}
	})
}

// A compaction that empties the backend while the leader appends (Raft
// compacts from its snapshot goroutine) keeps the entries appended beside
// it, which are in the journal only.
func TestCompactionBesideAppendsKeepsThem(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "raft.db")
	bolt := openBackend(t, path)
	if err := bolt.StoreLogs(entries(1, 10, 1)); err != nil {
		t.Fatal(err)
	}
	gate := &gatedBackend{Backend: bolt, gate: make(chan struct{})}
	hook := &appendDuringDelete{Backend: gate}
	s, err := New(hook, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s.SetLeading(func() bool { return true })
	hook.during = func() {
		if err := s.StoreLogs(entries(11, 12, 1)); err != nil {
			t.Error(err)
		}
	}
	if err := s.DeleteRange(1, 10); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDurable(ctx, 12); err != nil {
		t.Fatal(err)
	}
	crash(t, bolt, gate)
	checkLog(t, reopen(t, path), 11, 12, term1)
}

// appendDuringDelete calls during once, from DeleteRange's look at the
// backend's last index: after its flush, before it deletes.
type appendDuringDelete struct {
	Backend
	during func()
	once   sync.Once
}

func (a *appendDuringDelete) LastIndex() (uint64, error) {
	if a.during != nil {
		a.once.Do(a.during)
	}
	return a.Backend.LastIndex()
}

// A backend emptied by a snapshot, then a power loss that undoes a reset:
// older records before a gap are not taken for the new run.
func TestEmptyBackendTakesTheNewestRun(t *testing.T) {
	j, err := openJournal(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if _, err := j.append(entries(1, 5, 1)); err != nil {
		t.Fatal(err)
	}
	j.swap()
	if _, err := j.append(entries(101, 103, 2)); err != nil {
		t.Fatal(err)
	}
	left, err := j.recover(0, nil)
	if err != nil || len(left) != 3 || left[0].Index != 101 {
		t.Fatalf("recover(0) = %d entries from %v, %v; want 101-103", len(left), left, err)
	}
}

// A follower given a snapshot beyond its log stores the next entries past
// a gap; killed before they reach the backend, it finds them again.
func TestEntriesPastAGapSurviveAKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s, backend, gate := heldStore(t, path, 100)
	if err := s.StoreLogs(entries(5001, 5010, 3)); err != nil { // synced: a follower's
		t.Fatal(err)
	}
	crash(t, backend, gate)
	s = reopen(t, path)
	checkLog(t, s, 5001, 5010, func(uint64) uint64 { return 3 })
}
