package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Selectors of the UI's test hooks (web/README.md, "Test hooks").
const (
	selSearchInput  = `[data-testid="search-input"]`
	selSearchSubmit = `[data-testid="search-submit"]`
	selUploadFile   = `[data-testid="upload-file"]`
	selUploadTitle  = `[data-testid="upload-title"]`
	selUploadStart  = `[data-testid="upload-start"]`
	selUploadPause  = `[data-testid="upload-pause"]`
	selWatchLink    = `[data-testid="watch-link"]`
	selPlayer       = `[data-testid="video-player"]`
	selQuality      = `[data-testid="quality-select"]`
)

// uploadChunk is the UI's tus chunk size (CHUNK_SIZE in web/src/pages/upload.js;
// it is a constant there, not a setting).
const uploadChunk = 8 << 20

// TestBrowserUploadWatchSearch drives the embedded web UI of a real node in
// headless Chromium: upload a video, wait for processing, watch it (it plays,
// the quality menu lists the ladder), take screenshots, find it by search,
// and resume a second upload after a page reload.
func TestBrowserUploadWatchSearch(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t) // fail first, and clearly, when Chromium is missing

	work := t.TempDir()
	dataDir := filepath.Join(work, "data")
	n := startNode(t, dataDir)
	// A distinctive word in the title, for the search.
	const word = "xylofjord"
	const title = "Xylofjord sunrise over the test card"
	clip := makeVideo(t, work, "xylofjord-sunrise.mp4", 8, "640x360")
	b := startBrowser(t)
	phase("node, test video and Chromium started")

	// ---- home, then /upload through the app's own navigation
	b.must("open the home page", chromedp.Navigate(n.base+"/"))
	b.waitTrue("the home page to say it has no videos yet", 15*time.Second,
		`location.pathname === '/' && document.body.innerText.includes('No videos yet')`)
	b.must("click Upload in the header", chromedp.Click(chromedp.CSS(`.site-nav a[href="/upload"]`)))
	b.waitTrue("the upload form", 15*time.Second,
		`location.pathname === '/upload' && !!document.querySelector('`+selUploadFile+`')`)

	// ---- upload
	b.must("choose the file", chromedp.SetUploadFiles(chromedp.CSS(selUploadFile), []string{clip}))
	// The form fills the title from the file name; then the user types theirs.
	b.waitTrue("the title to default to the file name", 10*time.Second,
		`document.querySelector('`+selUploadTitle+`').value === 'xylofjord-sunrise'`)
	b.typeTitle(title)
	b.must("click Start upload", chromedp.Click(chromedp.CSS(selUploadStart)))
	b.waitUploadComplete(60 * time.Second)
	phase("first upload complete")
	b.waitProcessingReady(n, 2*time.Minute)
	phase("first video ready (upload page)")

	href := mustEval[string](b, `document.querySelector('`+selWatchLink+`').getAttribute('href')`)
	id, ok := strings.CutPrefix(href, "/watch/")
	if !ok || id == "" || strings.Contains(id, "/") {
		b.fatalf("watch-link href = %q, want /watch/{id}", href)
	}
	var v video
	if status := n.getJSON("/api/v1/videos/"+id, &v); status != http.StatusOK || v.Status != "ready" {
		b.fatalf("GET /api/v1/videos/%s: HTTP %d, status %q, after the UI said ready", id, status, v.Status)
	}
	if v.Title != title {
		b.fatalf("the API has the title %q, the form sent %q", v.Title, title)
	}
	checkLadder(t, v, []int{360, 240}) // the default ladder for a 360p source

	// ---- watch
	b.must("follow the watch link", chromedp.Click(chromedp.CSS(selWatchLink)))
	b.waitTrue("the watch page with hls.js and an enabled quality menu", 30*time.Second,
		`location.pathname === '`+href+`' && !!document.querySelector('`+selPlayer+`') && !!window.__strata.hls`+
			` && !document.querySelector('`+selQuality+`').disabled`)
	if got := mustEval[string](b, `document.querySelector('.watch-title')?.textContent || ''`); got != title {
		b.fatalf("watch page title = %q, want %q", got, title)
	}
	b.playAndWatch(2.0, 60*time.Second)
	phase("video plays past 2 s")
	if d := mustEval[float64](b, `document.querySelector('`+selPlayer+`').duration`); d < v.DurationS-0.5 || d > v.DurationS+0.5 {
		b.fatalf("the player's duration is %.3f s, the API says %.3f s", d, v.DurationS)
	} else {
		t.Logf("player duration %.6f s, API duration_s %.3f", d, v.DurationS)
	}
	b.checkQualityMenu(v)
	phase("quality menu checked")

	// ---- screenshots of the watch page (desktop, phone)
	b.mustScreenshot("watch-desktop-1280x800")
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 10*time.Second, `window.innerWidth === 390`)
	if w := mustEval[int](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("watch page at 390 px wide scrolls sideways: the page is %d px wide", w)
	}
	b.mustScreenshot("watch-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 10*time.Second, `window.innerWidth === 1280`)
	if p := b.consoleProblems(); len(p) > 0 {
		b.fatalf("console errors or exceptions up to the watch page:\n  %s", strings.Join(p, "\n  "))
	}

	// ---- search from the header
	b.must("type the search", chromedp.Click(chromedp.CSS(selSearchInput)), chromedp.SendKeys(chromedp.CSS(selSearchInput), word))
	b.must("submit the search", chromedp.Click(chromedp.CSS(selSearchSubmit)))
	b.waitTrue("the search results", 15*time.Second,
		`location.pathname === '/search' && new URLSearchParams(location.search).get('q') === '`+word+`'`+
			` && document.querySelector('[data-testid="results-total"]')?.dataset.total !== undefined`)
	if total := mustEval[string](b, `document.querySelector('[data-testid="results-total"]').dataset.total`); total != "1" {
		b.fatalf("results-total data-total = %s, want 1", total)
	}
	if ids := mustEval[[]string](b, `[...document.querySelectorAll('[data-testid="result-card"]')].map(c => c.dataset.id)`); !slices.Equal(ids, []string{id}) {
		b.fatalf("result cards = %v, want only %s", ids, id)
	}
	if !mustEval[bool](b, `window.__strata.hls === null`) {
		t.Errorf("window.__strata.hls is still set after leaving the watch page (the player was not destroyed)")
	}
	b.mustScreenshot("search-desktop-1280x800")
	phase("search found the video")

	// ---- home page with the video
	b.must("click the logo", chromedp.Click(chromedp.CSS(`.brand`)))
	b.waitTrue("the home page with the video's card and its thumbnail", 15*time.Second,
		`location.pathname === '/' && [...document.querySelectorAll('[data-testid="result-card"]')].some(c => c.dataset.id === '`+id+`'`+
			` && c.dataset.status === 'ready' && c.querySelector('img')?.complete && c.querySelector('img')?.naturalWidth > 0)`)
	b.mustScreenshot("home-desktop-1280x800")

	// ---- resume after a reload
	resumeAfterReload(t, b, n, work, dataDir, phase)

	// No message is excused: every page of this flow runs without a console
	// error, an uncaught exception or a failed request.
	if p := b.consoleProblems(); len(p) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(p, "\n  "))
	}
	phase("done")
}

