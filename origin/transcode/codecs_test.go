package transcode

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// av1TestConfig is testConfig with AV1 at SVT-AV1's fastest preset on a
// small two-rung ladder: the tests check structure, not quality.
func av1TestConfig(codecs ...string) Config {
	cfg := testConfig()
	cfg.Rungs = []Rung{{Name: "360p", Height: 360, VideoKbps: 800}, {Name: "240p", Height: 240, VideoKbps: 400}}
	cfg.ExtraCodecs = codecs
	cfg.AV1.Preset = "12"
	cfg.HEVC.Preset = "ultrafast"
	return cfg
}

var (
	av1CodecRE  = regexp.MustCompile(`^av01\.0\.\d\d[MH]\.(08|10)$`)
	hevcCodecRE = regexp.MustCompile(`^hvc1\.1\.6\.L\d+(\.[0-9A-F]{1,2})*$`)
)

func TestExtraCodecsConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"none", func(*Config) {}, true},
		{"av1 and hevc", func(c *Config) { c.ExtraCodecs = []string{"av1", "hevc"} }, true},
		{"unknown", func(c *Config) { c.ExtraCodecs = []string{"vp9"} }, false},
		{"twice", func(c *Config) { c.ExtraCodecs = []string{"av1", "av1"} }, false},
		{"av1 preset", func(c *Config) { c.ExtraCodecs = []string{"av1"}; c.AV1.Preset = "veryfast" }, false},
		{"av1 crf", func(c *Config) { c.ExtraCodecs = []string{"av1"}; c.AV1.CRF = 0 }, false},
		{"hevc preset", func(c *Config) { c.ExtraCodecs = []string{"hevc"}; c.HEVC.Preset = "10" }, false},
		{"percent", func(c *Config) { c.ExtraCodecs = []string{"av1"}; c.AV1.KbpsPercent = 0 }, false},
		{"height not a rung", func(c *Config) { c.ExtraCodecs = []string{"av1"}; c.AV1.Heights = []int{1000} }, false},
		{"heights", func(c *Config) { c.ExtraCodecs = []string{"av1"}; c.AV1.Heights = []int{1080, 720} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			if err := cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// A one-pass transcode with AV1 makes both ladders on one keyframe grid,
// each signalled with the codec string of its init segment.
func TestTranscodeExtraCodecAV1(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	src := makeClip(t, dir, "src", clipOpts{w: 640, h: 360, seconds: 5, video: true, audio: true})
	cfg := av1TestConfig(CodecAV1)
	out := filepath.Join(dir, "out")
	res, err := Transcode(context.Background(), cfg, src, nil, out, nil)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	checkOutputs(t, out, res, 5)
	checkFamilies(t, out, res, map[string]int{codecH264: 2, CodecAV1: 2}, av1CodecRE)
}

// x265 renditions are made and signalled the same way (hvc1). Chromium
// cannot play them; ffmpeg decodes them.
func TestTranscodeExtraCodecHEVC(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	src := makeClip(t, dir, "src", clipOpts{w: 426, h: 240, seconds: 3, video: true, audio: true})
	cfg := av1TestConfig(CodecHEVC)
	out := filepath.Join(dir, "out")
	res, err := Transcode(context.Background(), cfg, src, nil, out, nil)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	checkOutputs(t, out, res, 3)
	checkFamilies(t, out, res, map[string]int{codecH264: 1, CodecHEVC: 1}, hevcCodecRE)
}

// A staged run puts each codec's rungs in the stage of their height and
// joins both stages' sets per codec.
func TestTranscodeStagedExtraCodecAV1(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	src := makeClip(t, dir, "src", clipOpts{w: 640, h: 360, seconds: 5, video: true, audio: true})
	cfg := av1TestConfig(CodecAV1)
	cfg.FirstPlayMaxHeight = 240
	cfg.FirstPlay = FirstPlayStaged
	out := filepath.Join(dir, "out")
	var first *Result
	res, err := TranscodeStaged(context.Background(), cfg, src, nil, out, nil, func(r *Result) error {
		first = r
		checkFamilies(t, out, r, map[string]int{codecH264: 1, CodecAV1: 1}, av1CodecRE)
		return nil
	})
	if err != nil {
		t.Fatalf("TranscodeStaged: %v", err)
	}
	if first == nil {
		t.Fatal("firstPlay was not called")
	}
	checkOutputs(t, out, res, 5)
	checkFamilies(t, out, res, map[string]int{codecH264: 2, CodecAV1: 2}, av1CodecRE)
}

// checkFamilies checks a transcode with extra codecs: the renditions of
// each family (want: count per codec), ordered by codec then size; the
// master's variants; one MPD AdaptationSet per codec whose codecs
// attributes are the init segments'; every video stream of both manifests
// decoding to the same number of frames; and segments and keyframes at
// the same times in every rendition.
func checkFamilies(t *testing.T, dir string, res *Result, want map[string]int, extraRE *regexp.Regexp) {
	t.Helper()
	got := map[string]int{}
	for i, r := range res.Renditions {
		got[r.Codec]++
		video, _, _ := strings.Cut(r.Codecs, ",")
		if codecFamily(video) != r.Codec {
			t.Errorf("rendition %s: codec %s but CODECS %q", r.Name, r.Codec, r.Codecs)
		}
		if r.Codec != codecH264 && !extraRE.MatchString(video) {
			t.Errorf("rendition %s: codec string %q does not match %s", r.Name, video, extraRE)
		}
		if i > 0 {
			p := res.Renditions[i-1]
			if codecOrder(p.Codec) > codecOrder(r.Codec) || (p.Codec == r.Codec && p.Height <= r.Height) {
				t.Errorf("renditions out of order: %s %s before %s %s", p.Codec, p.Name, r.Codec, r.Name)
			}
		}
		mi, err := readMedia(dir, r.Playlist)
		if err != nil {
			t.Fatalf("rendition %s: %v", r.Name, err)
		}
		if mi.track.Codec != video {
			t.Errorf("rendition %s: CODECS %q, init segment says %q", r.Name, video, mi.track.Codec)
		}
	}
	for c, n := range want {
		if got[c] != n {
			t.Errorf("%d %s renditions, want %d (%v)", got[c], c, n, got)
		}
	}

	master := readMaster(t, dir)
	if len(master.Variants) != len(res.Renditions) {
		t.Fatalf("master has %d variants, want %d:\n%s", len(master.Variants), len(res.Renditions), master)
	}
	for i, v := range master.Variants {
		r := res.Renditions[i]
		if v.URI != r.Playlist || v.Codecs != r.Codecs || v.Resolution != strconv.Itoa(r.Width)+"x"+strconv.Itoa(r.Height) ||
			v.FrameRate != r.FrameRate || v.Audio != audioGroup {
			t.Errorf("variant %d %+v does not match rendition %+v", i, v.VariantParams, r)
		}
	}

	// One video AdaptationSet per codec, codecs as in the init segments.
	tree, err := parseXMLTree(mustRead(t, filepath.Join(dir, manifestName)))
	if err != nil {
		t.Fatal(err)
	}
	sets := tree.find("AdaptationSet", isVideoSet)
	if len(sets) != len(want) {
		t.Errorf("MPD has %d video adaptation sets, want %d", len(sets), len(want))
	}
	for _, set := range sets {
		fam := setFamily(set)
		n := 0
		for _, rep := range set.find("Representation", nil) {
			n++
			if codecFamily(rep.attr("codecs")) != fam {
				t.Errorf("set %s holds %s", fam, rep.attr("codecs"))
			}
			init := rep.find("SegmentTemplate", nil)[0].attr("initialization")
			init = strings.ReplaceAll(init, "$RepresentationID$", rep.attr("id"))
			ti, err := readInitSegment(filepath.Join(dir, init))
			if err != nil {
				t.Fatal(err)
			}
			if ti.Codec != rep.attr("codecs") {
				t.Errorf("MPD representation %s: codecs %q, init segment says %q", rep.attr("id"), rep.attr("codecs"), ti.Codec)
			}
		}
		if n != want[fam] {
			t.Errorf("%s set has %d representations, want %d", fam, n, want[fam])
		}
	}

	// Every video stream decodes, through both manifests, to the same
	// number of frames.
	total := len(res.Renditions)
	for _, m := range []string{res.Master, res.DASH} {
		frames := countFrames(t, filepath.Join(dir, m))
		if len(frames) != total {
			t.Errorf("%s: %d video streams decode, want %d: %v", m, len(frames), total, frames)
		}
		for c, n := range frames {
			if n != frames[codecH264+"0"] {
				t.Errorf("%s: stream %s decoded %d frames, the first H.264 one %d", m, c, n, frames[codecH264+"0"])
			}
		}
	}

	// Segments and keyframes line up across renditions.
	var ref []float64
	var refName string
	for _, r := range res.Renditions {
		segs := segmentStarts(t, dir, r.Playlist)
		keys := keyframeTimes(t, filepath.Join(dir, r.Playlist))
		for _, s := range segs {
			if !slices.ContainsFunc(keys, func(k float64) bool { return math.Abs(k-s) < 0.01 }) {
				t.Errorf("%s %s: segment at %.3f s does not start with a keyframe (keyframes %v)", r.Codec, r.Name, s, keys)
			}
		}
		if ref == nil {
			ref, refName = segs, r.Codec+" "+r.Name
			continue
		}
		if len(segs) != len(ref) {
			t.Errorf("%s %s has segments at %v, %s at %v", r.Codec, r.Name, segs, refName, ref)
			continue
		}
		for i := range segs {
			if math.Abs(segs[i]-ref[i]) > 0.01 {
				t.Errorf("%s %s has segments at %v, %s at %v", r.Codec, r.Name, segs, refName, ref)
				break
			}
		}
	}
}

// countFrames decodes every video stream of a manifest and returns the
// frames per stream, keyed by codec family and index within it.
func countFrames(t *testing.T, path string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-protocol_whitelist", "file",
		"-count_frames", "-select_streams", "v", "-show_entries", "stream=index,codec_name,nb_read_frames",
		"-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe -count_frames %s: %v\n%s", path, err, out)
	}
	frames := map[string]int{}
	seen := map[string]int{}
	// The HLS demuxer lists each stream under its program too: count
	// each index once.
	indexes := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 3 {
			t.Fatalf("ffprobe %s: stream line %q", path, line)
		}
		if indexes[f[0]] {
			continue
		}
		indexes[f[0]] = true
		name := f[1]
		count, err := strconv.Atoi(strings.TrimSpace(f[2]))
		if err != nil || count == 0 {
			t.Fatalf("ffprobe %s: stream line %q", path, line)
		}
		fam := map[string]string{"h264": codecH264, "av1": CodecAV1, "hevc": CodecHEVC}[name]
		if fam == "" {
			t.Fatalf("ffprobe %s: unexpected codec %q", path, name)
		}
		frames[fam+strconv.Itoa(seen[fam])] = count
		seen[fam]++
	}
	return frames
}

