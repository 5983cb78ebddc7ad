package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/httperr"
)

// Search and discovery: every answer comes from this node's own index and
// store, so any node answers without asking another. There are no accounts
// yet, so every request is anonymous: only ready public videos are found,
// suggested, counted in facets, trending or related.

// searcher is what the search handlers need of a node.
type searcher interface {
	Search(ctx context.Context, q index.Query) (*index.Result, error)
	Video(id string) (*model.Video, error)
	Videos(ids []string) ([]*model.Video, error)
}

// Limits of the search endpoints.
const (
	maxQueryRunes   = 500
	maxOffset       = 10000
	maxSuggestions  = 20
	suggestFromHits = 30
	defaultRelated  = 10
)

// rankedVideo is a video in a ranked list: the API's video with its score
// (relevance, or decayed recent views for trending); its view count is
// the Video's own.
type rankedVideo struct {
	Video
}

// searchHit is a search result: a ranked video and the matched words of
// its title and description, HTML-escaped with <mark> around each match
// (an empty object when the search had no text).
type searchHit struct {
	rankedVideo
	Highlights map[string][]string `json:"highlights"`
}

// withSearcher adapts a search handler to the running node.
func (h *Handler) withSearcher(w http.ResponseWriter, fn func(searcher)) {
	p, ok := h.parts(w)
	if !ok {
		return
	}
	fn(p.Node)
}

// search: GET /api/v1/search?q=&tag=&keyword=&language=&owner=
// &min_duration=&max_duration=&from=&to=&resolution=
// &sort=relevance|newest|views&limit=&offset=
func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	h.withSearcher(w, func(s searcher) { h.runSearch(w, r, s, time.Now()) })
}

// suggest: GET /api/v1/search/suggest?q=&limit=
func (h *Handler) suggest(w http.ResponseWriter, r *http.Request) {
	h.withSearcher(w, func(s searcher) { h.runSuggest(w, r, s) })
}

// trending: GET /api/v1/videos/trending?limit=
func (h *Handler) trending(w http.ResponseWriter, r *http.Request) {
	h.withSearcher(w, func(s searcher) { h.runTrending(w, r, s, time.Now()) })
}

// related: GET /api/v1/videos/{id}/related?limit=
func (h *Handler) related(w http.ResponseWriter, r *http.Request) {
	h.withSearcher(w, func(s searcher) { h.runRelated(w, r, s) })
}

func (h *Handler) runSearch(w http.ResponseWriter, r *http.Request, s searcher, now time.Time) {
	q, err := parseSearch(r, now)
	if err != nil {
		httperr.BadRequest(w, err.Error())
		return
	}
	res, err := s.Search(r.Context(), q)
	if err != nil {
		h.writeStoreError(w, err, "search")
		return
	}
	ranked, err := rankRecords(s, res)
	if err != nil {
		h.writeStoreError(w, err, "search")
		return
	}
	hits := make([]searchHit, len(ranked))
	for i, rv := range ranked {
		hits[i] = searchHit{rankedVideo: rv.rankedVideo, Highlights: res.Highlights(rv.record)}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"query": q.Text, "total": res.Total, "hits": hits, "facets": res.Facets,
		"limit": q.Limit, "offset": q.Offset,
	})
}

// parseSearch reads the search parameters.
func parseSearch(r *http.Request, now time.Time) (index.Query, error) {
	v := r.URL.Query()
	q := index.Query{Text: v.Get("q"), Facets: true, Now: now}
	if utf8.RuneCountInString(q.Text) > maxQueryRunes {
		return q, fmt.Errorf("the query is longer than %d characters", maxQueryRunes)
	}
	var err error
	if q.Limit, err = intParam(r, "limit", 20, 1, index.MaxLimit); err != nil {
		return q, err
	}
	if q.Offset, err = intParam(r, "offset", 0, 0, maxOffset); err != nil {
		return q, err
	}
	q.Filter.Tags = listParam(r, "tag")
	q.Filter.Keywords = listParam(r, "keyword")
	if q.Filter.Language, err = languageParam(r, "language"); err != nil {
		return q, err
	}
	q.Filter.Owner = strings.TrimSpace(v.Get("owner"))
	if q.Filter.MinDuration, err = secondsParam(r, "min_duration"); err != nil {
		return q, err
	}
	if q.Filter.MaxDuration, err = secondsParam(r, "max_duration"); err != nil {
		return q, err
	}
	if q.Filter.From, err = timeParam(r, "from", false); err != nil {
		return q, err
	}
	if q.Filter.To, err = timeParam(r, "to", true); err != nil {
		return q, err
	}
	if q.Filter.MinResolution, err = intParam(r, "resolution", 0, 0, 100000); err != nil {
		return q, err
	}
	switch sort := index.Sort(v.Get("sort")); sort {
	case "", index.SortRelevance, index.SortNewest, index.SortViews:
		q.Sort = sort
	default:
		return q, fmt.Errorf("sort must be relevance, newest or views")
	}
	return q, nil
}

// listParam reads a repeatable, comma-separated parameter: tag=a,b&tag=c.
func listParam(r *http.Request, name string) []string {
	var out []string
	for _, t := range r.URL.Query()[name] {
		for _, one := range strings.Split(t, ",") {
			if one = strings.TrimSpace(one); one != "" {
				out = append(out, one)
			}
		}
	}
	return out
}

