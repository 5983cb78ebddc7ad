package transcode

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafov/m3u8"
)

var codecsRE = regexp.MustCompile(`^avc1\.(42|4d|64)[0-9a-f]{4}(,|$)`)

// progressLog records progress callbacks (they come from another goroutine).
type progressLog struct {
	mu   sync.Mutex
	vals []float64
}

func (l *progressLog) add(v float64) {
	l.mu.Lock()
	l.vals = append(l.vals, v)
	l.mu.Unlock()
}

func (l *progressLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.vals) == 0 || l.vals[len(l.vals)-1] != 100 {
		t.Fatalf("progress did not end at 100: %v", l.vals)
	}
	for i, v := range l.vals {
		if v < 0 || v > 100 || (i > 0 && v < l.vals[i-1]) {
			t.Fatalf("progress not monotonic within 0..100: %v", l.vals)
		}
		if v == 100 && i != len(l.vals)-1 {
			t.Fatalf("100 reported before the end: %v", l.vals)
		}
	}
}

func readMaster(t *testing.T, dir string) *m3u8.MasterPlaylist {
	t.Helper()
	data := mustRead(t, filepath.Join(dir, masterName))
	pl, typ, err := m3u8.Decode(*bytes.NewBuffer(data), true)
	if err != nil || typ != m3u8.MASTER {
		t.Fatalf("master does not parse: %v\n%s", err, data)
	}
	return pl.(*m3u8.MasterPlaylist)
}

// checkOutputs verifies the invariants every transcode must hold: every
// listed file exists, every playlist reference is relative and resolves,
// nothing names the output directory, and both manifests decode to the
// source duration.
func checkOutputs(t *testing.T, dir string, res *Result, wantDuration float64) {
	t.Helper()
	for _, f := range res.Files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("listed file %s: %v", f, err)
		}
		if strings.HasSuffix(f, ".tmp") {
			t.Errorf("temporary file %s left", f)
		}
	}
	for _, want := range []string{res.Master, res.DASH} {
		if !slices.Contains(res.Files, want) {
			t.Errorf("%s not in Files %v", want, res.Files)
		}
	}
	for _, f := range res.Files {
		if !strings.HasSuffix(f, ".m3u8") && !strings.HasSuffix(f, ".mpd") {
			continue
		}
		body := string(mustRead(t, filepath.Join(dir, f)))
		if strings.Contains(body, dir) || strings.Contains(body, `"file:`) || strings.Contains(body, "\nfile:") ||
			strings.Contains(body, "PROGRAM-DATE-TIME") {
			t.Errorf("%s names a local path or wall-clock time:\n%s", f, body)
		}
		if !strings.HasSuffix(f, ".m3u8") || f == res.Master {
			continue
		}
		for _, line := range strings.Split(body, "\n") {
			ref := line
			if strings.HasPrefix(line, "#EXT-X-MAP:URI=") {
				ref = strings.Trim(strings.TrimPrefix(line, "#EXT-X-MAP:URI="), `"`)
			} else if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if !isPlainRelative(ref) || !slices.Contains(res.Files, ref) {
				t.Errorf("%s references %q, which is not a listed relative file", f, ref)
			}
		}
	}
	for _, m := range []string{res.Master, res.DASH} {
		got := ffprobeDuration(t, filepath.Join(dir, m))
		if math.Abs(got-wantDuration) > 0.5 {
			t.Errorf("ffprobe %s: duration %.3f, want %.3f ± 0.5", m, got, wantDuration)
		}
	}
	decodeAll(t, filepath.Join(dir, res.Master))
	decodeAll(t, filepath.Join(dir, res.DASH))
}

