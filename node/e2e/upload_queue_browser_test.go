package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Selectors of the upload queue and of the edit form on My videos.
const (
	selQueueItem  = `[data-testid="queue-item"]`
	selQueueTitle = `[data-testid="queue-title"]`
	selEditForm   = `[data-testid="video-edit-form"]`
)

// queueRow is the selector of the queue row of one file.
func queueRow(file string) string {
	return selQueueItem + `[data-file="` + file + `"]`
}

// TestUploadQueueBrowser drops three clips on the upload page at once: each
// gets a row in the queue, two upload while the third waits "Queued". The
// titles typed in the rows (one before its upload starts, two during it)
// are the videos' titles. Pausing an upload frees its slot for the queued
// one; resuming it finishes it. All three are processed to ready videos,
// shown in their rows. Then on My videos, Edit on a row: an empty title is
// refused by its field, Escape closes the form, and a new title and
// description are saved: the row, the API and search have them.
// Screenshots at desktop and phone width.
func TestUploadQueueBrowser(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)

	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	files := []string{"queue-amber.mp4", "queue-birch.mp4", "queue-cedar.mp4"}
	titles := []string{"Amber dunes at noon", "Birch forest in the wind", "Cedar ridge trail"}
	var js strings.Builder
	js.WriteString(`(() => { window.__dt = new DataTransfer(); const add = (b64, name) => { const bin = atob(b64);` +
		` const bytes = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);` +
		` window.__dt.items.add(new File([bytes], name, { type: 'video/mp4' })); };`)
	largest := 0
	for _, f := range files {
		data, err := os.ReadFile(makeVideo(t, work, f, 2, "320x240"))
		if err != nil {
			t.Fatal(err)
		}
		largest = max(largest, len(data))
		fmt.Fprintf(&js, ` add('%s', '%s');`, base64.StdEncoding.EncodeToString(data), f)
	}
	js.WriteString(` })()`)
	phase(fmt.Sprintf("three clips made (largest %d bytes)", largest))

	b := startBrowser(t)
	b.must("open /upload", chromedp.Navigate(n.base+"/upload"))
	b.waitTrue("the upload form", 15*time.Second, `!!document.querySelector('`+selUploadFile+`') && !!document.querySelector('.dropzone')`)
	// On loopback a clip goes up in a blink; throttled, each takes a few
	// seconds, long enough to see the queue at work and to pause one.
	b.throttleUploads(float64(largest) / 6)

	mustEval[chromedp.Void](b, js.String())
	mustEval[chromedp.Void](b, `document.querySelector('.dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: window.__dt, bubbles: true, cancelable: true }))`)
	states := `[...document.querySelectorAll('` + selQueueItem + `')].map(r => r.dataset.state).join(' ')`
	b.until("two uploading and the third queued", 15*time.Second, states, func(v string) (bool, error) {
		s := strings.Fields(v)
		active := func(x string) bool { return x == "starting" || x == "uploading" }
		if len(s) == 3 && active(s[0]) && active(s[1]) && s[2] == "queued" {
			return true, nil
		}
		if k := len(slices.DeleteFunc(slices.Clone(s), func(x string) bool { return !active(x) })); k > 2 {
			return false, fmt.Errorf("%d uploads at once (%s), want at most two", k, v)
		}
		return false, nil
	})
	if !mustEval[bool](b, `!document.querySelector('form.upload-form') && document.activeElement === document.querySelector('#queue-heading')`) {
		b.fatalf("after the drop the form should give way to the queue, with the focus on its heading")
	}
	for i, f := range files {
		want := strings.TrimSuffix(f, ".mp4")
		if got := mustEval[string](b, `document.querySelector('`+queueRow(f)+` `+selQueueTitle+`').value`); got != want {
			b.fatalf("the title of %s defaults to %q, want %q", f, got, want)
		}
		sel := queueRow(f) + ` ` + selQueueTitle
		mustEval[chromedp.Void](b, `document.querySelector('`+sel+`').value = ''`)
		b.must("type the title of "+f, chromedp.SendKeys(chromedp.CSS(sel), titles[i]))
	}
	mustEval[chromedp.Void](b, `document.activeElement.blur()`)
	b.mustScreenshot("upload-queue-desktop-1280x800")
	phase("three files queued, titles typed")

	// Pause the first upload: its slot goes to the queued third one.
	first, third := queueRow(files[0]), queueRow(files[2])
	b.waitTrue("the first file uploading", 15*time.Second, `document.querySelector('`+first+`').dataset.state === 'uploading'`)
	b.must("click Pause on the first file", chromedp.Click(chromedp.CSS(first+` [data-testid="queue-pause"]`)))
	b.waitTrue("the first file paused, its Resume focused", 10*time.Second,
		`document.querySelector('`+first+`').dataset.state === 'paused'`+
			` && document.activeElement === document.querySelector('`+first+` [data-testid="queue-resume"]')`)
	b.waitTrue("the third file started in the freed slot", 15*time.Second,
		`['starting', 'uploading', 'complete', 'ready'].includes(document.querySelector('`+third+`').dataset.state)`)
	if p := mustEval[string](b, `document.querySelector('`+first+` [data-testid="queue-progress"]').dataset.percent`); p == "100" {
		b.fatalf("the first upload was complete when paused: throttling did not slow it down")
	}
	b.mustScreenshot("upload-queue-paused-desktop-1280x800")
	phase("first file paused, third started")
	b.must("press Resume (keyboard)", chromedp.KeyEvent(kb.Enter))
	b.waitTrue("the first file going again", 10*time.Second,
		`['queued', 'starting', 'uploading', 'complete', 'ready'].includes(document.querySelector('`+first+`').dataset.state)`)
	b.throttleUploads(0)

	b.until("all three ready", 3*time.Minute, states, func(v string) (bool, error) {
		if strings.Contains(v, "error") || strings.Contains(v, "failed") {
			return false, fmt.Errorf("a row ended in %q: %s", v, b.bodyText())
		}
		return v == "ready ready ready", nil
	})
	phase("three videos ready")
	ids := make([]string, len(files))
	for i, f := range files {
		href := mustEval[string](b, `document.querySelector('`+queueRow(f)+` [data-testid="queue-watch-link"]')?.getAttribute('href') || ''`)
		id, ok := strings.CutPrefix(href, "/watch/")
		if !ok || id == "" {
			b.fatalf("the watch link of %s is %q, want /watch/{id}", f, href)
		}
		ids[i] = id
		if s := mustEval[string](b, `document.querySelector('`+queueRow(f)+` [data-testid="queue-processing"]').dataset.status`); s != "ready" {
			b.fatalf("the processing state of %s is %q, want ready", f, s)
		}
	}
	// The titles typed during an upload are saved once the video exists.
	for i, id := range ids {
		waitAPI(t, 20*time.Second, fmt.Sprintf("video %s titled %q and ready", id, titles[i]), func() bool {
			var v video
			return n.getJSON("/api/v1/videos/"+id, &v) == http.StatusOK && v.Status == "ready" && v.Title == titles[i]
		})
	}
	phase("the API has the typed titles")

	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 5*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("upload queue")
	b.scrollTop()
	b.mustScreenshot("upload-queue-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 5*time.Second, `window.innerWidth === 1280`)

	b.editOnMyVideos(n, ids)

	if problems := b.consoleProblems(); len(problems) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(problems, "\n  "))
	}
	phase("done")
}

