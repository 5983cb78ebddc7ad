package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAdminLogsBrowser opens the admin dashboard's log view on the edge
// of a two-node cluster (an origin and an edge): it shows entries of both
// nodes, newest first; the node filter keeps one node's, the level filter
// and the search narrow them down. Screenshots at desktop and phone width.
func TestAdminLogsBrowser(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)
	_, edge := startOriginAndEdge(t, t.TempDir())
	phase("an origin and an edge")

	b := startBrowser(t)
	b.must("open the dashboard on the edge", chromedp.Navigate(edge.base+"/admin#logs-title"))
	const entries = `[...document.querySelectorAll('[data-testid="log-entry"]')]`
	b.waitTrue("entries of both nodes", 20*time.Second,
		`(() => { const e = `+entries+`; return e.some(x => x.dataset.node === 'origin') && e.some(x => x.dataset.node === 'edge')`+
			` && /from 2 of 2 nodes/.test(document.querySelector('[data-testid="logs-summary"]').textContent)`+
			` && [...document.querySelectorAll('[data-testid="logs-node"] option')].map(o => o.value).join(',') === ',edge,origin'; })()`)
	newestFirst := mustEval[bool](b, `(() => { const t = `+entries+`.map(x => Date.parse(x.querySelector('time').getAttribute('datetime')));`+
		` return t.every((v, i) => i === 0 || t[i - 1] >= v); })()`)
	if !newestFirst {
		b.fatalf("the entries are not newest first")
	}
	b.scrollIntoView("#logs-title")
	b.mustScreenshot("admin-logs-desktop-1280x800")
	phase("the log view shows both nodes")

	// ---- one node, then a text that only the app's start line has
	setField(b, `[data-testid="logs-node"]`, "origin", "change") // show the origin only
	b.waitTrue("the origin's entries only", 10*time.Second,
		`(() => { const e = `+entries+`; return e.length > 0 && e.every(x => x.dataset.node === 'origin'); })()`)
	b.must("search", chromedp.SendKeys(chromedp.CSS(`[data-testid="logs-q"]`), "strata node started"))
	b.waitTrue("the origin's start line", 10*time.Second,
		`(() => { const e = `+entries+`; return e.length === 1 && e[0].dataset.node === 'origin'`+
			` && e[0].querySelector('.log-msg').textContent === 'strata node started'`+
			` && /node_id=origin/.test(e[0].querySelector('.log-fields').textContent); })()`)
	setField(b, `[data-testid="logs-node"]`, "", "change") // show every node
	b.waitTrue("both start lines", 10*time.Second,
		`(() => { const e = `+entries+`; return e.length === 2 && new Set(e.map(x => x.dataset.node)).size === 2; })()`)
	setField(b, `[data-testid="logs-level"]`, "error", "change") // errors only
	b.waitTrue("errors only (none, or only errors)", 10*time.Second,
		`(() => { const e = `+entries+`; return e.length === 0 ? /No entries match/.test(document.querySelector('[data-testid="log-list"]').textContent)`+
			` : e.every(x => x.dataset.level === 'error'); })()`)
	phase("the filters narrow the entries")

	// ---- phone width, every node's entries again
	setField(b, `[data-testid="logs-level"]`, "info", "change") // info and above
	setField(b, `[data-testid="logs-q"]`, "", "input")          // clear the search
	b.waitTrue("entries of both nodes again", 10*time.Second,
		`(() => { const e = `+entries+`; return e.some(x => x.dataset.node === 'origin') && e.some(x => x.dataset.node === 'edge'); })()`)
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the dashboard laid out for the phone", 5*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("admin logs")
	b.scrollIntoView("#logs-title")
	b.mustScreenshot("admin-logs-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))

	if problems := b.consoleProblems(); len(problems) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(problems, "\n  "))
	}
	phase("done")
}

// setField sets the value of the form field at sel and fires event on it,
// as a person's choice would.
func setField(b *browser, sel, value, event string) {
	b.t.Helper()
	mustEval[bool](b, `(() => { const el = document.querySelector('`+sel+`'); el.value = `+jsString(value)+`;`+
		` el.dispatchEvent(new Event('`+event+`')); return true; })()`)
}
