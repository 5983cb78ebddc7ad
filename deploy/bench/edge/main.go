// Command edge-bench measures Strata's edge cache against nginx
// proxy_cache, Varnish and Apache Traffic Server on the same machine, in
// front of the same origin, with wrk, serving the same HLS files (issue
// #4's Done-means): one hot 1.2 MB segment, a round-robin over all
// segments, Range: bytes=0-65535 on a segment, a 64 KB object, a media
// playlist; then a cold herd (200 concurrent requests for one uncached
// segment behind an origin that waits 500 ms). It prints every run, the
// medians and the ratios Strata/peer and Strata/best peer. Run it with
// `go run ./deploy/bench/edge` (or `make bench-edge`); see README.md for
// the method.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

type options struct {
	rounds    int
	duration  time.Duration
	threads   int
	conns     int
	segments  int
	segSize   int
	cases     string
	waiters   int
	slowDelay time.Duration
	work      string
	keep      bool
	noInstall bool
	peers     string
	strata    string
	against   string
}

func main() {
	if arg := os.Getenv(slowOriginEnv); arg != "" {
		if err := serveSlowOrigin(arg); err != nil {
			fmt.Fprintln(os.Stderr, "bench-edge: slow origin:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.IntVar(&o.rounds, "rounds", 2, "rounds; each runs every peer once per case, the order reversed every other round")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of one wrk run")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads")
	flag.IntVar(&o.conns, "conns", 64, "wrk connections")
	flag.IntVar(&o.segments, "segments", 50, "segments in the media playlist")
	flag.IntVar(&o.segSize, "segment-size", 1200<<10, "bytes per segment")
	flag.StringVar(&o.cases, "cases", strings.Join(wrkCases, ","), "wrk cases to run, comma-separated")
	flag.IntVar(&o.waiters, "waiters", 200, "concurrent cold misses in the herd case")
	flag.DurationVar(&o.slowDelay, "slow-origin-delay", 500*time.Millisecond, "how long the herd case's origin takes to answer")
	flag.StringVar(&o.work, "work", "", "work directory (default: a new temporary directory, removed at the end)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.BoolVar(&o.noInstall, "no-install", false, "do not apt-get install missing peers")
	flag.StringVar(&o.peers, "peers", "strata,nginx,varnish,ats,caddy-floor", "peers to run, comma-separated")
	flag.StringVar(&o.strata, "strata", "", "the strata binary (default: build ./node)")
	flag.StringVar(&o.against, "against", "", "another strata binary, run as the peer \"against\" with the same configuration (A/B of a change: its ratio column is -strata over it)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-edge:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.rounds < 1 || o.duration < time.Second || o.segments < 2 || o.waiters < 2 {
		return errors.New("need -rounds ≥ 1, -duration ≥ 1s, -segments ≥ 2, -waiters ≥ 2")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := ensureTools(ctx, o.noInstall); err != nil {
		return err
	}
	work := o.work
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "bench-edge-"); err != nil {
			return err
		}
		// MkdirTemp makes it 0700: nginx's workers (not root) must
		// reach the origin's files under it, or the origin answers 403.
		if err := os.Chmod(work, 0o755); err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(work)
		}
	}
	work, _ = filepath.Abs(work)
	fmt.Printf("bench-edge: work directory %s\n", work)

	b := &bench{o: o, work: work}
	defer b.stopAll()
	if err := b.setup(ctx); err != nil {
		return err
	}
	results := map[string][]runResult{}
	var cases []string // -cases "" runs the herd alone
	for c := range strings.SplitSeq(o.cases, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cases = append(cases, c)
		}
	}
	for round := 1; round <= o.rounds; round++ {
		// Alternate: every other round runs the peers in reverse, and
		// each round starts one peer later.
		order := rotate(b.peers, (round-1)/2)
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, c := range cases {
			for _, p := range order {
				if p.floor && c != "small" {
					continue // the floor answers one 64 KB body
				}
				r, err := b.wrkCase(ctx, p, c, round)
				if err != nil {
					return fmt.Errorf("%s %s round %d: %w", p.name, c, round, err)
				}
				results[c] = append(results[c], r)
				fmt.Println(r)
			}
		}
		for i, p := range order {
			if p.floor {
				continue
			}
			r, err := b.coalesceCase(ctx, p, round, i)
			if err != nil {
				return fmt.Errorf("%s coalesce round %d: %w", p.name, round, err)
			}
			results["coalesce"] = append(results["coalesce"], r)
			fmt.Println(r)
		}
	}
	report(os.Stdout, results, b.peerNames())
	for _, rs := range results {
		for _, r := range rs {
			if strings.Contains(r.note, "FAILED") || strings.Contains(r.note, "NON-2xx") {
				return fmt.Errorf("%s %s round %d:%s", r.peer, r.kind, r.round, r.note)
			}
		}
	}
	return nil
}

// ensureTools installs the peers and wrk from Debian's packages when they
// are missing.
func ensureTools(ctx context.Context, noInstall bool) error {
	need := map[string]string{"nginx": "nginx", "varnishd": "varnish", "traffic_server": "trafficserver", "wrk": "wrk"}
	var missing []string
	for bin, pkg := range need {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, pkg)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if noInstall {
		return fmt.Errorf("missing %s (and -no-install given)", strings.Join(missing, ", "))
	}
	fmt.Printf("bench-edge: installing %s from Debian's packages\n", strings.Join(missing, " "))
	for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq"}, missing...)} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", args[0], err)
		}
	}
	return nil
}

func rotate[T any](xs []T, n int) []T {
	n %= len(xs)
	return append(append([]T(nil), xs[n:]...), xs[:n]...)
}
