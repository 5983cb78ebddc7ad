package index

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/es"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/lang/it"
	"github.com/blevesearch/bleve/v2/analysis/lang/nl"
	"github.com/blevesearch/bleve/v2/analysis/lang/pt"

	"github.com/stratavideo/strata/cluster/model"
)

// Lengths named by derived tags. They are not the duration facet's buckets
// (DurationBucket, under 4 minutes is "short" there): these follow what
// viewers call a short (a clip under a minute, as the platforms that
// popularised the word cap them) and a long video (20 minutes and more,
// the facet's own "long").
const (
	shortTagUnder = 60
	longTagFrom   = longFrom
)

// DerivedTags are the tags a video's record implies: the resolution class,
// the shape, the sound, the length. The API shows them and the index
// stores them in their own field, from this one function, so that the two
// always agree. They are computed rather than stored, so the set can grow
// without touching the log (a mapping version bump re-indexes).
//
// They are matched by filters and facets only, never by the words of a
// search: "short", "long" and "portrait" are words of many titles
// ("Packing for a long weekend", "short film") and as search words they
// pulled in every clip of that length (see ARCHITECTURE.md, Search tags).
func DerivedTags(v *model.Video) []string {
	var out []string
	switch r := resolution(v); {
	case r >= 2160:
		out = append(out, "4k", "uhd", "hd")
	case r >= 1440:
		out = append(out, "1440p", "hd")
	case r >= 1080:
		out = append(out, "1080p", "hd")
	case r >= 720:
		out = append(out, "720p", "hd")
	case r > 0:
		out = append(out, "sd")
	}
	ready := v.Status == model.StatusReady
	if ready && !v.HasAudio {
		out = append(out, "silent")
	}
	if ready && v.HasAudio && resolution(v) == 0 {
		// An audio file (podcast, music) is published with no video rung
		// and no frame size.
		out = append(out, "audio-only")
	}
	if v.Width > 0 && v.Height > v.Width {
		out = append(out, "vertical", "portrait")
	}
	switch {
	case v.DurationS <= 0:
	case v.DurationS < shortTagUnder:
		out = append(out, "short")
	case v.DurationS >= longTagFrom:
		out = append(out, "long")
	}
	return out
}

// Keyword extraction: a handful of a video's own words, for the keyword
// facet and for related videos.
const (
	// maxKeywords is how many words a video keeps: enough for the few
	// things a video is about, few enough that the facet and related
	// videos are not driven by a long description's passing mentions.
	maxKeywords = 5
	// minKeywordRunes drops short words ("go", "tv"), which are mostly
	// function words the stop lists miss.
	minKeywordRunes = 3
	// A title word counts for this many description words: the title
	// says what the video is, as in the search boosts (query.go).
	keywordTitleWeight = 3.0
	// keywordLead is how many of the description's first words count
	// double: descriptions open with their subject and end with links
	// and calls to subscribe.
	keywordLead = 30
	// maxKeywordInput bounds the text read, so a 5,000-word description
	// costs no more than a normal one.
	maxKeywordInput = 4000
)

// stopLangs are the languages whose stop words Bleve ships and keyword
// extraction tells apart, by BCP 47 base language; a word's bit i in
// stopWords says it is a stop word of stopLangs[i].
var stopLangs = [...]string{"en", "fr", "de", "es", "it", "pt", "nl"}

// noiseBit marks videoNoise words in stopWords.
const noiseBit = 1 << 7

// videoNoise are words of video descriptions in general, not of any one
// video: the calls to subscribe, like and comment that end descriptions.
const videoNoise = "video videos subscribe channel like comment comments watch watching thanks thank " +
	"today please follow link links below let know next new every week"

