package cache

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// An object file is a fixed header, the metadata as JSON and the body:
//
//	0   magic "STRATAC1"
//	8   metadata length (uint32, big-endian)
//	12  CRC-32C of the metadata
//	16  body length (uint64)
//	24  CRC-32C of the body
//	28  reserved, zero
//	32  metadata, then body
//
// Both checksums are checked before a byte is served, so a torn write (the
// tier does not fsync) or a flipped bit costs a refetch, never a corrupt
// segment in a viewer's player.
const (
	fileMagic  = "STRATAC1"
	headerSize = 32
	// maxMetaSize bounds the metadata a damaged header could claim.
	maxMetaSize = 1 << 20
)

// errCorrupt marks an object file that fails its checks.
var errCorrupt = errors.New("corrupt cache object")

// fileMeta is the metadata of an object file.
type fileMeta struct {
	Key      string      `json:"key"`
	VideoID  string      `json:"video_id"`
	Header   http.Header `json:"header"`
	StoredAt time.Time   `json:"stored_at"`
	Expires  time.Time   `json:"expires"`
}

// fileHeader is the decoded fixed header.
type fileHeader struct {
	metaLen uint32
	metaSum uint32
	bodyLen uint64
	bodySum uint32
}

func (h fileHeader) total() int64 { return headerSize + int64(h.metaLen) + int64(h.bodyLen) }

// encodeFile writes o in the file format to w.
func encodeFile(w io.Writer, o *Object) error {
	meta, err := json.Marshal(fileMeta{Key: o.Key, VideoID: o.VideoID, Header: o.Header, StoredAt: o.StoredAt, Expires: o.Expires})
	if err != nil {
		return fmt.Errorf("encode metadata: %w", err)
	}
	var hdr [headerSize]byte
	copy(hdr[:8], fileMagic)
	binary.BigEndian.PutUint32(hdr[8:], uint32(len(meta)))
	binary.BigEndian.PutUint32(hdr[12:], Checksum(meta))
	binary.BigEndian.PutUint64(hdr[16:], uint64(len(o.Body)))
	binary.BigEndian.PutUint32(hdr[24:], o.Sum)
	for _, part := range [][]byte{hdr[:], meta, o.Body} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

func decodeHeader(b []byte) (fileHeader, error) {
	if len(b) < headerSize || !bytes.Equal(b[:8], []byte(fileMagic)) {
		return fileHeader{}, fmt.Errorf("%w: bad header", errCorrupt)
	}
	h := fileHeader{
		metaLen: binary.BigEndian.Uint32(b[8:]),
		metaSum: binary.BigEndian.Uint32(b[12:]),
		bodyLen: binary.BigEndian.Uint64(b[16:]),
		bodySum: binary.BigEndian.Uint32(b[24:]),
	}
	if h.metaLen > maxMetaSize || h.bodyLen > 1<<40 {
		return fileHeader{}, fmt.Errorf("%w: implausible lengths", errCorrupt)
	}
	return h, nil
}

func decodeMeta(h fileHeader, meta []byte) (fileMeta, error) {
	var m fileMeta
	if Checksum(meta) != h.metaSum {
		return m, fmt.Errorf("%w: metadata checksum", errCorrupt)
	}
	if err := json.Unmarshal(meta, &m); err != nil {
		return m, fmt.Errorf("%w: metadata: %v", errCorrupt, err)
	}
	return m, nil
}

// readHead reads only the header and metadata of the file at path, for
// rebuilding the index without reading bodies.
func readHead(path string) (fileHeader, fileMeta, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileHeader{}, fileMeta{}, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileHeader{}, fileMeta{}, 0, err
	}
	var hb [headerSize]byte
	if _, err := io.ReadFull(f, hb[:]); err != nil {
		return fileHeader{}, fileMeta{}, 0, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	h, err := decodeHeader(hb[:])
	if err != nil {
		return h, fileMeta{}, 0, err
	}
	if st.Size() != h.total() {
		return h, fileMeta{}, 0, fmt.Errorf("%w: size %d, header says %d", errCorrupt, st.Size(), h.total())
	}
	meta := make([]byte, h.metaLen)
	if _, err := io.ReadFull(f, meta); err != nil {
		return h, fileMeta{}, 0, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	m, err := decodeMeta(h, meta)
	return h, m, st.Size(), err
}

// readObject reads and checks a whole object file.
func readObject(path, wantKey string) (*Object, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	h, err := decodeHeader(b)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != h.total() {
		return nil, fmt.Errorf("%w: size %d, header says %d", errCorrupt, len(b), h.total())
	}
	m, err := decodeMeta(h, b[headerSize:headerSize+h.metaLen])
	if err != nil {
		return nil, err
	}
	if m.Key != wantKey {
		return nil, fmt.Errorf("%w: holds %q, not %q", errCorrupt, m.Key, wantKey)
	}
	body := b[headerSize+int64(h.metaLen):]
	if Checksum(body) != h.bodySum {
		return nil, fmt.Errorf("%w: body checksum", errCorrupt)
	}
	if m.Header == nil {
		m.Header = http.Header{}
	}
	o := &Object{Key: m.Key, VideoID: m.VideoID, Header: m.Header, Body: body, Sum: h.bodySum,
		StoredAt: m.StoredAt, Expires: m.Expires}
	o.init()
	return o, nil
}
