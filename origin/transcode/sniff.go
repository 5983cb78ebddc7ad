package transcode

import (
	"bytes"
	"errors"
	"io"
	"os"
	"unicode/utf8"
)

// The first bytes of an upload are looked at only to word refusals well
// ("it is a text file" rather than "not recognised") and to tell a damaged
// video from a non-video when ffprobe fails. Acceptance is ffprobe's job.

type fileKind int

const (
	kindUnknown   fileKind = iota
	kindContainer          // starts like an accepted audio/video container
	kindImage              // starts like a still image
)

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:k], nil
}

// looksLikeText reports whether head is plausibly text: valid UTF-8 (a cut
// rune at the end is allowed), no NUL, and almost no control characters.
func looksLikeText(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	b := head
	// Allow a multi-byte rune cut off by the read size.
	for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	if !utf8.Valid(b) {
		return false
	}
	ctrl := 0
	for _, c := range b {
		switch {
		case c == 0:
			return false
		case c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f':
			ctrl++
		}
	}
	return ctrl*100 <= len(b)
}

// sniff classifies the magic number at the start of head.
func sniff(head []byte) fileKind {
	has := func(off int, magic string) bool {
		return len(head) >= off+len(magic) && string(head[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "\x89PNG"), has(0, "\xff\xd8\xff"), has(0, "GIF8"), has(0, "BM"),
		has(0, "RIFF") && has(8, "WEBP"), has(4, "ftypavif"), has(4, "ftypheic"), has(4, "ftypmif1"):
		return kindImage
	case has(4, "ftyp"), has(4, "moov"), has(4, "mdat"), has(4, "free"), has(4, "wide"), has(4, "skip"),
		has(0, "\x1a\x45\xdf\xa3"), // EBML: Matroska, WebM
		has(0, "RIFF"),             // AVI, WAV
		has(0, "OggS"), has(0, "fLaC"), has(0, "ID3"), has(0, "FLV"),
		has(0, "\x00\x00\x01\xba"),                               // MPEG-PS
		has(0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11"),               // ASF
		len(head) > 188 && head[0] == 0x47 && head[188] == 0x47,  // MPEG-TS
		len(head) > 1 && head[0] == 0xff && head[1]&0xe0 == 0xe0: // MPEG audio / ADTS sync
		return kindContainer
	}
	if bytes.HasPrefix(head, []byte("\x00\x00\x00")) && len(head) > 8 {
		// An ISO BMFF box with an unfamiliar type still looks like MP4.
		return kindContainer
	}
	return kindUnknown
}
