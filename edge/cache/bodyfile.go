package cache

import (
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// OpenBody opens the disk tier's file of o and checks that the body it
// holds is o's, byte for byte (its CRC-32C over the bytes read now).
// It returns the open file and the body's offset in it, for a sender
// that hands the kernel the file (sendfile) instead of copying o.Body
// into each socket. The file's content never changes once stored
// (objects are written whole and renamed into place), so what was
// checked stays true for as long as the file is open, even after the
// tier removes or replaces the path. It fails when the tier is off or
// does not hold o as it is in memory.
func (c *Cache) OpenBody(o *Object) (f *os.File, off int64, err error) {
	path := c.DiskPath(o.Key)
	if path == "" {
		return nil, 0, fmt.Errorf("%s: not on disk", o.Key)
	}
	f, err = os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", o.Key, err)
	}
	var hb [headerSize]byte
	if _, err := io.ReadFull(f, hb[:]); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("read %s: %w", o.Key, err)
	}
	h, err := decodeHeader(hb[:])
	if err != nil || h.bodyLen != uint64(len(o.Body)) || h.bodySum != o.Sum {
		f.Close()
		return nil, 0, fmt.Errorf("%s: the file is not the object in memory (%v)", o.Key, err)
	}
	off = headerSize + int64(h.metaLen)
	sum := crc32.New(castagnoli)
	if _, err := io.Copy(sum, io.NewSectionReader(f, off, int64(h.bodyLen))); err != nil || sum.Sum32() != o.Sum {
		f.Close()
		return nil, 0, fmt.Errorf("%s: body does not match its checksum (%v)", o.Key, err)
	}
	return f, off, nil
}
