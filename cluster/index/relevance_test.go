package index

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stratavideo/strata/cluster/index/corpus"
	"github.com/stratavideo/strata/cluster/model"
)

// minNDCG is the mean nDCG@10 the relevance set must reach. The first
// honest measurement, before any tuning, was 0.9548 (the mapping and query
// of issue 8 as first written; the engine before it scored 0.8995). Tags
// weighed as much as titles then raised it to 0.9620, a gain that held on
// corpora of two other seeds. A change that lowers relevance below the
// first measurement fails here; one that raises it should raise this.
const minNDCG = 0.95

// relevanceSet is testdata/relevance.json.
type relevanceSet struct {
	Corpus struct {
		Seed uint64 `json:"seed"`
		Size int    `json:"size"`
	} `json:"corpus"`
	Queries []struct {
		Q     string `json:"q"`
		Why   string `json:"why"`
		Judge []rule `json:"judge"`
	} `json:"queries"`
}

// rule grades the videos whose truth has every field it sets.
type rule struct {
	Grade   int    `json:"grade"`
	Topic   string `json:"topic"`
	Subject string `json:"subject"`
	Format  string `json:"format"`
	Song    string `json:"song"`
	Owner   string `json:"owner"`
}

func (r rule) matches(t corpus.Truth) bool {
	return (r.Topic == "" || r.Topic == t.Topic) && (r.Subject == "" || r.Subject == t.Subject) &&
		(r.Format == "" || r.Format == t.Format) && (r.Song == "" || r.Song == t.Song) &&
		(r.Owner == "" || r.Owner == t.Owner)
}

// grade is the highest grade of the rules a visible video matches.
func grade(rules []rule, t corpus.Truth) int {
	g := 0
	if !t.Visible {
		return 0
	}
	for _, r := range rules {
		if r.matches(t) {
			g = max(g, r.Grade)
		}
	}
	return g
}

// dcg10 is the discounted cumulative gain of the first ten grades.
func dcg10(grades []int) float64 {
	s := 0.0
	for i, g := range grades[:min(10, len(grades))] {
		s += (math.Exp2(float64(g)) - 1) / math.Log2(float64(i)+2)
	}
	return s
}

// buildCorpusIndex indexes the generated corpus in a fresh index.
func buildCorpusIndex(t testing.TB, seed uint64, n int) (*Index, map[string]corpus.Video) {
	t.Helper()
	videos := corpus.Generate(seed, n)
	x, err := OpenWith(filepath.Join(t.TempDir(), "index"), Options{}) // these close without waiting out a nap
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	byID := make(map[string]corpus.Video, len(videos))
	err = x.Rebuild(func(fn func(*model.Video) error) error {
		for _, v := range videos {
			byID[v.ID] = v
			if err := fn(v.Video); err != nil {
				return err
			}
		}
		return nil
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return x, byID
}

// TestRelevanceNDCG scores the engine on the labelled queries with nDCG@10
// and fails below minNDCG. Run with -v to see every query's score.
func TestRelevanceNDCG(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "relevance.json"))
	if err != nil {
		t.Fatal(err)
	}
	var set relevanceSet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Queries) < 50 {
		t.Fatalf("the relevance set has %d queries, want at least 50", len(set.Queries))
	}
	x, byID := buildCorpusIndex(t, set.Corpus.Seed, set.Corpus.Size)

	total := 0.0
	for _, q := range set.Queries {
		var ideal []int
		for _, v := range byID {
			if g := grade(q.Judge, v.Truth); g > 0 {
				ideal = append(ideal, g)
			}
		}
		if len(ideal) == 0 {
			t.Fatalf("query %q: no video in the corpus is relevant; the label or the generator is wrong", q.Q)
		}
		slices.Sort(ideal)
		slices.Reverse(ideal)
		res, err := x.Search(context.Background(), Query{Text: q.Q, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, h := range res.Hits {
			v := byID[h.ID]
			if !v.Truth.Visible {
				t.Fatalf("query %q: %s is not visible to anonymous viewers but was found", q.Q, h.ID)
			}
			got = append(got, grade(q.Judge, v.Truth))
		}
		ndcg := dcg10(got) / dcg10(ideal)
		total += ndcg
		t.Logf("%.3f  %-40q grades %v (%d relevant)", ndcg, q.Q, got, len(ideal))
	}
	mean := total / float64(len(set.Queries))
	t.Logf("mean nDCG@10 over %d queries: %.4f (threshold %.2f)", len(set.Queries), mean, minNDCG)
	if mean < minNDCG {
		t.Fatalf("mean nDCG@10 %.4f is below %.2f", mean, minNDCG)
	}
}
