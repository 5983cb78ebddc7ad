package index

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

// at is the fixture's clock: uploads are days before it.
var at = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// vid makes a ready public video; opts adjust it.
func vid(id, title string, opts ...func(*model.Video)) *model.Video {
	v := &model.Video{ID: id, Title: title, Owner: "ana", Visibility: model.Public, Status: model.StatusReady,
		DurationS: 300, Width: 1920, Height: 1080, HasAudio: true, CreatedAt: at.Add(-24 * time.Hour)}
	for _, o := range opts {
		o(v)
	}
	return v
}

func desc(d string) func(*model.Video)     { return func(v *model.Video) { v.Description = d } }
func tags(ts ...string) func(*model.Video) { return func(v *model.Video) { v.Tags = ts } }
func owner(o string) func(*model.Video)    { return func(v *model.Video) { v.Owner = o } }
func dur(s float64) func(*model.Video)     { return func(v *model.Video) { v.DurationS = s } }
func height(h int) func(*model.Video)      { return func(v *model.Video) { v.Width, v.Height = h*16/9, h } }
func daysAgo(d int) func(*model.Video) {
	return func(v *model.Video) { v.CreatedAt = at.Add(-time.Duration(d) * 24 * time.Hour) }
}
func views(n int64) func(*model.Video)          { return func(v *model.Video) { v.Views = n } }
func vis(x model.Visibility) func(*model.Video) { return func(v *model.Video) { v.Visibility = x } }
func status(s model.Status) func(*model.Video)  { return func(v *model.Video) { v.Status = s } }

// recent records n views hoursAgo before at.
func recent(hoursAgo, n int64) func(*model.Video) {
	return func(v *model.Video) {
		v.RecentViews = append(v.RecentViews, model.HourViews{Hour: at.Unix()/3600 - hoursAgo, N: n})
		v.Views += n
	}
}

// fixture is an index and the records it was fed, which the index itself
// does not keep.
type fixture struct {
	*Index
	records map[string]*model.Video
}

// openWith makes an index holding vs.
func openWith(t *testing.T, vs ...*model.Video) *fixture {
	t.Helper()
	x, err := OpenWith(filepath.Join(t.TempDir(), "index"), Options{}) // these close without waiting out a nap
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	put(t, x, 1, vs...)
	f := &fixture{Index: x, records: map[string]*model.Video{}}
	for _, v := range vs {
		f.records[v.ID] = v
	}
	return f
}

// search runs q at the fixture's clock.
func (f *fixture) search(t *testing.T, q Query) *Result {
	t.Helper()
	if q.Now.IsZero() {
		q.Now = at
	}
	res, err := f.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return res
}

// record is the fixture's record of id.
func (f *fixture) record(t *testing.T, id string) *model.Video {
	t.Helper()
	v, ok := f.records[id]
	if !ok {
		t.Fatalf("no record %s", id)
	}
	return v
}

// order is the hit IDs in result order.
func order(res *Result) []string {
	out := []string{}
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	return out
}

func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// TestTextMatching: what words find which videos, as sets.
func TestTextMatching(t *testing.T) {
	x := openWith(t,
		vid("brulee", "Crème brûlée for beginners", tags("Dessert", "French")),
		vid("croissants", "Butter croissants, step by step"),
		vid("street", "Bangkok street food tour", desc("We eat our way through the night markets.")),
		vid("streetwise", "Food prices on a street in Lisbon"),
		vid("valorant", "Valorant tournament finals"),
		vid("lastofus", "The Last of Us part 2 review"),
		vid("owned", "Sunday baking", owner("chef_marta")),
		vid("uhd", "Harbour at dawn", height(2160)),
		vid("descronly", "Morning routine", desc("Coffee, then a long walk to the harbour.")),
	)
	cases := []struct {
		name, q string
		want    []string
	}{
		{"accents folded in the query", "creme brulee", []string{"brulee"}},
		{"accents kept in the query", "crème brûlée", []string{"brulee"}},
		{"plural matches singular", "croissant", []string{"croissants"}},
		{"singular matches plural", "beginner", []string{"brulee"}},
		{"tags are searched", "dessert", []string{"brulee"}},
		{"one typo in a long word", "valrant", []string{"valorant"}},
		{"two typos in a very long word", "tournamnet", []string{"valorant"}},
		{"no typo tolerance in short words", "tour", []string{"street"}},
		{"a quoted phrase must appear in order", `"street food"`, []string{"street"}},
		{"loose words match in any order", "street food", []string{"street", "streetwise"}},
		{"stop words alone still match", "the last of us", []string{"lastofus"}},
		{"owner name, split at underscores", "marta", []string{"owned"}},
		{"derived tags", "4k", []string{"uhd"}},
		{"descriptions are searched", "harbour", []string{"descronly", "uhd"}},
		{"nothing matches", "zeppelin", []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := sorted(order(x.search(t, Query{Text: c.q})))
			if !slices.Equal(got, sorted(c.want)) {
				t.Fatalf("%q found %v, want %v", c.q, got, c.want)
			}
		})
	}
}

