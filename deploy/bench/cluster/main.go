// Command cluster benchmarks metadata writes on a 3-node Strata cluster
// against a 3-member etcd cluster on the same machine, in one run.
//
// Both clusters run as separate processes on loopback, with their data on
// the same disk and fsync on (every acknowledged write is durable on a
// majority). Writers send 512-byte records to the leader: Strata through its
// HTTP API (PATCH of a video's description, which is also reindexed), etcd
// through its Go client (gRPC Put). Each writer has its own key and waits for
// each answer before sending the next. Rounds alternate which system goes
// first, and the medians are compared.
//
//	go run ./deploy/bench/cluster [-rounds 3] [-seconds 10] [-writers 1,16]
//	go run ./deploy/bench/cluster -strata NEW -against OLD   # A/B of two builds, no etcd
//	go run ./deploy/bench/cluster -profile DIR   # CPU profiles of every Strata node, per measurement
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 3, "alternating rounds")
	seconds := flag.Int("seconds", 10, "seconds of load per measurement")
	writersFlag := flag.String("writers", "1,16", "writer counts to measure")
	strataBin := flag.String("strata", "", "the strata binary (default: build ./node)")
	profile := flag.String("profile", "", "write CPU profiles of every Strata node during each measurement into this folder")
	against := flag.String("against", "", "another strata binary to run in etcd's place (A/B of a change; ratios are -strata over it)")
	flag.Parse()
	var writers []int
	for _, w := range strings.Split(*writersFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			fail(fmt.Errorf("-writers: %q", w))
		}
		writers = append(writers, n)
	}
	if *profile != "" {
		if err := os.MkdirAll(*profile, 0o755); err != nil {
			fail(err)
		}
	}
	work, err := os.MkdirTemp("", "strata-bench-cluster-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(work)
	peer := "etcd"
	if *against != "" {
		peer = "other"
	} else if err := ensureEtcd(); err != nil {
		fail(err)
	}
	if *strataBin == "" {
		*strataBin = filepath.Join(work, "strata")
		fmt.Println("building strata…")
		build := exec.Command("go", "build", "-o", *strataBin, "./node")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fail(fmt.Errorf("build: %w", err))
		}
	}
	dur := time.Duration(*seconds) * time.Second

	results := map[string]map[int][]result{"strata": {}, peer: {}}
	for r := range *rounds {
		order := []string{"strata", peer}
		if r%2 == 1 {
			order = []string{peer, "strata"}
		}
		for _, sys := range order {
			dir := filepath.Join(work, fmt.Sprintf("%s-%d", sys, r))
			var c target
			if sys == "strata" {
				c, err = startStrata(*strataBin, dir, 16)
			} else if *against != "" {
				c, err = startStrata(*against, dir, 16)
			} else {
				c, err = startEtcd(dir)
			}
			if err != nil {
				fail(fmt.Errorf("round %d: start %s: %w", r+1, sys, err))
			}
			for _, w := range writers {
				var profiled chan error
				if sc, ok := c.(*strataCluster); ok && *profile != "" && sys == "strata" {
					profiled = make(chan error, 1)
					go func() { profiled <- sc.profile(dur-time.Second, *profile, fmt.Sprintf("r%d-w%d", r+1, w)) }()
				}
				res, err := load(context.Background(), c, w, dur)
				if profiled != nil {
					if perr := <-profiled; perr != nil {
						fmt.Println("  profile:", perr)
					}
				}
				if err != nil {
					c.stop()
					fail(fmt.Errorf("round %d: %s with %d writers: %w", r+1, sys, w, err))
				}
				fmt.Printf("round %d  %-6s  %2d writers  %7.0f writes/s  p50 %6.2f ms  p99 %6.2f ms  cpu %4.0f µs/write  (%d writes, %d errors)\n",
					r+1, sys, w, res.rate, ms(res.p50), ms(res.p99), us(res.cpuPerWrite), res.n, res.errors)
				results[sys][w] = append(results[sys][w], res)
			}
			c.stop()
		}
	}
	fmt.Println()
	fmt.Println("medians over", *rounds, "rounds:")
	fmt.Printf("%-8s %14s %12s %14s %12s %12s %12s %16s\n", "writers", "strata w/s", "strata p99", peer+" w/s", peer+" p99", "w/s ratio", "p99 ratio", "cpu/write s:"+peer)
	for _, w := range writers {
		s, e := median(results["strata"][w]), median(results[peer][w])
		fmt.Printf("%-8d %14.0f %10.2fms %14.0f %10.2fms %12.2f %12.2f %9.0f:%.0f µs\n", w, s.rate, ms(s.p99), e.rate, ms(e.p99), s.rate/e.rate, ms(s.p99)/ms(e.p99), us(s.cpuPerWrite), us(e.cpuPerWrite))
	}
	// The machine drifts between rounds more than the two systems differ
	// within one, so the ratios of each round's pair say more than the
	// ratio of two medians taken across rounds.
	fmt.Println()
	fmt.Println("per-round ratios, strata/" + peer + " (each round's pair ran back to back):")
	for _, w := range writers {
		rates, p99s := pairedRatios(results["strata"][w], results[peer][w])
		fmt.Printf("%2d writers  w/s: median %.2f, range %.2f-%.2f, strata ahead in %d of %d   p99: median %.2f, range %.2f-%.2f\n",
			w, rates[len(rates)/2], rates[0], rates[len(rates)-1], countAtLeast(rates, 1), len(rates), p99s[len(p99s)/2], p99s[0], p99s[len(p99s)-1])
	}
}

// pairedRatios returns each round's strata/peer ratios of rate and of p99,
// each sorted.
func pairedRatios(s, e []result) (rates, p99s []float64) {
	for i := range min(len(s), len(e)) {
		rates = append(rates, s[i].rate/e[i].rate)
		p99s = append(p99s, ms(s[i].p99)/ms(e[i].p99))
	}
	slices.Sort(rates)
	slices.Sort(p99s)
	return rates, p99s
}

func countAtLeast(xs []float64, v float64) int {
	n := 0
	for _, x := range xs {
		if x >= v {
			n++
		}
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// median takes the median of each figure separately.
func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	return result{
		rate:        pick(func(r result) float64 { return r.rate }),
		p99:         time.Duration(pick(func(r result) float64 { return float64(r.p99) })),
		p50:         time.Duration(pick(func(r result) float64 { return float64(r.p50) })),
		cpuPerWrite: time.Duration(pick(func(r result) float64 { return float64(r.cpuPerWrite) })),
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-cluster:", err)
	os.Exit(1)
}
