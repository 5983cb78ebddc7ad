package index

import (
	"cmp"
	"html"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/stratavideo/strata/cluster/model"
)

// Highlights are computed from the record, not from the index. Bleve's own
// highlighter needs every highlighted field stored in the index with its
// term vectors, which for titles and descriptions costs 73% more index on
// every node (deploy/bench/search). The API has the record in hand anyway,
// and re-analysing the twenty titles and descriptions of a page with the
// index's own analyzers costs about a millisecond of CPU and marks exactly
// the words the query matched: the same stems, the same forgiven typos.

// Fragment sizes of long fields, in bytes of the original text.
const (
	fragmentBefore = 40
	fragmentAfter  = 120
	maxFragments   = 3
	// wholeField is the length up to which a field is shown whole.
	wholeField = 200
)

// highlighter marks the words of a text that the query matched.
type highlighter struct {
	an     analyzers
	stems  map[string]bool
	plains map[string]bool
	fuzzy  []fuzzyWord
}

// fuzzyWord is a query word and the edits it forgives.
type fuzzyWord struct {
	word  []rune
	edits int
}

func newHighlighter(an analyzers, t text) *highlighter {
	h := &highlighter{an: an, stems: map[string]bool{}, plains: map[string]bool{}}
	add := func(w word) {
		if w.stem == "" {
			return // stop words are not worth marking
		}
		h.stems[w.stem] = true
		h.plains[w.plain] = true
		if f := fuzziness(utf8.RuneCountInString(w.plain)); f > 0 {
			h.fuzzy = append(h.fuzzy, fuzzyWord{[]rune(w.plain), f})
		}
	}
	for _, w := range t.words {
		add(w)
	}
	for _, p := range t.phrases {
		for _, w := range p {
			add(w)
		}
	}
	return h
}

// Highlights returns the matched words of v's title and description marked
// with <mark>, the rest of the text HTML-escaped, keyed by field. Fields
// without a match are left out; a search without text has none.
func (r *Result) Highlights(v *model.Video) map[string][]string {
	out := map[string][]string{}
	if r == nil || r.hl == nil || v == nil {
		return out
	}
	if spans := r.hl.spans(v.Title, true); len(spans) > 0 {
		out["title"] = []string{markup(v.Title, 0, len(v.Title), spans)}
	}
	if spans := r.hl.spans(v.Description, false); len(spans) > 0 {
		out["description"] = fragments(v.Description, spans)
	}
	return out
}

// spans are the byte ranges of s holding matched words, in order. Typos
// are forgiven only where the query forgave them (fuzzy says so): in
// titles, not in descriptions.
func (h *highlighter) spans(s string, fuzzy bool) [][2]int {
	if s == "" || len(h.stems) == 0 {
		return nil
	}
	marked := map[[2]int]bool{}
	for _, tok := range h.an.stemmedAt.Analyze([]byte(s)) {
		if h.stems[string(tok.Term)] {
			marked[[2]int{tok.Start, tok.End}] = true
		}
	}
	if fuzzy {
		for _, tok := range h.an.plainAt.Analyze([]byte(s)) {
			if h.plainMatch(string(tok.Term)) {
				marked[[2]int{tok.Start, tok.End}] = true
			}
		}
	}
	out := make([][2]int, 0, len(marked))
	for sp := range marked {
		out = append(out, sp)
	}
	slices.SortFunc(out, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	return out
}

// plainMatch reports whether an unstemmed word is a query word or within
// its forgiven edits.
func (h *highlighter) plainMatch(p string) bool {
	if h.plains[p] {
		return true
	}
	for _, fw := range h.fuzzy {
		if withinEdits([]rune(p), fw.word, fw.edits) {
			return true
		}
	}
	return false
}

// markup escapes s[from:to] and wraps the spans inside it in <mark>. Only
// the tags written here are markup: everything from s is escaped.
func markup(s string, from, to int, spans [][2]int) string {
	var b strings.Builder
	at := from
	for _, sp := range spans {
		if sp[0] < at || sp[1] > to {
			continue
		}
		b.WriteString(html.EscapeString(s[at:sp[0]]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(s[sp[0]:sp[1]]))
		b.WriteString("</mark>")
		at = sp[1]
	}
	b.WriteString(html.EscapeString(s[at:to]))
	return b.String()
}

// fragments cuts a long text into at most maxFragments pieces around its
// matches, cut at spaces, "…" marking what was left out.
func fragments(s string, spans [][2]int) []string {
	if len(s) <= wholeField {
		return []string{markup(s, 0, len(s), spans)}
	}
	var out []string
	for i := 0; i < len(spans) && len(out) < maxFragments; {
		from := wordStart(s, spans[i][0]-fragmentBefore)
		to := wordEnd(s, spans[i][1]+fragmentAfter)
		j := i
		for j < len(spans) && spans[j][0] < to {
			to = max(to, spans[j][1])
			j++
		}
		frag := markup(s, from, to, spans[i:j])
		if from > 0 {
			frag = "…" + frag
		}
		if to < len(s) {
			frag += "…"
		}
		out = append(out, frag)
		i = j
	}
	return out
}

// wordStart moves i back to the start of the word it falls in.
func wordStart(s string, i int) int {
	if i <= 0 {
		return 0
	}
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if unicode.IsSpace(r) {
			break
		}
		i -= size
	}
	return i
}

// wordEnd moves i forward to the end of the word it falls in.
func wordEnd(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}

// withinEdits reports whether a and b are at most k edits (insertions,
// deletions, substitutions) apart, as Bleve's fuzzy query counts them.
func withinEdits(a, b []rune, k int) bool {
	if d := len(a) - len(b); d > k || -d > k {
		return false
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > k {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[len(b)] <= k
}

// onOriginal returns an analyzer that cuts text as a does but reports each
// token's offsets in the original text. a's character filters (accent
// folding) rewrite the whole text before it is cut, which shifts the
// offsets of everything after an "é"; here they rewrite each token
// instead, which gives the same terms for folding.
func onOriginal(a analysis.Analyzer) analysis.Analyzer {
	da, ok := a.(*analysis.DefaultAnalyzer)
	if !ok || len(da.CharFilters) == 0 {
		return a
	}
	filters := append([]analysis.TokenFilter{termFilter(da.CharFilters)}, da.TokenFilters...)
	return &analysis.DefaultAnalyzer{Tokenizer: da.Tokenizer, TokenFilters: filters}
}

// termFilter applies character filters to each token's term.
type termFilter []analysis.CharFilter

// Filter implements analysis.TokenFilter.
func (f termFilter) Filter(ts analysis.TokenStream) analysis.TokenStream {
	for _, t := range ts {
		for _, cf := range f {
			t.Term = cf.Filter(t.Term)
		}
	}
	return ts
}
