package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/index/corpus"
	"github.com/stratavideo/strata/cluster/model"
)

// runIndex is the index-only study (-mode index): the build time and size
// of our mapping and of the variants it was chosen against, then the
// latency of each kind of query on our index, called directly (no HTTP).
// It decided the mapping; the comparison with PostgreSQL is runCompare.
func runIndex(o options, work string, videos []corpus.Video) error {
	fmt.Printf("%-10s %10s %10s %10s\n", "mapping", "build", "CPU", "size")
	var ours *index.Index
	for _, variant := range strings.Split(o.variants, ",") {
		dir := filepath.Join(work, variant)
		var took time.Duration
		var err error
		cpu0 := cpuTime()
		switch variant {
		case "strata":
			ours, took, err = buildOurs(dir, videos)
		case "stored":
			took, err = buildVariant(dir, videos, func() (mapping.IndexMapping, error) { return withFields(true, true) }, index.Document)
		case "positions":
			took, err = buildVariant(dir, videos, func() (mapping.IndexMapping, error) { return withFields(false, true) }, index.Document)
		case "lean-v1":
			took, err = buildVariant(dir, videos, leanV1Mapping, leanV1Document)
		case "default":
			took, err = buildVariant(dir, videos, func() (mapping.IndexMapping, error) { return bleve.NewIndexMapping(), nil }, index.Document)
		default:
			err = fmt.Errorf("unknown variant %q", variant)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", variant, err)
		}
		cpu := cpuTime() - cpu0
		size, err := dirSize(dir)
		if err != nil {
			return err
		}
		fmt.Printf("%-10s %9.2fs %9.2fs %8.1f MB\n", variant, took.Seconds(), cpu.Seconds(), float64(size)/1e6)
		if variant != "strata" {
			os.RemoveAll(dir)
		}
	}
	if ours == nil || o.runs <= 0 {
		return nil
	}
	defer ours.Close()
	texts, err := readQueries(o.relevance)
	if err != nil {
		return err
	}
	fmt.Println()
	return timeQueries(ours, videos, texts, o.runs)
}

// buildOurs builds the index the way a node does: Rebuild from the store,
// in batches.
func buildOurs(dir string, videos []corpus.Video) (*index.Index, time.Duration, error) {
	x, err := index.Open(dir)
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	err = x.Rebuild(func(fn func(*model.Video) error) error {
		for _, v := range videos {
			if err := fn(v.Video); err != nil {
				return err
			}
		}
		return nil
	}, 1)
	took := time.Since(start)
	if err != nil {
		x.Close()
		return nil, 0, err
	}
	return x, took, nil
}

// withFields is our mapping with the title and description stored and/or
// with term vectors (positions). Both are what Bleve's own highlighter
// needs; positions alone are what phrase queries on those fields need.
func withFields(store, positions bool) (mapping.IndexMapping, error) {
	m, err := index.NewMapping()
	if err != nil {
		return nil, err
	}
	for _, field := range []string{"title", "description"} {
		fm := m.DefaultMapping.Properties[field]
		if fm == nil || len(fm.Fields) == 0 {
			return nil, fmt.Errorf("the mapping has no field %s", field)
		}
		fm.Fields[0].Store = store
		fm.Fields[0].IncludeTermVectors = positions
	}
	return m, nil
}

// buildVariant indexes the videos under another mapping, in batches of the
// size Rebuild uses, without waiting for each batch to reach the disk (as
// Rebuild does) but closing the index, which writes it all, before the
// clock stops.
func buildVariant(dir string, videos []corpus.Video, mk func() (mapping.IndexMapping, error), doc func(*model.Video) map[string]any) (time.Duration, error) {
	m, err := mk()
	if err != nil {
		return 0, err
	}
	idx, err := bleve.NewUsing(dir, m, bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore, map[string]any{"unsafe_batch": true})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	b := idx.NewBatch()
	for _, v := range videos {
		if err := b.Index(v.ID, doc(v.Video)); err != nil {
			idx.Close()
			return 0, err
		}
		if b.Size() >= 2000 {
			if err := idx.Batch(b); err != nil {
				idx.Close()
				return 0, err
			}
			b.Reset()
		}
	}
	persisted := make(chan error, 1)
	b.SetPersistedCallback(func(err error) { persisted <- err })
	if err = idx.Batch(b); err == nil {
		err = <-persisted
	}
	err = errors.Join(err, idx.Close())
	return time.Since(start), err
}

