package index

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

// suggestions runs a suggest query and builds the completions from the
// fixture's records, as the API does from the store's.
func (f *fixture) suggestions(t *testing.T, text string) []string {
	t.Helper()
	res := f.search(t, Query{Text: text, Suggest: true, Limit: 20})
	var vs []*model.Video
	for _, h := range res.Hits {
		vs = append(vs, f.record(t, h.ID))
	}
	return res.Suggestions(vs, 8)
}

func TestSuggest(t *testing.T) {
	x := openWith(t,
		vid("v1", "Valorant tournament finals", tags("valorant", "esports"), views(900)),
		vid("v2", "Best Valorant tournament plays", tags("valorant"), views(500)),
		vid("v3", "Valorant tips for beginners", tags("valorant", "tips"), views(100)),
		vid("v4", "Valley hiking in spring", tags("hiking"), views(50)),
		vid("v5", "Crème brûlée at home", tags("dessert")),
		vid("p1", "Valorant secret scrim", tags("valorant", "secretscrim"), vis(model.Private)),
		vid("u1", "Valhalla raid", tags("valhalla"), vis(model.Unlisted)),
		vid("w1", "Valkyrie encoding test", status(model.StatusProcessing)),
	)
	cases := []struct {
		name, q string
		want    []string // in this order, at the start of the list
		not     []string
	}{
		{"a prefix", "val", []string{"valorant", "valorant tournament"}, []string{"valhalla", "valhalla raid", "valorant secret", "valkyrie encoding"}},
		{"finished words and a prefix", "valorant t", []string{"valorant tournament", "valorant tips"}, []string{"valley hiking", "valorant"}},
		{"a typo in a finished word", "valrant tou", []string{"valorant tournament"}, nil},
		{"a typo in the last word", "valrant", []string{"valorant"}, nil},
		{"accents kept in suggestions", "creme", []string{"crème brûlée"}, nil},
		{"a trailing space finishes the word", "valley ", []string{"valley hiking"}, []string{"valorant"}},
		{"private words are not suggested", "secr", nil, []string{"secretscrim", "valorant secret"}},
		{"one letter is too little", "v", nil, []string{"valorant"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := x.suggestions(t, c.q)
			if len(got) < len(c.want) || !slices.Equal(got[:len(c.want)], c.want) {
				t.Fatalf("%q suggested %v, want it to start with %v", c.q, got, c.want)
			}
			for _, n := range c.not {
				if slices.Contains(got, n) {
					t.Fatalf("%q suggested %q: %v", c.q, n, got)
				}
			}
			if c.want == nil && len(got) > 0 {
				t.Fatalf("%q suggested %v, want nothing", c.q, got)
			}
		})
	}
}

func TestRelated(t *testing.T) {
	src := vid("src", "Pasta carbonara recipe", tags("pasta", "italian"))
	x := openWith(t, src,
		vid("twin", "Spaghetti carbonara, the Roman way", tags("pasta", "italian")),
		vid("tagmate", "Easy pasta salad", tags("pasta")),
		vid("titlemate", "Carbonara taste test"),
		vid("other", "Guitar lesson", tags("music")),
		vid("private", "Carbonara secrets", tags("pasta", "italian"), vis(model.Private)),
	)
	res := x.search(t, Query{Like: &Like{ID: src.ID, Title: src.Title, Tags: src.Tags}})
	got := order(res)
	if len(got) == 0 || got[0] != "twin" {
		t.Fatalf("related = %v, want twin first (shares the rare word and both tags)", got)
	}
	for _, id := range []string{"tagmate", "titlemate"} {
		if !slices.Contains(got, id) {
			t.Errorf("related = %v, want %s in it", got, id)
		}
	}
	for _, id := range []string{"src", "other", "private"} {
		if slices.Contains(got, id) {
			t.Errorf("related = %v, must not hold %s", got, id)
		}
	}
	if res := x.search(t, Query{Like: &Like{ID: "x"}}); len(res.Hits) != 0 {
		t.Errorf("a video with no words is related to %v", order(res))
	}
}

