// Command search-bench measures Strata's search against PostgreSQL
// searching the way PeerTube does, on the same generated corpus
// (cluster/index/corpus).
//
// The default (-mode compare) indexes the videos into a real single-node
// Strata cluster through its Raft log and queries it through its HTTP API
// (origin/api, served by Caddy in this process), then loads the same
// videos into a PostgreSQL it starts itself, with PeerTube's trigram index,
// and runs the same query mix through a Go driver. It prints build times,
// latency percentiles, throughput at 1 and 4 clients and typo recall, as
// medians over -repeat runs, because the machines it runs on are shared.
//
// -mode index is the older study that chose the index mapping: build time
// and size of several Bleve mappings and the latency of each kind of query
// on the index itself.
//
// Run it with `go run ./deploy/bench/search` (or `make bench-search`) from
// the repository root; see README.md for the method and the figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/stratavideo/strata/cluster/index/corpus"
)

type options struct {
	mode string
	n    int
	seed uint64
	work string
	keep bool

	// compare
	repeat  int
	queries int
	warmup  int
	clients string
	writers int
	systems string
	pgBin   string
	plan    bool

	// index
	runs      int
	variants  string
	relevance string
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "compare", "compare: Strata over HTTP against PostgreSQL searching like PeerTube; index: the index-only study of mappings and query kinds")
	flag.IntVar(&o.n, "n", 100_000, "videos in the generated corpus")
	flag.Uint64Var(&o.seed, "seed", 1, "corpus and query mix seed")
	flag.StringVar(&o.work, "work", "", "work directory (default: a new temporary directory, removed at the end)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")

	flag.IntVar(&o.repeat, "repeat", 3, "compare: build and query everything this many times; medians are reported")
	flag.IntVar(&o.queries, "queries", 1000, "compare: queries timed per system and number of clients")
	flag.IntVar(&o.warmup, "warmup", 200, "compare: queries run before timing, per system and repeat")
	flag.StringVar(&o.clients, "clients", "1,4", "compare: numbers of concurrent clients")
	flag.IntVar(&o.writers, "writers", 128, "compare: concurrent writers applying the videos to Strata (Raft batches what arrives together)")
	flag.StringVar(&o.systems, "systems", "strata,postgres", "compare: systems to measure")
	flag.StringVar(&o.pgBin, "pg-bin", "", "compare: PostgreSQL's bin directory (default: the newest /usr/lib/postgresql/*/bin, installed with apt-get if missing)")

	flag.BoolVar(&o.plan, "plan", false, "compare: print PostgreSQL's plan of the first query (EXPLAIN ANALYZE)")
	flag.IntVar(&o.runs, "runs", 2000, "index: queries timed per kind")
	flag.StringVar(&o.variants, "variants", "strata,stored,positions,lean-v1,default", "index: mappings to build: strata (ours), stored (ours plus stored title and description with term vectors, what Bleve's highlighter needs), positions (ours plus term vectors on title and description, what phrase queries on them need), lean-v1 (the mapping before issue 8), default (Bleve's default mapping of our documents)")
	flag.StringVar(&o.relevance, "relevance", "cluster/index/testdata/relevance.json", "index: the relevance set, whose queries are timed")
	flag.Parse()

	// Interrupting stops PostgreSQL and the node cleanly instead of
	// leaving a server running on a shared machine.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-search:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.mode != "compare" && o.mode != "index" {
		return fmt.Errorf("unknown -mode %q (want compare or index)", o.mode)
	}
	work := o.work
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "strata-bench-search-"); err != nil {
			return fmt.Errorf("work directory: %w", err)
		}
	} else if err := os.MkdirAll(work, 0o750); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}
	fmt.Printf("load average at start: %s\n", loadAverage())
	defer func() { fmt.Printf("\nload average at end: %s\n", loadAverage()) }()
	t0 := time.Now()
	videos := corpus.Generate(o.seed, o.n)
	fmt.Printf("corpus: %d videos generated in %s\n\n", len(videos), time.Since(t0).Round(time.Millisecond))
	if o.mode == "index" {
		return runIndex(o, work, videos)
	}
	return runCompare(ctx, o, work, videos)
}

// loadAverage is the machine's 1, 5 and 15 minute load, to judge how much
// other work disturbed the figures ("?" where /proc is missing).
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cpuTime is the user and system time this process has used, which a
// busy shared machine disturbs less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	return n, err
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// splitList is a comma-separated flag's non-empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
