package index

import (
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Ranges over values with many distinct values (upload times, unique to
// each video) would walk one term per matching video. Such a value is
// indexed at several precisions: itself, and divided by units that grow
// eightfold (a day, eight days, 64 days). A range is then the whole
// coarsest units inside it plus, at each ragged end, whole units of the
// next level down, and so on: a year of uploads is about thirty terms, not
// 365 days or a term per video. It is Bleve's numeric prefix coding with
// the levels chosen for the field, for four terms per video instead of
// sixteen.

// levels is a value indexed at several precisions. Level 0 is the value
// itself, in field; level i ≥ 1 is the value divided by units[i-1], in
// field_i. Each unit is a multiple of the one before.
type levels struct {
	field string
	units []int64
}

// createdLevels index upload times (Unix nanoseconds).
func createdLevels() levels {
	day := int64(24 * time.Hour)
	return levels{fCreated, []int64{day, 8 * day, 64 * day}}
}

// durationLevels index durations (whole seconds).
func durationLevels() levels { return levels{fDuration, []int64{60, 600}} }

// fieldAt names the field of a level.
func (l levels) fieldAt(level int) string {
	if level == 0 {
		return l.field
	}
	return l.field + "_" + strconv.Itoa(level)
}

// addTo writes v at every level into an indexed document.
func (l levels) addTo(doc map[string]any, v int64) {
	doc[l.field] = sortableInt(v)
	for i, u := range l.units {
		doc[l.fieldAt(i+1)] = sortableInt(floorDiv(v, u))
	}
}

// mapTo adds the fields of every level to a document mapping; level 0
// keeps doc values when the value is sorted on.
func (l levels) mapTo(doc *mapping.DocumentMapping, exact func(docValues bool) *mapping.FieldMapping, sorted bool) {
	doc.AddFieldMappingsAt(l.field, exact(sorted))
	for i := range l.units {
		doc.AddFieldMappingsAt(l.fieldAt(i+1), exact(false))
	}
}

// span is part of a range: lo to hi inclusive (nil is open), in the units
// of a level.
type span struct {
	level  int
	lo, hi *int64
}

// split splits lo ≤ v ≤ hi (nil ends are open) into spans.
func (l levels) split(lo, hi *int64) []span { return l.splitAt(lo, hi, len(l.units)) }

func (l levels) splitAt(lo, hi *int64, level int) []span {
	if level == 0 {
		return []span{{0, lo, hi}}
	}
	unit := l.units[level-1]
	// Whole units of this level inside the range.
	var cLo, cHi *int64
	if lo != nil {
		c := ceilDiv(*lo, unit)
		cLo = &c
	}
	if hi != nil {
		c := floorDiv(*hi+1, unit) - 1
		cHi = &c
	}
	if cLo != nil && cHi != nil && *cLo > *cHi {
		return l.splitAt(lo, hi, level-1) // no whole unit inside
	}
	out := []span{{level, cLo, cHi}}
	if lo != nil && *lo < *cLo*unit {
		end := *cLo*unit - 1
		out = append(out, l.splitAt(lo, &end, level-1)...)
	}
	if hi != nil && (*cHi+1)*unit <= *hi {
		start := (*cHi + 1) * unit
		out = append(out, l.splitAt(&start, hi, level-1)...)
	}
	return out
}

// query matches lo ≤ v ≤ hi; nil ends are open.
func (l levels) query(lo, hi *int64) query.Query {
	var qs []query.Query
	for _, s := range l.split(lo, hi) {
		var a, b string
		if s.lo != nil {
			a = sortableInt(*s.lo)
		}
		if s.hi != nil {
			b = sortableInt(*s.hi)
		}
		qs = append(qs, between(l.fieldAt(s.level), a, b))
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// between matches a sortable keyword field from lo to hi, both inclusive;
// "" leaves that end open.
func between(field, lo, hi string) query.Query {
	inc := true
	q := bleve.NewTermRangeInclusiveQuery(lo, hi, &inc, &inc)
	q.SetField(field)
	return q
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }
