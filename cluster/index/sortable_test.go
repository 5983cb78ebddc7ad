package index

import (
	"math"
	"testing"
)

func TestSortableOrder(t *testing.T) {
	ints := []int64{math.MinInt64, -1 << 40, -3600, -1, 0, 1, 59, 60, 86400, 1 << 40, math.MaxInt64}
	for i := 1; i < len(ints); i++ {
		if !(sortableInt(ints[i-1]) < sortableInt(ints[i])) {
			t.Errorf("sortableInt(%d) >= sortableInt(%d)", ints[i-1], ints[i])
		}
	}
	floats := []float64{math.Inf(-1), -1e300, -2.5, -1e-300, 0, 1e-300, 0.5, 1, 700.25, 1e300, math.Inf(1)}
	for i, f := range floats {
		if i > 0 && !(sortableFloat(floats[i-1]) < sortableFloat(f)) {
			t.Errorf("sortableFloat(%g) >= sortableFloat(%g)", floats[i-1], f)
		}
		if back, err := parseSortableFloat(sortableFloat(f)); err != nil || back != f {
			t.Errorf("parseSortableFloat(sortableFloat(%g)) = %g, %v", f, back, err)
		}
	}
}
