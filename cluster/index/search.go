package index

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Sort orders search results.
type Sort string

// Sort orders. Every order ends with the video ID, so that equal keys
// still come out in the same order on every node.
const (
	// SortRelevance is by score; without text, it is SortNewest.
	SortRelevance Sort = "relevance"
	SortNewest    Sort = "newest"
	SortViews     Sort = "views"
	// SortTrending is by recent views decayed at query time, and only
	// videos viewed within the trending window match.
	SortTrending Sort = "trending"
)

// Valid reports whether s is a known order ("" is relevance).
func (s Sort) Valid() bool {
	switch s {
	case "", SortRelevance, SortNewest, SortViews, SortTrending:
		return true
	}
	return false
}

// Filter narrows a search. Zero fields do not filter.
type Filter struct {
	// Tags must all be on the video (compared as NormalizeTag does), as
	// the owner's tags or as derived ones (DerivedTags: tag=short finds
	// clips under a minute).
	Tags []string
	// Language is the spoken language's BCP 47 tag, as the record holds
	// it ("fr", "pt-BR").
	Language string
	// Keywords must all be among the video's keywords (Keywords).
	Keywords []string
	// Owner must have uploaded the video.
	Owner string
	// MinDuration and MaxDuration bound the length in seconds, inclusive.
	MinDuration, MaxDuration float64
	// From and To bound the upload time, inclusive.
	From, To time.Time
	// MinResolution is the least short side of the best rendition: 720
	// means 720p and better.
	MinResolution int
}

// Like describes the video that related videos are found for.
type Like struct {
	// ID is left out of the results.
	ID    string
	Title string
	Tags  []string
	// Keywords are the video's own (Keywords): they bring in what its
	// description is about, which the title may not say.
	Keywords []string
}

// Query is a search request.
type Query struct {
	// Text is what the viewer typed. Words in double quotes must appear as
	// a phrase.
	Text string
	// Viewer sees their own unlisted and private videos too ("" = anonymous).
	Viewer string
	// All lifts visibility and status filters (admins).
	All    bool
	Filter Filter
	Sort   Sort
	// Like, when set, finds videos like it (related videos) instead of
	// matching Text.
	Like *Like
	// Suggest reads Text as words being typed, the last one perhaps
	// unfinished: the hits are the visible videos that complete it, most
	// viewed first, and Result.Suggestions turns their records into
	// completions.
	Suggest bool
	// Facets asks for tag and duration counts over every match.
	Facets bool
	// Now is when trending is computed; zero is the current time.
	Now    time.Time
	Limit  int
	Offset int
}

// Hit is one result. For SortTrending, Score is the decayed recent views.
type Hit struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// Facets count the matches by tag, derived tag, keyword, language and
// duration bucket.
type Facets struct {
	Tags     []TagCount    `json:"tags"`
	Derived  []TagCount    `json:"derived"`
	Keywords []TagCount    `json:"keywords"`
	Language []TagCount    `json:"language"`
	Duration []BucketCount `json:"duration"`
}

// TagCount is how many matches have a tag.
type TagCount struct {
	Term  string `json:"term"`
	Count int    `json:"count"`
}

// BucketCount is how many matches fall in a named bucket.
type BucketCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Result is a page of hits and the total number of matches.
type Result struct {
	Total  uint64
	Hits   []Hit
	Facets *Facets

	hl  *highlighter
	sug *suggester
}

// MaxLimit bounds a page, so a request cannot ask Bleve for everything.
const MaxLimit = 100

// facetTagCount is how many tags a facet lists.
const facetTagCount = 10

// Search runs q on this node's index. Unless q.All, only ready public
// videos match, plus the viewer's own.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	if q.Limit <= 0 || q.Limit > MaxLimit {
		q.Limit = min(max(q.Limit, 20), MaxLimit)
	}
	q.Offset = max(q.Offset, 0)
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	if !q.Sort.Valid() {
		return nil, fmt.Errorf("unknown sort order %q", q.Sort)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return nil, errors.New("index is closed")
	}
	out := &Result{}
	var body query.Query
	switch {
	case q.Like != nil:
		body = likeQuery(x.an, *q.Like)
	case q.Suggest:
		body, out.sug = suggestQuery(x.an, q.Text)
		if body == nil {
			return out, nil
		}
		q.Sort = SortViews
	default:
		if t := parseText(x.an, q.Text); !t.empty() {
			body = textQuery(t)
			out.hl = newHighlighter(x.an, t)
		}
	}

	req := bleve.NewSearchRequestOptions(combine(body, filters(q)), q.Limit, q.Offset, false)
	req.SortByCustom(sortOrder(q.Sort, body != nil && !q.Suggest))
	if q.Suggest {
		// Suggestions are ordered by views, not score: skip scoring, which
		// also lets Bleve union a prefix's many terms as bitmaps.
		req.Score = "none"
		req.AddFacet(fTag, bleve.NewFacetRequest(fTag, suggestTagCandidates))
	}
	if q.Facets && !q.Suggest {
		req.AddFacet(fTag, bleve.NewFacetRequest(fTag, facetTagCount))
		req.AddFacet(fLength, bleve.NewFacetRequest(fLength, 3))
		req.AddFacet(fDerived, bleve.NewFacetRequest(fDerived, facetTagCount))
		req.AddFacet(fKeywords, bleve.NewFacetRequest(fKeywords, facetTagCount))
		req.AddFacet(fLanguage, bleve.NewFacetRequest(fLanguage, facetTagCount))
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out.Total = res.Total
	out.Hits = make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hit := Hit{ID: h.ID, Score: h.Score}
		if q.Sort == SortTrending && len(h.Sort) > 0 {
			hit.Score = trendScoreOf(h, q.Now)
		}
		if q.Suggest {
			hit.Score = 0
		}
		out.Hits = append(out.Hits, hit)
	}
	if q.Suggest && out.sug != nil {
		out.sug.tags = tagCounts(res.Facets[fTag])
	}
	if q.Facets && !q.Suggest {
		out.Facets = &Facets{
			Tags: tagCounts(res.Facets[fTag]), Derived: tagCounts(res.Facets[fDerived]),
			Keywords: tagCounts(res.Facets[fKeywords]), Language: tagCounts(res.Facets[fLanguage]),
			Duration: bucketCounts(res.Facets[fLength]),
		}
	}
	return out, nil
}

