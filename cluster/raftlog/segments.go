package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/raft"
)

// Segments is the log's durable backend: append-only files of the same
// checksummed records as the journal, an index of every entry in memory,
// and the stable store (terms and votes) in a small file beside them.
//
// It replaced raft-boltdb behind the journal. Every node flushes its
// journal to the backend about ten times a second; in bench-cluster's
// profiles at 16 writers raft-boltdb's commits and msgpack took 11 % of a
// follower's CPU and 5 % of the leader's for a copy of entries that are
// already durable in the journal. Here a flush is one write and one
// fdatasync of the records as they are.
//
// Files are never rewritten. A deleted tail is an appended truncation
// record, a log emptied (a snapshot took it all, or entries arrived past a
// gap) a reset record; both are synced before DeleteRange returns, so a
// restart cannot bring the entries back. Compaction drops whole files
// whose entries are all deleted; entries it deleted from the file it
// keeps return after a restart, which is harmless (committed entries the
// snapshot also holds, and Raft compacts them again).
//
// A start never appends behind a damaged record (a torn write): if the
// last file does not end cleanly, appends go to a new one, so a record
// that was never durable cannot be mistaken for one that follows.
type Segments struct {
	dir    string
	noSync bool
	// maxSize starts a new file once the active one is this large.
	maxSize int64

	// wmu serialises writers (appends, deletions, stable writes).
	wmu sync.Mutex

	// mu guards what readers use: the index and the open files.
	mu     sync.RWMutex
	files  []*segment // ascending seq; the last is appended to
	first  uint64     // index of locs[0]; meaningless when locs is empty
	locs   []loc
	stable map[string][]byte
	closed bool

	buf []byte
}

type segment struct {
	seq  uint64
	f    *os.File
	size int64
	// good is where the file's whole records ended when it was opened.
	good int64
}

// loc is where one entry's record lives.
type loc struct {
	seg *segment
	off int64
	n   uint32
}

const (
	// segmentMax starts a new file once the active one is this large.
	segmentMax = 64 << 20
	// Record tags, in the journal's epoch slot.
	tagEntry    = 1
	tagTruncate = 2 // entries after the index are gone
	tagReset    = 3 // every entry is gone
	stableName  = "stable"
)

func segmentName(seq uint64) string { return fmt.Sprintf("log-%010d.seg", seq) }

// OpenSegments opens the backend in dir, reading every file to rebuild
// the index.
func OpenSegments(dir string, noSync bool) (*Segments, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("raft log segments: %w", err)
	}
	s := &Segments{dir: dir, noSync: noSync, maxSize: segmentMax, stable: map[string][]byte{}}
	if err := s.loadStable(); err != nil {
		return nil, err
	}
	seqs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	clean := true
	for i, seq := range seqs {
		f, err := os.OpenFile(filepath.Join(dir, segmentName(seq)), os.O_RDWR, 0)
		if err != nil {
			s.closeFiles()
			return nil, fmt.Errorf("raft log segments: %w", err)
		}
		seg := &segment{seq: seq, f: f}
		s.files = append(s.files, seg)
		// A damaged record ends a file's entries; a file after it was
		// started at a restart and continues right where the good
		// records stop (scan refuses a gap there).
		if clean, err = s.scan(seg, i > 0); err != nil {
			s.closeFiles()
			return nil, err
		}
	}
	if len(s.files) == 0 || !clean {
		if err := s.rotate(); err != nil {
			s.closeFiles()
			return nil, err
		}
	}
	return s, nil
}

// listSegments returns the sequence numbers of dir's segment files, in
// order.
func listSegments(dir string) ([]uint64, error) {
	names, err := filepath.Glob(filepath.Join(dir, "log-*.seg"))
	if err != nil {
		return nil, fmt.Errorf("raft log segments: %w", err)
	}
	var seqs []uint64
	for _, p := range names {
		n := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "log-"), ".seg")
		seq, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			continue
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs, nil
}