// editOnMyVideos edits the second video's title and description on My
// videos, after checking the form's validation and Escape.
func (b *browser) editOnMyVideos(n *node, ids []string) {
	b.t.Helper()
	const newTitle = "Zanzibarquill birches at dusk"
	const newDescription = "Edited on My videos: wind in the birch leaves."
	b.must("open My videos", chromedp.Navigate(n.base+"/account/videos"))
	row := `[data-testid="my-video"][data-id="` + ids[1] + `"]`
	b.waitTrue("the three videos listed", 15*time.Second,
		`document.querySelectorAll('[data-testid="my-video"]').length === 3 && !!document.querySelector('`+row+`')`)

	// Escape closes the form and gives the focus back to Edit.
	other := `[data-testid="my-video"][data-id="` + ids[0] + `"]`
	b.must("click Edit (first video)", chromedp.Click(chromedp.CSS(other+` [data-testid="video-edit"]`)))
	b.waitTrue("the edit form, focus on its title", 5*time.Second,
		`!!document.querySelector('`+other+` `+selEditForm+`') && document.activeElement === document.querySelector('`+other+` [data-testid="edit-title"]')`+
			` && document.querySelector('`+other+` [data-testid="video-edit"]').getAttribute('aria-expanded') === 'true'`)
	b.must("press Escape", chromedp.KeyEvent(kb.Escape))
	b.waitTrue("the form closed, focus on Edit", 5*time.Second,
		`!document.querySelector('`+selEditForm+`') && document.activeElement === document.querySelector('`+other+` [data-testid="video-edit"]')`+
			` && document.activeElement.getAttribute('aria-expanded') === 'false'`)

	b.must("click Edit", chromedp.Click(chromedp.CSS(row+` [data-testid="video-edit"]`)))
	b.waitTrue("the edit form with the video's values", 5*time.Second,
		`document.querySelector('`+row+` [data-testid="edit-title"]')?.value === 'Birch forest in the wind'`+
			` && document.querySelector('`+row+` [data-testid="edit-description"]').value === ''`)
	// An empty title is refused next to the field, before anything is sent.
	mustEval[chromedp.Void](b, `document.querySelector('`+row+` [data-testid="edit-title"]').value = ''`)
	b.must("click Save (empty title)", chromedp.Click(chromedp.CSS(row+` [data-testid="edit-save"]`)))
	b.waitTrue("the title's error", 5*time.Second,
		`document.querySelector('`+row+` [data-testid="edit-title-error"]').textContent.includes('title')`+
			` && document.querySelector('`+row+` [data-testid="edit-title"]').getAttribute('aria-invalid') === 'true'`+
			` && document.activeElement === document.querySelector('`+row+` [data-testid="edit-title"]')`)
	b.must("type the new title", chromedp.SendKeys(chromedp.CSS(row+` [data-testid="edit-title"]`), newTitle))
	b.waitTrue("the title's error gone once typed", 5*time.Second,
		`document.querySelector('`+row+` [data-testid="edit-title-error"]').textContent === ''`+
			` && !document.querySelector('`+row+` [data-testid="edit-title"]').hasAttribute('aria-invalid')`)
	b.must("type the description", chromedp.SendKeys(chromedp.CSS(row+` [data-testid="edit-description"]`), newDescription))
	b.scrollTop()
	b.mustScreenshot("my-videos-edit-desktop-1280x800")

	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 5*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("my videos (edit form open)")
	b.scrollTop()
	b.mustScreenshot("my-videos-edit-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 5*time.Second, `window.innerWidth === 1280`)

	b.must("click Save", chromedp.Click(chromedp.CSS(row+` [data-testid="edit-save"]`)))
	b.waitTrue("the row with the new title, focus on its Edit", 10*time.Second,
		`!document.querySelector('`+selEditForm+`') && document.querySelector('`+row+` [data-testid="my-video-link"]')?.textContent === '`+newTitle+`'`+
			` && document.activeElement === document.querySelector('`+row+` [data-testid="video-edit"]')`+
			` && (document.querySelector('[data-testid="my-videos-status"]')?.textContent || '').includes('Saved')`)
	var v video
	if code := n.getJSON("/api/v1/videos/"+ids[1], &v); code != http.StatusOK || v.Title != newTitle || v.Description != newDescription {
		b.fatalf("after the edit GET /api/v1/videos/%s: HTTP %d, title %q, description %q", ids[1], code, v.Title, v.Description)
	}
	// The page drawn afresh shows it too, and search finds the new title.
	b.must("reload My videos", chromedp.Reload())
	b.waitTrue("the new title after a reload", 15*time.Second,
		`document.querySelector('`+row+` [data-testid="my-video-link"]')?.textContent === '`+newTitle+`'`)
	waitAPI(b.t, 30*time.Second, "search to find the new title", func() bool {
		return slices.Contains(n.searchReply("/api/v1/search?q=zanzibarquill").ids(), ids[1])
	})
}

// waitAPI polls ok every 200 ms until it is true, failing the test after timeout.
func waitAPI(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not there after %s", what, timeout)
		}
		time.Sleep(200 * time.Millisecond) // poll interval
	}
}

