package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestLevelsSplit checks the split of a range against the plain
// comparison for many ranges and values, edges included, and that it stays
// a few spans of few terms each.
func TestLevelsSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	l := levels{field: "f", units: []int64{10, 80, 640}}
	in := func(spans []span, v int64) bool {
		for _, s := range spans {
			x := v
			if s.level > 0 {
				x = floorDiv(v, l.units[s.level-1])
			}
			if (s.lo == nil || *s.lo <= x) && (s.hi == nil || x <= *s.hi) {
				return true
			}
		}
		return false
	}
	ptr := func(v int64) *int64 { return &v }
	ends := []*int64{nil, ptr(0), ptr(9), ptr(10), ptr(11), ptr(-11), ptr(79), ptr(80), ptr(639), ptr(640), ptr(641)}
	for range 300 {
		ends = append(ends, ptr(r.Int64N(20000)-10000))
	}
	for _, lo := range ends {
		for _, hi := range ends[:60] {
			spans := l.split(lo, hi)
			if len(spans) > 2*len(l.units)+1 {
				t.Fatalf("[%v,%v]: %d spans: %v", show(lo), show(hi), len(spans), showSpans(spans))
			}
			terms := 0
			for _, s := range spans {
				if s.lo != nil && s.hi != nil {
					terms += int(*s.hi - *s.lo + 1)
				}
			}
			// At most seven units of each level below the top at each end.
			if terms > 2*7*len(l.units)+2*9+2*(20000/640) {
				t.Fatalf("[%v,%v]: %d terms: %v", show(lo), show(hi), terms, showSpans(spans))
			}
			probes := []int64{-10000, 0, 9, 10, 11, 639, 640, r.Int64N(20000) - 10000, deref(lo) - 1, deref(lo), deref(lo) + 1, deref(hi) - 1, deref(hi), deref(hi) + 1}
			for _, v := range probes {
				want := (lo == nil || *lo <= v) && (hi == nil || v <= *hi)
				if got := in(spans, v); got != want {
					t.Fatalf("[%v,%v] value %d: in spans %v, want %v (spans %v)", show(lo), show(hi), v, got, want, showSpans(spans))
				}
			}
		}
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func show(p *int64) any {
	if p == nil {
		return "open"
	}
	return *p
}

func showSpans(spans []span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, fmt.Sprintf("L%d:%v..%v", s.level, show(s.lo), show(s.hi)))
	}
	return out
}
