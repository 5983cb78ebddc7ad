package index

import (
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/stratavideo/strata/cluster/model"
)

// Boosts of the fields a word can match in. The title says what a video is
// about; tags are the owner's own keywords; descriptions are long and
// mention many things in passing. Measured with the relevance set
// (relevance_test.go), which is where to check any change.
const (
	boostTitle       = 3.0
	boostTags        = 3.0
	boostDescription = 0.7
	boostWords       = 1.0
	boostDerived     = 1.0
	// boostPhrase rewards the viewer's words in their order, in a title or
	// a tag.
	boostPhrase = 2.0
	// boostStopWord is what a stop word ("how", "the") adds when the title
	// has it: enough to order otherwise equal hits, too little to match
	// anything by itself.
	boostStopWord = 0.2
)

// resolutionTags are the derived tags a search word matches. The others
// (short, long, portrait, vertical, silent, audio-only) are filters and
// facets only: they are words of many titles ("long-term review", "packing
// for a long weekend"), and as search words they added every video of that
// length to the matches and to the facet counts: "long term review" matched
// 2,191 of the relevance corpus's 6,000 videos instead of 492, "packing for
// a long weekend" 1,958 instead of 169, with the same top ten.
var resolutionTags = map[string]bool{"4k": true, "uhd": true, "hd": true, "sd": true, "1440p": true, "1080p": true, "720p": true}

// fuzziness is the number of edits forgiven in a word of n runes. Short
// words get none: one edit turns "cake" into "bake" or "lake", which are
// other words, not typos.
func fuzziness(n int) int {
	switch {
	case n >= 9:
		return 2
	case n >= 5:
		return 1
	default:
		return 0
	}
}

// analyzers are the index's own analyzers, so that the viewer's words are
// cut, folded and stemmed exactly as the documents were; the ...At ones
// are the same with token offsets in the original text (onOriginal), for
// marking words in it.
type analyzers struct {
	stemmed, plain     analysis.Analyzer
	stemmedAt, plainAt analysis.Analyzer
}

// word is one word of the viewer's text.
type word struct {
	// plain is folded and lower-cased: the form in fWords.
	plain string
	// stem is its form in the stemmed fields; "" for a stop word.
	stem string
}

// text is the viewer's text, analysed.
type text struct {
	words   []word
	phrases [][]word
}

func (t text) empty() bool { return len(t.words) == 0 && len(t.phrases) == 0 }

// parseText splits s into quoted phrases and loose words and analyses them.
// An unpaired quote is read as a space.
func parseText(an analyzers, s string) text {
	var t text
	parts := strings.Split(s, `"`)
	for i, part := range parts {
		quoted := i%2 == 1 && i < len(parts)-1
		ws := analyzeWords(an, part)
		if quoted && len(ws) > 1 {
			t.phrases = append(t.phrases, ws)
		} else {
			t.words = append(t.words, ws...)
		}
	}
	return t
}

// analyzeWords cuts s into words with the plain analyzer and finds each
// one's stem with the stemmed analyzer.
func analyzeWords(an analyzers, s string) []word {
	var out []word
	for _, tok := range an.plain.Analyze([]byte(s)) {
		w := word{plain: string(tok.Term)}
		if st := an.stemmed.Analyze(tok.Term); len(st) > 0 {
			w.stem = string(st[0].Term)
		}
		out = append(out, w)
	}
	return out
}

// textQuery is the relevance part of a search. Every content word is
// looked for in each field with that field's boost, the unstemmed words
// fuzzily; a hit needs one of them, and Bleve's disjunction coordination
// ranks hits with more of the words higher. Quoted phrases are required;
// the whole text as a phrase in a title or tag is a bonus.
func textQuery(t text) query.Query {
	var content, extra []query.Query
	for _, w := range t.words {
		if w.stem == "" {
			extra = append(extra, termQ(fWords, w.plain, boostStopWord))
			continue
		}
		content = append(content, wordQuery(w))
	}
	var must []query.Query
	if len(content) > 0 {
		must = append(must, bleve.NewDisjunctionQuery(content...))
	} else if len(extra) > 0 && len(t.phrases) == 0 {
		// Only stop words ("the who"): they are all there is to match.
		must = append(must, bleve.NewDisjunctionQuery(extra...))
		extra = nil
	}
	for _, p := range t.phrases {
		must = append(must, phraseQuery(p))
	}
	if len(t.words) > 1 {
		extra = append(extra, phraseBonus(t.words))
	}
	if len(must) == 0 {
		return bleve.NewMatchNoneQuery()
	}
	b := bleve.NewBooleanQuery()
	if len(must) == 1 {
		b.AddMust(must[0])
	} else {
		b.AddMust(bleve.NewConjunctionQuery(must...))
	}
	if len(extra) > 0 {
		b.AddShould(extra...)
	}
	return b
}

// wordQuery finds one content word in any field.
func wordQuery(w word) query.Query {
	qs := []query.Query{
		termQ(fTitle, w.stem, boostTitle),
		termQ(fTags, w.stem, boostTags),
		termQ(fDescription, w.stem, boostDescription),
	}
	if resolutionTags[w.plain] {
		qs = append(qs, termQ(fDerived, w.plain, boostDerived))
	}
	if f := fuzziness(utf8.RuneCountInString(w.plain)); f > 0 {
		// Bleve scores a fuzzy candidate lower the more edits it needs, and
		// the exact word (no edit) highest.
		fz := bleve.NewFuzzyQuery(w.plain)
		fz.SetField(fWords)
		fz.SetFuzziness(f)
		fz.SetBoost(boostWords)
		qs = append(qs, fz)
	} else {
		qs = append(qs, termQ(fWords, w.plain, boostWords))
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// phraseQuery requires the words in this order in a title or tag, or all
// of them in the description. Descriptions keep no positions (see
// newMapping), so there the phrase is only approximated.
func phraseQuery(ws []word) query.Query {
	plain := make([]string, len(ws))
	var stems []query.Query
	for i, w := range ws {
		plain[i] = w.plain
		if w.stem != "" {
			stems = append(stems, termQ(fDescription, w.stem, boostDescription))
		}
	}
	ph := bleve.NewPhraseQuery(plain, fWords)
	ph.SetBoost(boostPhrase * boostTitle)
	if len(stems) == 0 {
		return ph
	}
	return bleve.NewDisjunctionQuery(ph, bleve.NewConjunctionQuery(stems...))
}

// phraseBonus scores the viewer's words in their order in a title or tag.
func phraseBonus(ws []word) query.Query {
	plain := make([]string, len(ws))
	for i, w := range ws {
		plain[i] = w.plain
	}
	ph := bleve.NewPhraseQuery(plain, fWords)
	ph.SetBoost(boostPhrase)
	return ph
}

// visibleQuery is what a viewer may find: ready public videos, and their
// own whatever their state. Unlisted videos are watchable by link only, so
// they are never found by others; nor counted in facets, which are built
// from the same matches.
func visibleQuery(viewer string) query.Query {
	public := bleve.NewConjunctionQuery(keyQ(fVisibility, string(model.Public)), keyQ(fStatus, string(model.StatusReady)))
	if viewer == "" {
		return public
	}
	return bleve.NewDisjunctionQuery(public, keyQ(fOwner, viewer))
}

// termQ matches an already analysed term.
func termQ(field, term string, boost float64) query.Query {
	q := bleve.NewTermQuery(term)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}

// keyQ matches an exact value, for filters.
func keyQ(field, value string) query.Query {
	q := bleve.NewTermQuery(value)
	q.SetField(field)
	return q
}
