package main

import (
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/stratavideo/strata/cluster/model"
)

// leanV1Mapping is the mapping Strata had before issue 8 (the "lean"
// mapping FACTS.md measured): stemmed title and description, a plain
// title for typos, keyword tags, Bleve numbers and dates. It is here only
// to compare the new mapping with it on the same machine and corpus.
func leanV1Mapping() (mapping.IndexMapping, error) {
	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store, f.IncludeTermVectors, f.IncludeInAll, f.DocValues = false, false, false, false
		return f
	}
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store, f.IncludeInAll, f.IncludeTermVectors = false, false, false
		return f
	}
	num := bleve.NewNumericFieldMapping()
	num.Store, num.IncludeInAll = false, false
	date := bleve.NewDateTimeFieldMapping()
	date.Store, date.IncludeInAll = false, false
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("title", text(en.AnalyzerName))
	doc.AddFieldMappingsAt("title_plain", text(standard.Name))
	doc.AddFieldMappingsAt("description", text(en.AnalyzerName))
	doc.AddFieldMappingsAt("tags", text(keyword.Name))
	doc.AddFieldMappingsAt("visibility", kw())
	doc.AddFieldMappingsAt("status", kw())
	doc.AddFieldMappingsAt("owner", kw())
	doc.AddFieldMappingsAt("created", date)
	doc.AddFieldMappingsAt("duration", num)
	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.IndexDynamic, m.StoreDynamic, m.DocValuesDynamic = false, false, false
	m.DefaultAnalyzer = standard.Name
	return m, nil
}

// leanV1Document is the document of that mapping.
func leanV1Document(v *model.Video) map[string]any {
	tags := make([]string, 0, len(v.Tags))
	for _, t := range v.Tags {
		tags = append(tags, strings.ToLower(strings.TrimSpace(t)))
	}
	return map[string]any{
		"title": v.Title, "title_plain": v.Title, "description": v.Description, "tags": tags,
		"visibility": string(v.Visibility), "status": string(v.Status), "owner": v.Owner,
		"created": v.CreatedAt, "duration": v.DurationS,
	}
}
