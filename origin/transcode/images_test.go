package transcode

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// imagesFor probes clip and runs Images into a fresh directory.
func imagesFor(t *testing.T, clip string) (*ImageSet, *Probe, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig()
	p, err := ProbeFile(ctx, cfg, clip)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	out := filepath.Join(t.TempDir(), "out")
	set, err := Images(ctx, cfg, clip, p, out)
	if err != nil {
		t.Fatalf("Images: %v", err)
	}
	return set, p, out
}

// jpegSize decodes a JPEG's header.
func jpegSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := jpeg.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c.Width, c.Height
}

// ffprobeSize is the size ffprobe reports for an image.
func ffprobeSize(t *testing.T, path string) (int, int) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=width,height",
		"-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	var w, h int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "%d,%d", &w, &h); err != nil {
		t.Fatalf("ffprobe %s said %q: %v", path, out, err)
	}
	return w, h
}

// checkThumbs compares the thumbnails with the expected sizes, as listed
// and as decoded.
func checkThumbs(t *testing.T, dir string, set *ImageSet, want ...[2]int) {
	t.Helper()
	var got [][2]int
	for _, th := range set.Thumbnails {
		got = append(got, [2]int{th.Width, th.Height})
		w, h := ffprobeSize(t, filepath.Join(dir, th.Name))
		if w != th.Width || h != th.Height {
			t.Errorf("%s is %dx%d, listed as %dx%d", th.Name, w, h, th.Width, th.Height)
		}
		if w%2 != 0 || h%2 != 0 {
			t.Errorf("%s: odd size %dx%d", th.Name, w, h)
		}
		if !slices.Contains(set.Files, th.Name) {
			t.Errorf("%s not in Files", th.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("thumbnail sizes %v, want %v", got, want)
	}
}

type parsedCue struct {
	start, end float64
	sprite     string
	x, y, w, h int
}

var cueTimeRE = regexp.MustCompile(`^(\d{2,}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2,}):(\d{2}):(\d{2})\.(\d{3})$`)
var xywhRE = regexp.MustCompile(`^([^#/]+\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)$`)

// parseVTT is a strict reader of the storyboard format: WEBVTT header,
// then blank-line separated cues of a timing line and one payload line.
func parseVTT(t *testing.T, path string) []parsedCue {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || sc.Text() != "WEBVTT" {
		t.Fatalf("%s: no WEBVTT header", path)
	}
	secs := func(m []string) float64 {
		h, _ := strconv.Atoi(m[0])
		mi, _ := strconv.Atoi(m[1])
		s, _ := strconv.Atoi(m[2])
		ms, _ := strconv.Atoi(m[3])
		return float64(h*3600+mi*60+s) + float64(ms)/1000
	}
	var cues []parsedCue
	for sc.Scan() {
		if sc.Text() != "" {
			t.Fatalf("%s: expected a blank line, got %q", path, sc.Text())
		}
		if !sc.Scan() {
			t.Fatalf("%s: ends after a blank line", path)
		}
		m := cueTimeRE.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("%s: bad timing line %q", path, sc.Text())
		}
		if !sc.Scan() {
			t.Fatalf("%s: cue without payload", path)
		}
		p := xywhRE.FindStringSubmatch(sc.Text())
		if p == nil {
			t.Fatalf("%s: bad payload %q", path, sc.Text())
		}
		n := func(s string) int { v, _ := strconv.Atoi(s); return v }
		cues = append(cues, parsedCue{start: secs(m[1:5]), end: secs(m[5:9]), sprite: p[1],
			x: n(p[2]), y: n(p[3]), w: n(p[4]), h: n(p[5])})
	}
	return cues
}

// checkStoryboard verifies the VTT against the sprites: cues contiguous
// from 0 to the duration, every rectangle inside its sprite and of the
// tile size, every sprite listed and used.
func checkStoryboard(t *testing.T, dir string, set *ImageSet, durationS float64) []parsedCue {
	t.Helper()
	sb := set.Storyboard
	if sb == nil {
		t.Fatal("no storyboard")
	}
	cues := parseVTT(t, filepath.Join(dir, sb.VTT))
	if len(cues) == 0 || len(cues) != sb.Tiles {
		t.Fatalf("%d cues, Tiles says %d", len(cues), sb.Tiles)
	}
	if cues[0].start != 0 {
		t.Errorf("first cue starts at %v", cues[0].start)
	}
	if last := cues[len(cues)-1].end; math.Abs(last-durationS) > 0.0015 {
		t.Errorf("last cue ends at %v, duration %v", last, durationS)
	}
	sizes := map[string][2]int{}
	for _, s := range sb.Sprites {
		w, h := jpegSize(t, filepath.Join(dir, s))
		if w != sb.Columns*sb.TileWidth || h != sb.Rows*sb.TileHeight {
			t.Errorf("sprite %s is %dx%d, want %dx%d", s, w, h, sb.Columns*sb.TileWidth, sb.Rows*sb.TileHeight)
		}
		sizes[s] = [2]int{w, h}
		if !slices.Contains(set.Files, s) {
			t.Errorf("%s not in Files", s)
		}
	}
	used := map[string]bool{}
	for i, c := range cues {
		if c.end <= c.start {
			t.Errorf("cue %d is empty: %v --> %v", i, c.start, c.end)
		}
		if i > 0 && c.start != cues[i-1].end {
			t.Errorf("cue %d starts at %v, previous ended at %v", i, c.start, cues[i-1].end)
		}
		sz, ok := sizes[c.sprite]
		if !ok {
			t.Fatalf("cue %d names %s, not a listed sprite", i, c.sprite)
		}
		used[c.sprite] = true
		if c.w != sb.TileWidth || c.h != sb.TileHeight || c.x+c.w > sz[0] || c.y+c.h > sz[1] || c.x%c.w != 0 || c.y%c.h != 0 {
			t.Errorf("cue %d rectangle %d,%d,%d,%d does not fit %s (%dx%d)", i, c.x, c.y, c.w, c.h, c.sprite, sz[0], sz[1])
		}
	}
	if len(used) != len(sb.Sprites) {
		t.Errorf("cues use %d of %d sprites", len(used), len(sb.Sprites))
	}
	if !slices.Contains(set.Files, sb.VTT) {
		t.Errorf("%s not in Files", sb.VTT)
	}
	for _, f := range set.Files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("listed %s: %v", f, err)
		}
	}
	return cues
}