// segmentStarts returns the start times of a media playlist's segments.
func segmentStarts(t *testing.T, dir, playlist string) []float64 {
	t.Helper()
	var starts []float64
	at := 0.0
	for _, line := range strings.Split(string(mustRead(t, filepath.Join(dir, playlist))), "\n") {
		if d, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			d, _, _ = strings.Cut(d, ",")
			v, err := strconv.ParseFloat(d, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", playlist, line, err)
			}
			starts = append(starts, at)
			at += v
		}
	}
	return starts
}

// keyframeTimes lists the presentation times of a stream's keyframes.
func keyframeTimes(t *testing.T, path string) []float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-protocol_whitelist", "file",
		"-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe packets %s: %v\n%s", path, err, out)
	}
	var keys []float64
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ts, flags, _ := strings.Cut(line, ",")
		if strings.Contains(flags, "K") {
			v, err := strconv.ParseFloat(ts, 64)
			if err != nil {
				t.Fatalf("ffprobe packets %s: %q", path, line)
			}
			keys = append(keys, v)
		}
	}
	return keys
}

// AV1 on the top rung only: the first stage has no AV1 set, and the join
// brings the second stage's over whole.
func TestTranscodeStagedExtraCodecAV1TopOnly(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	src := makeClip(t, dir, "src", clipOpts{w: 640, h: 360, seconds: 3, video: true, audio: true})
	cfg := av1TestConfig(CodecAV1)
	cfg.AV1.Heights = []int{360}
	cfg.FirstPlayMaxHeight = 240
	cfg.FirstPlay = FirstPlayStaged
	out := filepath.Join(dir, "out")
	res, err := TranscodeStaged(context.Background(), cfg, src, nil, out, nil, func(r *Result) error {
		checkFamilies(t, out, r, map[string]int{codecH264: 1}, av1CodecRE)
		return nil
	})
	if err != nil {
		t.Fatalf("TranscodeStaged: %v", err)
	}
	checkOutputs(t, out, res, 3)
	checkFamilies(t, out, res, map[string]int{codecH264: 2, CodecAV1: 1}, av1CodecRE)
}