// resumeAfterReload uploads a ≥ 20 MB video with the upload bandwidth
// throttled, pauses after the first chunk reached the server, reloads the
// page, chooses the same file and starts again: the same tus upload must
// continue from the server's offset, and the video must become ready.
func resumeAfterReload(t *testing.T, b *browser, n *node, work, dataDir string, phase func(string)) {
	const title = "Quarry timelapse, resumed after a reload"
	// 30 s of 720p at a constant 8 Mbit/s (x264 pads with filler data), so
	// about 30 MB: four 8 MiB chunks. ultrafast keeps it to ~3 s of ffmpeg.
	big := filepath.Join(work, "quarry-timelapse.mp4")
	ffmpegRun(t, "ffmpeg", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=30",
		"-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000:duration=30",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
		"-b:v", "8M", "-minrate", "8M", "-maxrate", "8M", "-bufsize", "4M", "-x264-params", "nal-hrd=cbr",
		"-c:a", "aac", "-shortest", big)
	st, err := os.Stat(big)
	if err != nil {
		t.Fatal(err)
	}
	size := st.Size()
	if size < 20e6 || size < 2*uploadChunk+1 {
		t.Fatalf("the resume test video is %d bytes; it must be at least 20 MB (more than two %d-byte chunks)", size, uploadChunk)
	}
	phase(fmt.Sprintf("resume test video made (%d bytes)", size))

	b.must("open /upload", chromedp.Navigate(n.base+"/upload"))
	b.waitTrue("the upload form", 15*time.Second, `!!document.querySelector('`+selUploadFile+`')`)
	// Loopback uploads 30 MB in a blink. Throttled to 4 MiB/s, one chunk
	// takes about 2 s, so the test can pause in the middle of the second one.
	b.throttleUploads(4 << 20)
	b.must("choose the big file", chromedp.SetUploadFiles(chromedp.CSS(selUploadFile), []string{big}))
	b.waitTrue("the title to default to the file name", 10*time.Second,
		`document.querySelector('`+selUploadTitle+`').value === 'quarry-timelapse'`)
	b.typeTitle(title)
	b.must("click Start upload", chromedp.Click(chromedp.CSS(selUploadStart)))

	// tus-js-client keeps the upload's URL in localStorage for resuming.
	rawURL := b.until("tus-js-client to store the upload URL", 15*time.Second,
		`(Object.keys(localStorage).filter(k => k.startsWith('tus::')).map(k => { try { return JSON.parse(localStorage.getItem(k)).uploadUrl || ''; } catch { return ''; } })[0]) || ''`,
		func(v string) (bool, error) { return v != "", nil })
	base, _ := url.Parse(n.base + "/upload")
	ref, err := url.Parse(rawURL)
	if err != nil {
		b.fatalf("stored upload URL %q: %v", rawURL, err)
	}
	uploadURL := base.ResolveReference(ref).String()
	uploadID := filepath.Base(strings.TrimSuffix(ref.Path, "/"))

	// Pause once the server holds the whole first chunk (and before it holds
	// everything). This is read from the staged file on disk, not guessed
	// from the UI; a tus HEAD would not do: tusd hands the upload's lock to
	// the newest request and interrupts the PATCH in flight.
	deadline := time.Now().Add(45 * time.Second)
	for {
		off := stagedBytes(t, dataDir, uploadID)
		if off >= uploadChunk {
			break
		}
		if state := mustEval[string](b, `document.querySelector('[data-testid="upload-status"]')?.dataset.state || 'none'`); state == "error" {
			b.fatalf("the big upload failed before the first chunk was in (server offset %d)", off)
		}
		if time.Now().After(deadline) {
			b.fatalf("the server's offset is still %d after 45 s, want ≥ %d (one chunk)", off, uploadChunk)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
	b.must("click Pause", chromedp.Click(chromedp.CSS(selUploadPause)))
	b.waitTrue("the paused state", 10*time.Second, `document.querySelector('[data-testid="upload-status"]').dataset.state === 'paused'`)
	pausedPercent := mustEval[string](b, `document.querySelector('[data-testid="upload-progress"]').dataset.percent`)
	if pausedPercent == "100" {
		b.fatalf("the upload was already complete when paused: throttling did not slow it down")
	}
	phase(fmt.Sprintf("paused at %s%%", pausedPercent))

	// Reload: the page forgets everything but localStorage.
	b.must("reload", chromedp.Reload())
	b.waitTrue("the upload form after the reload", 15*time.Second,
		`location.pathname === '/upload' && !!document.querySelector('`+selUploadFile+`')`)
	b.throttleUploads(0) // the rest may go at full speed

	// The server's state now: the offset the upload must continue from, and
	// the staged uploads, which must not grow.
	offset, length := tusOffset(t, uploadURL)
	if offset < uploadChunk || offset >= size || length != size {
		b.fatalf("after the pause the server has %d of %d bytes (Upload-Length %d), want at least one chunk and not all",
			offset, size, length)
	}
	stagedBefore := stagedUploads(t, dataDir)
	if !slices.Contains(stagedBefore, uploadID) {
		b.fatalf("the paused upload %s is not staged on the server: %v", uploadID, stagedBefore)
	}

	// Record the tus requests from now on.
	var reqMu sync.Mutex
	var tusRequests []string // "METHOD Upload-Offset"
	lctx, stopListening := context.WithCancel(b.ctx)
	defer stopListening()
	if err := chromedp.Listen(lctx, func(ev any) {
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok || !strings.Contains(e.Request.URL, "/api/v1/uploads/") {
			return
		}
		off := ""
		for k, v := range e.Request.Headers {
			if strings.EqualFold(k, "Upload-Offset") {
				off = fmt.Sprint(v)
			}
		}
		reqMu.Lock()
		tusRequests = append(tusRequests, strings.TrimSpace(e.Request.Method+" "+off))
		reqMu.Unlock()
	}); err != nil {
		b.fatalf("listening to network requests: %v", err)
	}

	b.must("choose the same file again", chromedp.SetUploadFiles(chromedp.CSS(selUploadFile), []string{big}))
	b.waitTrue("the 'Unfinished upload found' notice", 10*time.Second,
		`(() => { const n = document.querySelector('.notice'); return n && !n.hidden && n.textContent.includes('Unfinished upload'); })()`)
	if got := mustEval[string](b, `document.querySelector('`+selUploadTitle+`').value`); got != title {
		t.Errorf("after the reload the title field = %q, want the stored %q", got, title)
	}
	// Every data-percent the progress bar shows from now on.
	mustEval[chromedp.Void](b, `window.__percents = [];
		new MutationObserver(() => {
			const p = document.querySelector('[data-testid="upload-progress"]');
			if (p) window.__percents.push(+p.dataset.percent);
		}).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-percent'] })`)
	b.mustScreenshot("upload-resume-notice-1280x800")
	b.must("click Start upload again", chromedp.Click(chromedp.CSS(selUploadStart)))
	b.waitUploadComplete(60 * time.Second)
	phase("resumed upload complete")

	// The same upload continued from the server's offset.
	reqMu.Lock()
	reqs := slices.Clone(tusRequests)
	reqMu.Unlock()
	var patches []string
	for _, r := range reqs {
		if strings.HasPrefix(r, "POST") {
			b.fatalf("after the reload the UI created a new upload (tus requests: %v)", reqs)
		}
		if strings.HasPrefix(r, "PATCH") {
			patches = append(patches, r)
		}
	}
	if len(patches) == 0 || patches[0] != "PATCH "+strconv.FormatInt(offset, 10) {
		b.fatalf("after the reload the first PATCH = %v, want one at the server's offset %d (tus requests: %v)", patches, offset, reqs)
	}
	percents := mustEval[[]float64](b, `window.__percents.filter(p => p > 0)`)
	if minP := float64(offset * 100 / size); len(percents) == 0 || percents[0] < minP {
		b.fatalf("after the reload the progress went %v; it should start at the server's %.0f%%, not from 0", percents, minP)
	}
	if staged := stagedUploads(t, dataDir); len(staged) > len(stagedBefore) || !isSubset(staged, stagedBefore) {
		b.fatalf("staged uploads grew from %v to %v: the resume made a new upload", stagedBefore, staged)
	}
	b.waitProcessingReady(n, 2*time.Minute)
	phase("resumed video ready")

	href := mustEval[string](b, `document.querySelector('`+selWatchLink+`').getAttribute('href')`)
	if href != "/watch/"+uploadID {
		b.fatalf("watch link after the resumed upload = %q, want /watch/%s (the upload from before the reload)", href, uploadID)
	}
	var v video
	if status := n.getJSON("/api/v1/videos/"+uploadID, &v); status != http.StatusOK || v.Status != "ready" || v.Title != title {
		b.fatalf("GET /api/v1/videos/%s: HTTP %d, status %q, title %q", uploadID, status, v.Status, v.Title)
	}
	checkLadder(t, v, []int{720, 480, 360, 240})
	if left := b.storedTusUploads(); len(left) != 0 {
		t.Errorf("tus-js-client's resume entries are still in localStorage after success: %+v", left)
	}
	t.Logf("resume: paused at %s%%, server had %d of %d bytes, then tus requests %v, progress %v", pausedPercent, offset, size, reqs, percents)
}

func isSubset(sub, of []string) bool {
	for _, s := range sub {
		if !slices.Contains(of, s) {
			return false
		}
	}
	return true
}

// typeTitle empties the title field and types the title, as a user does
// (the form marks typed fields so that defaults never overwrite them).
func (b *browser) typeTitle(title string) {
	b.t.Helper()
	mustEval[chromedp.Void](b, `document.querySelector('`+selUploadTitle+`').value = ''`)
	b.must("type the title", chromedp.SendKeys(chromedp.CSS(selUploadTitle), title))
	if got := mustEval[string](b, `document.querySelector('`+selUploadTitle+`').value`); got != title {
		b.fatalf("title field = %q after typing %q", got, title)
	}
}

// throttleUploads limits the tab's upload bandwidth (bytes/s); 0 lifts the limit.
func (b *browser) throttleUploads(bytesPerSecond float64) {
	b.t.Helper()
	b.must("network throttling", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		conds := []*network.Conditions{} // none: no emulation
		if bytesPerSecond > 0 {
			conds = append(conds, &network.Conditions{UploadThroughput: bytesPerSecond, DownloadThroughput: -1})
		}
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule,
			network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds})
		return err
	}))
}