// TestQueueResumeBrowser: two clips dropped at once are paused part way,
// the page is reloaded, and the same two files dropped again continue the
// uploads from before the reload (tus-js-client's stored upload URLs): no
// new upload is created, and the videos are the uploads' IDs.
func TestQueueResumeBrowser(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)

	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	files := []string{"resume-dune.mp4", "resume-fern.mp4"}
	// The same File each time: tus-js-client's fingerprint is the name,
	// type, size and lastModified (a File made in the page is "now" unless told).
	var js strings.Builder
	js.WriteString(`window.__drop = () => { const dt = new DataTransfer(); const add = (b64, name) => { const bin = atob(b64);` +
		` const bytes = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);` +
		` dt.items.add(new File([bytes], name, { type: 'video/mp4', lastModified: 1767225600000 })); };`)
	largest := 0
	for _, f := range files {
		data, err := os.ReadFile(makeVideo(t, work, f, 2, "320x240"))
		if err != nil {
			t.Fatal(err)
		}
		largest = max(largest, len(data))
		fmt.Fprintf(&js, ` add('%s', '%s');`, base64.StdEncoding.EncodeToString(data), f)
	}
	js.WriteString(` document.querySelector('.dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true })); }`)

	b := startBrowser(t)
	b.must("open /upload", chromedp.Navigate(n.base+"/upload"))
	b.waitTrue("the upload form", 15*time.Second, `!!document.querySelector('`+selUploadFile+`')`)
	b.throttleUploads(float64(largest) / 8)
	mustEval[chromedp.Void](b, js.String()+`; window.__drop()`)
	for _, f := range files {
		b.waitTrue(f+" uploading", 15*time.Second, `document.querySelector('`+queueRow(f)+`')?.dataset.state === 'uploading'`)
		b.must("click Pause on "+f, chromedp.Click(chromedp.CSS(queueRow(f)+` [data-testid="queue-pause"]`)))
		b.waitTrue(f+" paused", 10*time.Second, `document.querySelector('`+queueRow(f)+`').dataset.state === 'paused'`)
	}
	stored := b.storedTusUploads()
	if len(stored) != 2 {
		b.fatalf("after pausing two uploads localStorage holds %d tus entries, want 2: %+v", len(stored), stored)
	}
	var want []string
	for _, s := range stored {
		want = append(want, strings.TrimPrefix(s.UploadURL[strings.LastIndex(s.UploadURL, "/uploads/"):], "/uploads/"))
	}
	slices.Sort(want)
	phase("two uploads paused: " + strings.Join(want, ", "))

	b.must("reload", chromedp.Reload())
	b.waitTrue("the upload form after the reload", 15*time.Second, `!!document.querySelector('`+selUploadFile+`') && !document.querySelector('`+selQueueItem+`')`)
	b.throttleUploads(0)
	// The connection is lost as the uploads resume: after tus-js-client's
	// retries the rows offer Retry; back online, they carry on by themselves.
	b.blockUploads(true)
	mustEval[chromedp.Void](b, js.String()+`; window.__drop()`)
	for _, f := range files {
		b.waitTrue(f+" found as an earlier upload", 10*time.Second, `document.querySelector('`+queueRow(f)+`')?.dataset.resumed === 'true'`)
	}
	for _, f := range files {
		b.waitTrue(f+" stopped by the lost connection, with Retry", 30*time.Second,
			`(() => { const r = document.querySelector('`+queueRow(f)+`'), retry = r.querySelector('[data-testid="queue-resume"]');`+
				` return r.dataset.state === 'error' && !retry.hidden && retry.textContent === 'Retry'`+
				` && r.querySelector('.queue-error').innerText.trim().endsWith('continue where it stopped.'); })()`)
	}
	b.scrollTop()
	b.mustScreenshot("upload-queue-lost-desktop-1280x800")
	phase("the resumed uploads stopped by the lost connection")
	b.blockUploads(false)
	mustEval[chromedp.Void](b, `window.dispatchEvent(new Event('online'))`)
	states := `[...document.querySelectorAll('` + selQueueItem + `')].map(r => r.dataset.state).join(' ')`
	b.until("both ready", 3*time.Minute, states, func(v string) (bool, error) {
		if strings.Contains(v, "error") || strings.Contains(v, "failed") {
			return false, fmt.Errorf("a row ended in %q: %s", v, b.bodyText())
		}
		return v == "ready ready", nil
	})
	var got []string
	for _, f := range files {
		href := mustEval[string](b, `document.querySelector('`+queueRow(f)+` [data-testid="queue-watch-link"]').getAttribute('href')`)
		got = append(got, strings.TrimPrefix(href, "/watch/"))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		b.fatalf("after the reload the videos are %v, want the paused uploads %v (a new upload was made)", got, want)
	}
	if left := b.storedTusUploads(); len(left) != 0 {
		t.Errorf("tus resume entries left in localStorage after success: %+v", left)
	}
	// The blocked requests are logged; nothing else may be.
	problems := slices.DeleteFunc(b.consoleProblems(), func(p string) bool { return strings.Contains(p, "ERR_BLOCKED_BY_CLIENT") })
	if len(problems) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(problems, "\n  "))
	}
	phase("both resumed and ready")
}

// blockUploads makes the tab's tus requests fail as on a lost connection
// (on), or lets them through again (off).
func (b *browser) blockUploads(on bool) {
	b.t.Helper()
	patterns := []*network.BlockPattern{}
	if on {
		patterns = append(patterns, &network.BlockPattern{URLPattern: "*://*:*/api/v1/uploads/*", Block: true})
	}
	b.must("block uploads", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: patterns})
		return err
	}))
}
