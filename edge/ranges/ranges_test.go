package ranges

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const size = 1000
	for _, tc := range []struct {
		header string
		want   string // ranges as start+length, "whole" for nil, or an error
	}{
		{"bytes=0-99", "0+100"},
		{"bytes=900-", "900+100"},
		{"bytes=-100", "900+100"},
		{"bytes=-5000", "0+1000"},
		{"bytes=990-5000", "990+10"},
		{"bytes=0-0,-1", "0+1 999+1"},
		{"bytes=0-9, 20-29 ,40-49", "0+10 20+10 40+10"},
		{"bytes=1000-", "unsatisfiable"},
		{"bytes=-0", "unsatisfiable"},
		{"bytes=2000-3000,5000-", "unsatisfiable"},
		{"bytes=5-1", "invalid"},
		{"bytes=a-b", "invalid"},
		{"bytes=1", "invalid"},
		{"bytes 0-1", "invalid"},
		{"items=0-1", "whole"},
		// Bounds: overlap, totals past the object, too many ranges.
		{"bytes=0-499,100-599", "whole"},
		{"bytes=0-,0-", "whole"},
		{"bytes=0-999,-1", "whole"},
		{"bytes=" + strings.Repeat("0-0,", 16) + "0-0", "whole"},
		{"bytes=" + strings.TrimSuffix(strings.Repeat("1-1,", 300), ","), "whole"},
	} {
		t.Run(tc.header, func(t *testing.T) {
			rs, err := Parse(tc.header, size, 16)
			var got string
			switch {
			case errors.Is(err, ErrInvalid):
				got = "invalid"
			case errors.Is(err, ErrUnsatisfiable):
				got = "unsatisfiable"
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			case rs == nil:
				got = "whole"
			default:
				var parts []string
				for _, r := range rs {
					parts = append(parts, fmt.Sprintf("%d+%d", r.Start, r.Length))
				}
				got = strings.Join(parts, " ")
			}
			if got != tc.want {
				t.Fatalf("Parse(%q) = %s, want %s", tc.header, got, tc.want)
			}
		})
	}
}

func TestContentRange(t *testing.T) {
	if got := (Range{Start: 10, Length: 90}).ContentRange(1000); got != "bytes 10-99/1000" {
		t.Fatalf("ContentRange = %q", got)
	}
	if got := Unsatisfied(1000); got != "bytes */1000" {
		t.Fatalf("Unsatisfied = %q", got)
	}
}

func TestLayoutLength(t *testing.T) {
	rs := []Range{{0, 10}, {50, 5}}
	m := Layout(rs, 100, "video/mp4")
	var n int64
	for i, h := range m.Heads {
		n += int64(len(h)) + rs[i].Length
	}
	n += int64(len(m.Tail))
	if n != m.Length || !strings.Contains(string(m.Heads[1]), "Content-Range: bytes 50-54/100") {
		t.Fatalf("layout length %d, computed %d; heads %q", m.Length, n, m.Heads)
	}
}
