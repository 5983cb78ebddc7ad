package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/stratavideo/strata/cluster/index/corpus"
)

// kind is the shape of a query in the mix.
type kind int

const (
	oneWord kind = iota
	twoWords
	typo
)

func (k kind) String() string {
	return [...]string{"one word", "two words", "one word, one-letter typo"}[k]
}

// query is one search of the mix.
type query struct {
	text string
	kind kind
	// intended is the word a typo query misspells.
	intended string
}

// stopWords are left out of the vocabulary: nobody searches for "the".
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an and are as at be but by de do does for from how i if in into is it its
		me my no not of on or our so than that the their then this to up us vs was we what when who why
		will with you your`) {
		stopWords[w] = true
	}
}

// titleWords are the words of a title a viewer might search for: letters
// only (numbers are episode counts), lower case, accents kept as typed,
// three letters or more, no stop words.
func titleWords(title string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(title), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len([]rune(w)) >= 3 && !stopWords[w] {
			out = append(out, w)
		}
	}
	return out
}

// makeMix draws n queries from the titles of the videos anyone may see:
// 60% one word, 30% two words of the same title in title order, 10% one
// word of five letters or more with a one-letter typo. Words are drawn by
// picking a title, then a word of it, so common words come up as often as
// the titles use them. The same seed gives the same mix.
func makeMix(videos []corpus.Video, seed uint64, n int) []query {
	r := rand.New(rand.NewPCG(seed, 0x5ea5c4))
	var titles [][]string
	vocab := map[string]bool{}
	for _, v := range videos {
		ws := titleWords(v.Title)
		for _, w := range ws {
			vocab[fold(w)] = true
		}
		if v.Truth.Visible && len(ws) > 0 {
			titles = append(titles, ws)
		}
	}
	out := make([]query, 0, n)
	for len(out) < n {
		ws := titles[r.IntN(len(titles))]
		switch x := r.IntN(10); {
		case x < 6:
			out = append(out, query{text: ws[r.IntN(len(ws))], kind: oneWord})
		case x < 9:
			if len(ws) < 2 {
				continue
			}
			i := r.IntN(len(ws))
			j := r.IntN(len(ws) - 1)
			if j >= i {
				j++
			}
			out = append(out, query{text: ws[min(i, j)] + " " + ws[max(i, j)], kind: twoWords})
		default:
			var long []string
			for _, w := range ws {
				if len([]rune(w)) >= 5 {
					long = append(long, w)
				}
			}
			if len(long) == 0 {
				continue
			}
			w := long[r.IntN(len(long))]
			out = append(out, query{text: misspell(r, w, vocab), kind: typo, intended: w})
		}
	}
	return out
}

// misspell makes one edit to w (a letter replaced, dropped or added) that
// does not turn it into another word of the vocabulary. The first letter
// is kept: people rarely mistype it, and spelling correctors rely on it.
func misspell(r *rand.Rand, w string, vocab map[string]bool) string {
	rs := []rune(w)
	letter := func() rune { return rune('a' + r.IntN(26)) }
	for {
		pos := 1 + r.IntN(len(rs)-1)
		var out []rune
		switch r.IntN(3) {
		case 0:
			l := letter()
			if l == rs[pos] {
				continue
			}
			out = slices.Concat(rs[:pos], []rune{l}, rs[pos+1:])
		case 1:
			out = slices.Concat(rs[:pos], rs[pos+1:])
		default:
			out = slices.Concat(rs[:pos], []rune{letter()}, rs[pos:])
		}
		if s := string(out); s != w && !vocab[fold(s)] {
			return s
		}
	}
}

// folder lower-cases and strips accents, as both systems do before
// matching, so the typo check reads titles the way the engines do.
var folder = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

func fold(s string) string {
	t := folder.Get().(transform.Transformer)
	defer folder.Put(t)
	out, _, err := transform.String(t, strings.ToLower(s))
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}

// searcher is a client of one system under test.
type searcher interface {
	// search runs one query and returns its answer as read off the wire.
	search(ctx context.Context, text string) (any, error)
	// titles are the titles of the answer's hits, in order. It is not
	// timed: the clients of both systems would do it alike.
	titles(answer any) ([]string, error)
}

// loadRun is what one run of the timed mix measured.
type loadRun struct {
	clients int
	lat     []time.Duration // sorted
	wall    time.Duration
	// titles are each query's hit titles, by position in the mix.
	titles [][]string
}

func (l loadRun) pct(p int) time.Duration {
	if len(l.lat) == 0 {
		return 0
	}
	return l.lat[min(len(l.lat)-1, len(l.lat)*p/100)]
}

func (l loadRun) qps() float64 { return float64(len(l.lat)) / l.wall.Seconds() }

// drive runs the queries with one goroutine per searcher, each taking the
// next query as soon as its previous answer is read (a closed loop: the
// clients wait for answers, as people and PeerTube's web client do). The
// latency of a query is from sending it to reading the last byte or row
// of its answer.
func drive(ctx context.Context, qs []query, clients []searcher) (loadRun, error) {
	run := loadRun{clients: len(clients), lat: make([]time.Duration, len(qs)), titles: make([][]string, len(qs))}
	answers := make([]any, len(qs))
	var next atomic.Int64
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(qs) {
					return
				}
				t0 := time.Now()
				a, err := c.search(ctx, qs[i].text)
				run.lat[i] = time.Since(t0)
				if err != nil {
					cancel(fmt.Errorf("query %q: %w", qs[i].text, err))
					return
				}
				answers[i] = a
			}
		}()
	}
	wg.Wait()
	run.wall = time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return run, err
	}
	for i, a := range answers {
		ts, err := clients[0].titles(a)
		if err != nil {
			return run, fmt.Errorf("answer to %q: %w", qs[i].text, err)
		}
		run.titles[i] = ts
	}
	slices.Sort(run.lat)
	return run, nil
}

// quality is what a run's answers say about relevance.
type quality struct {
	// typoRecall is the share of typo queries with, among their hits, a
	// video whose title contains the word the viewer meant.
	typoRecall float64
	// empty is the share of queries of each kind that found nothing.
	empty [3]float64
}

func judge(qs []query, titles [][]string) quality {
	var q quality
	var typos, found int
	var count, empty [3]int
	for i, x := range qs {
		count[x.kind]++
		if len(titles[i]) == 0 {
			empty[x.kind]++
		}
		if x.kind != typo {
			continue
		}
		typos++
		want := fold(x.intended)
		for _, t := range titles[i] {
			if strings.Contains(fold(t), want) {
				found++
				break
			}
		}
	}
	if typos > 0 {
		q.typoRecall = float64(found) / float64(typos)
	}
	for k := range count {
		if count[k] > 0 {
			q.empty[k] = float64(empty[k]) / float64(count[k])
		}
	}
	return q
}

// describeMix prints the mix's make-up and a few of its typos.
func describeMix(qs []query) {
	var count [3]int
	var typos []string
	for _, q := range qs {
		count[q.kind]++
		if q.kind == typo && len(typos) < 6 {
			typos = append(typos, q.text+" ("+q.intended+")")
		}
	}
	fmt.Printf("query mix: %d queries: %d one word, %d two words, %d one word with a typo, e.g. %s\n",
		len(qs), count[oneWord], count[twoWords], count[typo], strings.Join(typos, ", "))
}
