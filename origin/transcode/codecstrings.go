package transcode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// Codec strings of the extra codecs, read from their init segments like
// avc1's: the level comes from the encoder's own choice (frame size, rate,
// bit rate), and a player that is told a wrong one may refuse the variant
// or fail on the first segment.

// visualEntry reads a VisualSampleEntry's size and the body of its child
// box named config.
func visualEntry(body []byte, config string) (*trackInfo, []byte, error) {
	if len(body) < visualSampleEntryLen {
		return nil, nil, errors.New("visual sample entry too short")
	}
	ti := &trackInfo{
		Width:  int(binary.BigEndian.Uint16(body[24:26])),
		Height: int(binary.BigEndian.Uint16(body[26:28])),
	}
	return ti, findBox(body[visualSampleEntryLen:], config), nil
}

// parseAV1SampleEntry builds "av01.P.LLT.DD" from the av1C box (AV1 Codec
// ISO Media File Format Binding §2.3 and the codecs parameter string
// annex): seq_profile, seq_level_idx_0, seq_tier_0 and the bit depth. The
// optional colour fields are left off; they default to BT.709 4:2:0 video
// range, what the ladder is.
func parseAV1SampleEntry(body []byte) (*trackInfo, error) {
	ti, av1C, err := visualEntry(body, "av1C")
	if err != nil {
		return nil, fmt.Errorf("av01: %w", err)
	}
	if len(av1C) < 4 || av1C[0] != 0x81 { // marker 1, version 1
		return nil, errors.New("av01 sample entry without a valid av1C")
	}
	profile := av1C[1] >> 5
	level := av1C[1] & 0x1f
	tier := "M"
	if av1C[2]&0x80 != 0 {
		tier = "H"
	}
	depth := 8
	if av1C[2]&0x40 != 0 { // high_bitdepth
		depth = 10
		if av1C[2]&0x20 != 0 { // twelve_bit
			depth = 12
		}
	}
	ti.Codec = fmt.Sprintf("av01.%d.%02d%s.%02d", profile, level, tier, depth)
	return ti, nil
}

// parseHEVCSampleEntry builds the HEVC string from the hvcC box (ISO/IEC
// 14496-15 annex E.3): hvc1.[space]profile.compat.TierLevel.constraints,
// with the compatibility flags bit-reversed in hex and trailing zero
// constraint bytes left off, e.g. "hvc1.1.6.L93.B0".
func parseHEVCSampleEntry(typ string, body []byte) (*trackInfo, error) {
	ti, hvcC, err := visualEntry(body, "hvcC")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	if len(hvcC) < 13 {
		return nil, fmt.Errorf("%s sample entry without a valid hvcC", typ)
	}
	space := []string{"", "A", "B", "C"}[hvcC[1]>>6]
	tier := "L"
	if hvcC[1]&0x20 != 0 {
		tier = "H"
	}
	profile := hvcC[1] & 0x1f
	compat := bits.Reverse32(binary.BigEndian.Uint32(hvcC[2:6]))
	cons := hvcC[6:12]
	n := len(cons)
	for n > 0 && cons[n-1] == 0 {
		n--
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s.%s%d.%X.%s%d", typ, space, profile, compat, tier, hvcC[12])
	for _, c := range cons[:n] {
		fmt.Fprintf(&b, ".%X", c)
	}
	ti.Codec = b.String()
	return ti, nil
}