// tileDifference is the mean absolute luma difference between two cues'
// tiles (0..255).
func tileDifference(t *testing.T, dir string, a, b parsedCue) float64 {
	t.Helper()
	load := func(name string) *image.YCbCr {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := jpeg.Decode(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		y, ok := img.(*image.YCbCr)
		if !ok {
			t.Fatalf("%s: %T, want YCbCr", name, img)
		}
		return y
	}
	ia, ib := load(a.sprite), load(b.sprite)
	var sum float64
	for y := 0; y < a.h; y++ {
		for x := 0; x < a.w; x++ {
			pa := ia.Y[ia.YOffset(a.x+x, a.y+y)]
			pb := ib.Y[ib.YOffset(b.x+x, b.y+y)]
			sum += math.Abs(float64(pa) - float64(pb))
		}
	}
	return sum / float64(a.w*a.h)
}

// meanLuma is a JPEG's average Y (0..255).
func meanLuma(t *testing.T, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	y := img.(*image.YCbCr)
	var sum float64
	b := y.Bounds()
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			sum += float64(y.Y[y.YOffset(px, py)])
		}
	}
	return sum / float64(b.Dx()*b.Dy())
}

func TestImagesVideo(t *testing.T) {
	requireFFmpeg(t)
	t.Parallel()
	tests := []struct {
		name       string
		clip       clipOpts
		thumbs     [][2]int
		tile       [2]int
		cues       int
		keyOnly    bool
		differFrom int // a cue whose tile must differ from the first's; 0 skips
	}{
		{
			// x264's default GOP (250 frames): one keyframe in 4 s, too
			// sparse, so the storyboard falls back to a full decode.
			name:   "landscape1080",
			clip:   clipOpts{w: 1920, h: 1080, seconds: 4, video: true, audio: true},
			thumbs: [][2]int{{1280, 720}, {640, 360}, {320, 180}},
			tile:   [2]int{160, 90}, cues: 4, differFrom: 3,
		},
		{
			name:   "portrait",
			clip:   clipOpts{w: 720, h: 1280, seconds: 3, video: true, extra: []string{"-g", "15"}},
			thumbs: [][2]int{{720, 1280}, {640, 1138}, {320, 568}},
			tile:   [2]int{160, 284}, cues: 3, keyOnly: true, differFrom: 2,
		},
		{
			// A phone's rotation flag: stored landscape, displayed portrait.
			name:   "rotated",
			clip:   clipOpts{w: 640, h: 360, seconds: 2, video: true, rotate: 90, extra: []string{"-g", "10"}},
			thumbs: [][2]int{{360, 640}, {320, 568}},
			tile:   [2]int{160, 284}, cues: 2, keyOnly: true, differFrom: 1,
		},
		{
			name:   "short",
			clip:   clipOpts{w: 320, h: 240, seconds: 0.3, video: true, fadeIn: true},
			thumbs: [][2]int{{320, 240}},
			tile:   [2]int{160, 120}, cues: 1, keyOnly: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clip := makeClip(t, t.TempDir(), tt.name, tt.clip)
			set, p, dir := imagesFor(t, clip)
			if set.Source != "frame" {
				t.Errorf("Source %q", set.Source)
			}
			checkThumbs(t, dir, set, tt.thumbs...)
			sb := set.Storyboard
			cues := checkStoryboard(t, dir, set, p.DurationS)
			if sb.TileWidth != tt.tile[0] || sb.TileHeight != tt.tile[1] {
				t.Errorf("tile %dx%d, want %v", sb.TileWidth, sb.TileHeight, tt.tile)
			}
			if len(cues) != tt.cues || sb.KeyframesOnly != tt.keyOnly {
				t.Errorf("%d cues keyframes-only %v, want %d %v", len(cues), sb.KeyframesOnly, tt.cues, tt.keyOnly)
			}
			if sb.IntervalS != 1 || len(sb.Sprites) != 1 || sb.Columns != tt.cues || sb.Rows != 1 {
				t.Errorf("storyboard %+v", sb)
			}
			if y := meanLuma(t, filepath.Join(dir, set.Thumbnails[0].Name)); y < 40 {
				t.Errorf("the thumbnail is nearly black (mean luma %.1f): a fade-in frame was picked", y)
			}
			if tt.differFrom > 0 && len(cues) > tt.differFrom {
				if d := tileDifference(t, dir, cues[0], cues[tt.differFrom]); d < 2 {
					t.Errorf("tiles 0 and %d are nearly identical (mean difference %.2f)", tt.differFrom, d)
				}
			}
		})
	}
}

