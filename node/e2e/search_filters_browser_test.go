package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestSearchFiltersBrowser walks what the viewer side of the web UI adds to
// search and watching, on three 2 s videos: two "Alpine" ones, one of them
// portrait (240x320, so its derived tag "vertical" separates it), and a
// third about a harbour.
//
//   - Typing a prefix in the header box shows suggestions in a combobox;
//     arrow down and Enter pick one and search for it.
//   - Results mark the matched words (<mark>, built as DOM nodes).
//   - Escape closes the suggestions, arrow down reopens them, a click
//     picks one; an emptied box sends no request.
//   - Sorting by newest, "uploaded today" and the "vertical" tag chip
//     change the results exactly as the API answers the same parameters;
//     all are in the URL, so a reload keeps them and Back undoes the last.
//   - The watch page says the view count the API has and lists related
//     videos (the API's), beside the player on a desktop and under it on a
//     phone; a related card opens that video.
//
// Screenshots at desktop and phone width.
func TestSearchFiltersBrowser(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)

	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	videos := []struct{ title, size string }{
		{"Alpine lake sunrise", "320x240"},
		{"Alpine meadow walk", "240x320"},
		{"Harbour lights at night", "320x240"},
	}
	ids := make([]string, len(videos))
	for i, v := range videos {
		data, err := os.ReadFile(makeVideo(t, work, fmt.Sprintf("clip%d.mp4", i), 2, v.size))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = uploadWhole(t, n, data, v.title)
	}
	for i, id := range ids {
		if v := n.waitVideo(id, 2*time.Minute); v.Status != "ready" {
			t.Fatalf("%q is %q, want ready", videos[i].title, v.Status)
		}
	}
	lake, meadow := ids[0], ids[1]
	deadline := time.Now().Add(30 * time.Second)
	for len(n.searchReply("/api/v1/search?q=alpine").ids()) < 2 || len(n.searchReply("/api/v1/search?q=harbour").ids()) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the three videos are not all searchable after 30 s")
		}
		time.Sleep(200 * time.Millisecond) // poll interval
	}
	phase("three ready, searchable videos")

	b := startBrowser(t)
	cards := `[...document.querySelectorAll('[data-testid="result-card"]')].map(c => c.dataset.id)`
	total := `document.querySelector('[data-testid="results-total"]')?.dataset.total`
	settled := total + ` !== undefined && !document.querySelector('.search-results .grid[aria-busy]')`
	// apiOrder is the API's order of hits for a search page's URL query.
	apiOrder := func(query string) []string {
		t.Helper()
		v, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		return n.searchReply("/api/v1/search?" + v.Encode()).ids()
	}
	// resultsAre waits for the page to show exactly want, in order.
	resultsAre := func(what string, want []string) {
		t.Helper()
		b.until(what, 15*time.Second, `JSON.stringify(`+settled+` ? `+cards+` : null)`, func(v string) (bool, error) {
			return v == jsonList(want), nil
		})
	}

	// ---- suggestions as you type in the header box, picked with the keyboard
	b.must("open the home page", chromedp.Navigate(n.base+"/"))
	b.waitTrue("the header search box as a combobox", 15*time.Second,
		`document.querySelector('`+selSearchInput+`')?.getAttribute('role') === 'combobox'`)
	b.must("type a prefix", chromedp.Click(chromedp.CSS(selSearchInput)), chromedp.SendKeys(chromedp.CSS(selSearchInput), "alp"))
	list := `document.getElementById(document.querySelector('` + selSearchInput + `').getAttribute('aria-controls'))`
	b.waitTrue("suggestions for alp", 10*time.Second,
		list+`?.hidden === false && `+list+`.querySelectorAll('[role="option"]').length > 0`+
			` && document.querySelector('`+selSearchInput+`').getAttribute('aria-expanded') === 'true'`)
	suggestions := mustEval[[]string](b, `[...`+list+`.querySelectorAll('[role="option"]')].map(o => o.textContent)`)
	if !strings.HasPrefix(strings.ToLower(suggestions[0]), "alp") {
		t.Errorf("the first suggestion for alp is %q", suggestions[0])
	}
	b.must("arrow down to the first suggestion", chromedp.KeyEvent(kb.ArrowDown))
	b.waitTrue("the first option active", 5*time.Second,
		`document.querySelector('`+selSearchInput+`').getAttribute('aria-activedescendant') === `+list+`.querySelector('[role="option"]').id`+
			` && `+list+`.querySelector('[role="option"]').getAttribute('aria-selected') === 'true'`)
	b.mustScreenshot("search-suggestions-desktop-1280x800")
	b.must("Enter picks it", chromedp.KeyEvent(kb.Enter))
	b.waitTrue("the search for the suggestion", 15*time.Second,
		`location.pathname === '/search' && new URLSearchParams(location.search).get('q') === `+jsString(suggestions[0])+
			` && `+list+`.hidden && document.querySelector('`+selSearchInput+`').getAttribute('aria-expanded') === 'false'`)
	phase(fmt.Sprintf("suggestion %q picked with the keyboard", suggestions[0]))

	// Escape closes the list and keeps the text; arrow down opens it again;
	// a click picks an option; an emptied box asks for nothing.
	mustEval[chromedp.Void](b, `document.querySelector('`+selSearchInput+`').value = ''`)
	b.must("type another prefix", chromedp.Click(chromedp.CSS(selSearchInput)), chromedp.SendKeys(chromedp.CSS(selSearchInput), "harb"))
	b.waitTrue("suggestions for harb", 10*time.Second, list+`?.hidden === false && `+list+`.querySelectorAll('[role="option"]').length > 0`)
	b.must("Escape", chromedp.KeyEvent(kb.Escape))
	b.waitTrue("the list closed, the text kept", 5*time.Second,
		list+`.hidden && document.querySelector('`+selSearchInput+`').getAttribute('aria-expanded') === 'false'`+
			` && document.querySelector('`+selSearchInput+`').value === 'harb'`)
	b.must("arrow down opens it again", chromedp.KeyEvent(kb.ArrowDown))
	b.waitTrue("the list open again", 10*time.Second, list+`?.hidden === false && `+list+`.querySelectorAll('[role="option"]').length > 0`)
	picked := mustEval[string](b, list+`.querySelector('[role="option"]').textContent`)
	b.must("click the first suggestion", chromedp.Click(chromedp.CSS(`[data-testid="suggestions"] [role="option"]`)))
	b.waitTrue("the search for the clicked suggestion", 15*time.Second,
		`location.pathname === '/search' && new URLSearchParams(location.search).get('q') === `+jsString(picked))
	mustEval[chromedp.Void](b, `document.querySelector('`+selSearchInput+`').focus()`)
	b.must("empty the box", chromedp.KeyEvent(kb.End), chromedp.KeyEvent(strings.Repeat(kb.Backspace, len(picked))))
	b.waitTrue("an empty box with no list", 5*time.Second,
		`document.querySelector('`+selSearchInput+`').value === '' && `+list+`.hidden`)
	if n := mustEval[int](b, `performance.getEntriesByType('resource').filter(e => /\/search\/suggest\?q=(&|$)/.test(e.name)).length`); n != 0 {
		t.Errorf("%d suggestion requests for an empty box", n)
	}
	phase(fmt.Sprintf("Escape, arrow down, suggestion %q clicked", picked))

	// ---- highlighted matches
	b.must("search alpine", chromedp.Navigate(n.base+"/search?q=alpine"))
	resultsAre("the API's alpine results", apiOrder("q=alpine"))
	marks := mustEval[[]string](b, `[...document.querySelectorAll('[data-testid="result-card"] .card-title mark')].map(m => m.textContent)`)
	if len(marks) != 2 || marks[0] != "Alpine" || marks[1] != "Alpine" {
		b.fatalf("marked title words %v, want Alpine in both titles", marks)
	}
	if !mustEval[bool](b, `[...document.querySelectorAll('.card-title')].every(t => [...t.childNodes].every(c => c.nodeType === 3 || c.nodeName === 'MARK'))`) {
		t.Errorf("a result title holds elements other than <mark>")
	}
	phase("matches marked")

	// ---- sort, then a tag filter, as a keyboard user
	b.must("sort by newest", chromedp.Focus(chromedp.CSS(`#search-sort`)), chromedp.KeyEvent(kb.ArrowDown))
	b.waitTrue("sort=newest in the URL", 5*time.Second, `new URLSearchParams(location.search).get('sort') === 'newest'`)
	newest := apiOrder("q=alpine&sort=newest")
	if !slices.Equal(newest, []string{meadow, lake}) {
		t.Fatalf("the API's newest alpine videos are %v, want the meadow (uploaded last) first: %v", newest, []string{meadow, lake})
	}
	resultsAre("the newest first", newest)
	if got := mustEval[string](b, `document.activeElement?.id`); got != "search-sort" {
		t.Errorf("focus moved to %q after sorting; want it kept on the sort menu", got)
	}
	// Uploaded today keeps both (they were uploaded a minute ago): the
	// page's relative date reaches the API as a from= time it accepts.
	b.must("uploaded today", chromedp.Focus(chromedp.CSS(`#search-uploaded`)), chromedp.KeyEvent(kb.ArrowDown))
	b.waitTrue("uploaded=day in the URL", 5*time.Second, `new URLSearchParams(location.search).get('uploaded') === 'day'`)
	resultsAre("both videos uploaded today", newest)
	chip := `[data-testid="facet-chip"][data-facet="tags"][data-value="vertical"]`
	b.waitTrue("a vertical chip with its count", 5*time.Second, `document.querySelector('`+chip+`')?.textContent === 'vertical 1'`)
	b.must("press the vertical chip", chromedp.Focus(chromedp.CSS(chip)), chromedp.KeyEvent(kb.Enter))
	vertical := apiOrder("q=alpine&sort=newest&tag=vertical&from=" + time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339))
	if !slices.Equal(vertical, []string{meadow}) {
		t.Fatalf("the API's vertical alpine videos are %v, want [%s]", vertical, meadow)
	}
	resultsAre("only the vertical video", vertical)
	b.waitTrue("the chip pressed, the filter in the URL, focus on the chip", 5*time.Second,
		`document.querySelector('`+chip+`')?.getAttribute('aria-pressed') === 'true'`+
			` && new URLSearchParams(location.search).getAll('tag').join() === 'vertical' && document.activeElement?.matches('`+chip+`')`)
	b.mustScreenshot("search-filters-desktop-1280x800")
	phase("sorted by newest, filtered to vertical")

	// ---- reload keeps the state; Back undoes the filter
	b.must("reload", chromedp.Reload())
	resultsAre("the vertical video after a reload", vertical)
	if got := mustEval[[]string](b, `[document.querySelector('#search-sort').value, document.querySelector('#search-uploaded').value,`+
		` document.querySelector('`+chip+`').getAttribute('aria-pressed')]`); got[0] != "newest" || got[1] != "day" || got[2] != "true" {
		b.fatalf("after a reload the sort is %q, uploaded %q and the chip pressed=%s; want newest, day and true", got[0], got[1], got[2])
	}
	mustEval[chromedp.Void](b, `history.back()`)
	resultsAre("both alpine videos, newest first, after Back", newest)
	b.waitTrue("no tag in the URL after Back", 5*time.Second,
		`new URLSearchParams(location.search).get('tag') === null && new URLSearchParams(location.search).get('sort') === 'newest'`+
			` && new URLSearchParams(location.search).get('uploaded') === 'day'`)
	phase("reload and Back")

	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 5*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("search")
	b.scrollTop()
	b.mustScreenshot("search-filters-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 5*time.Second, `window.innerWidth === 1280`)

	// ---- the watch page: view count and related videos
	var lakeVideo struct {
		Views *int64 `json:"views"`
	}
	if code := n.getJSON("/api/v1/videos/"+lake, &lakeVideo); code != 200 || lakeVideo.Views == nil {
		t.Fatalf("GET the lake video: HTTP %d, views %v", code, lakeVideo.Views)
	}
	wantViews := fmt.Sprintf("%d views", *lakeVideo.Views)
	if *lakeVideo.Views == 1 {
		wantViews = "1 view"
	}
	related := n.searchReply("/api/v1/videos/" + lake + "/related").ids()
	if !slices.Contains(related, meadow) {
		t.Fatalf("the API's related videos of the lake are %v, want the meadow %s among them", related, meadow)
	}
	b.must("open the lake video", chromedp.Navigate(n.base+"/watch/"+lake))
	b.waitTrue("the view count", 15*time.Second, `document.querySelector('[data-testid="view-count"]')?.textContent === `+jsString(wantViews))
	relatedCards := `[...document.querySelectorAll('[data-testid="related"] [data-testid="result-card"]')].map(c => c.dataset.id)`
	b.until("the API's related videos", 15*time.Second, `JSON.stringify(`+relatedCards+`)`, func(v string) (bool, error) {
		return v == jsonList(related), nil
	})
	b.waitTrue("related beside the player", 5*time.Second,
		`document.querySelector('[data-testid="related"]').getBoundingClientRect().left >= document.querySelector('.player-box').getBoundingClientRect().right`)
	b.mustScreenshot("watch-related-desktop-1280x800")
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("related under the player at phone width", 5*time.Second, `window.innerWidth === 390`+
		` && document.querySelector('[data-testid="related"]').getBoundingClientRect().top >= document.querySelector('.player-box').getBoundingClientRect().bottom`)
	b.checkNoSideScroll("watch")
	b.scrollTop()
	b.mustScreenshot("watch-related-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 5*time.Second, `window.innerWidth === 1280`)
	link := `[data-testid="related"] [data-testid="result-card"][data-id="` + meadow + `"] a.card-link`
	b.must("open the related meadow video", chromedp.Click(chromedp.CSS(link)))
	b.waitTrue("the meadow's watch page", 15*time.Second,
		`location.pathname === '/watch/`+meadow+`' && document.querySelector('.watch-title')?.textContent === 'Alpine meadow walk'`)
	phase("watch page: views and related")

	if problems := b.consoleProblems(); len(problems) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(problems, "\n  "))
	}
	phase("done")
}

// jsonList is a list of strings as JSON.stringify writes it (IDs need no
// escaping).
func jsonList(xs []string) string {
	if len(xs) == 0 {
		return "[]"
	}
	return `["` + strings.Join(xs, `","`) + `"]`
}
