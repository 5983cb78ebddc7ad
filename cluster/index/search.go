package index

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/stratavideo/strata/cluster/model"
)

// Query is a search request.
type Query struct {
	// Text is what the viewer typed.
	Text string
	// Viewer sees their own unlisted and private videos too ("" = anonymous).
	Viewer string
	// All lifts visibility and status filters (admins).
	All    bool
	Limit  int
	Offset int
}

// Hit is one result.
type Hit struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// Result is a page of hits and the total number of matches.
type Result struct {
	Total uint64
	Hits  []Hit
}

// MaxLimit bounds a page, so a request cannot ask Bleve for everything.
const MaxLimit = 100

// Search runs q. Only ready public videos match, plus the viewer's own.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	if q.Limit <= 0 || q.Limit > MaxLimit {
		q.Limit = min(max(q.Limit, 20), MaxLimit)
	}
	if q.Offset < 0 {
		q.Offset = 0
	}
	req := bleve.NewSearchRequestOptions(buildQuery(q), q.Limit, q.Offset, false)
	if strings.TrimSpace(q.Text) == "" {
		req.SortBy([]string{"-" + fCreated, "_id"})
	} else {
		req.SortBy([]string{"-_score", "-" + fCreated, "_id"})
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return nil, errors.New("index is closed")
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &Result{Total: res.Total, Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, Hit{ID: h.ID, Score: h.Score})
	}
	return out, nil
}

func buildQuery(q Query) query.Query {
	var text query.Query
	if t := strings.TrimSpace(q.Text); t == "" {
		text = bleve.NewMatchAllQuery()
	} else {
		title := bleve.NewMatchQuery(t)
		title.SetField(fTitle)
		title.SetBoost(3)
		desc := bleve.NewMatchQuery(t)
		desc.SetField(fDescription)
		tags := bleve.NewMatchQuery(strings.ToLower(t))
		tags.SetField(fTags)
		tags.SetBoost(2)
		parts := []query.Query{title, desc, tags}
		// Typo tolerance on the unstemmed title, for words long enough that
		// one edit does not turn them into a different common word.
		for _, w := range strings.Fields(strings.ToLower(t)) {
			if utf8.RuneCountInString(w) >= 5 {
				fz := bleve.NewFuzzyQuery(w)
				fz.SetField(fTitlePlain)
				fz.SetFuzziness(1)
				fz.SetBoost(0.5)
				parts = append(parts, fz)
			}
		}
		text = bleve.NewDisjunctionQuery(parts...)
	}
	if q.All {
		return text
	}
	public := bleve.NewConjunctionQuery(term(fVisibility, string(model.Public)), term(fStatus, string(model.StatusReady)))
	var visible query.Query = public
	if q.Viewer != "" {
		visible = bleve.NewDisjunctionQuery(public, term(fOwner, q.Viewer))
	}
	return bleve.NewConjunctionQuery(text, visible)
}

func term(field, value string) query.Query {
	t := bleve.NewTermQuery(value)
	t.SetField(field)
	return t
}