// waitUploadComplete waits until the UI says every byte was sent.
func (b *browser) waitUploadComplete(timeout time.Duration) {
	b.t.Helper()
	b.until("the upload to complete (upload-status complete, upload-progress 100)", timeout,
		`(() => {
			const s = document.querySelector('[data-testid="upload-status"]');
			const p = document.querySelector('[data-testid="upload-progress"]');
			const e = document.querySelector('.upload-error');
			return [s ? s.dataset.state : 'none', p ? p.dataset.percent : '-', e ? e.innerText.replace(/\s+/g, ' ') : ''].join(' ');
		})()`,
		func(v string) (bool, error) {
			f := strings.Fields(v)
			switch {
			case len(f) >= 2 && (f[0] == "complete" || f[0] == "ready"):
				if f[1] != "100" {
					return false, fmt.Errorf("upload-status says %s but upload-progress is %s%%", f[0], f[1])
				}
				return true, nil
			case len(f) >= 1 && (f[0] == "error" || f[0] == "failed"):
				return false, fmt.Errorf("the upload ended in %q", v)
			}
			return false, nil
		})
}

// waitProcessingReady waits on the upload page until processing-status says ready.
func (b *browser) waitProcessingReady(n *node, timeout time.Duration) {
	b.t.Helper()
	b.until("processing-status data-status = ready", timeout,
		`document.querySelector('[data-testid="processing-status"]')?.dataset.status || 'none'`,
		func(v string) (bool, error) {
			switch v {
			case "ready":
				return true, nil
			case "failed":
				return false, fmt.Errorf("processing failed: %s", b.bodyText())
			}
			return false, nil
		})
	if !mustEval[bool](b, `!!document.querySelector('`+selWatchLink+`')`) {
		b.fatalf("no watch-link once the video is ready")
	}
}

