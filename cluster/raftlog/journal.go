package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
)

// journal is the log's write-ahead file: every append is written to it
// (and, unless the store runs without sync, fdatasynced) before it counts
// as durable, and the backend (bbolt) receives entries later, in large
// batches. A bbolt commit costs two fsyncs and rewrites pages; an append to
// the journal costs one fdatasync of a few hundred bytes.
//
// Two files alternate. Each flush to the backend takes the entries of the
// file in use and switches appends to the other one; once the backend has
// committed them, the first file is reset and later reused.
//
// Files are reused in place, never truncated: an fdatasync after a write
// that grows a file must also commit the file's size through the file
// system's journal, which costs about half as much again as the write
// itself (measured on ext4 here: 277 µs against 182 µs at the median).
// A file grows in zero-filled chunks, and a reset only starts writing
// again at offset 0 under a new epoch.
//
// A record is [length u32][crc32c u32][payload], the payload starting with
// the file's epoch and holding one entry. Reading a file stops at the first
// record that is short, fails its checksum or carries another epoch than
// the file's first record: after a machine failure the file may end in a
// torn write, and past the last record of this epoch lie stale records of
// an earlier use.
type journal struct {
	files  [2]journalFile
	active int
	noSync bool
	buf    []byte
}

type journalFile struct {
	f *os.File
	// off is where the next record goes; size is how far the file is
	// written (with records or zeros).
	off, size int64
	epoch     uint64
	// dirty says records were written since the file was last synced.
	dirty bool
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	// maxRecord bounds a record's length when reading, so a garbage
	// length never makes the reader allocate much.
	maxRecord = 256 << 20
	// growChunk is how much a file grows by when a record does not fit.
	growChunk = 1 << 20
	// header is a record's payload before the entry's data: epoch,
	// index, term, type, appended-at and data length.
	header = 8 + 8 + 8 + 1 + 8 + 4
)

// journalName is the file name of journal file i.
func journalName(i int) string { return fmt.Sprintf("wal-%d.journal", i) }

func openJournal(dir string, noSync bool) (*journal, error) {
	j := &journal{noSync: noSync}
	for i := range j.files {
		f, err := os.OpenFile(filepath.Join(dir, journalName(i)), os.O_CREATE|os.O_RDWR, 0o640)
		if err != nil {
			j.close()
			return nil, fmt.Errorf("raft log journal: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			j.close()
			return nil, fmt.Errorf("raft log journal: %w", err)
		}
		j.files[i] = journalFile{f: f, size: fi.Size(), epoch: rand.Uint64()}
	}
	return j, nil
}

// append writes logs to the file in use with one write, and returns that
// file's number for sync.
func (j *journal) append(logs []*raft.Log) (int, error) {
	jf := &j.files[j.active]
	b := j.buf[:0]
	for _, l := range logs {
		b = appendRecord(b, jf.epoch, l)
	}
	j.buf = b
	if end := jf.off + int64(len(b)); end > jf.size {
		// Zeros first, so later fdatasyncs of this region need not
		// commit a new size.
		grown := (end + growChunk - 1) / growChunk * growChunk
		if _, err := jf.f.WriteAt(make([]byte, grown-jf.size), jf.size); err != nil {
			return 0, fmt.Errorf("raft log journal: grow: %w", err)
		}
		jf.size = grown
	}
	if _, err := jf.f.WriteAt(b, jf.off); err != nil {
		return 0, fmt.Errorf("raft log journal: %w", err)
	}
	jf.off += int64(len(b))
	jf.dirty = true
	return j.active, nil
}

// appendRecord encodes l as a record of the given epoch.
func appendRecord(b []byte, epoch uint64, l *raft.Log) []byte {
	start := len(b)
	b = append(b, make([]byte, 8)...)
	b = binary.BigEndian.AppendUint64(b, epoch)
	b = binary.BigEndian.AppendUint64(b, l.Index)
	b = binary.BigEndian.AppendUint64(b, l.Term)
	b = append(b, byte(l.Type))
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Data)))
	b = append(b, l.Data...)
	b = append(b, l.Extensions...)
	putFrame(b[start:], b[start+8:])
	return b
}

// putFrame writes the length and checksum of payload to frame's first 8
// bytes.
func putFrame(frame, payload []byte) {
	binary.BigEndian.PutUint32(frame, uint32(len(payload)))
	binary.BigEndian.PutUint32(frame[4:], crc32.Checksum(payload, castagnoli))
}

// dirtyFiles returns the files written since their last sync and marks
// them clean: the caller syncs them next.
func (j *journal) dirtyFiles() []*os.File {
	var out []*os.File
	for i := range j.files {
		if j.files[i].dirty {
			out = append(out, j.files[i].f)
			j.files[i].dirty = false
		}
	}
	return out
}

// syncFiles makes fs durable: their data, not their timestamps.
func (j *journal) syncFiles(fs []*os.File) error {
	if j.noSync {
		return nil
	}
	for _, f := range fs {
		if err := fdatasync(f); err != nil {
			return fmt.Errorf("raft log journal: %w", err)
		}
	}
	return nil
}

// swap makes the other file the one appended to and returns the number of
// the one that was (reset once the backend holds its entries).
func (j *journal) swap() int {
	old := j.active
	j.active = 1 - old
	return old
}

