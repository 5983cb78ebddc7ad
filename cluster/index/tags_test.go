package index

import (
	"slices"
	"testing"

	"github.com/stratavideo/strata/cluster/model"
)

func lang(l string) func(*model.Video) { return func(v *model.Video) { v.Language = l } }
func portrait() func(*model.Video)     { return func(v *model.Video) { v.Width, v.Height = 1080, 1920 } }
func silent() func(*model.Video)       { return func(v *model.Video) { v.HasAudio = false } }

// audioOnly is how a ready audio file looks in the store: no frame size and
// no video rung.
func audioOnly() func(*model.Video) { return func(v *model.Video) { v.Width, v.Height = 0, 0 } }

func TestDerivedTags(t *testing.T) {
	for _, c := range []struct {
		name string
		v    *model.Video
		want []string
	}{
		{"1080p landscape, medium length", vid("a", "x"), []string{"1080p", "hd"}},
		{"4k", vid("a", "x", height(2160)), []string{"4k", "uhd", "hd"}},
		{"portrait phone clip under a minute", vid("a", "x", portrait(), dur(45)), []string{"1080p", "hd", "vertical", "portrait", "short"}},
		{"a minute is not short", vid("a", "x", height(480), dur(60)), []string{"sd"}},
		{"20 minutes is long", vid("a", "x", height(480), dur(1200)), []string{"sd", "long"}},
		{"no sound", vid("a", "x", height(720), silent()), []string{"720p", "hd", "silent"}},
		{"audio only", vid("a", "x", audioOnly(), dur(3600)), []string{"audio-only", "long"}},
		{"still processing: nothing about the sound yet", vid("a", "x", audioOnly(), silent(), status(model.StatusProcessing)), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := DerivedTags(c.v); !slices.Equal(got, c.want) {
				t.Fatalf("DerivedTags = %v, want %v", got, c.want)
			}
		})
	}
}

func TestKeywords(t *testing.T) {
	for _, c := range []struct {
		name string
		v    *model.Video
		want []string
	}{
		{"stop words, short words, numbers and channel noise go",
			vid("a", "How to make the best carbonara in 10 minutes", desc("Subscribe to my channel! Carbonara is a Roman pasta. Go get guanciale.")),
			[]string{"carbonara", "make", "best", "minutes", "roman"}},
		{"title words before a description's", vid("a", "Kyoto walking tour", desc("Temples temples temples and more.")),
			[]string{"temples", "kyoto", "walking", "tour"}},
		{"the declared language's stop words", vid("a", "Les secrets de la crème brûlée", lang("fr"), desc("Une recette pour les débutants.")),
			[]string{"secrets", "crème", "brûlée", "recette", "débutants"}},
		{"the language the text shows when none is declared", vid("a", "Die beste Currywurst der Stadt", desc("Wir essen und trinken in Berlin.")),
			[]string{"beste", "currywurst", "stadt", "essen", "trinken"}},
		{"apostrophes and case", vid("a", "Chef's KNIFE skills"), []string{"chef", "knife", "skills"}},
		{"nothing to say", vid("a", "The end", desc("")), []string{"end"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Keywords(c.v); !slices.Equal(got, c.want) {
				t.Fatalf("Keywords = %v, want %v", got, c.want)
			}
		})
	}
}

// TestDerivedTagsFilterNotSearch: derived tags are found by the tag filter
// and counted in their facet, but a search word does not match them
// (except the resolution classes).
func TestDerivedTagsFilterNotSearch(t *testing.T) {
	x := openWith(t,
		vid("clip", "Quick pasta hack", dur(40), portrait()),
		vid("film", "Short film about pasta", dur(900)),
		vid("lecture", "Pasta history lecture", dur(3600), height(2160)),
		vid("podcast", "Pasta talk", dur(2400), audioOnly()),
	)
	for _, c := range []struct {
		name string
		q    Query
		want []string
	}{
		{"tag=short is length", Query{Filter: Filter{Tags: []string{"short"}}}, []string{"clip"}},
		{"the word short is the title's", Query{Text: "short"}, []string{"film"}},
		{"tag=long", Query{Filter: Filter{Tags: []string{"LONG"}}}, []string{"lecture", "podcast"}},
		{"tag=portrait", Query{Filter: Filter{Tags: []string{"portrait"}}}, []string{"clip"}},
		{"tag=audio-only", Query{Filter: Filter{Tags: []string{"audio-only"}}}, []string{"podcast"}},
		{"resolution words still search", Query{Text: "4k"}, []string{"lecture"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sorted(order(x.search(t, c.q))); !slices.Equal(got, c.want) {
				t.Fatalf("found %v, want %v", got, c.want)
			}
		})
	}
	f := x.search(t, Query{Text: "pasta", Facets: true}).Facets
	if !slices.Contains(f.Derived, TagCount{Term: "long", Count: 2}) || !slices.Contains(f.Derived, TagCount{Term: "short", Count: 1}) {
		t.Fatalf("derived facet %v, want long 2 and short 1", f.Derived)
	}
}

func TestLanguageAndKeywordFilters(t *testing.T) {
	x := openWith(t,
		vid("fr", "Crème brûlée maison", lang("fr")),
		vid("fr2", "Tarte tatin maison", lang("fr")),
		vid("en", "Crème brûlée at home", lang("en")),
		vid("none", "Crème brûlée, no words"),
	)
	for _, c := range []struct {
		name string
		q    Query
		want []string
	}{
		{"language", Query{Filter: Filter{Language: "fr"}}, []string{"fr", "fr2"}},
		{"language and text", Query{Text: "creme brulee", Filter: Filter{Language: "en"}}, []string{"en"}},
		{"keyword", Query{Filter: Filter{Keywords: []string{"Maison"}}}, []string{"fr", "fr2"}},
		{"keywords all needed", Query{Filter: Filter{Keywords: []string{"maison", "tatin"}}}, []string{"fr2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sorted(order(x.search(t, c.q))); !slices.Equal(got, c.want) {
				t.Fatalf("found %v, want %v", got, c.want)
			}
		})
	}
	f := x.search(t, Query{Facets: true}).Facets
	if !slices.Equal(f.Language, []TagCount{{"fr", 2}, {"en", 1}}) {
		t.Errorf("language facet %v", f.Language)
	}
	if len(f.Keywords) == 0 || f.Keywords[0] != (TagCount{"brûlée", 3}) {
		t.Errorf("keyword facet %v, want brûlée (3) first", f.Keywords)
	}
}

// TestRelatedByKeywords: two videos whose titles share nothing are related
// through what their descriptions are about.
func TestRelatedByKeywords(t *testing.T) {
	src := vid("src", "Sunday project", desc("Soldering a mechanical keyboard from a kit, keyboard switches and keycaps."))
	x := openWith(t, src,
		vid("kin", "Weekend build", desc("My first mechanical keyboard: switches, keycaps, keyboard case.")),
		vid("stranger", "Weekend walk", desc("A walk by the river.")),
	)
	if got := order(x.search(t, Query{Like: ptr(LikeVideo(src))})); !slices.Equal(got, []string{"kin"}) {
		t.Fatalf("related = %v, want [kin]", got)
	}
}