// playerState is what the <video> reports, for the playback wait.
type playerState struct {
	Time     float64 `json:"t"`
	Paused   bool    `json:"paused"`
	Ready    int     `json:"readyState"`
	Network  int     `json:"networkState"`
	Error    string  `json:"error"`
	Buffered string  `json:"buffered"`
	Problem  string  `json:"problem"`
}

// playAndWatch mutes the video and plays it (the watch page does not
// autoplay; muted play() needs no user gesture), then waits for currentTime
// to pass min seconds.
func (b *browser) playAndWatch(minTime float64, timeout time.Duration) {
	b.t.Helper()
	res := mustEval[string](b, `(async () => {
		const v = document.querySelector('`+selPlayer+`');
		if (!v.paused) return 'playing';
		v.muted = true;
		try { await v.play(); return 'playing'; } catch (e) { return 'play() failed: ' + e.name + ': ' + e.message; }
	})()`)
	if res != "playing" {
		b.fatalf("%s", res)
	}
	b.until(fmt.Sprintf("video.currentTime > %.1f", minTime), timeout,
		`(() => {
			const v = document.querySelector('`+selPlayer+`');
			if (!v) return '{"error":"no video element"}';
			const r = [];
			for (let i = 0; i < v.buffered.length; i++) r.push(v.buffered.start(i).toFixed(2) + '-' + v.buffered.end(i).toFixed(2));
			return JSON.stringify({ t: v.currentTime, paused: v.paused, readyState: v.readyState, networkState: v.networkState,
				error: v.error ? v.error.code + ' ' + v.error.message : '', buffered: r.join(','),
				problem: document.querySelector('.player-problem')?.innerText || '' });
		})()`,
		func(v string) (bool, error) {
			var s playerState
			if err := json.Unmarshal([]byte(v), &s); err != nil {
				return false, err
			}
			if s.Error != "" || s.Problem != "" {
				return false, fmt.Errorf("the player failed: %s", v)
			}
			return s.Time > minTime, nil
		})
}

