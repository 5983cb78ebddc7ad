package index

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/stratavideo/strata/cluster/model"
)

// Related videos are a more-like-this query: the source video's title words
// and tags, each a reason to match, scored by Bleve's TF-IDF, so a shared
// rare word ("carbonara") counts for more than a shared common one
// ("video"), and a video sharing more of them ranks higher. A shared tag
// weighs most: tags are the owner's own statement of what the video is.
// A shared keyword (Keywords) counts a little: keywords repeat title words,
// which already count, and add the description's subject, which is a
// weaker statement than a title.
const (
	likeBoostTag      = 2.5
	likeBoostKeyword  = 0.8
	likeBoostTitle    = 2.0
	likeBoostTagWords = 1.0
	likeBoostDesc     = 0.3
	maxLikeClauses    = 32
)

// likeQuery finds videos like l, never l itself.
func likeQuery(an analyzers, l Like) query.Query {
	var should []query.Query
	seen := map[string]bool{}
	for _, t := range normalizeTags(l.Tags) {
		if len(should) >= maxLikeClauses {
			break
		}
		should = append(should, termQ(fTag, t, likeBoostTag))
	}
	// The keywords are one clause: they count as one reason more in the
	// disjunction's coordination, and they keep the clauses few. Past ten
	// clauses Bleve sums a disjunction's scores in heap order, which
	// depends on the segments, and two nodes holding the same videos gave
	// scores differing in the last bit (origin/api TestNodesAgree).
	if len(l.Keywords) > 0 && len(should) < maxLikeClauses {
		kw := make([]query.Query, 0, len(l.Keywords))
		for _, k := range l.Keywords[:min(len(l.Keywords), maxKeywords)] {
			kw = append(kw, termQ(fKeywords, k, likeBoostKeyword))
		}
		should = append(should, bleve.NewDisjunctionQuery(kw...))
	}
	for _, w := range analyzeWords(an, l.Title) {
		if w.stem == "" || seen[w.stem] || len(should) >= maxLikeClauses {
			continue
		}
		seen[w.stem] = true
		should = append(should, bleve.NewDisjunctionQuery(
			termQ(fTitle, w.stem, likeBoostTitle),
			termQ(fTags, w.stem, likeBoostTagWords),
			termQ(fDescription, w.stem, likeBoostDesc),
		))
	}
	if len(should) == 0 {
		return bleve.NewMatchNoneQuery()
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(bleve.NewDisjunctionQuery(should...))
	if l.ID != "" {
		b.AddMustNot(bleve.NewDocIDQuery([]string{l.ID}))
	}
	return b
}

// LikeVideo is the Like of a record: what related videos are found for.
func LikeVideo(v *model.Video) Like {
	return Like{ID: v.ID, Title: v.Title, Tags: v.Tags, Keywords: Keywords(v)}
}
