package index

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/stratavideo/strata/cluster/model"
)

// Suggestions complete what a viewer is typing from the titles and tags of
// videos that viewer may see. Bleve's term dictionary would be faster to
// walk, but it holds the words of private videos too: a suggestion must
// come from a document that passed the visibility filter, so suggestions
// are a search (words typed so far, the last as a prefix) whose matches'
// tags are counted by a facet and whose most viewed records are read for
// title phrases.

// suggestTagCandidates is how many of the matches' tags are considered.
const suggestTagCandidates = 50

// maxSuggestionWords keeps tag suggestions to what a person would type.
const maxSuggestionWords = 6

// suggester holds the typed words, to pick and cut candidates.
type suggester struct {
	an analyzers
	// done are the finished words; prefix is the one being typed ("" when
	// the text ends with a space).
	done   []string
	prefix string
	// tags are the facet of the matches' tags.
	tags []TagCount
}

// suggestQuery matches visible videos whose titles, tags or owner hold the
// finished words (typos forgiven in long ones) and a word starting with the
// prefix. A lone prefix needs two letters: one letter matches half the
// index and suggests nothing useful.
func suggestQuery(an analyzers, s string) (query.Query, *suggester) {
	ws := analyzeWords(an, s)
	if len(ws) == 0 {
		return nil, nil
	}
	sg := &suggester{an: an}
	for _, w := range ws {
		sg.done = append(sg.done, w.plain)
	}
	if r, _ := utf8.DecodeLastRuneInString(s); !unicode.IsSpace(r) {
		sg.prefix = sg.done[len(sg.done)-1]
		sg.done = sg.done[:len(sg.done)-1]
	}
	if len(sg.done) == 0 && utf8.RuneCountInString(sg.prefix) < 2 {
		return nil, nil
	}
	var must []query.Query
	for _, w := range sg.done {
		must = append(must, typoTolerant(w))
	}
	if sg.prefix != "" {
		p := bleve.NewPrefixQuery(sg.prefix)
		p.SetField(fWords)
		if fuzziness(utf8.RuneCountInString(sg.prefix)) > 0 {
			// A long last word may be finished but misspelled: "valrant".
			must = append(must, bleve.NewDisjunctionQuery(p, typoTolerant(sg.prefix)))
		} else {
			must = append(must, p)
		}
	}
	if len(must) == 1 {
		return must[0], sg
	}
	return bleve.NewConjunctionQuery(must...), sg
}

// typoTolerant matches a finished word in fWords, fuzzily if it is long.
func typoTolerant(w string) query.Query {
	if f := fuzziness(utf8.RuneCountInString(w)); f > 0 {
		fz := bleve.NewFuzzyQuery(w)
		fz.SetField(fWords)
		fz.SetFuzziness(1)
		return fz
	}
	return termQ(fWords, w, 1)
}

// candidate is one possible suggestion.
type candidate struct {
	text   string
	weight int
	// starts says the candidate begins with the first typed word, which
	// reads as a completion rather than a neighbour.
	starts bool
}

// score ranks candidates: how many videos share the phrase, doubled for a
// phrase that begins with what the viewer typed.
func (c *candidate) score() int {
	if c.starts {
		return 2 * c.weight
	}
	return c.weight
}

// Suggestions returns at most n completions built from the matches' tags
// and from the titles of vs, the records of the hits (most viewed first).
// A phrase shared by many videos comes first.
func (r *Result) Suggestions(vs []*model.Video, n int) []string {
	out := []string{}
	if r == nil || r.sug == nil || n <= 0 {
		return out
	}
	sg := r.sug
	cands := map[string]*candidate{}
	add := func(text string, weight int, starts bool) {
		c := cands[text]
		if c == nil {
			c = &candidate{text: text}
			cands[text] = c
		}
		c.weight += weight
		c.starts = c.starts || starts
	}
	for _, t := range sg.tags {
		if ok, starts := sg.covers(sg.words(t.Term)); ok {
			// A tag is a phrase someone chose: it counts twice.
			add(t.Term, 2*t.Count, starts)
		}
	}
	for _, v := range vs {
		for _, text := range sg.fromTitle(v.Title) {
			add(text, 1, true)
		}
	}
	typed := strings.Join(append(slices.Clone(sg.done), sg.prefix), " ")
	list := make([]*candidate, 0, len(cands))
	for _, c := range cands {
		// What the viewer already typed is no suggestion.
		if strings.Join(sg.words(c.text), " ") != strings.TrimSpace(typed) {
			list = append(list, c)
		}
	}
	slices.SortFunc(list, func(a, b *candidate) int {
		return cmp.Or(cmp.Compare(b.score(), a.score()), cmp.Compare(len(a.text), len(b.text)), strings.Compare(a.text, b.text))
	})
	for _, c := range list[:min(n, len(list))] {
		out = append(out, c.text)
	}
	return out
}

