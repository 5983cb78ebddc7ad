package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Selectors of the admin dashboard's test hooks.
const (
	selNavAdmin       = `[data-testid="nav-admin"]`
	selNodeLeader     = `[data-testid="node"][data-leader="true"][data-healthy="true"]`
	selDeadJob        = `[data-testid="job"][data-state="dead"]`
	selJobStatus      = `[data-testid="job-status"]`
	selAdminUpdated   = `[data-testid="admin-updated"]`
	selModeration     = `[data-testid="moderation-video"]`
	selModerationDone = `[data-testid="moderation-status"]`
)

// TestAdminBrowserDashboard opens the admin dashboard in headless Chromium
// as an admin (the node's admin API token, which the browser sends with
// every request): the owner link on a home card opens the uploader's
// channel, which lists the clip; the account menu links to it; the
// playback charts draw a beacon's session (plays, startup, stalls); it lists this node as the
// healthy leader with its disk, and the Edges panel says no edge is
// registered; the job queue shows a failed job with its reason and
// retries it; the figures refresh by themselves; the users list
// has the admin's account; a video is taken down from the moderation list.
// Screenshots at desktop and phone width.
func TestAdminBrowserDashboard(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)

	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	clip := makeVideo(t, work, "dashboard.mp4", 2, "320x240")
	good, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	const goodTitle = "Dashboard moderation clip"
	badID := uploadWhole(t, n, []byte(strings.Repeat("this is not a video at all\n", 100)), "not a video")
	goodID := uploadWhole(t, n, good, goodTitle)
	if v := n.waitVideo(badID, 2*time.Minute); v.Status != "failed" {
		t.Fatalf("the text upload is %q, want failed", v.Status)
	}
	v := n.waitVideo(goodID, 2*time.Minute)
	if v.Status != "ready" {
		t.Fatalf("the clip is %q, want ready", v.Status)
	}
	phase("node with a failed and a ready video")
	// The clip's master playlist through the edge twice: a miss, then a
	// hit; the edge cache charts draw them.
	for range 2 {
		resp, err := http.Get(n.base + v.HLS)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: HTTP %d", v.HLS, resp.StatusCode)
		}
	}
	// One player session of the clip today: 1.5 s to start, 20 s played,
	// 1 s stalled; the dashboard's charts draw it.
	beaconBody := `{"session":"e2e-charts","video":"` + goodID + `","watched_s":20,"startup_ms":1500,"rebuffers":1,"rebuffer_ms":1000,"bitrate_kbps":800}`
	resp, err := http.Post(n.base+"/api/v1/beacons", "text/plain", strings.NewReader(beaconBody))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("beacon: HTTP %d", resp.StatusCode)
	}

	b := startBrowser(t)
	b.must("open the home page", chromedp.Navigate(n.base+"/"))
	b.waitTrue("the account menu (the injected admin token)", 15*time.Second, `!!document.querySelector('`+selAccountMenu+`')`)

	// ---- the uploader's channel, from the owner link on the home card
	ownerLink := `[data-testid="result-card"][data-id="` + goodID + `"] [data-testid="card-owner"]`
	b.waitTrue("the owner link on the clip's card", 15*time.Second, `!!document.querySelector('`+ownerLink+`')`)
	b.must("click the owner link", chromedp.Click(chromedp.CSS(ownerLink)))
	b.waitTrue("the channel page lists the clip, without owner links", 15*time.Second,
		`location.pathname === '/channel/e2e' && !!document.querySelector('[data-testid="channel-name"]')?.textContent.trim()`+
			` && !!document.querySelector('[data-testid="result-card"][data-id="`+goodID+`"]')`+
			` && !document.querySelector('[data-testid="card-owner"]')`)
	b.mustScreenshot("channel-desktop-1280x800")
	phase("the channel page lists the uploader's video")
	b.must("open the account menu", chromedp.Click(chromedp.CSS(selAccountMenu)))
	b.waitTrue("the Admin dashboard link in the menu", 5*time.Second, `!!document.querySelector('`+selNavAdmin+`')?.offsetParent`)
	b.must("click Admin dashboard", chromedp.Click(chromedp.CSS(selNavAdmin)))
	b.waitTrue("the dashboard", 15*time.Second, `location.pathname === '/admin' && !!document.querySelector('`+selAdminUpdated+`')`)

	// ---- nodes: this one, leading and healthy, with its disk
	b.waitTrue("this node listed as the healthy leader", 20*time.Second,
		`document.querySelectorAll('[data-testid="node"]').length === 1 && !!document.querySelector('`+selNodeLeader+`')`+
			` && document.querySelector('`+selNodeLeader+`').textContent.includes('this node')`+
			` && /of .*\(\d+%\)/.test(document.querySelector('`+selNodeLeader+` .node-disk').textContent)`+
			` && Number(document.querySelector('`+selNodeLeader+` [data-testid="node-applied"]').textContent) > 0`)
	phase("the node is listed as the healthy leader")
	// ---- edges: this node's edge role has no public URL, so none is registered
	b.waitTrue("the Edges panel's empty state", 10*time.Second,
		`(() => { const e = document.querySelector('[data-testid="edges-empty"]');`+
			` return !!e && !e.hidden && e.textContent === 'No edges registered: every viewer is served by the origins.'`+
			` && document.querySelector('[data-testid="edges-table"]').hidden; })()`)

	// ---- jobs: the failed one with its reason and a Retry button; the done one
	b.waitTrue("the failed job with its reason and Retry", 20*time.Second,
		`(() => { const j = document.querySelector('`+selDeadJob+`');`+
			` return !!j && j.textContent.includes('not a video') && !!j.querySelector('[data-testid="job-error"]')`+
			` && !!j.querySelector('[data-testid="job-retry"]'); })()`)
	b.waitTrue("the done job and the counts", 10*time.Second,
		`!!document.querySelector('[data-testid="job"][data-state="done"]')`+
			` && document.querySelector('[data-testid="job-count-dead"]').textContent.startsWith('1')`)
	b.waitTrue("the admin's account in the users list", 10*time.Second,
		`[...document.querySelectorAll('[data-testid="user"]')].some(u => u.textContent.includes('@e2e') && u.textContent.includes('you'))`)
	// ---- playback charts: today's play, startup and stall, with text alternatives
	b.waitTrue("the playback charts with today's session", 15*time.Second,
		`(() => { const c = (m) => document.querySelector('[data-testid="qoe-chart-' + m + '"]');`+
			` if (!c('plays') || !c('startup') || !c('rebuffer')) return false;`+
			` const last = (m) => [...c(m).querySelectorAll('tbody tr')].pop()?.querySelector('td')?.textContent;`+
			` return c('plays').querySelectorAll('tbody tr').length === 30 && last('plays') === '1'`+
			` && last('startup') === '1.5 s' && /^4\.8%$/.test(last('rebuffer'))`+
			` && c('plays').querySelectorAll('rect.chart-bar').length === 1 && !!c('startup').querySelector('.chart-dot')`+
			` && /highest 1\.5 s/.test(c('startup').querySelector('svg desc').textContent)`+
			` && c('rebuffer').querySelector('svg').getAttribute('role') === 'img'; })()`)
	phase("the playback charts show the session")
	// ---- edge cache charts: this node's edge, a day in 15-minute periods
	b.waitTrue("the edge cache charts with the playlist's requests", 15*time.Second,
		`(() => { const c = (m) => document.querySelector('[data-testid="edge-chart-' + m + '"]');`+
			` if (!c('hit-ratio') || !c('bandwidth')) return false;`+
			` return c('hit-ratio').querySelectorAll('tbody tr').length === 96 && Number(c('hit-ratio').dataset.points) >= 1`+
			` && [...c('bandwidth').querySelectorAll('tbody td')].some(td => /B\/s$/.test(td.textContent) && td.textContent !== '0 B/s')`+
			` && /highest/.test(c('hit-ratio').querySelector('svg desc').textContent)`+
			` && /1 edge: /.test(document.querySelector('[data-testid="edge-summary"]').textContent); })()`)
	phase("the edge cache charts show the requests")
	b.waitTrue("the ready video in the moderation list", 10*time.Second,
		`[...document.querySelectorAll('`+selModeration+`')].some(v => v.dataset.id === '`+goodID+`')`)
	b.scrollTop()
	b.mustScreenshot("admin-desktop-1280x800")

	// ---- live: the figures refresh without a reload
	before := mustEval[string](b, `document.querySelector('`+selAdminUpdated+`').textContent`)
	b.waitTrue("a refresh of the figures within 12 s", 12*time.Second,
		`document.querySelector('`+selAdminUpdated+`').textContent !== `+jsString(before))

	// ---- retry the failed job (it fails again: it is still not a video)
	failedAt := mustEval[string](b, `document.querySelector('`+selDeadJob+` time').getAttribute('datetime')`)
	b.must("click Retry", chromedp.Click(chromedp.CSS(selDeadJob+` [data-testid="job-retry"]`)))
	b.waitTrue("the retry confirmed", 15*time.Second,
		`(document.querySelector('`+selJobStatus+`')?.textContent || '').includes('queued again')`)
	b.waitTrue("the retried job failed again, with its reason", 2*time.Minute,
		`(() => { const j = document.querySelector('`+selDeadJob+`');`+
			` return !!j && j.querySelector('time')?.getAttribute('datetime') !== `+jsString(failedAt)+
			` && j.textContent.includes('not a video'); })()`)
	phase("the failed job was retried")

	// ---- moderation: take the ready video down (it becomes private)
	b.must("click Take down", chromedp.Click(chromedp.CSS(selModeration+`[data-id="`+goodID+`"] [data-testid="video-takedown"]`)))
	b.waitTrue("the video taken down", 15*time.Second,
		`(document.querySelector('`+selModerationDone+`')?.textContent || '').includes('private')`+
			` && !document.querySelector('`+selModeration+`[data-id="`+goodID+`"]')`)
	var anon struct{}
	if code := n.getJSON("/api/v1/videos/"+goodID, &anon); code != http.StatusNotFound {
		t.Errorf("the taken-down video, asked anonymously: HTTP %d, want 404 (private)", code)
	}
	phase("a video was taken down")

	// ---- phone width
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the dashboard laid out for the phone", 5*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("admin")
	b.scrollTop()
	b.mustScreenshot("admin-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))

	if problems := b.consoleProblems(); len(problems) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(problems, "\n  "))
	}
	phase("done")
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\u2028", `\u2028`, "\u2029", `\u2029`)
	return "'" + r.Replace(s) + "'"
}
