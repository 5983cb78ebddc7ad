package cluster

import (
	"bufio"
	"bytes"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// gcPercentLean is the collector's target (GOGC) on a node whose heap holds
// no media: an origin's heap is its working set (requests, commands, the
// search index's batches), small beside the machine, and collecting it half
// as often halves what the collector costs. In bench-cluster's CPU
// profiles at 16 writers the collector's share of the three nodes' CPU
// fell from 8.6 % to 4.5 %, and CPU per write by 3.5 %; a gain that size
// is below what the write rates of A/Bs on this machine can show.
//
// An edge keeps its memory tier in the heap. There the target stays Go's
// default (100): at 200 the heap could reach three times the tier the
// operator sized, not two.
const gcPercentLean = 200

// cgroupShare is the part of a cgroup's memory limit given to the Go heap
// as its soft limit: the rest is for what the runtime does not count
// (stacks of threads in syscalls, ffmpeg's pipes, the kernel's buffers).
const cgroupShare = 0.9

// procsFactorEdge multiplies the GOMAXPROCS the process started with on a
// node that is only an edge. An edge spends most of its time in system calls
// that do the kernel's work for a response (a writev or sendfile on
// loopback also runs the receiver's side), and Go counts a P as busy
// through such a call until sysmon takes it back, so with one P per core
// ready connections wait while a core is free. With twice as many the edge
// answered about 10 % more requests per second: bench-edge's hot segment,
// 64 KB object and round-robin cases, 16 alternating pairs, 14 won, paired
// medians 1.11, 1.10 and 1.07. Origins are left at the default: three
// cluster nodes on two cores with four Ps each wrote 0.63× as fast at one
// writer.
const procsFactorEdge = 2

// runtimePlan is what a node sets in the runtime. Zero fields leave a
// setting as the environment made it.
type runtimePlan struct {
	percent int
	limit   int64
	// procsFactor: 1 is the GOMAXPROCS the process started with, 2 twice it.
	procsFactor int
}

// planRuntime decides the collector's and the scheduler's settings for a
// node with these roles. GOGC, GOMEMLIMIT and GOMAXPROCS in the
// environment win: an operator who set them knows the machine. Without
// GOMEMLIMIT, a node in a cgroup with a memory limit (a container)
// collects harder as it nears the limit rather than being killed at it.
func planRuntime(roles []string, getenv func(string) string, cgroupLimit func() (int64, bool)) runtimePlan {
	var p runtimePlan
	edge := slices.Contains(roles, "edge")
	if getenv("GOGC") == "" {
		p.percent = gcPercentLean
		if edge {
			p.percent = 100
		}
	}
	if getenv("GOMEMLIMIT") == "" {
		p.limit = math.MaxInt64 // Go's default: no limit
		if max, ok := cgroupLimit(); ok {
			p.limit = int64(float64(max) * cgroupShare)
		}
	}
	if getenv("GOMAXPROCS") == "" {
		p.procsFactor = 1
		if edge && len(roles) == 1 {
			p.procsFactor = procsFactorEdge
		}
	}
	return p
}

// applyRuntime sets the plan in the runtime. Roles change on a config
// reload, so every start applies its own plan, including a return to the
// defaults.
func applyRuntime(p runtimePlan, log *slog.Logger) {
	if p.percent != 0 {
		if old := debug.SetGCPercent(p.percent); old != p.percent {
			log.Info("garbage collector target set", "gogc", p.percent, "was", old)
		}
	}
	if p.limit != 0 {
		if old := debug.SetMemoryLimit(p.limit); old != p.limit && p.limit != math.MaxInt64 {
			log.Info("garbage collector soft memory limit set from the cgroup", "bytes", p.limit)
		}
	}
	if p.procsFactor != 0 {
		// The base is what the process started with (Caddy sets it from
		// the cgroup's CPU quota), remembered while it is raised.
		old := runtime.GOMAXPROCS(0)
		base := old
		if b := procsBase.Load(); b != 0 {
			base = int(b)
		}
		if want := base * p.procsFactor; want != old {
			runtime.GOMAXPROCS(want)
			log.Info("scheduler's GOMAXPROCS set", "gomaxprocs", want, "was", old)
		}
		if p.procsFactor > 1 {
			procsBase.Store(int64(base))
		} else {
			procsBase.Store(0)
		}
	}
}

// procsBase is GOMAXPROCS before applyRuntime raised it; 0 while it is not
// raised.
var procsBase atomic.Int64

// cgroupMemoryMax is the memory limit of this process's cgroup, if it
// has one.
func cgroupMemoryMax() (int64, bool) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	return cgroupLimitOf(self, os.ReadFile)
}

// cgroupLimitOf finds the memory limit of the group /proc/self/cgroup
// names: cgroup v2 ("0::/path", its memory.max, "max" for none), else
// v1's memory controller ("N:memory:/path", memory.limit_in_bytes, where
// "none" is a number near 2^63).
func cgroupLimitOf(self []byte, read func(path string) ([]byte, error)) (int64, bool) {
	var file string
	sc := bufio.NewScanner(bytes.NewReader(self))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		rel := filepath.Clean("/" + parts[2])
		switch {
		case parts[0] == "0" && parts[1] == "":
			if file == "" {
				file = filepath.Join("/sys/fs/cgroup", rel, "memory.max")
			}
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			file = filepath.Join("/sys/fs/cgroup/memory", rel, "memory.limit_in_bytes")
		}
	}
	if file == "" {
		return 0, false
	}
	raw, err := read(file)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0, false // "max", or v1's "no limit"
	}
	return n, true
}