// words are the plain forms of the words of s.
func (sg *suggester) words(s string) []string {
	var out []string
	for _, t := range sg.an.plain.Analyze([]byte(s)) {
		out = append(out, string(t.Term))
	}
	return out
}

// covers reports whether words hold every typed word (the prefix as a
// prefix), and whether they start with the first one.
func (sg *suggester) covers(words []string) (ok, starts bool) {
	if len(words) == 0 || len(words) > maxSuggestionWords {
		return false, false
	}
	for _, d := range sg.done {
		if !slices.ContainsFunc(words, func(w string) bool { return sg.sameWord(w, d) }) {
			return false, false
		}
	}
	if sg.prefix != "" && !slices.ContainsFunc(words, sg.completes) {
		return false, false
	}
	first := sg.prefix
	if len(sg.done) > 0 {
		first = sg.done[0]
	}
	return true, sg.sameWord(words[0], first) || (len(sg.done) == 0 && sg.completes(words[0]))
}

// sameWord is a finished typed word, typos forgiven as the query did.
func (sg *suggester) sameWord(w, typed string) bool {
	if w == typed {
		return true
	}
	f := fuzziness(utf8.RuneCountInString(typed))
	return f > 0 && withinEdits([]rune(w), []rune(typed), 1)
}

// completes reports whether w completes the prefix being typed.
func (sg *suggester) completes(w string) bool {
	return strings.HasPrefix(w, sg.prefix) || sg.sameWord(w, sg.prefix)
}

// fromTitle cuts from a title the phrases that complete the typed words:
// from the first typed word to the completed one, and that plus the next
// word, so "val" in "Best Valorant tournament plays" suggests "valorant"
// and "valorant tournament". Phrases many titles share add up.
func (sg *suggester) fromTitle(title string) []string {
	type tok struct {
		plain      string
		start, end int
		stop       bool
	}
	// A word the stemmed analyzer drops is a stop word.
	kept := map[int]bool{}
	for _, t := range sg.an.stemmedAt.Analyze([]byte(title)) {
		kept[t.Start] = true
	}
	var toks []tok
	for _, t := range sg.an.plainAt.Analyze([]byte(title)) {
		toks = append(toks, tok{string(t.Term), t.Start, t.End, !kept[t.Start]})
	}
	typed := append(slices.Clone(sg.done), sg.prefix)
	if sg.prefix == "" {
		typed = sg.done
	}
	n := len(typed)
	// The typed words, one after the other, the last one completed by a
	// word that says something (not "the" for "t").
	at := -1
	for i := 0; i+n <= len(toks) && at < 0; i++ {
		ok := true
		for k, want := range typed {
			t := toks[i+k]
			if k == n-1 && sg.prefix != "" {
				ok = sg.completes(t.plain) && (!t.stop || t.plain == sg.prefix)
			} else {
				ok = sg.sameWord(t.plain, want)
			}
			if !ok {
				break
			}
		}
		if ok {
			at = i
		}
	}
	if at < 0 {
		return nil
	}
	phrase := func(end int) string {
		parts := make([]string, 0, end-at+1)
		for _, t := range toks[at : end+1] {
			parts = append(parts, strings.ToLower(title[t.start:t.end]))
		}
		return strings.Join(parts, " ")
	}
	last := at + n - 1
	out := []string{phrase(last)}
	// And the next word, if it says something: "valorant tournament", not
	// "valorant at" or "pi 5".
	if next := last + 1; next < len(toks) && !toks[next].stop && !isNumber(toks[next].plain) {
		out = append(out, phrase(next))
	}
	return out
}

func isNumber(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) }) < 0
}
