package index

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/char/regexp"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
)

// mappingVersion names the shape of the indexed documents. An index on disk
// with another version is dropped at Open and rebuilt from bbolt, so a
// mapping change needs no migration: bump it whenever newMapping or document
// changes what is indexed.
const mappingVersion = "10"

// Field names of the indexed document.
const (
	// Searched text, stemmed: what relevance is computed on.
	fTitle       = "title"
	fDescription = "description"
	fTags        = "tags"
	// fWords holds the title, tags and owner name unstemmed, one value
	// each. It is where typos are forgiven (Bleve applies fuzziness to the
	// indexed term, and a stemmed term is not the word the viewer
	// misspelled: "valorant" is indexed as "valor"), where suggestions find
	// word prefixes, and where phrases are matched (it alone keeps term
	// positions). Stop words stay in it, so "the last of us" still
	// means something.
	fWords = "words"
	// fDerived holds tags derived from the record (4k, hd, vertical,
	// short…: DerivedTags), for filters and a facet.
	fDerived = "derived"
	// fKeywords holds the top words of the title and description
	// (Keywords), for a facet and related videos.
	fKeywords = "keywords"
	// fLanguage is the BCP 47 tag of the spoken language, when declared.
	fLanguage = "language"

	// Exact values, for filters, facets and sorting.
	fTag        = "tag"
	fOwner      = "owner"
	fVisibility = "visibility"
	fStatus     = "status"
	fLength     = "length" // the duration bucket: short, medium, long
	// Numbers and times, written as sortable keywords (sortable.go): one
	// term each, where a Bleve number is sixteen.
	fCreated    = "created"  // and created_1..3 (ranges.go)
	fDuration   = "duration" // and duration_1..2
	fResolution = "resolution"
	fViews      = "views"
	fTrend      = "trend"
	fLastView   = "last_view"
)

// Analyzer names, defined in the mapping itself so the index on disk carries
// them and nothing has to be registered globally.
const (
	// anStemmed is English with accents folded: "Crème brûlée" and
	// "creme brulee" index alike, and "recipes" meets "recipe".
	anStemmed = "strata_en"
	// anPlain folds accents and case only.
	anPlain = "strata_plain"

	// cfSeparators makes "_" a word break, so an owner name such as
	// "chef_marta" is two words, as it is to a person. Both analyzers use
	// it, so that the two cut text into the same words.
	cfSeparators = "strata_separators"
)

// newMapping is deliberate about every field, because each option costs
// index size and build time on every node (FACTS.md: a lean mapping is
// 18.7 MB for 100k videos, the default 142 MB):
//
//   - Nothing is stored. Hits come back as IDs and the records are read
//     from bbolt, which the API does anyway; highlights are computed from
//     those records by re-analysing them (highlight.go), which costs
//     microseconds per hit instead of a stored copy of every title and
//     description plus their term vectors (see deploy/bench/search).
//   - Term vectors (positions) only on fWords, the one field phrases are
//     matched on; titles and tags are short, so this is cheap, while
//     positions on descriptions would be the largest part of the index.
//   - Doc values only where Bleve sorts or facets: tag, derived,
//     keywords, language, length, created, views, trend.
//   - No Bleve numbers or dates. Bleve indexes a number as sixteen prefix
//     terms, so that a range over millions of distinct values is a few
//     terms; for an upload time, unique to each video, that is sixteen
//     unique terms per video, and it was a third of the build time. Ours
//     are fixed-width sortable keywords, one term each: sorting reads doc
//     values as before, and a range walks the terms between its ends. The
//     upload time and the duration are also indexed at coarser precisions
//     (days, minutes…), so a range is a few dozen terms (ranges.go).
//   - No _all field: queries name their fields and boosts.
//
// Scoring is Bleve's TF-IDF, not its BM25: Bleve's BM25 takes its average
// field length from the field's term dictionary, which still holds the
// terms of deleted documents until segments merge, so two nodes holding
// the same videos could rank them differently. TF-IDF reads only live
// document counts, and every node ranks alike.
func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	m.DefaultAnalyzer = anPlain
	err := m.AddCustomCharFilter(cfSeparators, map[string]any{
		"type":    regexp.Name,
		"regexp":  `_`,
		"replace": " ",
	})
	if err == nil {
		err = m.AddCustomAnalyzer(anStemmed, map[string]any{
			"type":          custom.Name,
			"char_filters":  []any{asciifolding.Name, cfSeparators},
			"tokenizer":     unicode.Name,
			"token_filters": []any{en.PossessiveName, lowercase.Name, en.StopName, en.SnowballStemmerName},
		})
	}
	if err == nil {
		err = m.AddCustomAnalyzer(anPlain, map[string]any{
			"type":          custom.Name,
			"char_filters":  []any{asciifolding.Name, cfSeparators},
			"tokenizer":     unicode.Name,
			"token_filters": []any{lowercase.Name},
		})
	}
	if err != nil {
		return nil, fmt.Errorf("index mapping: %w", err)
	}

	text := func(analyzer string, positions bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = positions
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	exact := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fTitle, text(anStemmed, false))
	doc.AddFieldMappingsAt(fDescription, text(anStemmed, false))
	doc.AddFieldMappingsAt(fTags, text(anStemmed, false))
	doc.AddFieldMappingsAt(fWords, text(anPlain, true))
	doc.AddFieldMappingsAt(fDerived, exact(true))
	doc.AddFieldMappingsAt(fKeywords, exact(true))
	doc.AddFieldMappingsAt(fLanguage, exact(true))
	doc.AddFieldMappingsAt(fTag, exact(true))
	doc.AddFieldMappingsAt(fOwner, exact(false))
	doc.AddFieldMappingsAt(fVisibility, exact(false))
	doc.AddFieldMappingsAt(fStatus, exact(false))
	doc.AddFieldMappingsAt(fLength, exact(true))
	createdLevels().mapTo(doc, exact, true)
	durationLevels().mapTo(doc, exact, false)
	doc.AddFieldMappingsAt(fResolution, exact(false))
	doc.AddFieldMappingsAt(fViews, exact(true))
	doc.AddFieldMappingsAt(fTrend, exact(true))
	doc.AddFieldMappingsAt(fLastView, exact(false))
	m.DefaultMapping = doc
	return m, nil
}

// NewMapping returns a fresh copy of the mapping the index uses, for
// benchmarks that compare it with variants. Changing it changes no index.
func NewMapping() (*mapping.IndexMappingImpl, error) { return newMapping() }