// TestImagesVideoShorterThanAudio: the probe's duration is the audio's
// 10 s, the picture stops at 0.8 s, before the thumbnail window (1 s in).
// The thumbnails are taken from the start instead, and the storyboard's
// last tile covers the rest.
func TestImagesVideoShorterThanAudio(t *testing.T) {
	requireFFmpeg(t)
	t.Parallel()
	clip := makeClip(t, t.TempDir(), "shortvideo", clipOpts{w: 320, h: 180, seconds: 0.8, video: true, audio: true,
		extra: []string{"-af", "apad=whole_dur=10"}})
	set, p, dir := imagesFor(t, clip)
	if p.DurationS < 9.9 {
		t.Fatalf("probe duration %v, the clip was meant to last 10 s", p.DurationS)
	}
	checkThumbs(t, dir, set, [2]int{320, 180})
	cues := checkStoryboard(t, dir, set, p.DurationS)
	if len(cues) != 1 {
		t.Errorf("%d cues, want 1", len(cues))
	}
}

// makeAudio writes an audio file, with a cover picture when coverW > 0.
func makeAudio(t *testing.T, dir, name, ext string, coverW, coverH int) string {
	t.Helper()
	out := filepath.Join(dir, name+"."+ext)
	args := []string{"-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100:duration=3,volume='0.2+0.8*t/3':eval=frame"}
	if coverW > 0 {
		args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:duration=0.1", coverW, coverH),
			"-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:v", "mjpeg", "-disposition:v", "attached_pic")
	}
	switch ext {
	case "mp3":
		args = append(args, "-c:a", "libmp3lame", "-id3v2_version", "3")
	default:
		args = append(args, "-c:a", "aac")
	}
	args = append(args, out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("making %s: %v\n%s", name, err, b)
	}
	return out
}

