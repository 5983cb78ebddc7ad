package e2e

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// searchReply is the part of the search and discovery answers this test
// reads.
type searchReply struct {
	Total int `json:"total"`
	Hits  []struct {
		ID         string              `json:"id"`
		Score      float64             `json:"score"`
		Highlights map[string][]string `json:"highlights"`
	} `json:"hits"`
	Facets struct {
		Tags []struct {
			Term  string `json:"term"`
			Count int    `json:"count"`
		} `json:"tags"`
		Duration []struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"duration"`
	} `json:"facets"`
	Videos      []struct{ ID string } `json:"videos"`
	Suggestions []string              `json:"suggestions"`
}

func (r searchReply) ids() []string {
	out := []string{}
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	for _, v := range r.Videos {
		out = append(out, v.ID)
	}
	return out
}

func (n *node) searchReply(path string) searchReply {
	n.t.Helper()
	var r searchReply
	if status := n.getJSON(path, &r); status != http.StatusOK {
		n.t.Fatalf("GET %s: HTTP %d", path, status)
	}
	return r
}

// TestSearchDiscoveryAndFreshness: on the real binary, search forgives a
// typo, marks what matched (escaping the rest), counts facets, suggests
// as-you-type, finds related videos; and an edit, a change of visibility
// and a delete show in every answer within a second.
func TestSearchDiscoveryAndFreshness(t *testing.T) {
	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	data, err := os.ReadFile(makeVideo(t, work, "clip.mp4", 2, "320x240"))
	if err != nil {
		t.Fatal(err)
	}
	upload := func(title, description, tags string) string {
		up := tusCreate(t, n.base, data, map[string]string{"filename": "clip.mp4", "title": title, "description": description, "tags": tags})
		up.patchOK(0, len(data))
		return up.id()
	}
	finals := upload("Valorant tournament finals", "The tournament grand finals <live> & recap", "valorant,esports")
	tips := upload("Valorant tips for beginners", "Aim training every day.", "valorant,tips")
	brulee := upload("Crème brûlée at home", "A French dessert.", "dessert")
	// within polls until ok, failing after the one second.
	within := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen within a second", what)
			}
			time.Sleep(20 * time.Millisecond) // poll interval
		}
	}
	for _, id := range []string{finals, tips, brulee} {
		if v := n.waitVideo(id, 3*time.Minute); v.Status != "ready" {
			t.Fatalf("video %s: %s %s", id, v.Status, v.Error)
		}
	}
	within("the ready videos", func() bool {
		return n.searchReply("/api/v1/search?tag=valorant").Total == 2 && n.searchReply("/api/v1/search?tag=dessert").Total == 1
	})

	r := n.searchReply("/api/v1/search?q=" + url.QueryEscape("valrant tournament"))
	if got := r.ids(); len(got) != 2 || got[0] != finals {
		t.Fatalf("search with a typo = %v, want %s first of two", got, finals)
	}
	hl := r.Hits[0].Highlights
	if want := "<mark>Valorant</mark> <mark>tournament</mark> finals"; !slices.Equal(hl["title"], []string{want}) {
		t.Errorf("title highlight %q, want %q", hl["title"], want)
	}
	if want := "The <mark>tournament</mark> grand finals &lt;live&gt; &amp; recap"; !slices.Equal(hl["description"], []string{want}) {
		t.Errorf("description highlight %q, want %q", hl["description"], want)
	}
	if len(r.Facets.Tags) == 0 || r.Facets.Tags[0].Term != "valorant" || r.Facets.Tags[0].Count != 2 {
		t.Errorf("tag facets %+v", r.Facets.Tags)
	}
	if len(r.Facets.Duration) != 3 || r.Facets.Duration[0].Name != "short" || r.Facets.Duration[0].Count != 2 {
		t.Errorf("duration facets %+v", r.Facets.Duration)
	}
	if got := n.searchReply("/api/v1/search?q=creme+brulee").ids(); !slices.Equal(got, []string{brulee}) {
		t.Errorf("search without accents = %v", got)
	}
	if got := n.searchReply("/api/v1/search?tag=valorant&sort=newest").ids(); !slices.Equal(got, []string{tips, finals}) {
		t.Errorf("tag filter, newest first = %v", got)
	}
	if got := n.searchReply("/api/v1/search/suggest?q=val").Suggestions; len(got) == 0 || got[0] != "valorant" {
		t.Errorf("suggestions for val = %q", got)
	}
	if got := n.searchReply("/api/v1/videos/" + finals + "/related").ids(); !slices.Equal(got, []string{tips}) {
		t.Errorf("related to the finals = %v", got)
	}
	if got := n.searchReply("/api/v1/videos/trending").ids(); len(got) != 0 {
		t.Errorf("trending with no views = %v", got)
	}

	// Freshness: each change is in the answers within a second of the
	// write's response.
	send := func(method, id, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, n.base+"/api/v1/videos/"+id, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d", method, id, resp.StatusCode)
		}
	}
	send(http.MethodPatch, tips, `{"title":"Zeppelin spotting for beginners"}`)
	within("a new title", func() bool {
		return slices.Equal(n.searchReply("/api/v1/search?q=zeppelin").ids(), []string{tips})
	})
	send(http.MethodPatch, finals, `{"visibility":"private"}`)
	within("a video made private", func() bool {
		r := n.searchReply("/api/v1/search?q=valorant")
		return slices.Equal(r.ids(), []string{tips}) && len(r.Facets.Tags) > 0 && r.Facets.Tags[0].Count == 1 &&
			len(n.searchReply("/api/v1/search/suggest?q=tourn").Suggestions) == 0
	})
	send(http.MethodDelete, brulee, "")
	within("a deleted video", func() bool {
		return len(n.searchReply("/api/v1/search?q=brulee").ids()) == 0 &&
			len(n.searchReply("/api/v1/search/suggest?q=cr%C3%A8").Suggestions) == 0
	})
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if status := n.getJSON("/api/v1/videos/"+finals+"/related", &e); status != http.StatusNotFound || e.Error.Code != "not_found" {
		t.Errorf("related of a private video: %d %+v", status, e)
	}
	if status := n.getJSON("/api/v1/search?sort=sideways", &e); status != http.StatusBadRequest {
		t.Errorf("a bad sort: %d", status)
	}
}
