package transcode

import (
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Inputs people really upload, each made by ffmpeg at test time, taken
// through Transcode and checked from the outside: every rendition decodes
// through both manifests, the output lasts as long as the source, and the
// frame sizes are even, not upscaled and keep the orientation.

// genMedia runs ffmpeg with args (inputs, options, then out) and returns out.
func genMedia(t *testing.T, out string, args ...string) string {
	t.Helper()
	full := append([]string{"-nostdin", "-hide_banner", "-v", "error", "-y"}, args...)
	full = append(full, out)
	if b, err := exec.Command("ffmpeg", full...).CombinedOutput(); err != nil {
		t.Fatalf("making %s: %v\n%s", filepath.Base(out), err, b)
	}
	return out
}

// lavfi sources for genMedia.
func bars(w, h int, fps, seconds float64) []string {
	return []string{"-f", "lavfi", "-i", "testsrc2=size=" + strconv.Itoa(w) + "x" + strconv.Itoa(h) +
		":rate=" + strconv.FormatFloat(fps, 'f', -1, 64) + ":duration=" + strconv.FormatFloat(seconds, 'f', 3, 64)}
}

func tone(rate int, seconds float64, layout string) []string {
	return []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=" + strconv.Itoa(rate) +
		":duration=" + strconv.FormatFloat(seconds, 'f', 3, 64) + ",aformat=channel_layouts=" + layout}
}

// hdr10Params are x265's HDR10 signalling: BT.2020, PQ, and the mastering
// display and content light level SEI an HDR10 camera writes.
const hdr10Params = "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:" +
	"master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400:hdr10=1"

// toHDR converts BT.709 frames to BT.2020 with the given transfer, SDR
// white at 100 nits: the same picture as the SDR source, as HDR.
func toHDR(transfer string) string {
	return "zscale=tin=bt709:pin=bt709:min=bt709:rin=tv:t=" + transfer + ":p=bt2020:m=bt2020nc:r=tv:npl=100,format=yuv420p10le"
}

type inputCase struct {
	name    string
	seconds float64                               // the source's true duration
	make    func(t *testing.T, dir string) string // writes the source
	w, h    int                                   // displayed size; 0,0 for audio only
	audio   bool
	check   func(t *testing.T, p *Probe) // extra probe checks
}

