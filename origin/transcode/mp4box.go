package transcode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// The RFC 6381 codec strings in the HLS master (CODECS="avc1.64001f,…")
// must describe what was actually encoded: x264 picks the level from the
// frame size, frame rate and VBV settings, so it is read back from the
// init segment's avcC (H.264) and esds (AAC) boxes rather than guessed.

// trackInfo is what an init segment says about its single track.
type trackInfo struct {
	Codec         string // e.g. "avc1.64001f" or "mp4a.40.2"
	Width, Height int    // from the visual sample entry; 0 for audio
}

const maxInitSegment = 1 << 20

// readInitSegment parses the CMAF init segment at path.
func readInitSegment(path string) (*trackInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxInitSegment+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInitSegment {
		return nil, fmt.Errorf("init segment %s is larger than %d bytes", path, maxInitSegment)
	}
	stsd := findBox(data, "moov", "trak", "mdia", "minf", "stbl", "stsd")
	if stsd == nil || len(stsd) < 8 {
		return nil, fmt.Errorf("init segment %s: no stsd box", path)
	}
	// stsd is a full box (4 bytes version/flags) with an entry count.
	entries := stsd[8:]
	typ, body, _, ok := nextBox(entries)
	if !ok {
		return nil, fmt.Errorf("init segment %s: empty stsd", path)
	}
	switch typ {
	case "avc1", "avc3":
		return parseAVCSampleEntry(typ, body)
	case "mp4a":
		return parseMP4ASampleEntry(body)
	case "av01":
		return parseAV1SampleEntry(body)
	case "hvc1", "hev1":
		return parseHEVCSampleEntry(typ, body)
	}
	return nil, fmt.Errorf("init segment %s: unexpected sample entry %q", path, typ)
}

// visualSampleEntryLen is the fixed part of a VisualSampleEntry before its
// child boxes (ISO/IEC 14496-12 §12.1.3).
const visualSampleEntryLen = 78

func parseAVCSampleEntry(typ string, body []byte) (*trackInfo, error) {
	if len(body) < visualSampleEntryLen {
		return nil, errors.New("avc sample entry too short")
	}
	ti := &trackInfo{
		Width:  int(binary.BigEndian.Uint16(body[24:26])),
		Height: int(binary.BigEndian.Uint16(body[26:28])),
	}
	avcC := findBox(body[visualSampleEntryLen:], "avcC")
	if len(avcC) < 4 {
		return nil, errors.New("avc sample entry without avcC")
	}
	// configurationVersion, AVCProfileIndication, profile_compatibility,
	// AVCLevelIndication: exactly the three bytes RFC 6381 prints.
	ti.Codec = fmt.Sprintf("%s.%02x%02x%02x", typ, avcC[1], avcC[2], avcC[3])
	return ti, nil
}

// audioSampleEntryLen is the fixed part of an AudioSampleEntry (v0).
const audioSampleEntryLen = 28

func parseMP4ASampleEntry(body []byte) (*trackInfo, error) {
	if len(body) < audioSampleEntryLen {
		return nil, errors.New("mp4a sample entry too short")
	}
	esds := findBox(body[audioSampleEntryLen:], "esds")
	if len(esds) < 4 {
		return nil, errors.New("mp4a sample entry without esds")
	}
	oti, aot, err := parseESDS(esds[4:])
	if err != nil {
		return nil, err
	}
	if aot == 0 {
		return &trackInfo{Codec: fmt.Sprintf("mp4a.%02x", oti)}, nil
	}
	return &trackInfo{Codec: fmt.Sprintf("mp4a.%02x.%d", oti, aot)}, nil
}

// parseESDS walks the MPEG-4 descriptors of an esds box to the object type
// indication and the AAC audio object type (ISO/IEC 14496-1 §7.2.6).
func parseESDS(b []byte) (oti byte, aot int, err error) {
	tag, d, _, ok := nextDescriptor(b)
	if !ok || tag != 0x03 || len(d) < 3 {
		return 0, 0, errors.New("esds: no ES_Descriptor")
	}
	flags := d[2]
	d = d[3:]
	if flags&0x80 != 0 { // streamDependenceFlag
		d = skip(d, 2)
	}
	if flags&0x40 != 0 { // URL_Flag
		if len(d) == 0 {
			return 0, 0, errors.New("esds: truncated URL")
		}
		d = skip(d, 1+int(d[0]))
	}
	if flags&0x20 != 0 { // OCRstreamFlag
		d = skip(d, 2)
	}
	tag, dc, _, ok := nextDescriptor(d)
	if !ok || tag != 0x04 || len(dc) < 13 {
		return 0, 0, errors.New("esds: no DecoderConfigDescriptor")
	}
	oti = dc[0]
	tag, dsi, _, ok := nextDescriptor(dc[13:])
	if !ok || tag != 0x05 || len(dsi) < 1 {
		return oti, 0, nil
	}
	aot = int(dsi[0] >> 3)
	if aot == 31 && len(dsi) >= 2 {
		aot = 32 + (int(dsi[0]&0x07)<<3 | int(dsi[1]>>5))
	}
	return oti, aot, nil
}

func skip(b []byte, n int) []byte {
	if n > len(b) {
		return nil
	}
	return b[n:]
}

// nextDescriptor reads one tag + expandable-length descriptor.
func nextDescriptor(b []byte) (tag byte, body, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	tag = b[0]
	size, i := 0, 1
	for ; i < len(b) && i <= 4; i++ {
		size = size<<7 | int(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			i++
			break
		}
	}
	if i+size > len(b) {
		return 0, nil, nil, false
	}
	return tag, b[i : i+size], b[i+size:], true
}

// nextBox splits the first ISO BMFF box off b.
func nextBox(b []byte) (typ string, body, rest []byte, ok bool) {
	if len(b) < 8 {
		return "", nil, nil, false
	}
	size := uint64(binary.BigEndian.Uint32(b[0:4]))
	typ = string(b[4:8])
	hdr := uint64(8)
	switch size {
	case 0: // to the end
		size = uint64(len(b))
	case 1: // 64-bit size
		if len(b) < 16 {
			return "", nil, nil, false
		}
		size, hdr = binary.BigEndian.Uint64(b[8:16]), 16
	}
	if size < hdr || size > uint64(len(b)) {
		return "", nil, nil, false
	}
	return typ, b[hdr:size], b[size:], true
}

// findBox descends through the named boxes and returns the last one's body.
func findBox(b []byte, path ...string) []byte {
	for _, want := range path {
		found := false
		for len(b) > 0 {
			typ, body, rest, ok := nextBox(b)
			if !ok {
				return nil
			}
			if typ == want {
				b, found = body, true
				break
			}
			b = rest
		}
		if !found {
			return nil
		}
	}
	return b
}