func TestImagesAudio(t *testing.T) {
	requireFFmpeg(t)
	t.Parallel()
	tests := []struct {
		name, ext, source string
		coverW, coverH    int
		thumbs            [][2]int
	}{
		{name: "mp3-cover", ext: "mp3", source: "cover", coverW: 600, coverH: 600, thumbs: [][2]int{{600, 600}, {320, 320}}},
		{name: "m4a-cover", ext: "m4a", source: "cover", coverW: 1500, coverH: 1000, thumbs: [][2]int{{1280, 854}, {640, 426}, {320, 214}}},
		{name: "m4a-plain", ext: "m4a", source: "waveform", thumbs: [][2]int{{1280, 720}, {640, 360}, {320, 180}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clip := makeAudio(t, t.TempDir(), tt.name, tt.ext, tt.coverW, tt.coverH)
			set, p, dir := imagesFor(t, clip)
			if p.HasVideo {
				t.Fatal("probe sees the cover as video")
			}
			if set.Source != tt.source || set.Storyboard != nil {
				t.Errorf("Source %q storyboard %v", set.Source, set.Storyboard)
			}
			checkThumbs(t, dir, set, tt.thumbs...)
			if len(set.Files) != len(tt.thumbs) {
				t.Errorf("Files %v", set.Files)
			}
		})
	}
}

// TestStoryboardLong checks a ten-minute video: an interval of 3 s, 200
// tiles over two full sheets, cues covering the whole duration.
func TestStoryboardLong(t *testing.T) {
	requireFFmpeg(t)
	t.Parallel()
	clip := makeClip(t, t.TempDir(), "long", clipOpts{w: 160, h: 90, fps: 5, seconds: 600, video: true, extra: []string{"-g", "5"}})
	set, p, dir := imagesFor(t, clip)
	sb := set.Storyboard
	cues := checkStoryboard(t, dir, set, p.DurationS)
	if sb.IntervalS != 3 || len(sb.Sprites) != 2 || sb.Columns != 10 || sb.Rows != 10 || !sb.KeyframesOnly {
		t.Errorf("storyboard %+v", sb)
	}
	if len(cues) != 200 {
		t.Errorf("%d cues, want 200", len(cues))
	}
	for i, c := range cues {
		if want := float64(i * 3); math.Abs(c.start-want) > 0.001 {
			t.Fatalf("cue %d starts at %v, want %v (a keyframe every second)", i, c.start, want)
		}
	}
	if d := tileDifference(t, dir, cues[0], cues[150]); d < 2 {
		t.Errorf("tiles 0 and 150 are nearly identical (mean difference %.2f)", d)
	}
	if cues[150].sprite != sb.Sprites[1] {
		t.Errorf("cue 150 is in %s", cues[150].sprite)
	}
}

