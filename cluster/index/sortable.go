package index

import (
	"fmt"
	"math"
	"strconv"
)

// Sortable keywords: numbers written so that comparing the strings
// compares the numbers, for fields that are sorted on or compared with
// few distinct values (see newMapping for why not Bleve numbers).

// sortableInt is n as 16 hex digits, the sign bit flipped so negative
// numbers sort first.
func sortableInt(n int64) string {
	return fmt.Sprintf("%016x", uint64(n)^(1<<63))
}

// sortableFloat is f as 16 hex digits of its bits, arranged so that the
// order of the strings is the order of the numbers.
func sortableFloat(f float64) string {
	b := math.Float64bits(f)
	if b>>63 == 0 {
		b ^= 1 << 63
	} else {
		b = ^b
	}
	return fmt.Sprintf("%016x", b)
}

// parseSortableFloat reverses sortableFloat.
func parseSortableFloat(s string) (float64, error) {
	b, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("sortable float %q: %w", s, err)
	}
	if b>>63 == 1 {
		b ^= 1 << 63
	} else {
		b = ^b
	}
	return math.Float64frombits(b), nil
}