type qualityOption struct {
	Value string `json:"value"`
	Text  string `json:"text"`
	Level int    `json:"level"` // height of hls.levels[value], -1 for Auto
}

// checkQualityMenu compares the quality menu and hls.js' levels with the
// renditions the API reports, then switches to another rung and back to Auto.
func (b *browser) checkQualityMenu(v video) {
	b.t.Helper()
	if levels := mustEval[int](b, `window.__strata.hls.levels.length`); levels != len(v.Renditions) {
		b.fatalf("hls.js has %d levels, the API reports %d renditions", levels, len(v.Renditions))
	}
	opts := mustEval[[]qualityOption](b, `[...document.querySelectorAll('`+selQuality+` option')].map(o => ({
		value: o.value, text: o.textContent,
		level: o.value === '-1' ? -1 : (window.__strata.hls.levels[+o.value]?.height ?? -2) }))`)
	var heights []int
	for _, r := range v.Renditions {
		heights = append(heights, r.Height)
	}
	slices.Sort(heights)
	slices.Reverse(heights)
	want := []string{"Auto"}
	for _, h := range heights {
		want = append(want, fmt.Sprintf("%dp", h))
	}
	var got []string
	for i, o := range opts {
		text := o.Text
		if i == 0 && o.Value == "-1" && strings.HasPrefix(text, "Auto") {
			text = "Auto" // "Auto (360p)" once a level plays
		} else if o.Text != fmt.Sprintf("%dp", o.Level) {
			b.fatalf("quality option %q has value %s, which is hls.js level of height %d", o.Text, o.Value, o.Level)
		}
		got = append(got, text)
	}
	if !slices.Equal(got, want) {
		b.fatalf("quality menu = %q (%+v), want %q", got, opts, want)
	}

	// Switch to the rung that is not playing, then back to Auto.
	current := mustEval[string](b, `document.querySelector('`+selQuality+`').dataset.currentHeight || ''`)
	var target qualityOption
	for _, o := range opts[1:] {
		if strconv.Itoa(o.Level) != current {
			target = o
			break
		}
	}
	if target.Value == "" {
		b.fatalf("no other quality to switch to (playing %sp, options %+v)", current, opts)
	}
	mustEval[chromedp.Void](b, fmt.Sprintf(`(() => { const s = document.querySelector('%s'); s.value = '%s'; s.dispatchEvent(new Event('change')); })()`,
		selQuality, target.Value))
	b.waitTrue("the player to switch to "+target.Text, 20*time.Second, fmt.Sprintf(
		`window.__strata.hls.autoLevelEnabled === false && document.querySelector('%s').dataset.currentHeight === '%d'`, selQuality, target.Level))
	mustEval[chromedp.Void](b, fmt.Sprintf(`(() => { const s = document.querySelector('%s'); s.value = '-1'; s.dispatchEvent(new Event('change')); })()`, selQuality))
	b.waitTrue("the player to go back to Auto", 10*time.Second, `window.__strata.hls.autoLevelEnabled === true`)
	b.t.Logf("quality menu %q; switched from %sp to %s and back to Auto", got, current, target.Text)
}
