package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
)

// journal keeps the leader's written-behind entries in the kernel's page
// cache until the backend has them, so a killed process loses none of
// them: they are written (not fsynced) to one of two files before
// StoreLogs returns. Each flush takes the entries of the file in use and
// switches appends to the other file, which is emptied once the backend
// has committed them. At start-up, entries found in either file past the
// backend's last index are written to the backend.
//
// A record is [length u32][crc32c u32][payload], the payload holding one
// entry. Reading stops at the first record that is short or fails its
// checksum: after a machine failure the files may end in a torn write.
type journal struct {
	files  [2]*os.File
	active int
	buf    []byte
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxRecord bounds a record's length when reading, so a garbage length
// never makes the reader allocate much.
const maxRecord = 256 << 20

func openJournal(dir string) (*journal, error) {
	j := &journal{}
	for i := range j.files {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("pending-%d.journal", i)), os.O_CREATE|os.O_RDWR, 0o640)
		if err != nil {
			j.close()
			return nil, fmt.Errorf("raft log journal: %w", err)
		}
		j.files[i] = f
	}
	return j, nil
}

// append writes logs to the file in use with one write.
func (j *journal) append(logs []*raft.Log) error {
	b := j.buf[:0]
	for _, l := range logs {
		start := len(b)
		b = append(b, make([]byte, 8)...)
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
		payload := b[start+8:]
		binary.BigEndian.PutUint32(b[start:], uint32(len(payload)))
		binary.BigEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	}
	j.buf = b
	if _, err := j.files[j.active].Write(b); err != nil {
		return fmt.Errorf("raft log journal: %w", err)
	}
	return nil
}

// swap makes the other file the one appended to and returns the index of
// the one that was (emptied with empty once its entries are stored).
func (j *journal) swap() int {
	old := j.active
	j.active = 1 - old
	return old
}

// empty truncates file i. sync makes the truncation durable: needed before
// the backend's tail is deleted, or a machine failure could bring back
// entries the log no longer has.
func (j *journal) empty(i int, sync bool) error {
	f := j.files[i]
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("raft log journal: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("raft log journal: %w", err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("raft log journal: %w", err)
		}
	}
	return nil
}

// emptyAll truncates both files.
func (j *journal) emptyAll(sync bool) error {
	return errors.Join(j.empty(0, sync), j.empty(1, sync))
}

// recover returns the entries of both files that follow last, in order:
// the contiguous run starting at last+1.
func (j *journal) recover(last uint64) ([]*raft.Log, error) {
	byIndex := map[uint64]*raft.Log{}
	for _, f := range j.files {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("raft log journal: %w", err)
		}
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("raft log journal: %w", err)
		}
		for _, l := range decodeRecords(data) {
			if l.Index > last {
				byIndex[l.Index] = l
			}
		}
	}
	var out []*raft.Log
	for i := last + 1; ; i++ {
		l, ok := byIndex[i]
		if !ok {
			return out, nil
		}
		out = append(out, l)
	}
}

// decodeRecords reads records until the first bad one.
func decodeRecords(data []byte) []*raft.Log {
	var out []*raft.Log
	for len(data) >= 8 {
		n := binary.BigEndian.Uint32(data)
		sum := binary.BigEndian.Uint32(data[4:])
		if n < 29 || n > maxRecord || uint64(len(data)-8) < uint64(n) {
			break
		}
		payload := data[8 : 8+n]
		if crc32.Checksum(payload, castagnoli) != sum {
			break
		}
		dataLen := binary.BigEndian.Uint32(payload[25:])
		if uint64(dataLen) > uint64(n-29) {
			break
		}
		l := &raft.Log{
			Index: binary.BigEndian.Uint64(payload),
			Term:  binary.BigEndian.Uint64(payload[8:]),
			Type:  raft.LogType(payload[16]),
		}
		if at := int64(binary.BigEndian.Uint64(payload[17:])); at != 0 {
			l.AppendedAt = time.Unix(0, at)
		}
		rest := payload[29:]
		l.Data = append([]byte(nil), rest[:dataLen]...)
		if ext := rest[dataLen:]; len(ext) > 0 {
			l.Extensions = append([]byte(nil), ext...)
		}
		out = append(out, l)
		data = data[8+n:]
	}
	return out
}

func (j *journal) close() error {
	var errs []error
	for _, f := range j.files {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}