// languageParam reads a language as a BCP 47 tag in the form the index
// holds (transcode's probe writes it so): "fra", "FR" and "fr" all mean
// "fr".
func languageParam(r *http.Request, name string) (string, error) {
	s := strings.TrimSpace(r.URL.Query().Get(name))
	if s == "" {
		return "", nil
	}
	t, err := language.Parse(s)
	if err != nil || t == language.Und {
		return "", fmt.Errorf("%s must be a language tag such as en or pt-BR, got %q", name, s)
	}
	return t.String(), nil
}

// secondsParam reads a non-negative number of seconds; absent is 0.
func secondsParam(r *http.Request, name string) (float64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e9 {
		return 0, fmt.Errorf("%s must be a number of seconds", name)
	}
	return f, nil
}

// timeParam reads an RFC 3339 time or a date. A date as the end of a range
// (endOfDay) means the whole day: to=2026-05-01 includes that day's uploads.
func timeParam(r *http.Request, name string, endOfDay bool) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s must be a date (2006-01-02) or an RFC 3339 time", name)
	}
	if endOfDay {
		d = d.Add(24*time.Hour - time.Nanosecond)
	}
	return d, nil
}

// rankRecords reads the records of a result's hits, in order. Hits whose
// record is gone (deleted between the index read and this one) are left
// out.
func rankRecords(s searcher, res *index.Result) ([]rankedRecord, error) {
	vs, err := records(s, res)
	if err != nil {
		return nil, err
	}
	scores := make(map[string]float64, len(res.Hits))
	for _, hit := range res.Hits {
		scores[hit.ID] = hit.Score
	}
	out := make([]rankedRecord, 0, len(vs))
	for _, v := range vs {
		rv := rankedVideo{Video: view(v)}
		sc := scores[v.ID]
		rv.Score = &sc
		out = append(out, rankedRecord{rankedVideo: rv, record: v})
	}
	return out, nil
}

// rankedRecord is a ranked video and the record it was made from.
type rankedRecord struct {
	rankedVideo
	record *model.Video
}

// records reads the records of a result's hits from the store, in order.
func records(s searcher, res *index.Result) ([]*model.Video, error) {
	ids := make([]string, len(res.Hits))
	for i, hit := range res.Hits {
		ids[i] = hit.ID
	}
	return s.Videos(ids)
}

func (h *Handler) runSuggest(w http.ResponseWriter, r *http.Request, s searcher) {
	text := r.URL.Query().Get("q")
	if utf8.RuneCountInString(text) > maxQueryRunes {
		httperr.BadRequest(w, fmt.Sprintf("the query is longer than %d characters", maxQueryRunes))
		return
	}
	n, err := intParam(r, "limit", 8, 1, maxSuggestions)
	if err != nil {
		httperr.BadRequest(w, err.Error())
		return
	}
	res, err := s.Search(r.Context(), index.Query{Text: text, Suggest: true, Limit: suggestFromHits})
	if err == nil {
		var vs []*model.Video
		if vs, err = records(s, res); err == nil {
			writeJSON(w, http.StatusOK, map[string]any{"query": text, "suggestions": res.Suggestions(vs, n)})
			return
		}
	}
	h.writeStoreError(w, err, "suggestions")
}

func (h *Handler) runTrending(w http.ResponseWriter, r *http.Request, s searcher, now time.Time) {
	limit, err := intParam(r, "limit", 20, 1, index.MaxLimit)
	if err != nil {
		httperr.BadRequest(w, err.Error())
		return
	}
	res, err := s.Search(r.Context(), index.Query{Sort: index.SortTrending, Now: now, Limit: limit})
	if err != nil {
		h.writeStoreError(w, err, "trending")
		return
	}
	h.writeVideos(w, s, res)
}

func (h *Handler) runRelated(w http.ResponseWriter, r *http.Request, s searcher) {
	limit, err := intParam(r, "limit", defaultRelated, 1, index.MaxLimit)
	if err != nil {
		httperr.BadRequest(w, err.Error())
		return
	}
	v, err := s.Video(r.PathValue("id"))
	if err == nil && !visibleByID(r, v) {
		httperr.NotFound(w, "video")
		return
	}
	if err != nil {
		h.writeStoreError(w, err, "video")
		return
	}
	like := index.LikeVideo(v)
	res, err := s.Search(r.Context(), index.Query{Like: &like, Limit: limit})
	if err != nil {
		h.writeStoreError(w, err, "related videos")
		return
	}
	h.writeVideos(w, s, res)
}

// writeVideos answers {"videos": [...]} with the hits of res.
func (h *Handler) writeVideos(w http.ResponseWriter, s searcher, res *index.Result) {
	ranked, err := rankRecords(s, res)
	if err != nil {
		h.writeStoreError(w, err, "videos")
		return
	}
	out := make([]rankedVideo, len(ranked))
	for i, rv := range ranked {
		out[i] = rv.rankedVideo
	}
	writeJSON(w, http.StatusOK, map[string]any{"videos": out})
}