// scan reads seg's records into the index and reports whether the file
// ends with a whole record. A file after the first may start past a gap
// only if the files before it were whole: compaction deleted the files
// in between and the machine stopped before the oldest went too.
func (s *Segments) scan(seg *segment, later bool) (bool, error) {
	data, err := os.ReadFile(seg.f.Name())
	if err != nil {
		return false, fmt.Errorf("raft log segments: %w", err)
	}
	seg.size = int64(len(data))
	prevClean := true
	if later {
		prev := s.files[len(s.files)-2]
		prevClean = prev.good == prev.size
	}
	off := 0
	firstRecord := true
	for len(data)-off >= 8 {
		payload, ok := nextPayload(data[off:], 16)
		if !ok {
			break
		}
		n := 8 + len(payload)
		tag := binary.BigEndian.Uint64(payload)
		switch tag {
		case tagEntry:
			l, ok := decodeEntry(payload[8:])
			if !ok {
				return false, fmt.Errorf("raft log segments: %s: bad entry at offset %d", seg.f.Name(), off)
			}
			last, empty := s.lastLocked()
			switch {
			case empty || l.Index == last+1:
			case l.Index > last+1 && firstRecord && later && prevClean:
				s.locs = nil // the files before were compacted away
			case l.Index >= s.first && l.Index <= last:
				s.locs = s.locs[:l.Index-s.first]
			default:
				return false, fmt.Errorf("raft log segments: %s: entry %d does not follow %d", seg.f.Name(), l.Index, last)
			}
			if len(s.locs) == 0 {
				s.first = l.Index
			}
			s.locs = append(s.locs, loc{seg: seg, off: int64(off), n: uint32(n)})
		case tagTruncate:
			s.truncateAfter(binary.BigEndian.Uint64(payload[8:]))
		case tagReset:
			s.locs = nil
		default:
			return false, fmt.Errorf("raft log segments: %s: unknown record %d at offset %d", seg.f.Name(), tag, off)
		}
		off += n
		firstRecord = false
	}
	seg.good = int64(off)
	return int64(off) == seg.size, nil
}

// truncateAfter drops the entries past index. s.mu held (or no readers).
func (s *Segments) truncateAfter(index uint64) {
	switch last, empty := s.lastLocked(); {
	case empty || index >= last:
	case index < s.first:
		s.locs = nil
	default:
		s.locs = s.locs[:index-s.first+1]
	}
}

// bounds reads the first and last index, and whether the log is empty.
// Writers call it under wmu, so the answer holds until they change it.
func (s *Segments) bounds() (first, last uint64, empty bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	last, empty = s.lastLocked()
	return s.first, last, empty
}

// lastLocked is the last index, and whether the log is empty.
func (s *Segments) lastLocked() (uint64, bool) {
	if len(s.locs) == 0 {
		return 0, true
	}
	return s.first + uint64(len(s.locs)) - 1, false
}