// stopWords maps each stop word to the languages it is one in, so that a
// word costs one map lookup whatever the number of languages (seven
// separate lists made keyword extraction the larger part of building a
// document). Built once and only read after.
var stopWords = sync.OnceValue(func() map[string]uint8 {
	out := map[string]uint8{}
	for i, words := range [...][]byte{en.EnglishStopWords, fr.FrenchStopWords, de.GermanStopWords,
		es.SpanishStopWords, it.ItalianStopWords, pt.PortugueseStopWords, nl.DutchStopWords} {
		m := analysis.NewTokenMap()
		if err := m.LoadBytes(words); err != nil {
			continue // Bleve's own lists; a language without one still works
		}
		for w := range m {
			out[w] |= 1 << i
		}
	}
	for _, w := range strings.Fields(videoNoise) {
		out[w] |= noiseBit
	}
	return out
})

// Keywords are the top words of a video's title and description:
// lower-cased, stop words of the video's language (its declared Language,
// else the one whose stop words the text uses most, else English) and
// generic video words removed, short words and numbers dropped, ranked by
// frequency with title words and the description's opening weighing more.
// Ties go to the earlier word, so the result is a pure function of the
// record, as the index needs.
func Keywords(v *model.Video) []string {
	stops := stopWords()
	title := tokenize(v.Title, maxKeywordInput)
	desc := tokenize(v.Description, maxKeywordInput)
	// One lookup per word, kept for the stop test below.
	masks := make([]uint8, 0, len(title)+len(desc))
	var hits [len(stopLangs)]int
	for _, ws := range [2][]string{title, desc} {
		for _, w := range ws {
			m := stops[w]
			masks = append(masks, m)
			for i := range stopLangs {
				if m&(1<<i) != 0 {
					hits[i]++
				}
			}
		}
	}
	lang := 0 // English unless told or shown otherwise
	if i := slices.Index(stopLangs[:], baseLanguage(v.Language)); i >= 0 {
		lang = i
	} else {
		for i, n := range hits {
			if n > hits[lang] {
				lang = i
			}
		}
	}
	drop := uint8(1<<lang | noiseBit)

	type cand struct {
		word  string
		score float64
		first int
	}
	var cands []cand
	at := map[string]int{}
	pos := 0
	add := func(w string, weight float64) {
		m := masks[pos]
		pos++
		if m&drop != 0 || utf8.RuneCountInString(w) < minKeywordRunes || isNumber(w) {
			return
		}
		i, ok := at[w]
		if !ok {
			i = len(cands)
			at[w] = i
			cands = append(cands, cand{word: w, first: pos})
		}
		cands[i].score += weight
	}
	for _, w := range title {
		add(w, keywordTitleWeight)
	}
	for i, w := range desc {
		weight := 1.0
		if i < keywordLead {
			weight = 2
		}
		add(w, weight)
	}
	// Candidates are in order of first appearance, so a stable sort by
	// score keeps the earlier of two equal words first.
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(b.score, a.score) })
	out := make([]string, 0, min(maxKeywords, len(cands)))
	for _, c := range cands[:min(maxKeywords, len(cands))] {
		out = append(out, c.word)
	}
	return out
}

// baseLanguage is the language subtag of a BCP 47 tag: "pt" of "pt-BR".
func baseLanguage(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return base
}

// tokenize cuts s into lower-cased words of letters and digits, an
// apostrophe's tail dropped ("chef's" is "chef"), reading at most limit
// bytes. The words are slices of s, lower-cased one by one (a word
// already in lower case costs no copy): this runs for every document the
// index builds.
func tokenize(s string, limit int) []string {
	if len(s) > limit {
		s = s[:limit]
	}
	out := make([]string, 0, len(s)/6)
	start, cut := -1, -1 // the word's start; where an apostrophe ended it
	flush := func(end int) {
		if start >= 0 {
			if cut >= 0 {
				end = cut
			}
			if end > start {
				out = append(out, strings.ToLower(s[start:end]))
			}
		}
		start, cut = -1, -1
	}
	for i, r := range s {
		switch {
		case r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'),
			r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if start < 0 {
				start = i
			}
		case r == '\'' || r == '’':
			if start >= 0 && cut < 0 {
				cut = i
			}
		default:
			flush(i)
		}
	}
	flush(len(s))
	return out
}
