package transcode

import "fmt"

// HDR sources (phones record HLG or HDR10 by default now) are delivered as
// 8-bit BT.709 SDR: the ladder is H.264 High, which every player decodes,
// and a player shown PQ or HLG code values as if they were BT.709 paints
// a grey, washed-out picture. The conversion is zimg's (zscale) plus
// ffmpeg's tonemap:
//
//	zscale to linear light (1.0 = 100 nits) → planar float RGB →
//	BT.2020 to BT.709 primaries → tonemap → BT.709 transfer and matrix,
//	limited range → yuv420p
//
// The curve is Möbius rather than Hable: Hable compresses the whole range
// towards its shoulder, so diffuse white (SDR-like content inside an HDR
// file) comes out about 30% darker (average luma 68 against 96 for the
// same colour bars sent as HLG and as SDR); Möbius keeps in-range tones
// nearly linear and only bends the highlights above them (93 against 96).
// desat=0 keeps highlights coloured instead of fading them to grey.
//
// 10-bit SDR is not HDR: it only loses its two low bits in format=yuv420p.

// HDR kinds in Probe.HDR.
const (
	HDRPQ  = "pq"  // SMPTE ST 2084, HDR10 and HDR10+
	HDRHLG = "hlg" // ARIB STD-B67, hybrid log-gamma
)

// hdrKind classifies a stream by its transfer characteristic, which is
// what decides how code values become light. BT.2020 primaries alone do
// not make HDR (10-bit BT.2020 SDR exists); PQ or HLG with other primaries
// is still HDR.
func hdrKind(transfer string) string {
	switch transfer {
	case "smpte2084":
		return HDRPQ
	case "arib-std-b67":
		return HDRHLG
	}
	return ""
}

// pixelFilters is the end of the first filter node: what makes every
// decoded frame 8-bit 4:2:0, tone-mapped to BT.709 when the source is
// HDR. Input colour properties are given to zscale from the probe rather
// than read from each frame, because zscale refuses frames whose
// properties are unspecified ("no path between colorspaces"), which
// streams with colour only in the container (MKV Colour element) give.
// Every value placed in the graph is one of a fixed set, never text from
// the file.
func pixelFilters(p *Probe) string {
	if p.HDR == "" {
		return "format=yuv420p"
	}
	tin := "smpte2084"
	if p.HDR == HDRHLG {
		tin = "arib-std-b67"
	}
	pin := "bt2020"
	if p.ColorPrimaries == "bt709" {
		pin = "bt709"
	}
	mat := "bt2020nc"
	switch p.ColorSpace {
	case "bt2020c":
		mat = "bt2020c"
	case "bt709":
		mat = "bt709"
	}
	rin := "tv"
	if p.ColorRange == "pc" {
		rin = "pc"
	}
	return fmt.Sprintf("zscale=tin=%s:pin=%s:min=%s:rin=%s:t=linear:npl=100,format=gbrpf32le,"+
		"zscale=p=bt709,tonemap=mobius:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p", tin, pin, mat, rin)
}

// colourArgs tags the encoded video's colour (H.264 VUI) when it differs
// from the source's: after tone mapping it is BT.709, and without the tag
// ffmpeg would copy the source's BT.2020/PQ tags onto SDR pixels. SDR
// sources keep their own tags, which ffmpeg passes through.
func colourArgs(p *Probe) []string {
	if p.HDR == "" {
		return nil
	}
	return []string{"-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv"}
}