// rotate starts a new active file, durably named in the directory.
func (s *Segments) rotate() error {
	var seq uint64 = 1
	if n := len(s.files); n > 0 {
		seq = s.files[n-1].seq + 1
		if err := s.sync(s.files[n-1].f); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(filepath.Join(s.dir, segmentName(seq)), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o640)
	if err != nil {
		return fmt.Errorf("raft log segments: %w", err)
	}
	if err := s.syncDir(); err != nil {
		f.Close()
		return err
	}
	s.mu.Lock()
	s.files = append(s.files, &segment{seq: seq, f: f})
	s.mu.Unlock()
	return nil
}

func (s *Segments) sync(f *os.File) error {
	if s.noSync {
		return nil
	}
	if err := fdatasync(f); err != nil {
		return fmt.Errorf("raft log segments: %w", err)
	}
	return nil
}

func (s *Segments) syncDir() error {
	if s.noSync {
		return nil
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("raft log segments: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("raft log segments: %w", err)
	}
	return nil
}

// write appends b to the active file and syncs it, returning the file
// and the offset b starts at.
func (s *Segments) write(b []byte) (*segment, int64, error) {
	s.mu.RLock()
	closed, active := s.closed, s.files[len(s.files)-1]
	s.mu.RUnlock()
	if closed {
		return nil, 0, ErrClosed
	}
	if active.size > 0 && active.size+int64(len(b)) > s.maxSize {
		if err := s.rotate(); err != nil {
			return nil, 0, err
		}
		s.mu.RLock()
		active = s.files[len(s.files)-1]
		s.mu.RUnlock()
	}
	off := active.size
	if _, err := active.f.WriteAt(b, off); err != nil {
		return nil, 0, fmt.Errorf("raft log segments: %w", err)
	}
	if err := s.sync(active.f); err != nil {
		return nil, 0, err
	}
	active.size += int64(len(b))
	return active, off, nil
}

// StoreLog implements raft.LogStore.
func (s *Segments) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs implements raft.LogStore: durable when it returns. Entries
// that do not follow the last one (Raft stores past a gap after a
// snapshot) start the log again.
func (s *Segments) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	first, last, empty := s.bounds()
	b := s.buf[:0]
	reset := false
	switch next := logs[0].Index; {
	case empty || next == last+1:
	case next >= first && next <= last:
		// Raft deletes a conflicting tail before it stores over it;
		// this keeps a caller that does not safe too.
		b = appendMarker(b, tagTruncate, next-1)
	default:
		reset = true
		b = appendMarker(b, tagReset, 0)
	}
	start := len(b)
	offs := make([]int, len(logs))
	for i, l := range logs {
		if i > 0 && l.Index != logs[i-1].Index+1 {
			return fmt.Errorf("raft log segments: entries %d and %d are not contiguous", logs[i-1].Index, l.Index)
		}
		offs[i] = len(b)
		b = appendRecord(b, tagEntry, l)
	}
	s.buf = b
	seg, off, err := s.write(b)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if reset {
		s.locs = nil
	} else if start > 0 {
		s.truncateAfter(logs[0].Index - 1)
	}
	if len(s.locs) == 0 {
		s.first = logs[0].Index
	}
	for i := range logs {
		end := len(b)
		if i+1 < len(offs) {
			end = offs[i+1]
		}
		s.locs = append(s.locs, loc{seg: seg, off: off + int64(offs[i]), n: uint32(end - offs[i])})
	}
	if len(s.buf) > 1<<20 {
		s.buf = nil // a rare large batch need not stay allocated
	}
	return nil
}

// appendMarker encodes a truncation or reset record.
func appendMarker(b []byte, tag, index uint64) []byte {
	start := len(b)
	b = append(b, make([]byte, 8)...)
	b = binary.BigEndian.AppendUint64(b, tag)
	b = binary.BigEndian.AppendUint64(b, index)
	putFrame(b[start:], b[start+8:])
	return b
}

// GetLog implements raft.LogStore.
func (s *Segments) GetLog(index uint64, out *raft.Log) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	last, empty := s.lastLocked()
	if s.closed {
		return ErrClosed
	}
	if empty || index < s.first || index > last {
		return raft.ErrLogNotFound
	}
	at := s.locs[index-s.first]
	rec := make([]byte, at.n)
	if _, err := at.seg.f.ReadAt(rec, at.off); err != nil {
		return fmt.Errorf("raft log segments: read entry %d: %w", index, err)
	}
	payload, ok := nextPayload(rec, header)
	if !ok {
		return fmt.Errorf("raft log segments: entry %d is damaged on disk", index)
	}
	l, ok := decodeEntry(payload[8:])
	if !ok || l.Index != index {
		return fmt.Errorf("raft log segments: entry %d is damaged on disk", index)
	}
	*out = *l
	return nil
}

// FirstIndex implements raft.LogStore (0 when empty).
func (s *Segments) FirstIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.locs) == 0 {
		return 0, nil
	}
	return s.first, nil
}

// LastIndex implements raft.LogStore (0 when empty).
func (s *Segments) LastIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	last, _ := s.lastLocked()
	return last, nil
}

// DeleteRange implements raft.LogStore for the two ranges Raft deletes:
// a head (compaction) and a tail (a conflict, or everything).
func (s *Segments) DeleteRange(min, max uint64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	first, last, empty := s.bounds()
	if empty || max < first || min > last || min > max {
		return nil
	}
	switch {
	case min <= first && max >= last:
		if _, _, err := s.write(appendMarker(nil, tagReset, 0)); err != nil {
			return err
		}
		s.mu.Lock()
		s.locs = nil
		s.mu.Unlock()
	case max >= last:
		if _, _, err := s.write(appendMarker(nil, tagTruncate, min-1)); err != nil {
			return err
		}
		s.mu.Lock()
		s.truncateAfter(min - 1)
		s.mu.Unlock()
	case min <= first:
		s.mu.Lock()
		s.locs = slices.Clone(s.locs[max+1-first:])
		s.first = max + 1
		s.mu.Unlock()
	default:
		return fmt.Errorf("raft log segments: cannot delete %d-%d from the middle of %d-%d", min, max, first, last)
	}
	return s.dropUnused()
}

