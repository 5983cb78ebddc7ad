package transcode

import (
	"errors"
	"fmt"
	"math"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Containment of ffmpeg and ffprobe. Every run gets, besides its own
// process group and the wall-clock timeout (run.go, proc_*.go):
//
//   - RLIMIT_AS (Config.MemoryLimit), so a decoder told to allocate a
//     huge frame fails with ENOMEM instead of taking the node down;
//   - RLIMIT_CPU scaled to the timeout, a second line behind the
//     wall-clock kill that holds even if this process is wedged or gone;
//   - RLIMIT_CORE 0, so a crash on a hostile file leaves no core dump of
//     the decoder's memory (or the disk full of them);
//   - a lower priority (Config.Nice);
//   - no network: a new, empty network namespace (Config.IsolateNetwork).
//
// Go's os/exec has no field for resource limits. The options were:
//
//   - Setrlimit in this process around fork: the limits are process-wide,
//     so for that moment every goroutine of the node runs under them (an
//     address-space limit far below what the Go heap has mapped makes its
//     allocations fail), RLIMIT_CPU counts the CPU the node has used since
//     it started (a long-running node would get SIGXCPU at once), and two
//     runs starting together race on the one process-wide value.
//   - syscall.Prlimit on the child right after Start: Start returns only
//     after the child has exec'd, so ffmpeg runs unlimited for a moment
//     (opening and probing the input, the very code a hostile file
//     targets), and threads it made before the call keep its old nice.
//   - util-linux's prlimit(1) (and coreutils' nice(1)) in front of the
//     tool: each sets the limit on itself and then execs the next, so the
//     limits hold from the tool's first instruction, and the pid stays the
//     same through the execs, so the process-group kill is unchanged.
//
// We use the wrappers; both are part of every Debian/Ubuntu base system.
// Where one is missing the run goes ahead without what it provides, and
// one warning is logged per process.

// minMemoryLimit is the smallest MemoryLimit Validate accepts: ffmpeg with
// its libraries and threads maps a few hundred MB before it reads a byte.
const minMemoryLimit = 256 << 20

// cpuSlack is added to the CPU-time limit so it never fires before the
// wall-clock timeout on a run that uses every core.
const cpuSlack = 10 * time.Second

// errMemoryLimit and errCPULimit are wrapped by run's error when a tool
// was stopped by its resource limits.
var (
	errMemoryLimit = errors.New("memory limit exceeded")
	errCPULimit    = errors.New("CPU time limit exceeded")
)

// hostFacts are facts about the host, learnt at the first run and shared
// by every Config: whether this process may create network namespaces,
// and which warnings were logged. They are package state on purpose: they
// describe the process's privileges, not a configuration.
var hostFacts struct {
	netnsDenied atomic.Bool
	warnNetns   sync.Once
	warnPrlimit sync.Once
	warnNice    sync.Once
}

// limits is what one run is allowed.
type limits struct {
	memory     int64 // RLIMIT_AS in bytes, 0 for none
	cpuSeconds int64 // RLIMIT_CPU soft limit; the hard limit is 5 s above
	nice       int
	isolateNet bool
}

// limitsFor derives a run's limits from cfg and its wall-clock timeout.
// RLIMIT_CPU counts the CPU time of all threads, and ffmpeg keeps every
// core busy, so the limit is the timeout times the number of CPUs: only a
// run that outlives its wall-clock limit (a node too wedged to kill it)
// reaches it.
func limitsFor(cfg Config, timeout time.Duration) limits {
	cpu := timeout.Seconds()*float64(runtime.NumCPU()) + cpuSlack.Seconds()
	return limits{
		memory:     cfg.MemoryLimit,
		cpuSeconds: int64(math.Ceil(cpu)),
		nice:       cfg.Nice,
		isolateNet: cfg.IsolateNetwork,
	}
}

// containedCommand returns the command line that runs bin with args under
// lim: [prlimit … --] [nice -n N --] bin args…
func containedCommand(cfg Config, bin string, args []string, lim limits) (string, []string) {
	var argv []string
	if p, err := exec.LookPath("prlimit"); err == nil {
		argv = append(argv, p,
			"--cpu="+strconv.FormatInt(lim.cpuSeconds, 10)+":"+strconv.FormatInt(lim.cpuSeconds+5, 10),
			"--core=0")
		if lim.memory > 0 {
			argv = append(argv, "--as="+strconv.FormatInt(lim.memory, 10))
		}
		argv = append(argv, "--")
	} else {
		hostFacts.warnPrlimit.Do(func() {
			cfg.logger().Warn("transcode: prlimit (util-linux) not found: ffmpeg and ffprobe run without memory and CPU-time limits")
		})
	}
	if lim.nice > 0 {
		if p, err := exec.LookPath("nice"); err == nil {
			argv = append(argv, p, "-n", strconv.Itoa(lim.nice), "--")
		} else {
			hostFacts.warnNice.Do(func() {
				cfg.logger().Warn("transcode: nice (coreutils) not found: ffmpeg and ffprobe run at normal priority")
			})
		}
	}
	argv = append(argv, bin)
	argv = append(argv, args...)
	return argv[0], argv[1:]
}

// startContained starts bin under lim in its own process group. When the
// network namespace cannot be created (no CAP_SYS_ADMIN: a rootless
// container, a developer's machine) it logs that once and starts the
// tool without one; every later run skips the attempt.
func startContained(cfg Config, bin string, args []string, lim limits, build func(name string, argv []string) *exec.Cmd) (*exec.Cmd, error) {
	name, argv := containedCommand(cfg, bin, args, lim)
	isolate := lim.isolateNet && canIsolateNetwork && !hostFacts.netnsDenied.Load()
	cmd := build(name, argv)
	inOwnProcessGroup(cmd)
	if isolate {
		isolateNetwork(cmd)
	}
	err := cmd.Start()
	if err == nil || !isolate || !namespaceDenied(err) {
		return cmd, err
	}
	hostFacts.netnsDenied.Store(true)
	hostFacts.warnNetns.Do(func() {
		cfg.logger().Warn("transcode: cannot create a network namespace (needs CAP_SYS_ADMIN): ffmpeg and ffprobe run with the host's network",
			"err", err)
	})
	// A Cmd whose Start failed cannot be started again; nothing ran.
	cmd = build(name, argv)
	inOwnProcessGroup(cmd)
	return cmd, cmd.Start()
}

// limitFailure explains a failed (or falsely successful) run by the
// limits it ran under, or returns nil. ffmpeg 5.1 reports an allocation
// failure in a filter ("Error while filtering: Cannot allocate memory")
// and still exits 0, so stderr is read even after a clean exit.
func limitFailure(lim limits, stderr []string, ee *exec.ExitError) error {
	for _, l := range stderr {
		if containsAny(l, "Cannot allocate memory", "Out of memory", "out of memory", "std::bad_alloc", "malloc of size") {
			return fmt.Errorf("ran out of memory%s: %w", memoryNote(lim), errMemoryLimit)
		}
	}
	if ee == nil {
		return nil
	}
	switch sig := exitSignal(ee); {
	case sig == "SIGXCPU" || (sig == "SIGKILL" && lim.cpuSeconds > 0 && cpuUsed(ee) >= lim.cpuSeconds):
		return fmt.Errorf("used more than %d s of CPU time: %w", lim.cpuSeconds, errCPULimit)
	case lim.memory > 0 && (sig == "SIGSEGV" || sig == "SIGABRT" || sig == "SIGBUS"):
		// A failed allocation that the code did not check ends this way.
		return fmt.Errorf("crashed (%s), most likely out of memory%s: %w", sig, memoryNote(lim), errMemoryLimit)
	}
	return nil
}

func memoryNote(lim limits) string {
	if lim.memory <= 0 {
		return ""
	}
	return fmt.Sprintf(" under its %d MiB address-space limit", lim.memory>>20)
}

func cpuUsed(ee *exec.ExitError) int64 {
	return int64((ee.UserTime() + ee.SystemTime()).Seconds())
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
