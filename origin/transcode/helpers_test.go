package transcode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Test media is generated with ffmpeg's lavfi sources at test time and
// never committed.

// requireFFmpeg skips when ffmpeg/ffprobe are not installed.
func requireFFmpeg(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
}

// testConfig is DefaultConfig made cheap: content does not matter in tests.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Preset = "ultrafast"
	return cfg
}

type clipOpts struct {
	w, h      int
	seconds   float64
	fps       int
	audio     bool
	video     bool
	rotate    int    // rotate tag written to the container
	ext       string // "mp4" by default
	fadeIn    bool   // start from black
	faststart bool
	extra     []string // more output options
}

// makeClip writes a test clip into dir and returns its path.
func makeClip(t *testing.T, dir, name string, o clipOpts) string {
	t.Helper()
	if o.fps == 0 {
		o.fps = 30
	}
	if o.ext == "" {
		o.ext = "mp4"
	}
	out := filepath.Join(dir, name+"."+o.ext)
	args := []string{"-nostdin", "-hide_banner", "-v", "error", "-y"}
	dur := strconv.FormatFloat(o.seconds, 'f', 3, 64)
	if o.video {
		src := fmt.Sprintf("testsrc2=size=%dx%d:rate=%d:duration=%s", o.w, o.h, o.fps, dur)
		if o.fadeIn {
			src += ",fade=in:st=0:d=0.3"
		}
		args = append(args, "-f", "lavfi", "-i", src)
	}
	if o.audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration="+dur)
	}
	if o.video {
		args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	}
	if o.audio {
		if o.ext == "mp3" {
			args = append(args, "-c:a", "libmp3lame")
		} else {
			args = append(args, "-c:a", "aac")
		}
	}
	if o.faststart {
		args = append(args, "-movflags", "+faststart")
	}
	args = append(args, o.extra...)
	args = append(args, out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("making %s: %v\n%s", name, err, b)
	}
	if o.rotate != 0 {
		// ffmpeg 5.1 honours the legacy rotate tag only when remuxing; it
		// becomes a display matrix like a phone writes.
		rot := filepath.Join(dir, name+"-rot."+o.ext)
		b, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", out, "-c", "copy",
			"-metadata:s:v:0", "rotate="+strconv.Itoa(o.rotate), rot).CombinedOutput()
		if err != nil {
			t.Fatalf("rotating %s: %v\n%s", name, err, b)
		}
		return rot
	}
	return out
}

// ffprobeDuration decodes a manifest (or any input) with only the file
// protocol allowed and returns its duration as ffprobe reports it after
// reading every packet.
func ffprobeDuration(t *testing.T, path string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-protocol_whitelist", "file",
		"-show_entries", "format=duration", "-of", "default=nw=1:nk=1", path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe %s duration %q: %v", path, out, err)
	}
	return d
}

// decodeAll runs ffmpeg over path, decoding every stream, and fails the
// test on any decode error.
func decodeAll(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-protocol_whitelist", "file",
		"-i", path, "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("decoding %s: %v\n%s", path, err, out)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", within, what)
		case <-tick.C:
		}
	}
}

// processGone reports whether pid no longer runs (absent or a zombie
// waiting for a reaper).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// Format: pid (comm) state ...; comm may contain spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}