func realInputs() []inputCase {
	x264 := []string{"-c:v", "libx264", "-preset", "ultrafast"}
	aac := []string{"-c:a", "aac", "-b:a", "64k"}
	return []inputCase{
		{name: "portrait phone video (display matrix)", seconds: 2, w: 180, h: 320, audio: true,
			make: func(t *testing.T, dir string) string {
				return makeClip(t, dir, "phone", clipOpts{w: 320, h: 180, seconds: 2, video: true, audio: true, rotate: 90})
			},
			check: func(t *testing.T, p *Probe) {
				if p.Rotation != 90 && p.Rotation != 270 {
					t.Errorf("rotation %d, want a quarter turn", p.Rotation)
				}
			}},
		{name: "odd dimensions 853x479", seconds: 2, w: 852, h: 478, audio: true,
			make: func(t *testing.T, dir string) string {
				// testsrc2 and x264/x265 round to even sizes; testsrc and
				// MPEG-4 Part 2 keep 853x479.
				return genMedia(t, filepath.Join(dir, "odd.mp4"), "-f", "lavfi", "-i", "testsrc=size=853x479:rate=30:duration=2",
					"-f", "lavfi", "-i", "sine=duration=2", "-c:v", "mpeg4", "-c:a", "aac")
			},
			check: func(t *testing.T, p *Probe) {
				if p.CodedWidth != 853 || p.CodedHeight != 479 {
					t.Errorf("source is %dx%d, want 853x479", p.CodedWidth, p.CodedHeight)
				}
			}},
		{name: "odd dimensions below every rung", seconds: 1, w: 200, h: 112,
			make: func(t *testing.T, dir string) string {
				// One rung at the source's own size: 201x113 must not
				// become 202x114.
				return genMedia(t, filepath.Join(dir, "odd-small.mp4"), "-f", "lavfi", "-i", "testsrc=size=201x113:rate=30:duration=1",
					"-c:v", "mpeg4")
			}},
		{name: "variable frame rate", seconds: 3, w: 320, h: 180, audio: true,
			make: func(t *testing.T, dir string) string {
				// Irregular frame times around 30 fps, as a phone writes
				// when the exposure changes.
				return genMedia(t, filepath.Join(dir, "vfr.mp4"), append(append(append(bars(320, 180, 30, 3), tone(44100, 3, "stereo")...),
					"-vf", "setpts='(N/30+0.012*mod(N\\,4))/TB'", "-fps_mode", "vfr", "-video_track_timescale", "90000"),
					append(x264, aac...)...)...)
			},
			check: func(t *testing.T, p *Probe) {
				if p.FPS < 25 || p.FPS > 31 {
					t.Errorf("fps %v", p.FPS)
				}
			}},
		{name: "10-bit H.264 SDR", seconds: 2, w: 320, h: 180, audio: true,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "h264-10.mp4"), append(append(bars(320, 180, 30, 2), tone(48000, 2, "stereo")...),
					append(append(x264, "-pix_fmt", "yuv420p10le", "-profile:v", "high10"), aac...)...)...)
			},
			check: func(t *testing.T, p *Probe) {
				if p.PixFmt != "yuv420p10le" || p.HDR != "" {
					t.Errorf("pix_fmt %q hdr %q", p.PixFmt, p.HDR)
				}
			}},
		{name: "10-bit HEVC SDR (BT.709)", seconds: 2, w: 320, h: 180,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "hevc-10.mp4"), append(bars(320, 180, 30, 2),
					"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p10le",
					"-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-tag:v", "hvc1")...)
			},
			check: func(t *testing.T, p *Probe) {
				if p.VideoCodec != "hevc" || p.HDR != "" || p.ColorTransfer != "bt709" {
					t.Errorf("probe %+v", p)
				}
			}},
		{name: "HDR10 HEVC (PQ, mastering metadata)", seconds: 2, w: 320, h: 180, audio: true,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "hdr10.mp4"), append(append(bars(320, 180, 30, 2), tone(48000, 2, "stereo")...),
					append([]string{"-vf", toHDR("smpte2084"), "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", hdr10Params,
						"-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", "-tag:v", "hvc1"}, aac...)...)...)
			},
			check: func(t *testing.T, p *Probe) {
				if p.HDR != HDRPQ || p.ColorPrimaries != "bt2020" {
					t.Errorf("probe %+v, want PQ HDR", p)
				}
			}},
		{name: "HLG HEVC", seconds: 2, w: 320, h: 180,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "hlg.mov"), append(bars(320, 180, 30, 2),
					"-vf", toHDR("arib-std-b67"), "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
					"-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc", "-tag:v", "hvc1")...)
			},
			check: func(t *testing.T, p *Probe) {
				if p.HDR != HDRHLG {
					t.Errorf("probe %+v, want HLG", p)
				}
			}},
		{name: "VP9 and Opus in WebM", seconds: 2, w: 320, h: 180, audio: true,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "vp9.webm"), append(append(bars(320, 180, 30, 2), tone(48000, 2, "stereo")...),
					"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus")...)
			}},
		{name: "HEVC and 5.1 AC-3 in MKV", seconds: 2, w: 320, h: 180, audio: true,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "hevc.mkv"), append(append(bars(320, 180, 25, 2), tone(48000, 2, "5.1")...),
					"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-c:a", "ac3")...)
			},
			check: func(t *testing.T, p *Probe) {
				if p.Demuxer != "matroska" || p.AudioChannels != 6 {
					t.Errorf("probe %+v", p)
				}
			}},
		{name: "ProRes and PCM in MOV", seconds: 2, w: 320, h: 180, audio: true,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "prores.mov"), append(append(bars(320, 180, 25, 2), tone(48000, 2, "stereo")...),
					"-c:v", "prores_ks", "-profile:v", "0", "-c:a", "pcm_s24le")...)
			}},
		{name: "audio only mp3", seconds: 3, audio: true,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "song.mp3"), append(tone(44100, 3, "stereo"), "-c:a", "libmp3lame")...)
			}},
		{name: "audio only m4a", seconds: 3, audio: true,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "song.m4a"), append(tone(44100, 3, "mono"), aac...)...)
			}},
		{name: "video without audio", seconds: 2, w: 320, h: 180,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "silent.mp4"), append(bars(320, 180, 30, 2), x264...)...)
			}},
		{name: "very short (0.4 s)", seconds: 0.4, w: 320, h: 180, audio: true,
			make: func(t *testing.T, dir string) string {
				return genMedia(t, filepath.Join(dir, "short.mp4"), append(append(bars(320, 180, 30, 0.4), tone(48000, 0.4, "stereo")...),
					append(x264, aac...)...)...)
			}},
		{name: "one hour", seconds: 3600, w: 64, h: 36,
			make: func(t *testing.T, dir string) string {
				// Tiny, 1 fps, no audio: the length is what is tested
				// (3600 frames, 900 segments, a long timeline), not pixels.
				return genMedia(t, filepath.Join(dir, "hour.mp4"), append(bars(64, 36, 1, 3600), append(x264, "-g", "2")...)...)
			}},
	}
}