// combine joins the scored part of a query with the unscored filters.
func combine(body query.Query, filters []query.Query) query.Query {
	if len(filters) == 0 {
		if body == nil {
			return bleve.NewMatchAllQuery()
		}
		return body
	}
	b := bleve.NewBooleanQuery()
	if body != nil {
		b.AddMust(body)
	}
	if len(filters) == 1 {
		b.AddFilter(filters[0])
	} else {
		b.AddFilter(bleve.NewConjunctionQuery(filters...))
	}
	return b
}

// filters are the conditions that narrow without scoring: visibility, the
// viewer's filters and the trending window.
func filters(q Query) []query.Query {
	var out []query.Query
	if !q.All {
		out = append(out, visibleQuery(q.Viewer))
	}
	f := q.Filter
	for _, t := range f.Tags {
		if t = NormalizeTag(t); t != "" {
			out = append(out, bleve.NewDisjunctionQuery(keyQ(fTag, t), keyQ(fDerived, t)))
		}
	}
	if f.Language != "" {
		out = append(out, keyQ(fLanguage, f.Language))
	}
	for _, k := range f.Keywords {
		if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
			out = append(out, keyQ(fKeywords, k))
		}
	}
	if f.Owner != "" {
		out = append(out, keyQ(fOwner, f.Owner))
	}
	if f.MinDuration > 0 || f.MaxDuration > 0 {
		var lo, hi *int64
		if f.MinDuration > 0 {
			lo = ptr(int64(math.Ceil(f.MinDuration)))
		}
		if f.MaxDuration > 0 {
			hi = ptr(int64(math.Floor(f.MaxDuration)))
		}
		out = append(out, durationLevels().query(lo, hi))
	}
	if lo, hi := nanos(f.From), nanos(f.To); lo != nil || hi != nil {
		out = append(out, createdLevels().query(lo, hi))
	}
	if f.MinResolution > 0 {
		out = append(out, between(fResolution, sortableInt(int64(f.MinResolution)), ""))
	}
	if q.Sort == SortTrending {
		out = append(out, between(fLastView, sortableInt(q.Now.Add(-trendWindow).Unix()/3600), ""))
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// nanos is t in Unix nanoseconds, nil (an open end) when t is zero or too
// far from now for nanoseconds (before 1678 or after 2262).
func nanos(t time.Time) *int64 {
	if t.IsZero() || t.Year() < 1700 || t.Year() > 2200 {
		return nil
	}
	return ptr(t.UnixNano())
}

// sortOrder is the Bleve sort of an order. Relevance without a scored
// query (no text) falls back to newest first.
func sortOrder(s Sort, scored bool) search.SortOrder {
	desc := func(field string) search.SearchSort {
		return &search.SortField{Field: field, Desc: true, Type: search.SortFieldAsString, Missing: search.SortFieldMissingLast}
	}
	newest := desc(fCreated)
	id := &search.SortDocID{}
	// Bleve reads every sort field of every match, tie or not, so each
	// order has one key and the ID.
	switch s {
	case SortNewest:
		return search.SortOrder{newest, id}
	case SortViews:
		return search.SortOrder{desc(fViews), id}
	case SortTrending:
		return search.SortOrder{desc(fTrend), id}
	}
	if !scored {
		return search.SortOrder{newest, id}
	}
	// Ties in score go by ID, which costs nothing more: every other
	// tie-breaker (views, upload time) reads doc values for every match,
	// which doubled the time of a search (deploy/bench/search).
	return search.SortOrder{&search.SortScore{Desc: true}, id}
}

// trendScoreOf reads the trend key a hit was sorted by and decays it to now.
func trendScoreOf(h *search.DocumentMatch, now time.Time) float64 {
	if len(h.Sort) == 0 {
		return 0
	}
	key, err := parseSortableFloat(h.Sort[0])
	if err != nil {
		return 0
	}
	return TrendScore(key, now)
}

func tagCounts(fr *search.FacetResult) []TagCount {
	out := []TagCount{}
	if fr == nil || fr.Terms == nil {
		return out
	}
	for _, t := range fr.Terms.Terms() {
		out = append(out, TagCount{Term: t.Term, Count: t.Count})
	}
	return out
}

// bucketCounts lists every duration bucket, empty ones too, in their
// natural order, so clients need not know the names in advance.
func bucketCounts(fr *search.FacetResult) []BucketCount {
	counts := map[string]int{}
	if fr != nil && fr.Terms != nil {
		for _, t := range fr.Terms.Terms() {
			counts[t.Term] = t.Count
		}
	}
	out := make([]BucketCount, 0, 3)
	for _, name := range []string{"short", "medium", "long"} {
		out = append(out, BucketCount{Name: name, Count: counts[name]})
	}
	return out
}
