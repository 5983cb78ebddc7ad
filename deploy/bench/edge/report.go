package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// report prints the medians per case and peer, and Strata's ratios.
func report(w io.Writer, results map[string][]runResult, peers []string) {
	fmt.Fprintln(w, "\n== medians")
	for _, kind := range wrkCases {
		rs := results[kind]
		if len(rs) == 0 {
			continue
		}
		base := median(rs, "strata", func(r runResult) float64 { return r.rps })
		baseP99 := median(rs, "strata", func(r runResult) float64 { return ms(r.p99) })
		fmt.Fprintf(w, "%-8s %-12s %10s %10s %12s %14s %14s\n", kind, "peer", "req/s", "p99 ms", "CPU µs/req", "Strata/peer rps", "Strata/peer p99")
		for _, p := range peers {
			rps := median(rs, p, func(r runResult) float64 { return r.rps })
			if rps == 0 {
				continue
			}
			p99 := median(rs, p, func(r runResult) float64 { return ms(r.p99) })
			cpu := median(rs, p, func(r runResult) float64 { return float64(r.cpuPerReq) / float64(time.Microsecond) })
			fmt.Fprintf(w, "%-8s %-12s %10.0f %10.2f %12.1f %14.2f %14.2f\n", "", p, rps, p99, cpu, base/rps, baseP99/p99)
		}
		best, bestName := 0.0, ""
		for _, p := range []string{"nginx", "varnish", "ats"} {
			if rps := median(rs, p, func(r runResult) float64 { return r.rps }); rps > best {
				best, bestName = rps, p
			}
		}
		if best > 0 {
			fmt.Fprintf(w, "%-8s Strata / best peer (%s): %.2f\n", "", bestName, base/best)
		}
	}
	rs := results["coalesce"]
	fmt.Fprintf(w, "%-8s %-12s %10s %10s %10s %10s %10s\n", "herd", "peer", "fetches", "asked ms", "p50 ms", "p99 ms", "max ms")
	for _, p := range peers {
		if median(rs, p, func(r runResult) float64 { return ms(r.p50) }) == 0 {
			continue
		}
		fmt.Fprintf(w, "%-8s %-12s %10.0f %10.1f %10.1f %10.1f %10.1f\n", "", p,
			median(rs, p, func(r runResult) float64 { return float64(r.originHits) }),
			median(rs, p, func(r runResult) float64 { return ms(r.asked) }),
			median(rs, p, func(r runResult) float64 { return ms(r.p50) }),
			median(rs, p, func(r runResult) float64 { return ms(r.p99) }),
			median(rs, p, func(r runResult) float64 { return ms(r.max) }))
	}
}

func median(rs []runResult, peer string, f func(runResult) float64) float64 {
	var xs []float64
	for _, r := range rs {
		if r.peer == peer {
			xs = append(xs, f(r))
		}
	}
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}
