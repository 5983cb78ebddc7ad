package transcode

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Extra codecs (issue #6). Every video gets the H.264 ladder, which every
// player decodes. Config.ExtraCodecs adds renditions in AV1 (SVT-AV1) or
// HEVC (x265) beside it, encoded in the same ffmpeg run from the same
// scaled frames, on the same keyframe grid and cut into the same segments.
// Each codec gets an AdaptationSet of its own in the MPD and its own
// variants in the HLS master, with CODECS read back from the init segments,
// so a player keeps only what MediaSource.isTypeSupported accepts.
//
// Players do not switch codec families while adapting: hls.js (since 1.5)
// starts on one codec set and keeps its automatic switching within it
// (its 1.5.0 release notes: "auto-switching between codec families is not
// supported"), dash.js and Shaka adapt within one AdaptationSet. That is
// why an extra codec covers every rung by default: a player that starts on
// AV1 must find the whole ladder in AV1, or it is stuck on the few rungs
// that have it (hls.js issue #5708, a PeerTube video with H.264 480p and
// AV1 1080p that never adapted). Seen here in headless Chromium 156 with
// hls.js 1.7.4 (codecs_browser_test.go): hls.js keeps every level, starts
// on AV1 although H.264 is listed first (it prefers the more efficient
// codec set), adapts within AV1, and still plays when the page forces a
// level of the other family. A quality menu that lists hls.levels as they
// come shows each height once per codec.

// Codec names accepted in Config.ExtraCodecs.
const (
	CodecAV1  = "av1"
	CodecHEVC = "hevc"
	// codecH264 is the base ladder's codec, in Rendition.Codec.
	codecH264 = "h264"
)

// CodecSettings configures one extra codec.
type CodecSettings struct {
	// Preset is the encoder's speed preset: SVT-AV1's 0 (slowest) to 13
	// as a decimal string, or an x265 preset name.
	Preset string
	// CRF is the constant rate factor: 1..63 for SVT-AV1, 0..51 for x265.
	CRF int
	// KbpsPercent caps each rung at this share of the rung's H.264
	// VideoKbps (with a VBV buffer of twice that, as for H.264): the newer
	// codecs reach H.264's quality with fewer bits, so the same cap would
	// waste the point of having them.
	KbpsPercent int
	// Heights lists the rungs (by Rung.Height) that get this codec; empty
	// means every rung, the default and the sane choice (see above). A
	// source smaller than every rung gets its own-size rung in the extra
	// codec only when Heights is empty.
	Heights []int
}

// DefaultAV1 is SVT-AV1 preset 10 at CRF 38, capped at 75% of the H.264
// maxrate. Measured here (SVT-AV1 1.4.1 in Debian's ffmpeg 5.1, 2 cores,
// 10 s of grainy testsrc2 at 30 fps, CPU seconds of the whole ffmpeg run
// including the decode, against x264 veryfast of the same frames):
//
//	          x264 veryfast  SVT p8  SVT p10  SVT p12
//	1080p          38.6       94.5     39.8     23.6
//	480p            7.4       34.5     13.8      5.6
//
// and for quality, 10 s of lightly grained 480p (SSIM against the source):
// x264 veryfast CRF 23 gave 1122 kbit/s at SSIM 0.9699; SVT-AV1 preset 10
// at CRF 38 the same SSIM (0.9696) at 835 kbit/s, 26% fewer bits; preset
// 12 at CRF 35 gave 1449 kbit/s at 0.9657, worse than x264 on both counts;
// preset 8 at CRF 35 1059 kbit/s at 0.9757 for 2.3 times preset 10's CPU.
// So preset 12 is pointless beside x264, preset 8 would triple a ladder's
// encode time, and preset 10 at CRF 38 matches H.264's quality with a
// quarter fewer bits. The cap is 75% of H.264's to match: a tighter one
// would bind on hard content and cost quality below the H.264 rung's.
// In a whole ladder (five rungs sharing one decode, TestAV1Cost) AV1 at
// every rung made the run 2.5 times the CPU time: see Config.ExtraCodecs.
//
// SVT-AV1 1.4 holds the cap loosely (capped CRF): on the grainy 60 s
// source at CRF 35 its 1080p rung averaged 3.7 Mbit/s against a 3 Mbit/s
// cap. The master's BANDWIDTH is measured from the segments, so it is
// right either way.
func DefaultAV1() CodecSettings {
	return CodecSettings{Preset: "10", CRF: 38, KbpsPercent: 75}
}

// DefaultHEVC is x265 veryfast at CRF 28, capped at 70% of the H.264
// maxrate: ffmpeg's H.265 encoding guide has x265 CRF 28 look like x264
// CRF 23. Unlike AV1's, these settings were not measured here.
// Chromium does not decode HEVC through MSE; Safari does.
func DefaultHEVC() CodecSettings {
	return CodecSettings{Preset: "veryfast", CRF: 28, KbpsPercent: 70}
}

// codecSettings returns the settings of an extra codec.
func (c Config) codecSettings(codec string) CodecSettings {
	if codec == CodecHEVC {
		return c.HEVC
	}
	return c.AV1
}

// validateExtraCodecs is Validate's part for the extra codecs.
func (c Config) validateExtraCodecs() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	seen := map[string]bool{}
	for _, codec := range c.ExtraCodecs {
		if codec != CodecAV1 && codec != CodecHEVC {
			bad("ExtraCodecs: %q is not %q or %q", codec, CodecAV1, CodecHEVC)
			continue
		}
		if seen[codec] {
			bad("ExtraCodecs: %q appears twice", codec)
		}
		seen[codec] = true
		s := c.codecSettings(codec)
		if codec == CodecAV1 {
			if p, err := strconv.Atoi(s.Preset); err != nil || p < 0 || p > 13 {
				bad("AV1.Preset %q is not an SVT-AV1 preset (0..13)", s.Preset)
			}
			if s.CRF < 1 || s.CRF > 63 {
				bad("AV1.CRF must be in 1..63")
			}
		} else {
			if !slices.Contains(x264Presets, s.Preset) { // x265 has the same names
				bad("HEVC.Preset %q is not an x265 preset", s.Preset)
			}
			if s.CRF < 0 || s.CRF > 51 {
				bad("HEVC.CRF must be in 0..51")
			}
		}
		if s.KbpsPercent < 10 || s.KbpsPercent > 200 {
			bad("%s: KbpsPercent must be in 10..200", codec)
		}
		for _, h := range s.Heights {
			if !slices.ContainsFunc(c.Rungs, func(r Rung) bool { return r.Height == h }) {
				bad("%s: height %d is not a rung's", codec, h)
			}
		}
	}
	return errs
}

