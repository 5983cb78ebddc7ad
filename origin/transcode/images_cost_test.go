//go:build linux

package transcode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestImagesCost measures Images on a 60 s 1920x1080 30 fps source against
// a plain decode of it. It takes minutes (making the source is most of
// it), so it runs only with STRATA_IMAGES_COST set; numbers go to the log.
// When STRATA_IMAGES_COST names a directory, the sources are kept there
// and reused by the next run.
func TestImagesCost(t *testing.T) {
	env := os.Getenv("STRATA_IMAGES_COST")
	if env == "" {
		t.Skip("set STRATA_IMAGES_COST=1 (or a directory to keep the sources in) to measure")
	}
	requireFFmpeg(t)
	dir := t.TempDir()
	srcDir := dir
	if st, err := os.Stat(env); err == nil && st.IsDir() {
		srcDir = env
	}
	for _, gop := range []string{"60", "250"} {
		src := filepath.Join(srcDir, "src"+gop+".mp4")
		if _, err := os.Stat(src); err == nil {
			t.Logf("reusing %s", src)
		} else if b, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
			"-i", "testsrc2=size=1920x1080:rate=30:duration=60", "-c:v", "libx264", "-preset", "veryfast",
			"-g", gop, "-pix_fmt", "yuv420p", src).CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		decode := childCost(t, func() {
			if b, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", src, "-f", "null", "-").CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
		})
		var set *ImageSet
		images := childCost(t, func() {
			var err error
			if set, err = Images(context.Background(), DefaultConfig(), src, nil, filepath.Join(dir, "out"+gop)); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("GOP %s frames: decode %s; Images %s (storyboard keyframes only: %v, %d tiles)",
			gop, decode, images, set.Storyboard.KeyframesOnly, set.Storyboard.Tiles)
	}
}

type cost struct{ wall, user, sys time.Duration }

func (c cost) String() string {
	return fmt.Sprintf("wall %.2fs user %.2fs sys %.2fs", c.wall.Seconds(), c.user.Seconds(), c.sys.Seconds())
}

// childCost measures f's wall time and the CPU time of the processes it
// ran and waited for.
func childCost(t *testing.T, f func()) cost {
	t.Helper()
	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &before); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f()
	wall := time.Since(start)
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &after); err != nil {
		t.Fatal(err)
	}
	tv := func(a, b syscall.Timeval) time.Duration {
		return time.Duration(a.Nano() - b.Nano())
	}
	return cost{wall: wall, user: tv(after.Utime, before.Utime), sys: tv(after.Stime, before.Stime)}
}