func readQueries(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the relevance set (run from the repository root, or pass -queries): %w", err)
	}
	var set struct {
		Queries []struct {
			Q string `json:"q"`
		} `json:"queries"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []string
	for _, q := range set.Queries {
		out = append(out, q.Q)
	}
	return out, nil
}

// timeQueries runs each kind of query runs times and prints percentiles
// of wall time and of the CPU time of the thread that ran it.
func timeQueries(x *index.Index, videos []corpus.Video, texts []string, runs int) error {
	r := rand.New(rand.NewPCG(7, 7))
	byID := make(map[string]*model.Video, len(videos))
	for _, v := range videos {
		byID[v.ID] = v.Video
	}
	records := func(res *index.Result) []*model.Video {
		vs := make([]*model.Video, 0, len(res.Hits))
		for _, h := range res.Hits {
			vs = append(vs, byID[h.ID])
		}
		return vs
	}
	ctx := context.Background()
	now := corpus.Reference
	text := func() string { return texts[r.IntN(len(texts))] }
	tag := func() string { return []string{"gaming", "cooking", "travel", "tech"}[r.IntN(4)] }
	// measure times fn, the part of a run that counts.
	var wall, cpu time.Duration
	measure := func(fn func() error) error {
		start := time.Now()
		c, err := threadCPU(fn)
		wall, cpu = time.Since(start), c
		return err
	}
	search := func(q index.Query) func() error {
		return func() error {
			return measure(func() error {
				_, err := x.Search(ctx, q)
				return err
			})
		}
	}
	kinds := []struct {
		name string
		run  func() error
	}{
		{"search (facets, highlights of 20 hits)", func() error {
			return measure(func() error {
				res, err := x.Search(ctx, index.Query{Text: text(), Facets: true, Now: now})
				if err == nil {
					for _, v := range records(res) {
						res.Highlights(v)
					}
				}
				return err
			})
		}},
		{"search (no facets, no highlights)", func() error {
			return search(index.Query{Text: text(), Now: now})()
		}},
		{"highlights of 20 hits alone", func() error {
			res, err := x.Search(ctx, index.Query{Text: text(), Now: now})
			if err != nil {
				return err
			}
			vs := records(res)
			return measure(func() error {
				for _, v := range vs {
					res.Highlights(v)
				}
				return nil
			})
		}},
		{"search, filtered (tag, duration, 720p+)", func() error {
			return search(index.Query{Text: text(), Now: now,
				Filter: index.Filter{Tags: []string{tag()}, MaxDuration: 1200, MinResolution: 720}})()
		}},
		{"search, uploaded in 2025, sort by views", func() error {
			return search(index.Query{Text: text(), Sort: index.SortViews, Now: now,
				Filter: index.Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)}})()
		}},
		{"list a tag, newest first, page 3", func() error {
			return search(index.Query{Filter: index.Filter{Tags: []string{tag()}}, Offset: 40, Now: now})()
		}},
		{"suggest (2-6 letters typed)", func() error {
			w := []rune(strings.Fields(strings.Trim(text(), `"`))[0])
			typed := string(w[:min(len(w), 2+r.IntN(5))])
			return measure(func() error {
				res, err := x.Search(ctx, index.Query{Text: typed, Suggest: true, Limit: 30, Now: now})
				if err == nil {
					res.Suggestions(records(res), 8)
				}
				return err
			})
		}},
		{"related", func() error {
			v := videos[r.IntN(len(videos))]
			return search(index.Query{Like: &index.Like{ID: v.ID, Title: v.Title, Tags: v.Tags}, Limit: 10, Now: now})()
		}},
		{"trending", search(index.Query{Sort: index.SortTrending, Limit: 20, Now: now})},
		{"apply one edit (batch of 1 + applied index)", func() error {
			v := *videos[r.IntN(len(videos))].Video
			v.Title += " (edited)"
			return measure(func() error {
				b := x.NewBatch()
				b.Put(v.ID, &v)
				return x.Commit(b, 2)
			})
		}},
	}
	fmt.Printf("%-44s %9s %9s %9s %9s\n", "query", "p50", "p99", "CPU p50", "CPU p99")
	for _, k := range kinds {
		for range runs / 10 { // warm up
			if err := k.run(); err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
		}
		walls := make([]time.Duration, 0, runs)
		cpus := make([]time.Duration, 0, runs)
		for range runs {
			if err := k.run(); err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
			walls, cpus = append(walls, wall), append(cpus, cpu)
		}
		slices.Sort(walls)
		slices.Sort(cpus)
		p := func(ds []time.Duration, q int) string { return ms(ds[len(ds)*q/100]) }
		fmt.Printf("%-44s %9s %9s %9s %9s\n", k.name, p(walls, 50), p(walls, 99), p(cpus, 50), p(cpus, 99))
	}
	return nil
}