// extraCodec is one extra codec as a plan carries it.
type extraCodec struct {
	name string
	CodecSettings
}

func planExtraCodecs(cfg Config) []extraCodec {
	var out []extraCodec
	for _, name := range cfg.ExtraCodecs {
		out = append(out, extraCodec{name: name, CodecSettings: cfg.codecSettings(name)})
	}
	return out
}

// videoOut is one encoded video stream of a run: a rung in a codec.
type videoOut struct {
	codec string // codecH264, CodecAV1, CodecHEVC
	rung  int    // index into encodePlan.rungs
}

// videoOutputs lists the run's video streams in ffmpeg's output order:
// the H.264 rungs (stream i is rung i, as before extra codecs), then each
// extra codec's rungs, largest first. The audio stream is mapped between
// the two groups so that its representation id stays len(rungs).
func (ep *encodePlan) videoOutputs() []videoOut {
	var outs []videoOut
	for i := range ep.rungs {
		outs = append(outs, videoOut{codec: codecH264, rung: i})
	}
	outs = append(outs, ep.extraOutputs()...)
	return outs
}

// extraOutputs is the extra codecs' part of videoOutputs.
func (ep *encodePlan) extraOutputs() []videoOut {
	var outs []videoOut
	for _, c := range ep.codecs {
		for i, r := range ep.rungs {
			if len(c.Heights) == 0 || slices.Contains(c.Heights, r.Height) {
				outs = append(outs, videoOut{codec: c.name, rung: i})
			}
		}
	}
	return outs
}

// rungLabel is the filter graph label of rung i's scaled frame: "v<i>",
// which the H.264 encoder takes, unless extra codecs share the frame, in
// which case codecSplits splits "r<i>" into "v<i>" and one "x<j>" per
// extra output j.
func (ep *encodePlan) rungLabel(i int) string {
	for _, o := range ep.extraOutputs() {
		if o.rung == i {
			return fmt.Sprintf("r%d", i)
		}
	}
	return fmt.Sprintf("v%d", i)
}

