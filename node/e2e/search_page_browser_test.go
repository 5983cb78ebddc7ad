package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSearchMyVideosBrowser walks the search page and the My videos page
// with three short videos uploaded through the API. Search from the header
// finds the two "alpine" videos (and only them), a single word finds the
// third, an unknown word shows the empty state, and a page past the end
// shows "No more results." with a Previous link back to the first page.
// On My videos, cancelling the delete confirmation keeps the video; then
// confirming it deletes it (the row, the count and the API agree), and
// search no longer finds it. Screenshots at desktop and phone width.
//
// Filters, sort, highlighted matches and suggestions are walked by
// TestSearchFiltersBrowser. My videos cannot edit a title or description:
// there is nothing to walk there yet.
func TestSearchMyVideosBrowser(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)

	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	titles := []string{"Alpine lake sunrise", "Alpine meadow walk", "Harbour lights at night"}
	ids := make([]string, len(titles))
	for i, title := range titles {
		data, err := os.ReadFile(makeVideo(t, work, "clip"+string(rune('a'+i))+".mp4", 2, "320x240"))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = uploadWhole(t, n, data, title)
	}
	for i, id := range ids {
		if v := n.waitVideo(id, 2*time.Minute); v.Status != "ready" {
			t.Fatalf("%q is %q, want ready", titles[i], v.Status)
		}
	}
	alpine, harbour := ids[:2], ids[2]
	// The index takes the ready videos in shortly after.
	deadline := time.Now().Add(30 * time.Second)
	for len(n.searchReply("/api/v1/search?q=alpine").ids()) < 2 || len(n.searchReply("/api/v1/search?q=harbour").ids()) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the three videos are not all searchable after 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	phase("three ready, searchable videos")

	b := startBrowser(t)
	cards := `[...document.querySelectorAll('[data-testid="result-card"]')].map(c => c.dataset.id).sort()`
	total := `document.querySelector('[data-testid="results-total"]')?.dataset.total`
	search := func(word string) {
		t.Helper()
		mustEval[chromedp.Void](b, `document.querySelector('`+selSearchInput+`').value = ''`)
		b.must("type "+word, chromedp.Click(chromedp.CSS(selSearchInput)), chromedp.SendKeys(chromedp.CSS(selSearchInput), word))
		b.must("submit the search", chromedp.Click(chromedp.CSS(selSearchSubmit)))
		b.waitTrue("the results for "+word, 15*time.Second,
			`location.pathname === '/search' && new URLSearchParams(location.search).get('q') === `+jsString(word)+
				` && `+total+` !== undefined && document.querySelector('[data-testid="result-card"], .empty') !== null`)
	}

	// ---- two words of one title match two videos
	b.must("open the home page", chromedp.Navigate(n.base+"/"))
	b.waitTrue("the header search box", 15*time.Second, `!!document.querySelector('`+selSearchInput+`')`)
	search("alpine")
	if got := mustEval[string](b, total); got != "2" {
		b.fatalf("alpine: data-total %s, want 2", got)
	}
	want := slices.Clone(alpine)
	slices.Sort(want)
	if got := mustEval[[]string](b, cards); !slices.Equal(got, want) {
		b.fatalf("alpine: cards %v, want %v", got, want)
	}
	if got := mustEval[string](b, `document.querySelector('[data-testid="results-total"]').textContent`); got != "2 results" {
		t.Errorf("alpine: the total reads %q, want \"2 results\"", got)
	}
	if got := mustEval[string](b, `document.querySelector('#search-title').textContent`); !strings.Contains(got, "alpine") {
		t.Errorf("the heading %q does not name the query", got)
	}
	if !mustEval[bool](b, `document.querySelector('.pager').children.length === 0`) {
		t.Errorf("a pager is shown for 2 results on one page")
	}
	b.mustScreenshot("search-page-desktop-1280x800")
	phase("alpine finds the two alpine videos")

	// ---- a word of the third title; an unknown word
	search("harbour")
	if got := mustEval[[]string](b, cards); !slices.Equal(got, []string{harbour}) {
		b.fatalf("harbour: cards %v, want [%s]", got, harbour)
	}
	search("zzqx")
	b.waitTrue("the empty state", 5*time.Second,
		`document.querySelector('.empty')?.textContent.includes('No videos match your search.') && `+total+` === '0'`)
	phase("single-word and no-match searches")

	// ---- a page past the end, and back to the first with Previous
	b.must("open a page past the end", chromedp.Navigate(n.base+"/search?q=alpine&offset=20"))
	b.waitTrue("No more results, with a Previous link", 15*time.Second,
		`document.querySelector('.empty')?.textContent.includes('No more results.') && !!document.querySelector('.pager a[rel="prev"]')`+
			` && !document.querySelector('.pager a[rel="next"]')`)
	b.must("click Previous", chromedp.Click(chromedp.CSS(`.pager a[rel="prev"]`)))
	b.waitTrue("the first page again", 15*time.Second,
		`new URLSearchParams(location.search).get('offset') === null || new URLSearchParams(location.search).get('offset') === '0'`)
	b.waitTrue("the two alpine cards again", 15*time.Second, `document.querySelectorAll('[data-testid="result-card"]').length === 2`)
	phase("pagination past the end and back")

	// ---- phone width
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 5*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("search")
	b.scrollTop()
	b.mustScreenshot("search-page-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 5*time.Second, `window.innerWidth === 1280`)

	// ---- My videos: cancel, then confirm the deletion of the harbour video
	b.must("open My videos", chromedp.Navigate(n.base+"/account/videos"))
	row := `[data-testid="my-video"][data-id="` + harbour + `"]`
	b.waitTrue("the three videos listed", 15*time.Second,
		`document.querySelectorAll('[data-testid="my-video"]').length === 3 && !!document.querySelector('`+row+`')`+
			` && document.querySelector('[data-testid="my-videos-count"]').textContent === '3 videos'`)
	b.mustScreenshot("my-videos-desktop-1280x800")
	// window.confirm answers false, then true; the page's question is kept.
	mustEval[chromedp.Void](b, `window.__asked = []; window.__answer = false;`+
		` window.confirm = (m) => { window.__asked.push(m); return window.__answer; }`)
	b.must("click Delete (cancel)", chromedp.Click(chromedp.CSS(row+` [data-testid="video-delete"]`)))
	b.waitTrue("the question asked", 5*time.Second, `window.__asked.length === 1`)
	if q := mustEval[string](b, `window.__asked[0]`); !strings.Contains(q, "Harbour lights at night") || !strings.Contains(q, "cannot be undone") {
		t.Errorf("the delete question is %q, want the title and a warning", q)
	}
	time.Sleep(500 * time.Millisecond) // a cancelled delete must send nothing
	if !mustEval[bool](b, `!!document.querySelector('`+row+`')`) {
		b.fatalf("the row went away though the deletion was cancelled")
	}
	status := func(path string) int {
		resp, err := http.Get(n.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := status("/api/v1/videos/" + harbour); code != http.StatusOK {
		b.fatalf("after a cancelled delete the video answers HTTP %d", code)
	}
	mustEval[chromedp.Void](b, `window.__answer = true`)
	b.must("click Delete (confirm)", chromedp.Click(chromedp.CSS(row+` [data-testid="video-delete"]`)))
	b.waitTrue("the row removed, the count and the status updated", 15*time.Second,
		`!document.querySelector('`+row+`') && document.querySelectorAll('[data-testid="my-video"]').length === 2`+
			` && document.querySelector('[data-testid="my-videos-count"]').textContent === '2 videos'`+
			` && document.querySelector('[data-testid="my-videos-status"]')?.textContent.includes('Deleted “Harbour lights at night”')`)
	if code := status("/api/v1/videos/" + harbour); code != http.StatusNotFound {
		t.Errorf("the deleted video answers HTTP %d, want 404", code)
	}
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 5*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("my videos")
	b.scrollTop()
	b.mustScreenshot("my-videos-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 5*time.Second, `window.innerWidth === 1280`)
	phase("a video deleted from My videos")

	// ---- search no longer finds it
	b.waitTrue("the header search box", 15*time.Second, `!!document.querySelector('`+selSearchInput+`')`)
	search("harbour")
	b.waitTrue("no result for the deleted video", 5*time.Second, total+` === '0'`)

	if problems := b.consoleProblems(); len(problems) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(problems, "\n  "))
	}
	phase("done")
}