// reset forgets file i's records: appends start again at its beginning,
// under a new epoch, and its first record's header is zeroed. sync makes
// that durable: needed before the backend's tail is deleted, or a machine
// failure could bring back entries the log no longer has.
func (j *journal) reset(i int, sync bool) error {
	jf := &j.files[i]
	jf.off, jf.epoch = 0, rand.Uint64()
	if jf.size > 0 {
		if _, err := jf.f.WriteAt(make([]byte, min(jf.size, 8)), 0); err != nil {
			return fmt.Errorf("raft log journal: %w", err)
		}
	}
	if sync {
		jf.dirty = false
		return j.syncFiles([]*os.File{jf.f})
	}
	return nil
}

// resetAll resets both files.
func (j *journal) resetAll(sync bool) error {
	return errors.Join(j.reset(0, sync), j.reset(1, sync))
}

// recover returns the entries of both files, and of the legacy journal's
// contents, that follow last, in order: the contiguous run starting at
// last+1.
func (j *journal) recover(last uint64, legacy [][]byte) ([]*raft.Log, error) {
	byIndex := map[uint64]*raft.Log{}
	keep := func(logs []*raft.Log) {
		for _, l := range logs {
			if l.Index > last {
				byIndex[l.Index] = l
			}
		}
	}
	for _, data := range legacy {
		keep(decodeLegacy(data))
	}
	for _, jf := range j.files {
		data, err := io.ReadAll(io.NewSectionReader(jf.f, 0, jf.size))
		if err != nil {
			return nil, fmt.Errorf("raft log journal: %w", err)
		}
		keep(decodeRecords(data))
	}
	start := last + 1
	if last == 0 || byIndex[start] == nil {
		// An empty backend, or Raft stored entries past a gap (a
		// follower given a snapshot beyond its log): the log continues
		// anywhere after last. The entries written since are the run
		// that ends at the highest index; records before a gap are
		// older ones the backend had and deleted. Those of a deleted
		// tail never remain (it is reset durably first), and committed
		// ones that ran on into the new run are harmless: the same
		// entries again.
		var top uint64
		for i := range byIndex {
			top = max(top, i)
		}
		if top > last {
			start = top
			for start > last+1 && byIndex[start-1] != nil {
				start--
			}
		}
	}
	var out []*raft.Log
	for i := start; ; i++ {
		l, ok := byIndex[i]
		if !ok {
			break
		}
		out = append(out, l)
	}
	return out, nil
}

// decodeRecords reads records until the first bad one, or the first of
// another epoch than the first record's.
func decodeRecords(data []byte) []*raft.Log {
	var out []*raft.Log
	var epoch uint64
	for len(data) >= 8 {
		payload, ok := nextPayload(data, header)
		if !ok {
			break
		}
		e := binary.BigEndian.Uint64(payload)
		if len(out) == 0 {
			epoch = e
		} else if e != epoch {
			break
		}
		l, ok := decodeEntry(payload[8:])
		if !ok {
			break
		}
		out = append(out, l)
		data = data[8+len(payload):]
	}
	return out
}

// decodeLegacy reads the journal of earlier versions (pending-N.journal:
// no epoch, written by the leader only, truncated when flushed).
func decodeLegacy(data []byte) []*raft.Log {
	var out []*raft.Log
	for len(data) >= 8 {
		payload, ok := nextPayload(data, header-8)
		if !ok {
			break
		}
		l, ok := decodeEntry(payload)
		if !ok {
			break
		}
		out = append(out, l)
		data = data[8+len(payload):]
	}
	return out
}

// nextPayload returns the payload of data's first record if it is whole,
// at least minLen long, and matches its checksum.
func nextPayload(data []byte, minLen uint32) ([]byte, bool) {
	n := binary.BigEndian.Uint32(data)
	sum := binary.BigEndian.Uint32(data[4:])
	if n < minLen || n > maxRecord || uint64(len(data)-8) < uint64(n) {
		return nil, false
	}
	payload := data[8 : 8+n]
	return payload, crc32.Checksum(payload, castagnoli) == sum
}

// decodeEntry reads an entry: index, term, type, appended-at, data length,
// data, extensions.
func decodeEntry(p []byte) (*raft.Log, bool) {
	const fixed = header - 8
	if len(p) < fixed {
		return nil, false
	}
	dataLen := binary.BigEndian.Uint32(p[25:])
	if uint64(dataLen) > uint64(len(p)-fixed) {
		return nil, false
	}
	l := &raft.Log{
		Index: binary.BigEndian.Uint64(p),
		Term:  binary.BigEndian.Uint64(p[8:]),
		Type:  raft.LogType(p[16]),
	}
	if at := int64(binary.BigEndian.Uint64(p[17:])); at != 0 {
		l.AppendedAt = time.Unix(0, at)
	}
	rest := p[fixed:]
	l.Data = append([]byte(nil), rest[:dataLen]...)
	if ext := rest[dataLen:]; len(ext) > 0 {
		l.Extensions = append([]byte(nil), ext...)
	}
	return l, true
}

// readLegacy returns the contents of earlier versions' journal files in
// dir, and a function that removes them once their entries are stored.
func readLegacy(dir string) ([][]byte, func() error, error) {
	var data [][]byte
	var paths []string
	for i := range 2 {
		p := filepath.Join(dir, fmt.Sprintf("pending-%d.journal", i))
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("raft log journal: %w", err)
		}
		data, paths = append(data, b), append(paths, p)
	}
	return data, func() error {
		for _, p := range paths {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("raft log journal: %w", err)
			}
		}
		return nil
	}, nil
}

func (j *journal) close() error {
	var errs []error
	for _, jf := range j.files {
		if jf.f != nil {
			errs = append(errs, jf.f.Close())
		}
	}
	return errors.Join(errs...)
}