// codecSplits returns the filter graph nodes that hand each scaled rung
// to its extra encoders ("" without extra codecs). Splitting after the
// scale means the extra codecs cost no decode and no scaling of their own.
func (ep *encodePlan) codecSplits() string {
	extra := ep.extraOutputs()
	var b strings.Builder
	for i := range ep.rungs {
		outs := []string{fmt.Sprintf("v%d", i)}
		for j, o := range extra {
			if o.rung == i {
				outs = append(outs, fmt.Sprintf("x%d", j))
			}
		}
		if len(outs) == 1 {
			continue
		}
		fmt.Fprintf(&b, "[r%d]split=%d", i, len(outs))
		for _, o := range outs {
			fmt.Fprintf(&b, "[%s]", o)
		}
		b.WriteString(";")
	}
	return b.String()
}

// h264Adaptation is the H.264 AdaptationSet of -adaptation_sets. With
// extra codecs "streams=v" would take their streams too, so the H.264
// streams (0..len(rungs)-1) are listed.
func (ep *encodePlan) h264Adaptation() string {
	if len(ep.extraOutputs()) == 0 {
		return "id=0,streams=v"
	}
	ids := make([]string, len(ep.rungs))
	for i := range ep.rungs {
		ids[i] = strconv.Itoa(i)
	}
	return "id=0,streams=" + strings.Join(ids, ",")
}

// appendExtraMaps maps the extra codecs' streams after the audio and adds
// one AdaptationSet per codec: players adapt within a set, and a set must
// hold one codec (DASH-IF IOP; dash.js and Shaka filter whole sets by
// MediaSource.isTypeSupported).
func (ep *encodePlan) appendExtraMaps(args, adaptation []string) ([]string, []string) {
	extra := ep.extraOutputs()
	if len(extra) == 0 {
		return args, adaptation
	}
	first := len(ep.rungs) // output index of the first extra stream
	if ep.audio {
		first++
	}
	byCodec := map[string][]string{}
	for j, o := range extra {
		args = append(args, "-map", fmt.Sprintf("[x%d]", j))
		byCodec[o.codec] = append(byCodec[o.codec], strconv.Itoa(first+j))
	}
	for _, c := range ep.codecs {
		if ids := byCodec[c.name]; len(ids) > 0 {
			adaptation = append(adaptation, fmt.Sprintf("id=%d,streams=%s", len(adaptation), strings.Join(ids, ",")))
		}
	}
	return args, adaptation
}

// extraEncoderArgs returns the per-stream encoder options of the extra
// codecs. They must follow the H.264 options: those are given without a
// stream index (-c:v libx264, -preset, -crf, -profile:v) and so apply to
// every video stream, and ffmpeg lets the later, per-stream option win.
//
// Keyframes: -g (given once for all streams) sets SVT-AV1's intra period
// and x265's keyint; scene-cut keyframes are turned off (SVT-AV1 scd=0,
// x265 scenecut=0) and x265's open GOP too, so that every segment of every
// codec starts with a closed keyframe at the same time: a player can change
// rung at any segment, and the segments of all codecs line up.
func (ep *encodePlan) extraEncoderArgs() []string {
	var args []string
	base := len(ep.rungs) // v:N counts video streams only
	gop := strconv.Itoa(ep.gop)
	for j, o := range ep.extraOutputs() {
		s := strconv.Itoa(base + j)
		c := ep.codec(o.codec)
		kbps := ep.rungs[o.rung].VideoKbps * c.KbpsPercent / 100
		switch o.codec {
		case CodecAV1:
			args = append(args,
				"-c:v:"+s, "libsvtav1", "-preset:v:"+s, c.Preset, "-crf:v:"+s, strconv.Itoa(c.CRF),
				"-profile:v:"+s, "0", // main: 8/10-bit 4:2:0
				"-svtav1-params:v:"+s, "keyint="+gop+":scd=0",
			)
		case CodecHEVC:
			args = append(args,
				"-c:v:"+s, "libx265", "-preset:v:"+s, c.Preset, "-crf:v:"+s, strconv.Itoa(c.CRF),
				"-profile:v:"+s, "main",
				// hvc1 (parameter sets only in the sample entry) is what
				// Apple's HLS authoring spec asks for; Safari refuses hev1
				// in fMP4 HLS.
				"-tag:v:"+s, "hvc1",
				"-x265-params:v:"+s, "keyint="+gop+":min-keyint="+gop+":scenecut=0:open-gop=0:log-level=error",
			)
		}
		args = append(args,
			"-maxrate:v:"+s, fmt.Sprintf("%dk", kbps),
			"-bufsize:v:"+s, fmt.Sprintf("%dk", 2*kbps),
		)
	}
	return args
}