// TestRanking: what comes first when several videos match.
func TestRanking(t *testing.T) {
	x := openWith(t,
		vid("title", "Sourdough starter guide"),
		vid("descr", "Weekend baking", desc("Includes my sourdough starter and a walk in the park.")),
		vid("tagged", "Bread from scratch", tags("sourdough")),
		vid("both", "Valorant tournament highlights"),
		vid("one", "Valorant ranked grind"),
		vid("phrase", "Street food in Bangkok"),
		vid("scattered", "Food on the street: a Bangkok walk"),
		vid("knit-b", "Knitting basics", views(900)),
		vid("knit-a", "Knitting basics", views(3)),
		vid("exact", "Minecraft castle"),
		vid("near", "Minecrafd castle"),
	)
	cases := []struct {
		name, q      string
		first, later string
	}{
		{"title before description", "sourdough", "title", "descr"},
		{"tag before description", "sourdough", "tagged", "descr"},
		{"more of the words first", "valorant tournament", "both", "one"},
		{"the exact word before a near one", "minecraft", "exact", "near"},
		{"words in order first", "street food bangkok", "phrase", "scattered"},
		{"a tie goes by ID, the same on every node", "knitting", "knit-a", "knit-b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := order(x.search(t, Query{Text: c.q}))
			i, j := slices.Index(got, c.first), slices.Index(got, c.later)
			if i < 0 || (c.later != "" && (j < 0 || i > j)) {
				t.Fatalf("%q ranked %v; want %s before %s", c.q, got, c.first, c.later)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	x := openWith(t,
		vid("short-sd", "Cat video", dur(60), height(480), tags("cats"), daysAgo(1)),
		vid("med-hd", "Cat documentary", dur(900), height(720), tags("cats", "nature"), owner("bo"), daysAgo(10)),
		vid("long-4k", "Cats of Istanbul", dur(3600), height(2160), tags("Cats", "travel"), daysAgo(100)),
		vid("dog", "Dog video", dur(60), height(480), tags("dogs"), daysAgo(1)),
	)
	cases := []struct {
		name string
		f    Filter
		want []string
	}{
		{"tag", Filter{Tags: []string{"cats"}}, []string{"long-4k", "med-hd", "short-sd"}},
		{"tag, any case", Filter{Tags: []string{" NATURE "}}, []string{"med-hd"}},
		{"all tags", Filter{Tags: []string{"cats", "travel"}}, []string{"long-4k"}},
		{"owner", Filter{Owner: "bo"}, []string{"med-hd"}},
		{"min duration", Filter{MinDuration: 900}, []string{"long-4k", "med-hd"}},
		{"max duration", Filter{MaxDuration: 60}, []string{"dog", "short-sd"}},
		{"duration range", Filter{MinDuration: 61, MaxDuration: 3599}, []string{"med-hd"}},
		{"uploaded since", Filter{From: at.Add(-5 * 24 * time.Hour)}, []string{"dog", "short-sd"}},
		{"uploaded before", Filter{To: at.Add(-50 * 24 * time.Hour)}, []string{"long-4k"}},
		{"at least 720p", Filter{MinResolution: 720}, []string{"long-4k", "med-hd"}},
		{"at least 2160p", Filter{MinResolution: 2160}, []string{"long-4k"}},
		{"combined", Filter{Tags: []string{"cats"}, MaxDuration: 1000, MinResolution: 720}, []string{"med-hd"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := sorted(order(x.search(t, Query{Filter: c.f})))
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			// With text too: filters narrow, text still ranks.
			got = sorted(order(x.search(t, Query{Text: "cat", Filter: c.f})))
			want := slices.DeleteFunc(slices.Clone(c.want), func(id string) bool { return id == "dog" })
			if !slices.Equal(got, want) {
				t.Fatalf("with text: got %v, want %v", got, want)
			}
		})
	}
}

func TestFacets(t *testing.T) {
	x := openWith(t,
		vid("a", "Cat video", dur(60), tags("cats", "funny")),
		vid("b", "Cat documentary", dur(900), tags("cats", "nature")),
		vid("c", "Cats of Istanbul", dur(3600), tags("Cats", "travel")),
		vid("d", "Dog video", dur(30), tags("dogs", "funny")),
		vid("secret", "Cat secrets", dur(30), tags("cats", "secretproject"), vis(model.Private), owner("zed")),
	)
	res := x.search(t, Query{Text: "cat", Facets: true})
	if res.Facets == nil {
		t.Fatal("no facets")
	}
	wantTags := []TagCount{{"cats", 3}, {"funny", 1}, {"nature", 1}, {"travel", 1}}
	if !slices.Equal(res.Facets.Tags, wantTags) {
		t.Errorf("tags = %v, want %v", res.Facets.Tags, wantTags)
	}
	wantDur := []BucketCount{{"short", 1}, {"medium", 1}, {"long", 1}}
	if !slices.Equal(res.Facets.Duration, wantDur) {
		t.Errorf("duration = %v, want %v", res.Facets.Duration, wantDur)
	}
	// The owner's own facets count their private video.
	res = x.search(t, Query{Text: "cat", Facets: true, Viewer: "zed"})
	if !slices.Contains(res.Facets.Tags, TagCount{"secretproject", 1}) {
		t.Errorf("owner's facets = %v, want secretproject counted", res.Facets.Tags)
	}
	if res := x.search(t, Query{Text: "cat"}); res.Facets != nil {
		t.Errorf("facets without asking: %+v", res.Facets)
	}
}

func TestSortOrders(t *testing.T) {
	x := openWith(t,
		vid("old-popular", "Piano lesson", daysAgo(30), views(5000)),
		vid("new-quiet", "Piano lesson for beginners", daysAgo(1), views(10)),
		vid("mid", "Piano", daysAgo(5), views(300)),
		vid("unrelated", "Drum lesson", daysAgo(0), views(99999)),
	)
	cases := []struct {
		sort Sort
		want []string
	}{
		{SortNewest, []string{"new-quiet", "mid", "old-popular"}},
		{SortViews, []string{"old-popular", "mid", "new-quiet"}},
	}
	for _, c := range cases {
		t.Run(string(c.sort), func(t *testing.T) {
			if got := order(x.search(t, Query{Text: "piano", Sort: c.sort})); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	t.Run("no text lists newest first", func(t *testing.T) {
		want := []string{"unrelated", "new-quiet", "mid", "old-popular"}
		if got := order(x.search(t, Query{})); !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	if _, err := x.Search(context.Background(), Query{Sort: "sideways"}); err == nil {
		t.Fatal("an unknown sort order was accepted")
	}
}

func TestPagination(t *testing.T) {
	var vs []*model.Video
	for i := range 25 {
		vs = append(vs, vid(string(rune('a'+i)), "Same title", daysAgo(i)))
	}
	x := openWith(t, vs...)
	var all []string
	for off := 0; off < 30; off += 10 {
		res := x.search(t, Query{Text: "same title", Limit: 10, Offset: off})
		if res.Total != 25 {
			t.Fatalf("total = %d", res.Total)
		}
		all = append(all, order(res)...)
	}
	if len(all) != 25 || len(slices.Compact(sorted(all))) != 25 {
		t.Fatalf("pages overlap or miss: %v", all)
	}
}

func TestHighlights(t *testing.T) {
	long := strings.Repeat("Filler words about nothing much. ", 12) + "Here the valorant final starts. " +
		strings.Repeat("More filler after the match. ", 12) + "A second valorant mention."
	x := openWith(t,
		vid("xss", `<script>alert("valorant")</script> & Valorant's best`, desc("Short & <b>valorant</b> notes")),
		vid("long", "Valorant tournament", desc(long)),
		vid("typo", "Valorant finals", desc("valorent is not matched here")),
		vid("accent", "Crème brûlée, the real one"),
	)
	cases := []struct {
		name, q, id string
		want        map[string][]string
	}{
		{"escaped and marked", "valorant", "xss", map[string][]string{
			"title":       {`&lt;script&gt;alert(&#34;<mark>valorant</mark>&#34;)&lt;/script&gt; &amp; <mark>Valorant&#39;s</mark> best`},
			"description": {`Short &amp; &lt;b&gt;<mark>valorant</mark>&lt;/b&gt; notes`},
		}},
		{"fragments of a long description", "valorant", "long", map[string][]string{
			"title": {"<mark>Valorant</mark> tournament"},
			"description": {
				"…Filler words about nothing much. Here the <mark>valorant</mark> final starts. More filler after the match. More filler after the match. More filler after the match. More filler after the…",
				"…match. More filler after the match. A second <mark>valorant</mark> mention.",
			},
		}},
		{"typos forgiven in titles only", "valrant", "typo", map[string][]string{
			"title": {"<mark>Valorant</mark> finals"},
		}},
		{"accents and stems", "creme brulees", "accent", map[string][]string{
			"title": {"<mark>Crème</mark> <mark>brûlée</mark>, the real one"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := x.search(t, Query{Text: c.q})
			if !slices.Contains(order(res), c.id) {
				t.Fatalf("%q did not find %s", c.q, c.id)
			}
			v := x.record(t, c.id)
			got := res.Highlights(v)
			for field, want := range c.want {
				if !slices.Equal(got[field], want) {
					t.Errorf("%s:\n got %q\nwant %q", field, got[field], want)
				}
			}
			for field := range got {
				if _, ok := c.want[field]; !ok {
					t.Errorf("unexpected highlight of %s: %q", field, got[field])
				}
			}
		})
	}
	if got := x.search(t, Query{}).Highlights(vid("x", "Valorant")); len(got) != 0 {
		t.Errorf("a search without text highlighted %v", got)
	}
}