func TestTranscodeVideoWithAudio(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	src := makeClip(t, dir, "src", clipOpts{w: 640, h: 360, seconds: 6, video: true, audio: true, fadeIn: true})
	cfg := testConfig()
	ctx := context.Background()
	p, err := ProbeFile(ctx, cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var prog progressLog
	res, err := Transcode(ctx, cfg, src, p, out, prog.add)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	prog.check(t)
	checkOutputs(t, out, res, p.DurationS)

	if !res.HasAudio || !res.HasVideo || res.Poster != posterName || res.Master != masterName || res.DASH != manifestName {
		t.Fatalf("result = %+v", res)
	}
	master := readMaster(t, out)
	if len(master.Variants) != 2 {
		t.Fatalf("master has %d variants, want 360p and 240p:\n%s", len(master.Variants), master)
	}
	wantRes := []string{"640x360", "426x240"}
	for i, v := range master.Variants {
		if v.Resolution != wantRes[i] {
			t.Errorf("variant %d RESOLUTION %s, want %s", i, v.Resolution, wantRes[i])
		}
		// ultrafast uses no High-profile tool, so x264 signals Constrained
		// Baseline (avc1.42c0..) even though High is allowed; the string
		// comes from the init segment either way.
		if !codecsRE.MatchString(v.Codecs) || !strings.HasSuffix(v.Codecs, ",mp4a.40.2") {
			t.Errorf("variant %d CODECS %q", i, v.Codecs)
		}
		if v.Bandwidth == 0 || v.AverageBandwidth == 0 || v.AverageBandwidth > v.Bandwidth {
			t.Errorf("variant %d BANDWIDTH %d AVERAGE-BANDWIDTH %d", i, v.Bandwidth, v.AverageBandwidth)
		}
		// grafov's reader attaches the same EXT-X-MEDIA to a variant once
		// per line it reads, so only the first alternative is looked at;
		// the raw text is checked for a single EXT-X-MEDIA below.
		if v.FrameRate != 30 || v.Audio != audioGroup || len(v.Alternatives) == 0 || v.Alternatives[0].Type != "AUDIO" {
			t.Errorf("variant %d: FRAME-RATE %v AUDIO %q alternatives %d", i, v.FrameRate, v.Audio, len(v.Alternatives))
		}
		if !isPlainRelative(v.URI) || v.URI != res.Renditions[i].Playlist {
			t.Errorf("variant %d URI %q", i, v.URI)
		}
	}
	if n := strings.Count(string(mustRead(t, filepath.Join(out, masterName))), "#EXT-X-MEDIA:"); n != 1 {
		t.Errorf("master has %d EXT-X-MEDIA tags, want 1", n)
	}
	if master.Variants[0].Bandwidth <= master.Variants[1].Bandwidth {
		t.Errorf("360p should need more bandwidth than 240p")
	}
	// Level from the init segment: 640x360@30 fits level 3.0 (0x1e) or
	// below, never the level-less 0x00.
	if lvl := res.Renditions[0].Codecs[9:11]; lvl == "00" {
		t.Errorf("codec level missing in %q", res.Renditions[0].Codecs)
	}

	// The poster is a real JPEG of the displayed size, and not the black
	// first frame of the fade-in.
	pw, ph, yavg := posterStats(t, filepath.Join(out, res.Poster))
	if pw != 640 || ph != 360 {
		t.Errorf("poster is %dx%d, want 640x360", pw, ph)
	}
	if yavg < 40 {
		t.Errorf("poster average luma %.1f: looks black", yavg)
	}

	// Segment names are stable for the same input and settings.
	out2 := filepath.Join(dir, "out2")
	res2, err := Transcode(ctx, cfg, src, p, out2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Files, res2.Files) {
		t.Errorf("file names differ between identical runs:\n%v\n%v", res.Files, res2.Files)
	}
}

// posterStats returns the poster's size and average luma.
func posterStats(t *testing.T, path string) (w, h int, yavg float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-f", "lavfi", "-i",
		"movie="+path+",signalstats", "-show_entries", "stream=width,height:frame_tags=lavfi.signalstats.YAVG",
		"-of", "default=nw=1").CombinedOutput()
	if err != nil {
		t.Fatalf("poster: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "width":
			w, _ = strconv.Atoi(v)
		case "height":
			h, _ = strconv.Atoi(v)
		case "TAG:lavfi.signalstats.YAVG":
			yavg, _ = strconv.ParseFloat(v, 64)
		}
	}
	return w, h, yavg
}

func TestTranscodeAudioOnly(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	src := makeClip(t, dir, "song", clipOpts{seconds: 5, audio: true, ext: "m4a"})
	var prog progressLog
	out := filepath.Join(dir, "out")
	res, err := Transcode(context.Background(), testConfig(), src, nil, out, prog.add)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	prog.check(t)
	if res.HasVideo || !res.HasAudio || res.Poster != "" || len(res.Renditions) != 1 || res.Renditions[0].Codecs != "mp4a.40.2" {
		t.Fatalf("result = %+v", res)
	}
	master := readMaster(t, out)
	if len(master.Variants) != 1 || master.Variants[0].Codecs != "mp4a.40.2" || master.Variants[0].Resolution != "" {
		t.Fatalf("audio-only master:\n%s", master)
	}
	checkOutputs(t, out, res, 5)
}

