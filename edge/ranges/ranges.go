// Package ranges reads Range headers (RFC 9110 §14) for objects whose size
// is known, and lays out multipart/byteranges bodies.
//
// It bounds what a request can make the edge send: more ranges than a
// limit, overlapping ranges, or ranges that add up to more than the object
// are answered with the whole object (200), which the RFC allows
// (§14.2), so a request like the Apache Killer's (CVE-2011-3192: hundreds
// of overlapping ranges) costs no more than one plain GET.
package ranges

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Errors of Parse. Both are answered with 416.
var (
	ErrInvalid       = errors.New("invalid range")
	ErrUnsatisfiable = errors.New("no range overlaps the object")
)

// DefaultMaxRanges is the default bound on ranges in one request.
const DefaultMaxRanges = 16

// Range is one satisfiable byte range.
type Range struct {
	Start, Length int64
}

// End is the offset just past the range.
func (r Range) End() int64 { return r.Start + r.Length }

// ContentRange is the Content-Range value of r within size bytes.
func (r Range) ContentRange(size int64) string {
	b := make([]byte, 0, 48)
	b = append(b, "bytes "...)
	b = strconv.AppendInt(b, r.Start, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, r.End()-1, 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, size, 10)
	return string(b)
}

// Unsatisfied is the Content-Range of a 416 for an object of size bytes.
func Unsatisfied(size int64) string { return "bytes */" + strconv.FormatInt(size, 10) }

// Parse reads a Range header value for an object of size bytes. A nil
// slice with a nil error means: ignore the header and send the whole
// object (a unit other than bytes, or a request the bounds refuse).
func Parse(header string, size int64, maxRanges int) ([]Range, error) {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok {
		if strings.Contains(header, "=") && !strings.HasPrefix(strings.TrimSpace(header), "bytes") {
			return nil, nil // another unit: not ours to answer
		}
		return nil, ErrInvalid
	}
	if maxRanges <= 0 {
		maxRanges = DefaultMaxRanges
	}
	// Count before parsing, so a header of a thousand ranges costs a scan.
	if strings.Count(spec, ",")+1 > maxRanges {
		return nil, nil
	}
	var out []Range
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // RFC 9110 allows empty list elements
		}
		first, last, ok := strings.Cut(part, "-")
		if !ok {
			return nil, ErrInvalid
		}
		first, last = strings.TrimSpace(first), strings.TrimSpace(last)
		var r Range
		switch {
		case first == "":
			// Suffix: the last n bytes.
			n, err := parseNum(last)
			if err != nil {
				return nil, err
			}
			if n == 0 || size == 0 {
				continue // unsatisfiable
			}
			n = min(n, size)
			r = Range{Start: size - n, Length: n}
		default:
			start, err := parseNum(first)
			if err != nil {
				return nil, err
			}
			end := size - 1
			if last != "" {
				e, err := parseNum(last)
				if err != nil {
					return nil, err
				}
				if e < start {
					return nil, ErrInvalid
				}
				end = min(e, size-1)
			}
			if start >= size {
				continue // unsatisfiable
			}
			r = Range{Start: start, Length: end - start + 1}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, ErrUnsatisfiable
	}
	if len(out) == 1 {
		return out, nil
	}
	// Several ranges: refuse overlap and totals past the object, which
	// only serve to amplify.
	sorted := slices.Clone(out)
	slices.SortFunc(sorted, func(a, b Range) int { return int(a.Start - b.Start) })
	var sum int64
	for i, r := range sorted {
		sum += r.Length
		if i > 0 && r.Start < sorted[i-1].End() {
			return nil, nil
		}
	}
	if sum > size {
		return nil, nil
	}
	return out, nil
}

func parseNum(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, ErrInvalid
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, ErrInvalid
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrInvalid
	}
	return n, nil
}

// Multipart is the layout of a multipart/byteranges body.
type Multipart struct {
	Boundary string
	// Heads[i] goes before range i's bytes; Tail ends the body.
	Heads [][]byte
	Tail  []byte
	// Length is the whole body's length, for Content-Length.
	Length int64
}

// ContentType is the response's Content-Type.
func (m *Multipart) ContentType() string { return "multipart/byteranges; boundary=" + m.Boundary }

// Layout lays out the parts of rs for an object of size bytes and the
// given content type.
func Layout(rs []Range, size int64, contentType string) *Multipart {
	var rnd [12]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read does not fail
	m := &Multipart{Boundary: hex.EncodeToString(rnd[:])}
	for i, r := range rs {
		var b strings.Builder
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("--" + m.Boundary + "\r\n")
		if contentType != "" {
			b.WriteString("Content-Type: " + contentType + "\r\n")
		}
		b.WriteString("Content-Range: " + r.ContentRange(size) + "\r\n\r\n")
		m.Heads = append(m.Heads, []byte(b.String()))
		m.Length += int64(b.Len()) + r.Length
	}
	m.Tail = []byte("\r\n--" + m.Boundary + "--\r\n")
	m.Length += int64(len(m.Tail))
	return m
}

// ParseOne reads a Range header that names exactly one byte range
// ("bytes=a-b", "bytes=a-", "bytes=-n"), without allocating, for the
// edge's fast path. ok is false for anything else — several ranges,
// another unit, an invalid or unsatisfiable range — which the caller
// leaves to Parse. When ok, Parse returns the same single range.
func ParseOne(header string, size int64) (r Range, ok bool) {
	spec, found := strings.CutPrefix(header, "bytes=")
	if !found || strings.IndexByte(spec, ',') >= 0 {
		return Range{}, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return Range{}, false
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, err := parseNum(last)
		if err != nil || n == 0 || size == 0 {
			return Range{}, false
		}
		n = min(n, size)
		return Range{Start: size - n, Length: n}, true
	}
	start, err := parseNum(first)
	if err != nil || start >= size {
		return Range{}, false
	}
	end := size - 1
	if last != "" {
		e, err := parseNum(last)
		if err != nil || e < start {
			return Range{}, false
		}
		end = min(e, size-1)
	}
	return Range{Start: start, Length: end - start + 1}, true
}
