package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestAdminEdgesBrowser opens the admin dashboard of a cluster of one
// origin and one edge registered with a region and coverage: the Edges
// panel lists the edge with its public URL (a link), region, coverage,
// "Healthy" (from its node's status) and its load, at desktop width as a
// table and at phone width as a card without sideways scrolling.
func TestAdminEdgesBrowser(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)
	dir := t.TempDir()
	o := startMember(t, dir, member{name: "o1", origin: "workers 1", ui: true})
	port := freePort(t)
	edgeURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	startMember(t, dir, member{name: "edge-panel", join: o.clusterAddr, httpPort: port, edgeOrigin: strings.TrimPrefix(o.base, "http://"),
		edge: "disk off\npublic_url " + edgeURL + "\nregion eu-test\ncoverage 10.0.0.0/8 192.0.2.0/24"})
	phase("an origin and an edge with a region and coverage")

	b := startBrowser(t)
	// The origin's own admin token (the browser would send the node
	// started last's, the edge's).
	tok, ok := nodeTokens.Load(strings.TrimPrefix(o.base, "http://"))
	if !ok {
		t.Fatal("no admin token for the origin")
	}
	b.must("the origin's admin token", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + tok.(string)}})
		return err
	}))
	b.must("open the dashboard's Edges section", chromedp.Navigate(o.base+"/admin#edges-title"))
	const row = `[data-testid="edge"][data-id="edge-panel"]`
	cellText := func(testid string) string {
		return `document.querySelector('` + row + ` [data-testid="` + testid + `"]')?.textContent`
	}
	// Edges register a few seconds after they join; health comes with the
	// next poll of the nodes.
	b.waitTrue("the edge, healthy, with its URL, region, coverage and load", 60*time.Second,
		`document.querySelectorAll('[data-testid="edge"]').length === 1 && !!document.querySelector('`+row+`[data-health="healthy"]')`+
			` && `+cellText("edge-health")+` === 'Healthy'`+
			` && document.querySelector('`+row+` a[data-testid="edge-url"]')?.getAttribute('href') === `+jsString(edgeURL)+
			` && `+cellText("edge-url")+` === `+jsString(edgeURL)+
			` && `+cellText("edge-region")+` === 'eu-test'`+
			` && `+cellText("edge-coverage")+` === '10.0.0.0/8, 192.0.2.0/24'`+
			` && /^\d[\d.,]* req\/s$/.test(`+cellText("edge-requests")+`)`+
			` && /^\d[\d.]* (B|kB|MB|GB|TB)\/s$/.test(`+cellText("edge-bytes")+`)`+
			` && document.querySelector('[data-testid="edges-summary"]').textContent === '1 edge, 1 healthy'`+
			` && document.querySelector('[data-testid="edges-empty"]').hidden`)
	phase("the Edges panel lists the edge as healthy")
	// The jump link reaches the section.
	b.waitTrue("the Edges jump link", 5*time.Second,
		`[...document.querySelectorAll('.admin-jump a')].some(a => a.getAttribute('href') === '#edges-title' && a.textContent === 'Edges')`)
	b.scrollTop() // the Edges panel is the second section: in view from the top
	b.mustScreenshot("admin-edges-desktop-1280x800")

	// ---- phone width: one card per edge, every value named
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the dashboard laid out for the phone", 5*time.Second, `window.innerWidth === 390`)
	b.waitTrue("the edge as a card with labelled values", 5*time.Second,
		`(() => { const r = document.querySelector('`+row+`'); if (!r || getComputedStyle(r).display !== 'grid') return false;`+
			` const label = getComputedStyle(r.querySelector('td[data-label="Coverage"]'), '::before').content;`+
			` return label === '"Coverage"' && r.getBoundingClientRect().right <= window.innerWidth; })()`)
	b.checkNoSideScroll("admin edges")
	b.scrollTop() // the Edges panel is the second section: in view from the top
	b.mustScreenshot("admin-edges-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))

	if problems := b.consoleProblems(); len(problems) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(problems, "\n  "))
	}
	phase("done")
}