// dropUnused removes the files before the one holding the first entry
// (every file but the active one when the log is empty).
func (s *Segments) dropUnused() error {
	s.mu.Lock()
	keep := s.files[len(s.files)-1].seq
	if len(s.locs) > 0 {
		keep = s.locs[0].seg.seq
	}
	var gone []*segment
	for len(s.files) > 1 && s.files[0].seq < keep {
		gone = append(gone, s.files[0])
		s.files = s.files[1:]
	}
	s.mu.Unlock()
	if len(gone) == 0 {
		return nil
	}
	var errs []error
	for _, seg := range gone {
		errs = append(errs, seg.f.Close(), os.Remove(seg.f.Name()))
	}
	errs = append(errs, s.syncDir())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("raft log segments: drop compacted files: %w", err)
	}
	return nil
}

// loadStable reads the stable store's file, if there is one.
func (s *Segments) loadStable() error {
	raw, err := os.ReadFile(filepath.Join(s.dir, stableName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("raft stable store: %w", err)
	}
	for len(raw) > 0 {
		k, rest, ok := cutField(raw)
		if !ok {
			return fmt.Errorf("raft stable store: %s is damaged", stableName)
		}
		v, rest, ok := cutField(rest)
		if !ok {
			return fmt.Errorf("raft stable store: %s is damaged", stableName)
		}
		s.stable[string(k)] = v
		raw = rest
	}
	return nil
}

// cutField reads a length-prefixed field.
func cutField(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// Set implements raft.StableStore: the whole file is replaced, durably
// (a new term or vote, a few times per election).
func (s *Segments) Set(key, val []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	next := make(map[string][]byte, len(s.stable)+1)
	for k, v := range s.stable {
		next[k] = v
	}
	next[string(key)] = slices.Clone(val)
	s.mu.Unlock()
	keys := make([]string, 0, len(next))
	for k := range next {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(next[k])))
		b = append(b, next[k]...)
	}
	if err := s.replaceFile(stableName, b); err != nil {
		return fmt.Errorf("raft stable store: %w", err)
	}
	s.mu.Lock()
	s.stable = next
	s.mu.Unlock()
	return nil
}

// replaceFile writes name in dir through a synced temporary file and a
// rename.
func (s *Segments) replaceFile(name string, b []byte) error {
	tmp := filepath.Join(s.dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil && !s.noSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, name))
	}
	if err == nil {
		err = s.syncDir()
	}
	return err
}

// errKeyNotFound is the error Raft expects for a missing key: it compares
// the message, "not found".
var errKeyNotFound = errors.New("not found")

// Get implements raft.StableStore.
func (s *Segments) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.stable[string(key)]
	if !ok {
		return nil, errKeyNotFound
	}
	return slices.Clone(v), nil
}

// SetUint64 implements raft.StableStore.
func (s *Segments) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 implements raft.StableStore.
func (s *Segments) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("raft stable store: %q holds %d bytes, not a number", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Close closes the files; appends were synced as they were written.
func (s *Segments) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.closeFiles()
}

func (s *Segments) closeFiles() error {
	var errs []error
	for _, seg := range s.files {
		errs = append(errs, seg.f.Close())
	}
	return errors.Join(errs...)
}

// Import replaces the log and the stable store with src's (an earlier
// version's raft-boltdb file): every entry, and Raft's term and vote.
func (s *Segments) Import(src Backend) error {
	first, err := src.FirstIndex()
	if err != nil {
		return fmt.Errorf("import raft log: %w", err)
	}
	last, err := src.LastIndex()
	if err != nil {
		return fmt.Errorf("import raft log: %w", err)
	}
	if err := s.DeleteRange(0, ^uint64(0)); err != nil {
		return fmt.Errorf("import raft log: %w", err)
	}
	const batch = 1024
	for i := first; i != 0 && i <= last; i += batch {
		var logs []*raft.Log
		for j := i; j <= last && j < i+batch; j++ {
			l := new(raft.Log)
			if err := src.GetLog(j, l); err != nil {
				return fmt.Errorf("import raft log entry %d: %w", j, err)
			}
			logs = append(logs, l)
		}
		if err := s.StoreLogs(logs); err != nil {
			return fmt.Errorf("import raft log: %w", err)
		}
	}
	for _, k := range []string{"CurrentTerm", "LastVoteTerm", "LastVoteCand"} {
		v, err := src.Get([]byte(k))
		if err != nil {
			if err.Error() == errKeyNotFound.Error() {
				continue
			}
			return fmt.Errorf("import raft stable store %s: %w", k, err)
		}
		if err := s.Set([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}
