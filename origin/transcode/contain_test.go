package transcode

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runOut runs bin through run (the launcher every ffmpeg and ffprobe run
// uses) and returns its stdout.
func runOut(t *testing.T, cfg Config, bin string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if _, err := run(context.Background(), cfg, bin, args, 10*time.Second, &out); err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	return out.String()
}

func TestRunHasNoNetwork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("network namespaces are Linux-only")
	}
	cfg := testConfig()
	// /proc/net/dev lists the interfaces of the reader's own namespace.
	ifaces := func(dev string) []string {
		var names []string
		for _, l := range strings.Split(dev, "\n") {
			if name, _, ok := strings.Cut(l, ":"); ok && !strings.Contains(name, "|") {
				names = append(names, strings.TrimSpace(name))
			}
		}
		return names
	}
	host := ifaces(string(mustRead(t, "/proc/net/dev")))
	got := ifaces(runOut(t, cfg, "cat", "/proc/net/dev"))
	if os.Geteuid() != 0 {
		t.Logf("not root: the run falls back to the host network (%v)", got)
		return
	}
	if len(got) != 1 || got[0] != "lo" {
		t.Fatalf("child sees interfaces %v, want only lo (host has %v)", got, host)
	}

	cfg.IsolateNetwork = false
	if got := ifaces(runOut(t, cfg, "cat", "/proc/net/dev")); len(got) != len(host) {
		t.Errorf("IsolateNetwork=false: child sees %v, host %v", got, host)
	}
}

func TestRunLimitsHoldInChild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	cfg := testConfig()
	cfg.MemoryLimit = 1 << 30
	cfg.Nice = 7
	// The shell is the wrapped tool: what it sees from its first
	// instruction is what ffmpeg would see.
	out := runOut(t, cfg, "sh", "-c", `grep -E "^Max (cpu time|address space|core file size)" /proc/self/limits; echo nice $(cut -d" " -f19 /proc/self/stat)`)
	wantCPU := strconv.Itoa(10*runtime.NumCPU()+10) + " "
	for _, want := range []string{
		"Max cpu time              " + wantCPU,
		"Max address space         1073741824           1073741824",
		"Max core file size        0                    0",
		"nice 7",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("child limits lack %q:\n%s", want, out)
		}
	}
}

func TestRunMemoryLimitFailsClearly(t *testing.T) {
	requireFFmpeg(t)
	cfg := testConfig()
	cfg.MemoryLimit = 1 << 30
	// 30 RGBA frames of 4096x4096 held by reverse: about 2 GiB.
	args := []string{"-nostdin", "-hide_banner", "-v", "error",
		"-filter_complex", "color=s=4096x4096:r=10:d=3,format=rgba,hflip,reverse", "-f", "null", "-"}
	start := time.Now()
	_, err := run(context.Background(), cfg, cfg.FFmpeg, args, 30*time.Second, nil)
	if !errors.Is(err, errMemoryLimit) {
		t.Fatalf("err = %v, want errMemoryLimit", err)
	}
	t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if !strings.Contains(err.Error(), "ran out of memory under its 1024 MiB address-space limit") {
		t.Errorf("error does not say what happened: %v", err)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("took %v", el)
	}

	// The same run without a limit would succeed; 2 GiB is too much for
	// CI, so only its first frames are checked to work.
	cfg.MemoryLimit = 0
	args = []string{"-nostdin", "-hide_banner", "-v", "error",
		"-filter_complex", "color=s=4096x4096:r=10:d=0.3,format=rgba,hflip,reverse", "-f", "null", "-"}
	if _, err := run(context.Background(), cfg, cfg.FFmpeg, args, 30*time.Second, nil); err != nil {
		t.Fatalf("without a limit: %v", err)
	}
}

func TestLimitFailure(t *testing.T) {
	lim := limits{memory: 1 << 30, cpuSeconds: 100}
	if err := limitFailure(lim, []string{"Error while filtering: Cannot allocate memory"}, nil); !errors.Is(err, errMemoryLimit) {
		t.Errorf("ENOMEM in stderr after exit 0: %v", err)
	}
	if err := limitFailure(lim, []string{"[h264 @ 0x1] no frame!"}, nil); err != nil {
		t.Errorf("ordinary output: %v", err)
	}
}