// TestImagesRerun runs Images twice into one directory: the second run
// replaces its own files (same names) and leaves other files alone.
func TestImagesRerun(t *testing.T) {
	requireFFmpeg(t)
	t.Parallel()
	clip := makeClip(t, t.TempDir(), "rerun", clipOpts{w: 320, h: 180, seconds: 2, video: true, extra: []string{"-g", "10"}})
	ctx := context.Background()
	cfg := testConfig()
	out := t.TempDir()
	other := filepath.Join(out, "master.m3u8")
	if err := os.WriteFile(other, []byte("#EXTM3U\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	first, err := Images(ctx, cfg, clip, nil, out)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Images(ctx, cfg, clip, nil, out)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !slices.Equal(first.Files, second.Files) {
		t.Errorf("names changed: %v then %v", first.Files, second.Files)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file Images did not write was touched: %v", err)
	}
	cfg.ThumbnailWidths = []int{200}
	third, err := Images(ctx, cfg, clip, nil, out)
	if err != nil {
		t.Fatal(err)
	}
	sig := func(name string) string { return strings.Split(name, "-")[1] }
	if sig(third.Thumbnails[0].Name) == sig(first.Thumbnails[0].Name) {
		t.Errorf("other settings, same signature: %s and %s", third.Thumbnails[0].Name, first.Thumbnails[0].Name)
	}
}

func TestImagesRefusesDamagedInput(t *testing.T) {
	requireFFmpeg(t)
	t.Parallel()
	dir := t.TempDir()
	clip := makeClip(t, dir, "whole", clipOpts{w: 320, h: 180, seconds: 2, video: true})
	p, err := ProbeFile(context.Background(), testConfig(), clip)
	if err != nil {
		t.Fatal(err)
	}
	// Same probe, but the last two thirds (the media data and the index
	// behind it) are now garbage.
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(data) / 3; i < len(data); i++ {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(clip, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Images(context.Background(), testConfig(), clip, p, filepath.Join(dir, "out"))
	if !IsInputError(err) {
		t.Fatalf("got %v, want an *InputError", err)
	}
}

func TestStoryboardCues(t *testing.T) {
	sb := &storyboardPlan{intervalS: 2, cols: 2, rows: 1, tileW: 10, tileH: 6}
	sprites := []string{"a.jpg", "b.jpg"}
	// First tile late (0.04), a duplicate time, a tile without pts, one
	// past the end.
	cues := storyboardCues([]float64{0.04, 2.0, 2.0, math.NaN(), 9.5}, 7.25, sprites, sb)
	got := renderVTT(cues)
	want := "WEBVTT\n\n" +
		"00:00:00.000 --> 00:00:02.000\na.jpg#xywh=0,0,10,6\n\n" +
		"00:00:02.000 --> 00:00:06.000\na.jpg#xywh=10,0,10,6\n\n" +
		"00:00:06.000 --> 00:00:07.250\nb.jpg#xywh=10,0,10,6\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if s := formatVTTTime(3_723_004); s != "01:02:03.004" {
		t.Errorf("formatVTTTime = %s", s)
	}
}

// TestImagesAfterTranscode is the caller's order: Transcode into an empty
// directory, then Images into the same one. An MP3 with cover art gets an
// audio rendition and a cover poster, and neither run's files collide.
func TestImagesAfterTranscode(t *testing.T) {
	requireFFmpeg(t)
	t.Parallel()
	dir := t.TempDir()
	src := makeAudio(t, dir, "song", "mp3", 400, 400)
	ctx := context.Background()
	cfg := testConfig()
	p, err := ProbeFile(ctx, cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	res, err := Transcode(ctx, cfg, src, p, out, nil)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	if res.HasVideo || len(res.Renditions) != 1 || res.Renditions[0].Name != "audio" {
		t.Fatalf("the cover was taken for video: %+v", res)
	}
	set, err := Images(ctx, cfg, src, p, out)
	if err != nil {
		t.Fatalf("Images: %v", err)
	}
	if set.Source != "cover" {
		t.Errorf("Source %q", set.Source)
	}
	checkThumbs(t, out, set, [2]int{400, 400}, [2]int{320, 320})
	for _, f := range set.Files {
		if slices.Contains(res.Files, f) {
			t.Errorf("both write %s", f)
		}
	}
	all, err := listFiles(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(res.Files) + len(set.Files); len(all) != want {
		t.Errorf("%d files in the directory, the two results list %d", len(all), want)
	}
}
