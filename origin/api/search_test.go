package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/index/corpus"
	"github.com/stratavideo/strata/cluster/model"
)

// now is the test clock of trending.
var now = corpus.Reference

// openNode starts a single node in dir. Opening is bounded: a node whose
// files another (closed) node still locks would otherwise hang the test.
func openNode(t *testing.T, dir string) *cluster.Node {
	t.Helper()
	cfg := cluster.DefaultNodeConfig(dir)
	cfg.NoSync = true
	type opened struct {
		n   *cluster.Node
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		n, err := cluster.OpenNode(cfg)
		ch <- opened{n, err}
	}()
	var o opened
	select {
	case o = <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("opening the node in %s took more than 20 s (are its files still locked?)", dir)
	}
	if o.err != nil {
		t.Fatalf("open node: %v", o.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	return o.n
}

// apply applies cs and waits until search reflects them.
func apply(t *testing.T, n *cluster.Node, cs ...command.Command) {
	t.Helper()
	applyOnly(t, n, cs...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
}

// applyOnly applies cs and returns as soon as the cluster has them.
func applyOnly(t *testing.T, n *cluster.Node, cs ...command.Command) {
	t.Helper()
	for _, c := range cs {
		if _, err := n.Apply(context.Background(), c); err != nil {
			t.Fatalf("apply %T: %v", c, err)
		}
	}
}

// commandsFor are the commands that make v as the generator made it:
// created at its upload time, ready, and viewed in its recent hours.
func commandsFor(v *model.Video) []command.Command {
	created := *v
	created.Status, created.Renditions, created.Views, created.RecentViews = "", nil, 0, nil
	out := []command.Command{&command.CreateVideo{Stamp: command.Stamp{At: v.CreatedAt}, Video: created}}
	if v.Status == model.StatusReady {
		out = append(out, &command.VideoReady{Stamp: command.Stamp{At: v.ReadyAt}, ID: v.ID, DurationS: v.DurationS,
			Width: v.Width, Height: v.Height, HasAudio: v.HasAudio, Renditions: v.Renditions, Master: "master.m3u8"})
	}
	for _, h := range v.RecentViews {
		out = append(out, &command.AddViews{Stamp: command.Stamp{At: time.Unix(h.Hour*3600+60, 0).UTC()},
			Views: []command.VideoViews{{ID: v.ID, N: h.N}}})
	}
	return out
}

// handler is an API handler with no origin: the tests hand it the node.
func handler() *Handler { return &Handler{log: slog.New(slog.DiscardHandler)} }

// call runs one of the handler's search endpoints against n and returns the
// status and the raw body.
func call(t *testing.T, n *cluster.Node, target string) (int, []byte) {
	t.Helper()
	h := handler()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/search", func(w http.ResponseWriter, r *http.Request) { h.runSearch(w, r, n, now) })
	mux.HandleFunc("GET /api/v1/search/suggest", func(w http.ResponseWriter, r *http.Request) { h.runSuggest(w, r, n) })
	mux.HandleFunc("GET /api/v1/videos/trending", func(w http.ResponseWriter, r *http.Request) { h.runTrending(w, r, n, now) })
	mux.HandleFunc("GET /api/v1/videos/{id}/related", func(w http.ResponseWriter, r *http.Request) { h.runRelated(w, r, n) })
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: Content-Type %q", target, ct)
	}
	return rec.Code, rec.Body.Bytes()
}

// searchAnswer is the part of a search answer the tests read.
type searchAnswer struct {
	Total int `json:"total"`
	Hits  []struct {
		ID         string              `json:"id"`
		Title      string              `json:"title"`
		Score      *float64            `json:"score"`
		Views      int64               `json:"views"`
		Highlights map[string][]string `json:"highlights"`
	} `json:"hits"`
	Facets struct {
		Tags []struct {
			Term  string
			Count int
		} `json:"tags"`
		Duration []struct {
			Name  string
			Count int
		} `json:"duration"`
	} `json:"facets"`
	Videos []struct {
		ID    string   `json:"id"`
		Score *float64 `json:"score"`
		Views int64    `json:"views"`
	} `json:"videos"`
	Suggestions []string `json:"suggestions"`
}

func get(t *testing.T, n *cluster.Node, target string) searchAnswer {
	t.Helper()
	code, body := call(t, n, target)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, code, body)
	}
	var a searchAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	return a
}

