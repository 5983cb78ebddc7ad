//go:build linux

package transcode

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestAV1Cost measures what ExtraCodecs ["av1"] at DefaultAV1 adds to the
// default ladder on a 60 s 1920x1080 30 fps phone-like source (testsrc2
// with temporal grain at 16 Mbit/s, as deploy/bench/transcode's "phone").
// It takes many minutes, so it runs only with STRATA_AV1_COST set; numbers
// go to the log. When STRATA_AV1_COST names a directory, the source is
// kept there and reused.
func TestAV1Cost(t *testing.T) {
	env := os.Getenv("STRATA_AV1_COST")
	if env == "" {
		t.Skip("set STRATA_AV1_COST=1 (or a directory to keep the source in) to measure")
	}
	requireFFmpeg(t)
	dir := t.TempDir()
	srcDir := dir
	if st, err := os.Stat(env); err == nil && st.IsDir() {
		srcDir = env
	}
	src := filepath.Join(srcDir, "phone60.mp4")
	if _, err := os.Stat(src); err == nil {
		t.Logf("reusing %s", src)
	} else if b, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=60,noise=alls=4:allf=t",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=60",
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-b:v", "16M", "-pix_fmt", "yuv420p",
		"-c:a", "aac", src).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	for _, extra := range [][]string{nil, {CodecAV1}} {
		cfg := DefaultConfig()
		cfg.ExtraCodecs = extra
		var res *Result
		c := childCost(t, func() {
			var err error
			if res, err = Transcode(context.Background(), cfg, src, nil, filepath.Join(dir, "out"+filepath.Base(src)+string(rune('a'+len(extra)))), nil); err != nil {
				t.Fatal(err)
			}
		})
		var kbps []int
		for _, r := range res.Renditions {
			kbps = append(kbps, r.AverageBandwidth/1000)
		}
		t.Logf("extra codecs %v: %s; renditions %d, average kbit/s %v", extra, c, len(res.Renditions), kbps)
	}
}