func TestTranscodeVideoOnlyPortrait(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	// Stored 640x360 with a 90° display rotation: a phone held upright.
	src := makeClip(t, dir, "phone", clipOpts{w: 640, h: 360, seconds: 3, video: true, rotate: 90})
	out := filepath.Join(dir, "out")
	res, err := Transcode(context.Background(), testConfig(), src, nil, out, nil)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	master := readMaster(t, out)
	want := []string{"360x640", "240x426"}
	if len(master.Variants) != len(want) {
		t.Fatalf("master:\n%s", master)
	}
	for i, v := range master.Variants {
		if v.Resolution != want[i] || v.Audio != "" || len(v.Alternatives) != 0 || strings.Contains(v.Codecs, "mp4a") {
			t.Errorf("variant %d: %+v", i, v.VariantParams)
		}
	}
	if res.HasAudio || res.Renditions[0].Name != "360p" {
		t.Errorf("result = %+v", res)
	}
	if w, h, _ := posterStats(t, filepath.Join(out, res.Poster)); w != 360 || h != 640 {
		t.Errorf("poster %dx%d, want upright 360x640", w, h)
	}
	checkOutputs(t, out, res, 3)
}

func TestTranscodeRefusesNonEmptyOutDir(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	src := makeClip(t, dir, "src", clipOpts{w: 160, h: 90, seconds: 1, video: true})
	if _, err := Transcode(context.Background(), testConfig(), src, nil, dir, nil); err == nil || IsInputError(err) {
		t.Fatalf("got %v, want an ordinary error for a non-empty output directory", err)
	}
}

// fakeFFmpeg writes a wrapper that runs the real ffmpeg as a child (not
// exec), recording both pids, so tests can check the whole process group
// dies.
func fakeFFmpeg(t *testing.T, dir string) (bin, pidFile string) {
	t.Helper()
	real, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	pidFile = filepath.Join(dir, "pids")
	bin = filepath.Join(dir, "ffmpeg-wrapper")
	script := "#!/bin/sh\n" + real + " \"$@\" &\necho $$ $! > " + pidFile + ".tmp && mv " + pidFile + ".tmp " + pidFile + "\nwait $!\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, pidFile
}

func readPids(t *testing.T, pidFile string) []int {
	t.Helper()
	var pids []int
	for _, f := range strings.Fields(string(mustRead(t, pidFile))) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, n)
	}
	return pids
}

func TestTranscodeCancelAndTimeoutKillFFmpeg(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	// Long enough that it cannot finish during the test on a slow machine.
	src := makeClip(t, dir, "long", clipOpts{w: 320, h: 180, seconds: 120, fps: 10, video: true, audio: true})
	p, err := ProbeFile(context.Background(), testConfig(), src)
	if err != nil {
		t.Fatal(err)
	}
	bin, pidFile := fakeFFmpeg(t, dir)
	cfg := testConfig()
	cfg.FFmpeg = bin
	cfg.Preset = "veryslow"

	t.Run("cancel", func(t *testing.T) {
		os.Remove(pidFile)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		started := make(chan struct{})
		var once sync.Once
		errc := make(chan error, 1)
		go func() {
			_, err := Transcode(ctx, cfg, src, p, filepath.Join(dir, "out-cancel"), func(float64) { once.Do(func() { close(started) }) })
			errc <- err
		}()
		select {
		case <-started:
		case err := <-errc:
			t.Fatalf("Transcode ended before it was cancelled: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("no progress within 30 s")
		}
		pids := readPids(t, pidFile)
		t0 := time.Now()
		cancel()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) || IsInputError(err) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Transcode did not return within 10 s of cancel")
		}
		if el := time.Since(t0); el > 3*time.Second {
			t.Errorf("returned %v after cancel", el)
		}
		for _, pid := range pids {
			waitFor(t, 5*time.Second, "pid "+strconv.Itoa(pid)+" to die", func() bool { return processGone(pid) })
		}
	})

	t.Run("timeout", func(t *testing.T) {
		os.Remove(pidFile)
		tcfg := cfg
		tcfg.TimeoutBase = 1500 * time.Millisecond
		tcfg.TimeoutPerSecond = 0
		t0 := time.Now()
		_, err := Transcode(context.Background(), tcfg, src, p, filepath.Join(dir, "out-timeout"), nil)
		if !errors.Is(err, errDeadline) || IsInputError(err) {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if el := time.Since(t0); el > 8*time.Second {
			t.Errorf("timeout of 1.5 s returned after %v", el)
		}
		for _, pid := range readPids(t, pidFile) {
			waitFor(t, 5*time.Second, "pid "+strconv.Itoa(pid)+" to die", func() bool { return processGone(pid) })
		}
	})
}
