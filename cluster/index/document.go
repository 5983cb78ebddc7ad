package index

import (
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/stratavideo/strata/cluster/model"
)

// Duration buckets, as video sites name them: under 4 minutes, 4 to 20,
// over 20. Facets count them and DurationBucket names a video's.
const (
	shortUnder = 4 * 60
	longFrom   = 20 * 60
)

// DurationBucket names the facet bucket of a duration in seconds.
func DurationBucket(seconds float64) string {
	switch {
	case seconds < shortUnder:
		return "short"
	case seconds < longFrom:
		return "medium"
	default:
		return "long"
	}
}

// Document is the indexed form of a video. It is a pure function of the
// record, so every node that applied the same log indexes the same thing.
// It is exported for benchmarks that index it under other mappings.
func Document(v *model.Video) map[string]any {
	tags := normalizeTags(v.Tags)
	words := make([]string, 0, len(tags)+2)
	words = append(words, v.Title)
	words = append(words, tags...)
	if v.Owner != "" {
		words = append(words, v.Owner)
	}
	created, duration := v.CreatedAt.UnixNano(), int64(math.Round(v.DurationS))
	doc := map[string]any{
		fTitle:       v.Title,
		fDescription: v.Description,
		fTags:        tags,
		fWords:       words,
		fDerived:     DerivedTags(v),
		fTag:         tags,
		fOwner:       v.Owner,
		fVisibility:  string(v.Visibility),
		fStatus:      string(v.Status),
		fLength:      DurationBucket(v.DurationS),
		fResolution:  sortableInt(int64(resolution(v))),
		fViews:       sortableInt(v.Views),
		fKeywords:    Keywords(v),
	}
	if v.Language != "" {
		doc[fLanguage] = v.Language
	}
	// Upload times in nanoseconds: the order of the store's own list, in
	// which two uploads in the same second are no tie.
	createdLevels().addTo(doc, created)
	durationLevels().addTo(doc, duration)
	if len(v.RecentViews) > 0 {
		doc[fTrend] = sortableFloat(trendKey(v.RecentViews))
		doc[fLastView] = sortableInt(v.RecentViews[len(v.RecentViews)-1].Hour)
	}
	return doc
}

// DocumentSum digests doc, made by Document, so that a change to a video
// that leaves its document as it was (progress, replicas, renditions) can
// skip Bleve, whose analysis is the expensive part of indexing. The sum is
// only compared within one process.
func DocumentSum(doc map[string]any) (uint64, error) {
	// Deterministic: map keys sorted, so the same document always gives
	// the same bytes.
	raw, err := json.Marshal(doc, json.Deterministic(true))
	if err != nil {
		return 0, fmt.Errorf("digest document: %w", err)
	}
	return maphash.Bytes(sumSeed, raw), nil
}

var sumSeed = maphash.MakeSeed()

// normalizeTags lower-cases and trims tags, dropping empty and repeated
// ones, so that the tag filter and facet see one spelling of each.
func normalizeTags(in []string) []string {
	out := make([]string, 0, len(in))
	for _, t := range in {
		t = NormalizeTag(t)
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// NormalizeTag is the form a tag is filtered and faceted by.
func NormalizeTag(t string) string { return strings.ToLower(strings.TrimSpace(t)) }

// resolution is the video's best rendition as players name it: the short
// side, so a vertical 1080×1920 phone video is 1080p like a landscape one.
// Before the ladder exists it is the source's.
func resolution(v *model.Video) int {
	best := 0
	for _, r := range v.Renditions {
		short := r.Height
		if r.Width > 0 && r.Width < short {
			short = r.Width
		}
		best = max(best, short)
	}
	if best == 0 {
		best = v.Height
		if v.Width > 0 && v.Width < best {
			best = v.Width
		}
	}
	return best
}

// Trending is recent views decayed exponentially with this half-life: a
// view an hour ago counts 2^(-1/24) of one now. The replicated state holds
// integer counts per hour (model.HourViews); the decay is applied here.
const trendHalfLife = 24 * time.Hour

// trendWindow is how far back trending looks; a video with no view in it
// is not trending, whatever it once had.
const trendWindow = 72 * time.Hour

// trendEpochHour anchors trend keys (2024-01-01T00:00Z, in Unix hours).
const trendEpochHour = 473352

// trendKey is log2 of the video's decayed recent views expressed at the
// epoch: log2(Σ n·2^((hour−epoch)/halfLife)). The decayed score at any
// later time t is 2^(key − (t−epoch)/halfLife), the same shift for every
// video, so sorting by the key is sorting by the score at query time —
// whenever the query runs, with nothing reindexed as time passes. The sum
// is taken in log space so that keys stay finite however far from the
// epoch.
func trendKey(recent []model.HourViews) float64 {
	key := math.Inf(-1)
	for _, b := range recent {
		if b.N <= 0 {
			continue
		}
		t := float64(b.Hour-trendEpochHour) / trendHalfLife.Hours()
		key = logAdd2(key, math.Log2(float64(b.N))+t)
	}
	if math.IsInf(key, -1) {
		return 0
	}
	return key
}

// logAdd2 is log2(2^a + 2^b) without overflow.
func logAdd2(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log2(1+math.Exp2(b-a))
}

// TrendScore turns a trend key back into decayed views at now, for display.
func TrendScore(key float64, now time.Time) float64 {
	nowKey := float64(now.Unix()/3600-trendEpochHour) / trendHalfLife.Hours()
	return math.Exp2(key - nowKey)
}
