package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// target is a running cluster that takes writes.
type target interface {
	// writer returns a function that writes one 512-byte record to key
	// i, for one writer goroutine.
	writer(i int) (func(ctx context.Context, seq int) error, error)
	// cpu is the CPU time the cluster's processes have used so far.
	cpu() time.Duration
	stop()
}

type result struct {
	n, errors int
	rate      float64
	p50, p99  time.Duration
	// cpuPerWrite is the cluster's CPU time (all members, user and
	// system) over the writes acknowledged.
	cpuPerWrite time.Duration
}

// load runs w writers for d, each waiting for every answer, and measures.
func load(ctx context.Context, t target, w int, d time.Duration) (result, error) {
	fns := make([]func(context.Context, int) error, w)
	for i := range w {
		f, err := t.writer(i)
		if err != nil {
			return result{}, err
		}
		fns[i] = f
	}
	// Warm up: connections open, first elections settled.
	for i := range w {
		if err := fns[i](ctx, 0); err != nil {
			return result{}, err
		}
	}
	var mu sync.Mutex
	var shown atomic.Int32 // the first few errors are printed
	var lat []time.Duration
	errors := 0
	deadline := time.Now().Add(d)
	cpu0 := t.cpu()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for seq := 1; time.Now().Before(deadline); seq++ {
				t0 := time.Now()
				if err := fns[i](ctx, seq); err != nil {
					if shown.Add(1) <= 3 {
						fmt.Println("  write error:", err)
					}
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errors += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := t.cpu() - cpu0
	slices.Sort(lat)
	r := result{n: len(lat), errors: errors, rate: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
		r.cpuPerWrite = cpu / time.Duration(len(lat))
	}
	return r, nil
}
