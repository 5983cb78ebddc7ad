package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// TestSearchTagsLanguageKeywords: the derived tags, the language and the
// keywords are filters and facets of the search API.
func TestSearchTagsLanguageKeywords(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	at := now.Add(-24 * time.Hour)
	mk := func(id, title, desc, lang string, dur float64, w, h int) {
		var rs []model.Rendition
		if h > 0 {
			rs = []model.Rendition{{Name: "r", Width: w, Height: h}}
		}
		apply(t, n,
			&command.CreateVideo{Stamp: command.Stamp{At: at}, Video: model.Video{ID: id, Title: title, Description: desc, Visibility: model.Public, Owner: "ana"}},
			&command.SetMediaInfo{Stamp: command.Stamp{At: at}, ID: id, Language: lang},
			&command.VideoReady{Stamp: command.Stamp{At: at}, ID: id, DurationS: dur, Width: w, Height: h, HasAudio: true,
				Renditions: rs, Master: "master.m3u8"})
	}
	mk("clip", "Tarte tatin express", "Une tarte en une minute.", "fr", 45, 1080, 1920)
	mk("lesson", "Tarte tatin: the full lesson", "Apples, butter, caramel and a tarte.", "en", 1800, 1920, 1080)
	mk("podcast", "Pastry podcast", "We talk about tarte tatin.", "", 3000, 0, 0)

	for _, c := range []struct{ name, query string }{
		{"clip", "tag=short"},
		{"clip", "tag=portrait"},
		{"lesson,podcast", "tag=long&sort=newest"},
		{"podcast", "tag=audio-only"},
		{"clip", "language=fra"},
		{"lesson", "language=EN"},
		{"lesson", "keyword=apples"},
	} {
		t.Run(c.query, func(t *testing.T) {
			got := get(t, n, "/api/v1/search?"+c.query).ids()
			slices.Sort(got)
			want := map[string][]string{"clip": {"clip"}, "lesson,podcast": {"lesson", "podcast"}, "podcast": {"podcast"}, "lesson": {"lesson"}}[c.name]
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}

	t.Run("facets", func(t *testing.T) {
		_, body := call(t, n, "/api/v1/search?q=tarte")
		var a struct {
			Facets map[string][]struct {
				Term  string `json:"term"`
				Count int    `json:"count"`
			} `json:"facets"`
		}
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		has := func(facet, term string, count int) bool {
			for _, f := range a.Facets[facet] {
				if f.Term == term && f.Count == count {
					return true
				}
			}
			return false
		}
		if !has("derived", "long", 2) || !has("derived", "short", 1) || !has("language", "fr", 1) ||
			!has("language", "en", 1) || !has("keywords", "tarte", 3) {
			t.Fatalf("facets %s", body)
		}
	})

	t.Run("refuses a bad language", func(t *testing.T) {
		if code, body := call(t, n, "/api/v1/search?language=klingon-ish"); code != http.StatusBadRequest {
			t.Fatalf("%d %s", code, body)
		}
	})
}

// TestViewLanguageAndDerivedTags: the API shows the same derived tags the
// index filters by.
func TestViewLanguageAndDerivedTags(t *testing.T) {
	v := &model.Video{ID: "v", Status: model.StatusReady, HasAudio: true, DurationS: 30, Width: 1080, Height: 1920, Language: "fr"}
	out := view(v)
	if out.Language != "fr" || !slices.Equal(out.DerivedTags, []string{"1080p", "hd", "vertical", "portrait", "short"}) {
		t.Fatalf("language %q, derived tags %v", out.Language, out.DerivedTags)
	}
	b, err := json.Marshal(view(&model.Video{ID: "w"}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if tags, ok := m["derived_tags"].([]any); !ok || len(tags) != 0 {
		t.Errorf("derived_tags of a bare record: %v, want []", m["derived_tags"])
	}
	if _, ok := m["language"]; ok {
		t.Errorf("an undeclared language is shown: %s", b)
	}
}
