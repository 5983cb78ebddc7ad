package index

import (
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/stratavideo/strata/cluster/model"
)

// Field names of the indexed document.
const (
	fTitle       = "title"
	fTitlePlain  = "title_plain"
	fDescription = "description"
	fTags        = "tags"
	fVisibility  = "visibility"
	fStatus      = "status"
	fOwner       = "owner"
	fCreated     = "created"
	fDuration    = "duration"
)

// newMapping is a lean mapping: nothing stored, no term vectors, no _all
// field. Hits come back as IDs and the records are read from bbolt, so storing
// fields would only double the disk use (see FACTS.md: 142 MB against 18.7 MB
// for 100k videos). Titles are indexed twice: stemmed for recall, and plain
// for typo tolerance, because Bleve applies fuzziness to the stemmed term.
func newMapping() mapping.IndexMapping {
	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		return f
	}
	num := bleve.NewNumericFieldMapping()
	num.Store = false
	num.IncludeInAll = false
	date := bleve.NewDateTimeFieldMapping()
	date.Store = false
	date.IncludeInAll = false

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fTitle, text(en.AnalyzerName))
	doc.AddFieldMappingsAt(fTitlePlain, text(standard.Name))
	doc.AddFieldMappingsAt(fDescription, text(en.AnalyzerName))
	doc.AddFieldMappingsAt(fTags, text(keyword.Name))
	doc.AddFieldMappingsAt(fVisibility, kw())
	doc.AddFieldMappingsAt(fStatus, kw())
	doc.AddFieldMappingsAt(fOwner, kw())
	doc.AddFieldMappingsAt(fCreated, date)
	doc.AddFieldMappingsAt(fDuration, num)

	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	m.DefaultAnalyzer = standard.Name
	return m
}

// toDoc is the indexed form of a video.
func toDoc(v *model.Video) map[string]any {
	tags := make([]string, 0, len(v.Tags))
	for _, t := range v.Tags {
		tags = append(tags, strings.ToLower(strings.TrimSpace(t)))
	}
	return map[string]any{
		fTitle:       v.Title,
		fTitlePlain:  v.Title,
		fDescription: v.Description,
		fTags:        tags,
		fVisibility:  string(v.Visibility),
		fStatus:      string(v.Status),
		fOwner:       v.Owner,
		fCreated:     v.CreatedAt,
		fDuration:    v.DurationS,
	}
}
