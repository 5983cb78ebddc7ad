package edge

import (
	"sync"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/edge/cache"
)

// Defaults of the cache history: a sample a minute for a day.
const (
	historyStep  = time.Minute
	historySlots = 24 * 60
)

// figures are the cache counters the history keeps, as totals or deltas.
type figures struct {
	memHits, diskHits, stale, misses               int64
	memBytes, diskBytes, staleBytes, upstreamBytes int64
}

func readFigures(s *cache.Stats) figures {
	return figures{
		memHits: s.MemHits.Load(), diskHits: s.DiskHits.Load(), stale: s.Stale.Load(), misses: s.Misses.Load(),
		memBytes: s.MemBytesServed.Load(), diskBytes: s.DiskBytesServed.Load(),
		staleBytes: s.StaleBytesServed.Load(), upstreamBytes: s.UpstreamBytes.Load(),
	}
}

// sub is f - g field by field; a counter that went down (it was reset)
// counts from zero.
func (f figures) sub(g figures) figures {
	d := func(a, b int64) int64 {
		if a < b {
			return a
		}
		return a - b
	}
	return figures{
		d(f.memHits, g.memHits), d(f.diskHits, g.diskHits), d(f.stale, g.stale), d(f.misses, g.misses),
		d(f.memBytes, g.memBytes), d(f.diskBytes, g.diskBytes), d(f.staleBytes, g.staleBytes), d(f.upstreamBytes, g.upstreamBytes),
	}
}

func (f figures) add(g figures) figures {
	return figures{
		f.memHits + g.memHits, f.diskHits + g.diskHits, f.stale + g.stale, f.misses + g.misses,
		f.memBytes + g.memBytes, f.diskBytes + g.diskBytes, f.staleBytes + g.staleBytes, f.upstreamBytes + g.upstreamBytes,
	}
}

// history is a fixed ring of the cache's figures per step: slot k%len
// holds what happened during step k (time since the epoch / step), and
// remembers k, so a slot left over from an earlier lap, or from a step in
// which nothing sampled, reads as zeros. It lives with the cache (and
// outlives reloads, like the counters).
type history struct {
	step time.Duration
	now  func() time.Time
	read func() figures

	mu    sync.Mutex
	last  figures // the totals at the previous sample
	slots []figures
	steps []int64 // the step each slot holds; -1: none
}

// newHistory keeps n steps of step. The counters read are taken as
// starting from zero, as a new cache's do.
func newHistory(step time.Duration, n int, now func() time.Time, read func() figures) *history {
	h := &history{step: step, now: now, read: read, slots: make([]figures, n), steps: make([]int64, n)}
	for i := range h.steps {
		h.steps[i] = -1
	}
	return h
}

func (h *history) stepOf(t time.Time) int64 { return t.UnixNano() / int64(h.step) }

// sample adds what the counters did since the last sample to the current
// step.
func (h *history) sample() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sampleLocked()
}

func (h *history) sampleLocked() {
	cur := h.read()
	delta := cur.sub(h.last)
	h.last = cur
	k := h.stepOf(h.now())
	i := int(k % int64(len(h.slots)))
	if h.steps[i] != k {
		h.slots[i], h.steps[i] = figures{}, k
	}
	h.slots[i] = h.slots[i].add(delta)
}

// snapshot samples, then gives the last n steps up to the current one
// (which is still filling), oldest first.
func (h *history) snapshot() *cluster.CacheHistory {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sampleLocked()
	n := len(h.slots)
	last := h.stepOf(h.now())
	first := last - int64(n) + 1
	out := &cluster.CacheHistory{
		Start:       time.Unix(0, first*int64(h.step)).UTC(),
		StepSeconds: int(h.step / time.Second),
		MemHits:     make([]int64, n), DiskHits: make([]int64, n), Stale: make([]int64, n), Misses: make([]int64, n),
		MemBytes: make([]int64, n), DiskBytes: make([]int64, n), StaleBytes: make([]int64, n), UpstreamBytes: make([]int64, n),
	}
	for j := range n {
		k := first + int64(j)
		if k < 0 {
			continue
		}
		i := int(k % int64(n))
		if h.steps[i] != k {
			continue
		}
		f := h.slots[i]
		out.MemHits[j], out.DiskHits[j], out.Stale[j], out.Misses[j] = f.memHits, f.diskHits, f.stale, f.misses
		out.MemBytes[j], out.DiskBytes[j], out.StaleBytes[j], out.UpstreamBytes[j] = f.memBytes, f.diskBytes, f.staleBytes, f.upstreamBytes
	}
	return out
}

// run samples once a step until stop is closed.
func (h *history) run(stop <-chan struct{}) {
	t := time.NewTicker(h.step)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			h.sample()
		}
	}
}

// rate is the load the edge reports for choosing among edges: requests
// and bytes served a second over the last complete step and the part of
// the current one, so a burst shows within seconds yet one quiet second
// does not make a busy edge look idle.
func (h *history) rate() cluster.EdgeLoad {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sampleLocked()
	now := h.now()
	k := h.stepOf(now)
	var sum figures
	for _, s := range []int64{k - 1, k} {
		i := int(((s % int64(len(h.slots))) + int64(len(h.slots))) % int64(len(h.slots)))
		if h.steps[i] == s {
			sum = sum.add(h.slots[i])
		}
	}
	span := h.step + time.Duration(now.UnixNano()-k*int64(h.step))
	secs := span.Seconds()
	return cluster.EdgeLoad{
		RequestsPerSec: float64(sum.memHits+sum.diskHits+sum.stale+sum.misses) / secs,
		BytesPerSec:    float64(sum.memBytes+sum.diskBytes+sum.staleBytes+sum.upstreamBytes) / secs,
	}
}
