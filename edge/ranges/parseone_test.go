package ranges

import (
	"slices"
	"testing"
)

func TestParseOne(t *testing.T) {
	for _, c := range []struct {
		h    string
		want Range
		ok   bool
	}{
		{"bytes=0-65535", Range{0, 65536}, true},
		{"bytes=0-65535", Range{0, 1000}, true}, // size 1000 below
		{"bytes=10-", Range{10, 990}, true},
		{"bytes=-100", Range{900, 100}, true},
		{"bytes= 5 - 9 ", Range{5, 5}, true},
		{"bytes=0-1,4-5", Range{}, false},
		{"bytes=2000-", Range{}, false},
		{"bytes=-0", Range{}, false},
		{"bytes=9-3", Range{}, false},
		{"items=0-1", Range{}, false},
		{"bytes=a-b", Range{}, false},
	} {
		size := int64(1000)
		if c.h == "bytes=0-65535" && c.want.Length == 65536 {
			size = 1 << 20
		}
		got, ok := ParseOne(c.h, size)
		if ok != c.ok || got != c.want {
			t.Errorf("%q of %d: %+v %v, want %+v %v", c.h, size, got, ok, c.want, c.ok)
		}
	}
	if a := testing.AllocsPerRun(100, func() { _, _ = ParseOne("bytes=0-65535", 1<<20) }); a != 0 {
		t.Errorf("ParseOne allocates %.1f times", a)
	}
}

// FuzzParseOne: whatever ParseOne accepts, Parse answers with that one
// range. The seed corpus runs with the normal tests.
func FuzzParseOne(f *testing.F) {
	for _, s := range []string{"bytes=0-65535", "bytes=10-", "bytes=-100", "bytes= 5 - 9 ", "bytes=0-1,4-5", "bytes=,0-1", "bytes=-0", "items=0-1"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		r, ok := ParseOne(h, size)
		if !ok {
			return
		}
		rs, err := Parse(h, size, DefaultMaxRanges)
		if err != nil || !slices.Equal(rs, []Range{r}) {
			t.Fatalf("%q of %d: ParseOne %+v, Parse %+v %v", h, size, r, rs, err)
		}
		if r.Start < 0 || r.Length <= 0 || r.End() > size {
			t.Fatalf("%q of %d: %+v out of bounds", h, size, r)
		}
	})
}