func TestTrending(t *testing.T) {
	x := openWith(t,
		vid("hot", "Hot", recent(1, 30)),
		vid("fading", "Fading", recent(48, 100)),
		vid("steady", "Steady", recent(20, 10), recent(10, 10), recent(1, 10)),
		vid("stale", "Stale", recent(80, 1000)),
		vid("private", "Private", recent(0, 500), vis(model.Private)),
		vid("unwatched", "Unwatched", views(5000)),
	)
	decayed := func(hoursAgo ...float64) float64 {
		s := 0.0
		for _, h := range hoursAgo {
			s += math.Exp2(-h / 24)
		}
		return s
	}
	cases := []struct {
		name   string
		now    time.Time
		want   []string
		scores []float64
	}{
		{"now", at, []string{"hot", "fading", "steady"},
			[]float64{30 * decayed(1), 100 * decayed(48), 10 * decayed(20, 10, 1)}},
		// A day later every score has halved: the order is the same, and
		// nothing was reindexed.
		{"a day later", at.Add(24 * time.Hour), []string{"hot", "fading", "steady"},
			[]float64{30 * decayed(25), 100 * decayed(72), 10 * decayed(44, 34, 25)}},
		{"past the window", at.Add(30 * time.Hour), []string{"hot", "steady"},
			[]float64{30 * decayed(31), 10 * decayed(50, 40, 31)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := x.search(t, Query{Sort: SortTrending, Now: c.now})
			if got := order(res); !slices.Equal(got, c.want) {
				t.Fatalf("trending = %v, want %v", got, c.want)
			}
			for i, h := range res.Hits {
				if math.Abs(h.Score-c.scores[i]) > 1e-6*c.scores[i] {
					t.Errorf("%s: score %.4f, want %.4f", h.ID, h.Score, c.scores[i])
				}
			}
		})
	}
}

// TestVisibilityEverywhere: a video others may not see is absent from
// every kind of result and from every count, whatever the query.
func TestVisibilityEverywhere(t *testing.T) {
	hidden := []*model.Video{
		vid("private", "Zeppelin flight private", tags("zeppelin"), owner("zed"), vis(model.Private), recent(1, 900)),
		vid("unlisted", "Zeppelin flight unlisted", tags("zeppelin"), owner("zed"), vis(model.Unlisted), recent(1, 900)),
		vid("processing", "Zeppelin flight processing", tags("zeppelin"), owner("zed"), status(model.StatusProcessing), recent(1, 900)),
		vid("failed", "Zeppelin flight failed", tags("zeppelin"), owner("zed"), status(model.StatusFailed), recent(1, 900)),
	}
	public := vid("public", "Airship flight", tags("airship"), recent(2, 1))
	x := openWith(t, append(hidden, public)...)
	queries := map[string]Query{
		"search":          {Text: "zeppelin flight", Facets: true},
		"filter by tag":   {Filter: Filter{Tags: []string{"zeppelin"}}, Facets: true},
		"filter by owner": {Filter: Filter{Owner: "zed"}, Facets: true},
		"list":            {Facets: true},
		"views":           {Sort: SortViews, Facets: true},
		"trending":        {Sort: SortTrending, Facets: true},
		"suggest":         {Text: "zep", Suggest: true},
		"related":         {Like: &Like{ID: "public", Title: "Zeppelin flight", Tags: []string{"zeppelin"}}, Facets: true},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			for _, viewer := range []string{"", "someone-else"} {
				q.Viewer = viewer
				res := x.search(t, q)
				for _, h := range res.Hits {
					if h.ID != "public" {
						t.Fatalf("viewer %q found %s", viewer, h.ID)
					}
				}
				if res.Facets != nil && slices.ContainsFunc(res.Facets.Tags, func(tc TagCount) bool { return tc.Term == "zeppelin" }) {
					t.Fatalf("viewer %q: facets count hidden videos: %v", viewer, res.Facets.Tags)
				}
				if q.Suggest {
					if got := x.suggestions(t, q.Text); len(got) > 0 {
						t.Fatalf("suggested %v from hidden videos", got)
					}
				}
			}
		})
	}
	t.Run("the owner sees their own", func(t *testing.T) {
		got := sorted(order(x.search(t, Query{Text: "zeppelin", Viewer: "zed"})))
		if want := []string{"failed", "private", "processing", "unlisted"}; !slices.Equal(got, want) {
			t.Fatalf("owner found %v, want %v", got, want)
		}
	})
	t.Run("admins see all", func(t *testing.T) {
		if got := x.search(t, Query{Text: "zeppelin", All: true}); got.Total != 4 {
			t.Fatalf("admin found %v", order(got))
		}
	})
}
