package cluster

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPlanRuntimeByRolesEnvironmentWins(t *testing.T) {
	noCgroup := func() (int64, bool) { return 0, false }
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	cases := []struct {
		name   string
		roles  []string
		env    map[string]string
		cgroup func() (int64, bool)
		want   runtimePlan
	}{
		{"origin", []string{"origin"}, nil, noCgroup, runtimePlan{percent: gcPercentLean, limit: math.MaxInt64, procsFactor: 1}},
		{"edge keeps its tier at most twice, and gets more Ps", []string{"edge"}, nil, noCgroup, runtimePlan{percent: 100, limit: math.MaxInt64, procsFactor: procsFactorEdge}},
		{"all in one has an edge tier, and an origin's Ps", []string{"edge", "origin"}, nil, noCgroup, runtimePlan{percent: 100, limit: math.MaxInt64, procsFactor: 1}},
		{"GOGC set", []string{"origin"}, map[string]string{"GOGC": "50"}, noCgroup, runtimePlan{limit: math.MaxInt64, procsFactor: 1}},
		{"GOMAXPROCS set", []string{"edge"}, map[string]string{"GOMAXPROCS": "3"}, noCgroup, runtimePlan{percent: 100, limit: math.MaxInt64}},
		{"in a container", []string{"origin"}, nil, func() (int64, bool) { return 1000, true }, runtimePlan{percent: gcPercentLean, limit: 900, procsFactor: 1}},
		{"GOMEMLIMIT set", []string{"origin"}, map[string]string{"GOMEMLIMIT": "1GiB"}, func() (int64, bool) { return 1000, true }, runtimePlan{percent: gcPercentLean, procsFactor: 1}},
	}
	for _, c := range cases {
		if got := planRuntime(c.roles, env(c.env), c.cgroup); got != c.want {
			t.Errorf("%s: plan %+v, want %+v", c.name, got, c.want)
		}
	}
}

// A reload that changes the roles must bring the settings back to the
// defaults, and zero fields must leave the runtime alone.
func TestApplyRuntimeSetsAndRestores(t *testing.T) {
	before := debug.SetGCPercent(100)
	beforeLimit := debug.SetMemoryLimit(math.MaxInt64)
	beforeProcs := runtime.GOMAXPROCS(0)
	t.Cleanup(func() {
		debug.SetGCPercent(before)
		debug.SetMemoryLimit(beforeLimit)
		runtime.GOMAXPROCS(beforeProcs)
		procsBase.Store(0)
	})
	procs := runtime.GOMAXPROCS(0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	applyRuntime(runtimePlan{percent: gcPercentLean, limit: 8 << 30, procsFactor: procsFactorEdge}, log)
	if got := debug.SetGCPercent(-1); got != gcPercentLean {
		t.Fatalf("GOGC %d, want %d", got, gcPercentLean)
	}
	debug.SetGCPercent(gcPercentLean)
	if got := debug.SetMemoryLimit(-1); got != 8<<30 {
		t.Fatalf("memory limit %d, want %d", got, int64(8<<30))
	}
	if got := runtime.GOMAXPROCS(0); got != procs*procsFactorEdge {
		t.Fatalf("GOMAXPROCS %d, want %d", got, procs*procsFactorEdge)
	}
	applyRuntime(runtimePlan{}, log)
	if got := runtime.GOMAXPROCS(0); got != procs*procsFactorEdge {
		t.Fatalf("an empty plan changed GOMAXPROCS to %d", got)
	}
	applyRuntime(runtimePlan{procsFactor: procsFactorEdge}, log) // a reload with the same roles
	if got := runtime.GOMAXPROCS(0); got != procs*procsFactorEdge {
		t.Fatalf("GOMAXPROCS %d after a second start as an edge, want %d (not raised twice)", got, procs*procsFactorEdge)
	}
	if got := debug.SetGCPercent(-1); got != gcPercentLean {
		t.Fatalf("an empty plan changed GOGC to %d", got)
	}
	debug.SetGCPercent(gcPercentLean)
	applyRuntime(runtimePlan{percent: 100, limit: math.MaxInt64, procsFactor: 1}, log)
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Fatalf("GOGC %d after an edge joined the roles, want 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("memory limit %d, want none", got)
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Fatalf("GOMAXPROCS %d after an origin joined the roles, want the default %d", got, procs)
	}
}

func TestCgroupLimitOf(t *testing.T) {
	files := map[string]string{
		"/sys/fs/cgroup/kubepods/pod1/memory.max":                   "536870912\n",
		"/sys/fs/cgroup/unlimited/memory.max":                       "max\n",
		"/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes":    "268435456\n",
		"/sys/fs/cgroup/memory/process_api/x/memory.limit_in_bytes": "9223372036854771712\n",
	}
	read := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, errors.New("no such file")
	}
	cases := []struct {
		self string
		want int64
		ok   bool
	}{
		{"0::/kubepods/pod1\n", 536870912, true},
		{"0::/unlimited\n", 0, false},
		{"0::/\n", 0, false}, // no memory.max at the root
		{"12:memory:/docker/abc\n1:cpu:/\n0::/\n", 268435456, true},
		{"4:memory:/process_api/x\n0::/\n", 0, false}, // v1's "no limit"
		{"4:cpu,cpuacct:/\n", 0, false},
		{"garbage", 0, false},
	}
	for _, c := range cases {
		got, ok := cgroupLimitOf([]byte(c.self), read)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %d, %v; want %d, %v", c.self, got, ok, c.want, c.ok)
		}
	}
}