// timeoutScale stretches the ffmpeg time limit (set for the H.264 ladder)
// by the extra codecs' share of the work, costed by pixels like stageShare:
// AV1 on every rung doubles the limit (it made the run 2.5 times the CPU
// and 2.1 times the wall time of the H.264 ladder, TestAV1Cost).
func (ep *encodePlan) timeoutScale() float64 {
	var h264, all float64
	for _, o := range ep.videoOutputs() {
		px := float64(ep.rungs[o.rung].Width * ep.rungs[o.rung].Height)
		all += px
		if o.codec == codecH264 {
			h264 += px
		}
	}
	if h264 == 0 {
		return 1
	}
	return all / h264
}

func (ep *encodePlan) codec(name string) extraCodec {
	for _, c := range ep.codecs {
		if c.name == name {
			return c
		}
	}
	return extraCodec{name: name}
}

// codecSignature is the extra codecs' part of settingsSignature.
func (ep *encodePlan) codecSignature() string {
	var b strings.Builder
	for _, o := range ep.extraOutputs() {
		c := ep.codec(o.codec)
		fmt.Fprintf(&b, "%s:%s:%d:%d:%d|", o.codec, c.Preset, c.CRF, c.KbpsPercent, ep.rungs[o.rung].Height)
	}
	return b.String()
}

// codecFamily maps an RFC 6381 codec string ("avc1.64001f", "av01.0.04M.08",
// "hvc1.1.6.L93.B0") to a codec name: codecH264, CodecAV1, CodecHEVC, or
// the string's first part when it is none of those.
func codecFamily(codecs string) string {
	fourcc, _, _ := strings.Cut(codecs, ".")
	switch fourcc {
	case "avc1", "avc3":
		return codecH264
	case "av01":
		return CodecAV1
	case "hvc1", "hev1":
		return CodecHEVC
	}
	return fourcc
}

// codecOrder ranks codec families in the master: H.264 first, so that a
// player that ignores CODECS, or picks the first variant (Apple's native
// player starts with it), starts on what everything decodes.
func codecOrder(codec string) int {
	switch codec {
	case codecH264:
		return 0
	case CodecAV1:
		return 1
	case CodecHEVC:
		return 2
	}
	return 3
}

// sortRenditions orders renditions (and the parallel media list) by codec
// family, then largest first: one contiguous ladder per codec.
func sortRenditions(renditions []Rendition, video []*mediaInfo) error {
	if len(renditions) != len(video) {
		return errors.New("renditions and media playlists differ in number")
	}
	idx := make([]int, len(renditions))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ra, rb := renditions[a], renditions[b]
		return cmp.Or(cmp.Compare(codecOrder(ra.Codec), codecOrder(rb.Codec)), cmp.Compare(rb.Height*rb.Width, ra.Height*ra.Width))
	})
	r2 := make([]Rendition, len(idx))
	v2 := make([]*mediaInfo, len(idx))
	for i, j := range idx {
		r2[i], v2[i] = renditions[j], video[j]
	}
	copy(renditions, r2)
	copy(video, v2)
	return nil
}

// fixMPDCodecs replaces the bare codecs attributes ffmpeg 5.1's dash muxer
// writes for codecs it has no string builder for ("hvc1") with the full
// string from the Representation's init segment: dash.js and Shaka ask
// MediaSource.isTypeSupported with it, and Safari's HEVC decoder wants
// the profile and level. The MPD is rewritten only when something changed.
func fixMPDCodecs(outDir string) error {
	file := filepath.Join(outDir, manifestName)
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("dash manifest: %w", err)
	}
	tree, err := parseXMLTree(data)
	if err != nil {
		return fmt.Errorf("dash manifest: %w", err)
	}
	changed := false
	for _, rep := range tree.find("Representation", nil) {
		c := rep.attr("codecs")
		if c == "" || strings.Contains(c, ".") {
			continue
		}
		tpls := rep.find("SegmentTemplate", nil)
		if len(tpls) == 0 || tpls[0].attr("initialization") == "" {
			return fmt.Errorf("dash manifest: representation %q has no initialization segment", rep.attr("id"))
		}
		init := strings.ReplaceAll(tpls[0].attr("initialization"), "$RepresentationID$", rep.attr("id"))
		if !isPlainRelative(init) {
			return fmt.Errorf("dash manifest: initialization %q is not a relative file name", init)
		}
		ti, err := readInitSegment(filepath.Join(outDir, init))
		if err != nil {
			return fmt.Errorf("dash manifest: %w", err)
		}
		rep.setAttr("codecs", ti.Codec)
		changed = true
	}
	if !changed {
		return nil
	}
	return writeFileAtomic(file, tree.encode())
}