func TestTranscodeRealInputs(t *testing.T) {
	requireFFmpeg(t)
	cfg := testConfig()
	for _, tc := range realInputs() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			start := time.Now()
			src := tc.make(t, dir)
			made := time.Since(start)
			p, err := ProbeFile(context.Background(), cfg, src)
			if err != nil {
				t.Fatalf("ProbeFile: %v", err)
			}
			if p.Width != tc.w || p.Height != tc.h || p.HasAudio != tc.audio {
				t.Errorf("probe: %dx%d audio %v, want %dx%d audio %v", p.Width, p.Height, p.HasAudio, tc.w, tc.h, tc.audio)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
			out := filepath.Join(dir, "out")
			res, err := Transcode(context.Background(), cfg, src, p, out, nil)
			if err != nil {
				t.Fatalf("Transcode: %v", err)
			}
			encoded := time.Since(start) - made
			checkRenditions(t, out, res, tc.w, tc.h)
			checkEveryRenditionDecodes(t, out, res, tc.seconds)
			t.Logf("made in %v, encoded in %v, checked in %v", made.Round(time.Millisecond),
				encoded.Round(time.Millisecond), (time.Since(start) - made - encoded).Round(time.Millisecond))
		})
	}
}

// checkRenditions checks the planned frame sizes against the source's
// displayed size w x h, and what the manifests say against the result.
func checkRenditions(t *testing.T, out string, res *Result, w, h int) {
	t.Helper()
	if w == 0 {
		if res.HasVideo || len(res.Renditions) != 1 || res.Renditions[0].Width != 0 {
			t.Errorf("audio-only result: %+v", res)
		}
		return
	}
	if !res.HasVideo || len(res.Renditions) == 0 {
		t.Fatalf("no video renditions: %+v", res)
	}
	for _, r := range res.Renditions {
		switch {
		case r.Width%2 != 0 || r.Height%2 != 0:
			t.Errorf("%s is %dx%d: odd", r.Name, r.Width, r.Height)
		case r.Width > w || r.Height > h:
			t.Errorf("%s is %dx%d: upscaled from %dx%d", r.Name, r.Width, r.Height, w, h)
		case (r.Width < r.Height) != (w < h):
			t.Errorf("%s is %dx%d: orientation of %dx%d lost", r.Name, r.Width, r.Height, w, h)
		case math.Abs(float64(r.Width)/float64(r.Height)-float64(w)/float64(h)) > 0.02:
			t.Errorf("%s is %dx%d: aspect ratio of %dx%d lost", r.Name, r.Width, r.Height, w, h)
		}
	}
	// What a player reads: the frame sizes in the decoded streams.
	streams := probeStreams(t, filepath.Join(out, res.Master))
	var sizes []string
	for _, s := range streams {
		if s.CodecType == "video" {
			sizes = append(sizes, strconv.Itoa(s.Width)+"x"+strconv.Itoa(s.Height))
		}
	}
	for _, r := range res.Renditions {
		want := strconv.Itoa(r.Width) + "x" + strconv.Itoa(r.Height)
		if !strings.Contains(strings.Join(sizes, " "), want) {
			t.Errorf("master streams %v lack %s", sizes, want)
		}
	}
}

// probeStreams lists the streams ffprobe finds through a manifest (every
// variant of an HLS master, every representation of an MPD).
func probeStreams(t *testing.T, path string) []ffprobeStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-protocol_whitelist", "file",
		"-show_streams", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var o ffprobeOutput
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o.Streams
}

// checkEveryRenditionDecodes decodes every stream (-map 0, not only the
// one ffmpeg would pick) through the HLS master and through the MPD, and
// compares the decoded length with the source's.
func checkEveryRenditionDecodes(t *testing.T, out string, res *Result, seconds float64) {
	t.Helper()
	want := len(res.Renditions)
	if res.HasAudio && res.HasVideo {
		want++
	}
	for _, m := range []string{res.Master, res.DASH} {
		path := filepath.Join(out, m)
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-nostats", "-protocol_whitelist", "file",
			"-i", path, "-map", "0", "-f", "null", "-progress", "pipe:1", "-")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		progress, err := cmd.Output()
		cancel()
		if err != nil || strings.TrimSpace(stderr.String()) != "" {
			t.Errorf("decoding every stream of %s: %v\n%s", m, err, stderr.String())
		}
		// The length decoded, not the length declared: ffmpeg 5.1's DASH
		// demuxer reads mediaPresentationDuration in whole seconds
		// (PT0.4S is 0), so ffprobe's format duration is no measure.
		got := -1.0
		for _, l := range strings.Split(string(progress), "\n") {
			if v, ok := strings.CutPrefix(l, "out_time_us="); ok {
				if us, err := strconv.ParseInt(v, 10, 64); err == nil {
					got = float64(us) / 1e6
				}
			}
		}
		if tol := 0.1 + 0.001*seconds; math.Abs(got-seconds) > tol {
			t.Errorf("%s decodes to %.3f s, source %.3f s (± %.3f)", m, got, seconds, tol)
		}
		// The HLS demuxer shows the audio once per variant that
		// references it; count distinct streams by kind and size.
		seen := map[string]bool{}
		for _, s := range probeStreams(t, path) {
			seen[s.CodecType+strconv.Itoa(s.Width)+"x"+strconv.Itoa(s.Height)] = true
		}
		if len(seen) != want {
			t.Errorf("%s: %d distinct streams %v, want %d", m, len(seen), seen, want)
		}
	}
}