func (a searchAnswer) ids() []string {
	out := []string{}
	for _, h := range a.Hits {
		out = append(out, h.ID)
	}
	for _, v := range a.Videos {
		out = append(out, v.ID)
	}
	return out
}

// smallCatalog is a handful of videos with known words, uploaded on
// known days.
func smallCatalog(t *testing.T, n *cluster.Node) {
	t.Helper()
	day := func(d int) time.Time { return now.Add(-time.Duration(d) * 24 * time.Hour) }
	mk := func(id, title, desc string, tags []string, vis model.Visibility, d int, dur float64, height int) {
		apply(t, n,
			&command.CreateVideo{Stamp: command.Stamp{At: day(d)}, Video: model.Video{ID: id, Title: title, Description: desc, Tags: tags, Visibility: vis, Owner: "ana"}},
			&command.VideoReady{Stamp: command.Stamp{At: day(d)}, ID: id, DurationS: dur, Width: height * 16 / 9, Height: height, HasAudio: true,
				Renditions: []model.Rendition{{Name: "r", Height: height, Width: height * 16 / 9}}, Master: "master.m3u8"})
	}
	mk("carbonara", "Pasta carbonara <the real one>", "Eggs, pecorino & guanciale. No cream in a carbonara!", []string{"pasta", "italian"}, model.Public, 3, 600, 1080)
	mk("cacio", "Cacio e pepe", "Another Roman pasta.", []string{"pasta", "italian"}, model.Public, 10, 300, 720)
	mk("brulee", "Crème brûlée", "A French dessert.", []string{"dessert"}, model.Public, 1, 3000, 2160)
	mk("secret", "Secret carbonara", "Family recipe.", []string{"pasta", "secretrecipe"}, model.Private, 2, 600, 1080)
	mk("hidden", "Unlisted carbonara", "Only by link.", []string{"pasta"}, model.Unlisted, 2, 600, 1080)
	apply(t, n,
		&command.AddViews{Stamp: command.Stamp{At: now.Add(-time.Hour)}, Views: []command.VideoViews{{ID: "cacio", N: 40}, {ID: "carbonara", N: 5}, {ID: "secret", N: 900}}},
		&command.AddViews{Stamp: command.Stamp{At: now.Add(-50 * time.Hour)}, Views: []command.VideoViews{{ID: "carbonara", N: 100}}},
	)
}

