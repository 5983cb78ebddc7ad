package edge

import (
	"slices"
	"testing"
	"time"
)

// fakeHistory is a history of n steps of a minute over counters and a
// clock the test moves.
type fakeHistory struct {
	*history
	now   time.Time
	total figures
}

func newFakeHistory(n int) *fakeHistory {
	f := &fakeHistory{now: time.Date(2026, 11, 26, 10, 0, 30, 0, time.UTC)}
	f.history = newHistory(time.Minute, n, func() time.Time { return f.now }, func() figures { return f.total })
	return f
}

// serve counts hits and bytes as the cache would.
func (f *fakeHistory) serve(memHits, misses, memBytes int64) {
	f.total.memHits += memHits
	f.total.misses += misses
	f.total.memBytes += memBytes
}

func TestHistoryDeltasPerStep(t *testing.T) {
	f := newFakeHistory(4)
	f.serve(3, 1, 300)
	f.sample()
	f.now = f.now.Add(20 * time.Second) // same step
	f.serve(2, 0, 200)
	f.sample()
	f.now = f.now.Add(time.Minute)
	f.serve(0, 4, 0)
	f.sample()
	f.now = f.now.Add(2 * time.Minute) // a step without a sample
	f.serve(1, 0, 100)                 // not sampled yet: snapshot takes it

	h := f.snapshot()
	if want := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC); !h.Start.Equal(want) || h.StepSeconds != 60 {
		t.Fatalf("start %v step %d, want %v and 60", h.Start, h.StepSeconds, want)
	}
	for _, c := range []struct {
		name      string
		got, want []int64
	}{
		{"mem hits", h.MemHits, []int64{5, 0, 0, 1}},
		{"misses", h.Misses, []int64{1, 4, 0, 0}},
		{"mem bytes", h.MemBytes, []int64{500, 0, 0, 100}},
		{"disk hits", h.DiskHits, []int64{0, 0, 0, 0}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestHistoryWrapsAround(t *testing.T) {
	f := newFakeHistory(3)
	for i := range 5 { // steps 0…4: i+1 hits each
		f.serve(int64(i+1), 0, 0)
		f.sample()
		if i < 4 {
			f.now = f.now.Add(time.Minute)
		}
	}
	h := f.snapshot()
	if got, want := h.MemHits, []int64{3, 4, 5}; !slices.Equal(got, want) {
		t.Fatalf("after a lap: %v, want %v", got, want)
	}
	if want := time.Date(2026, 11, 26, 10, 2, 0, 0, time.UTC); !h.Start.Equal(want) {
		t.Fatalf("start %v, want %v", h.Start, want)
	}

	// Longer than the ring without a sample: every slot is from an old
	// lap and reads as zero, and what happened meanwhile lands in the
	// current step.
	f.now = f.now.Add(10 * time.Minute)
	f.serve(7, 0, 0)
	if got, want := f.snapshot().MemHits, []int64{0, 0, 7}; !slices.Equal(got, want) {
		t.Fatalf("after a gap: %v, want %v", got, want)
	}
}

func TestHistoryCounterReset(t *testing.T) {
	f := newFakeHistory(2)
	f.serve(10, 0, 0)
	f.sample()
	f.now = f.now.Add(time.Minute)
	f.total = figures{memHits: 4} // a new cache counts from zero
	if got, want := f.snapshot().MemHits, []int64{10, 4}; !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}

// TestHistoryRate: the load reported is what was served over the last
// step and the current one's part, per second.
func TestHistoryRate(t *testing.T) {
	f := newFakeHistory(4) // at 10:00:30
	f.serve(60, 30, 9000)
	f.now = f.now.Add(time.Minute) // 10:01:30: the last step is 10:00
	f.serve(0, 0, 0)
	got := f.rate()
	// 90 requests and 9000 bytes over 60+30 s.
	if got.RequestsPerSec != 1 || got.BytesPerSec != 100 {
		t.Fatalf("rate = %+v, want 1 req/s and 100 B/s", got)
	}
	f.now = f.now.Add(5 * time.Minute)
	if got := f.rate(); got.RequestsPerSec != 0 || got.BytesPerSec != 0 {
		t.Fatalf("idle rate = %+v", got)
	}
}
