package transcode

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
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

// Without CAP_SYS_ADMIN the run must still work, on the host network,
// with one warning however many runs there are. The test binary re-runs
// itself (TestRunFallbackChild) as root with CAP_SYS_ADMIN dropped from
// its bounding set, which is what a container without that capability is.
func TestRunFallsBackWithoutNamespacePrivilege(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux to drop the capability")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, setpriv, "--bounding-set=-sys_admin", "--",
		os.Args[0], "-test.run=^TestRunFallbackChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "STRATA_TEST_NETNS_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestRunFallbackChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func TestRunFallbackChild(t *testing.T) {
	if os.Getenv("STRATA_TEST_NETNS_CHILD") == "" {
		t.Skip("run by TestRunFallsBackWithoutNamespacePrivilege")
	}
	var logs syncBuffer
	cfg := testConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	host := string(mustRead(t, "/proc/net/dev"))
	for i := 0; i < 3; i++ {
		// Same interfaces (the counters differ from read to read).
		if got := runOut(t, cfg, "cat", "/proc/net/dev"); strings.Count(got, "\n") != strings.Count(host, "\n") {
			t.Fatalf("run %d: child sees\n%s\nhost has\n%s", i, got, host)
		}
	}
	if n := strings.Count(logs.String(), "cannot create a network namespace"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs.String())
	}
	t.Logf("logged: %s", logs.String())
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