func TestSearchAPI(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	smallCatalog(t, n)

	cases := []struct {
		name, query string
		want        []string // in order
	}{
		{"text", "q=carbonara", []string{"carbonara"}},
		{"accents and plurals", "q=creme+brulees", []string{"brulee"}},
		{"tag filter", "tag=pasta&sort=newest", []string{"carbonara", "cacio"}},
		{"two tags, comma-separated", "tag=pasta,italian&sort=newest", []string{"carbonara", "cacio"}},
		{"owner", "owner=ana&sort=newest", []string{"brulee", "carbonara", "cacio"}},
		{"duration range", "min_duration=301&max_duration=3000&sort=newest", []string{"brulee", "carbonara"}},
		{"upload dates", "from=" + now.Add(-5*24*time.Hour).Format(time.DateOnly) + "&to=" + now.Add(-2*24*time.Hour).Format(time.RFC3339) + "&sort=newest", []string{"carbonara"}},
		{"resolution", "resolution=1080&sort=newest", []string{"brulee", "carbonara"}},
		{"most viewed", "q=pasta&sort=views", []string{"carbonara", "cacio"}},
		{"pages", "tag=pasta&sort=newest&limit=1&offset=1", []string{"cacio"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := get(t, n, "/api/v1/search?"+c.query).ids(); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}

	t.Run("answer shape", func(t *testing.T) {
		a := get(t, n, "/api/v1/search?q=carbonara+pasta")
		if a.Total != 2 || len(a.Hits) != 2 || a.Hits[0].ID != "carbonara" || a.Hits[0].Score == nil || *a.Hits[0].Score <= 0 {
			t.Fatalf("answer %+v", a)
		}
		if a.Hits[0].Views != 105 {
			t.Errorf("views = %d, want 105", a.Hits[0].Views)
		}
		title := a.Hits[0].Highlights["title"]
		if want := []string{"<mark>Pasta</mark> <mark>carbonara</mark> &lt;the real one&gt;"}; !slices.Equal(title, want) {
			t.Errorf("title highlight %q, want %q", title, want)
		}
		if desc := a.Hits[0].Highlights["description"]; len(desc) != 1 || !strings.Contains(desc[0], "&amp;") || !strings.Contains(desc[0], "<mark>carbonara</mark>") {
			t.Errorf("description highlight %q", desc)
		}
		if len(a.Facets.Tags) == 0 || a.Facets.Tags[0].Term != "italian" || a.Facets.Tags[0].Count != 2 {
			t.Errorf("tag facets %+v", a.Facets.Tags)
		}
		for _, f := range a.Facets.Tags {
			if f.Term == "secretrecipe" {
				t.Errorf("a private video's tag is in the facets")
			}
		}
		if len(a.Facets.Duration) != 3 || a.Facets.Duration[1].Name != "medium" || a.Facets.Duration[1].Count != 2 {
			t.Errorf("duration facets %+v", a.Facets.Duration)
		}
	})

	bad := []string{"limit=0", "limit=101", "offset=-1", "offset=10001", "min_duration=abc", "max_duration=-5",
		"from=yesterday", "to=2026-13-01", "resolution=high", "sort=trending", "sort=random", "q=" + strings.Repeat("a", 501)}
	for _, q := range bad {
		t.Run("refuses "+q[:min(len(q), 20)], func(t *testing.T) {
			code, body := call(t, n, "/api/v1/search?"+q)
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if code != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
				t.Fatalf("%d %s", code, body)
			}
		})
	}
}

func TestDiscoveryAPI(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	smallCatalog(t, n)

	t.Run("suggest", func(t *testing.T) {
		a := get(t, n, "/api/v1/search/suggest?q="+url.QueryEscape("carb"))
		if len(a.Suggestions) == 0 || a.Suggestions[0] != "carbonara" {
			t.Fatalf("suggestions %q", a.Suggestions)
		}
		for _, s := range a.Suggestions {
			if strings.Contains(s, "secret") || strings.Contains(s, "unlisted") {
				t.Fatalf("suggested %q from a hidden video", s)
			}
		}
		if a := get(t, n, "/api/v1/search/suggest?q=secr"); len(a.Suggestions) != 0 {
			t.Fatalf("suggested %q from a private video", a.Suggestions)
		}
		if a := get(t, n, "/api/v1/search/suggest?q=cr%C3%A8me+br"); !slices.Equal(a.Suggestions, []string{"crème brûlée"}) {
			t.Fatalf("suggestions %q", a.Suggestions)
		}
	})
	t.Run("trending", func(t *testing.T) {
		a := get(t, n, "/api/v1/videos/trending")
		// cacio: 40 views an hour ago; carbonara: 5 an hour ago and 100 two
		// days ago, a quarter of which still counts; secret is private.
		if got := a.ids(); !slices.Equal(got, []string{"cacio", "carbonara"}) {
			t.Fatalf("trending %v", got)
		}
		if s := *a.Videos[0].Score; s < 38 || s > 40 {
			t.Errorf("cacio's trending score %.2f, want 40 decayed by an hour", s)
		}
	})
	t.Run("related", func(t *testing.T) {
		if got := get(t, n, "/api/v1/videos/carbonara/related").ids(); !slices.Equal(got, []string{"cacio"}) {
			t.Fatalf("related %v", got)
		}
		if got := get(t, n, "/api/v1/videos/hidden/related").ids(); !slices.Equal(got, []string{"carbonara", "cacio"}) {
			t.Fatalf("related to an unlisted video %v", got)
		}
		for _, id := range []string{"secret", "nope"} {
			if code, _ := call(t, n, "/api/v1/videos/"+id+"/related"); code != http.StatusNotFound {
				t.Errorf("related of %s: %d, want 404", id, code)
			}
		}
	})
	for _, target := range []string{"/api/v1/videos/trending?limit=0", "/api/v1/videos/carbonara/related?limit=x", "/api/v1/search/suggest?limit=21&q=a"} {
		if code, _ := call(t, n, target); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", target, code)
		}
	}
}

// TestEditsShowAtOnce: an edit or a delete is in this node's results
// within a second of being applied (the promise), without waiting
// for anything but the results themselves.
func TestEditsShowAtOnce(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	smallCatalog(t, n)
	within := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s not visible within a second", what)
			}
			time.Sleep(10 * time.Millisecond) // poll interval
		}
	}
	title := "Zeppelin over Rome"
	applyOnly(t, n, &command.UpdateVideo{Stamp: command.Stamp{At: now}, ID: "cacio", Title: &title})
	within("the new title", func() bool { return slices.Equal(get(t, n, "/api/v1/search?q=zeppelin").ids(), []string{"cacio"}) })
	within("the old title gone", func() bool { return len(get(t, n, "/api/v1/search?q=cacio+pepe").ids()) == 0 })
	vis := model.Private
	applyOnly(t, n, &command.UpdateVideo{Stamp: command.Stamp{At: now}, ID: "carbonara", Visibility: &vis})
	within("a video made private gone", func() bool { return len(get(t, n, "/api/v1/search?q=carbonara").ids()) == 0 })
	applyOnly(t, n, &command.DeleteVideo{Stamp: command.Stamp{At: now}, ID: "brulee"})
	within("a deleted video gone", func() bool {
		return len(get(t, n, "/api/v1/search?q=brulee").ids()) == 0 && len(get(t, n, "/api/v1/search/suggest?q=cr%C3%A8").Suggestions) == 0
	})
}

// agreementQueries are what TestNodesAgree compares.
var agreementQueries = []string{
	"/api/v1/search?q=valorant+tournament",
	"/api/v1/search?q=valrant",
	"/api/v1/search?q=creme+brulee&limit=50",
	"/api/v1/search?q=%22street+food%22",
	"/api/v1/search?q=guitar+lessons&tag=music&sort=views",
	"/api/v1/search?q=kyoto&min_duration=600&resolution=1080",
	"/api/v1/search?tag=cooking&sort=newest&limit=30&offset=10",
	"/api/v1/search?q=tutorial&from=2025-01-01&to=2025-12-31",
	"/api/v1/search/suggest?q=val",
	"/api/v1/search/suggest?q=street+f",
	"/api/v1/videos/trending?limit=50",
	"/api/v1/videos/v000018/related",
	"/api/v1/videos/v000105/related",
}

// TestNodesAgree feeds two independent nodes the same commands and checks
// that every query answers byte for byte the same on both. Node b is
// stopped halfway and its index thrown away, so it answers from an index
// rebuilt from its store and then updated, while a's was updated all
// along: their Bleve segments differ, their answers must not.
func TestNodesAgree(t *testing.T) {
	videos := corpus.Generate(42, 400)
	var cmds []command.Command
	for _, v := range videos {
		cmds = append(cmds, commandsFor(v.Video)...)
	}
	// Edits and deletes after the uploads.
	for i, v := range videos[:40] {
		switch i % 3 {
		case 0:
			title := v.Title + " (remastered)"
			cmds = append(cmds, &command.UpdateVideo{Stamp: command.Stamp{At: now}, ID: v.ID, Title: &title})
		case 1:
			tags := append(slices.Clone(v.Tags), "favourite")
			cmds = append(cmds, &command.UpdateVideo{Stamp: command.Stamp{At: now}, ID: v.ID, Tags: &tags})
		case 2:
			cmds = append(cmds, &command.DeleteVideo{Stamp: command.Stamp{At: now}, ID: v.ID})
		}
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	a, b := openNode(t, dirA), openNode(t, dirB)
	defer func() { a.Close() }()
	half := len(cmds) / 2
	apply(t, a, cmds...)
	apply(t, b, cmds[:half]...)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dirB, "index")); err != nil {
		t.Fatal(err)
	}
	b = openNode(t, dirB)
	defer func() { b.Close() }()
	apply(t, b, cmds[half:]...)

	for _, q := range agreementQueries {
		codeA, bodyA := call(t, a, q)
		codeB, bodyB := call(t, b, q)
		if codeA != http.StatusOK || codeA != codeB {
			t.Fatalf("%s: status %d on a, %d on b", q, codeA, codeB)
		}
		if string(bodyA) != string(bodyB) {
			t.Errorf("%s differs:\na: %.600s\nb: %.600s", q, bodyA, bodyB)
		}
		var ans searchAnswer
		if err := json.Unmarshal(bodyA, &ans); err != nil || (len(ans.ids()) == 0 && len(ans.Suggestions) == 0) {
			t.Errorf("%s: an empty answer proves nothing: %s", q, bodyA)
		}
	}
}
