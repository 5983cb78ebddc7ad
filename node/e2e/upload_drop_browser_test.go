package e2e

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestUploadDropBrowser uploads a clip by dropping it on the upload page's
// drop zone: a real drop event whose DataTransfer holds a File made in the
// page from the clip's bytes. The zone highlights while a drag is over it,
// the form takes the file (name, size, title from the file name), and the
// upload completes and is processed to a ready video.
//
// One dropped file goes through the form. A drop of several files makes
// an upload queue instead: TestUploadQueueBrowser walks that.
func TestUploadDropBrowser(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)

	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	data, err := os.ReadFile(makeVideo(t, work, "dropped-fjord.mp4", 2, "320x240"))
	if err != nil {
		t.Fatal(err)
	}

	b := startBrowser(t)
	b.must("open /upload", chromedp.Navigate(n.base+"/upload"))
	b.waitTrue("the upload form", 15*time.Second, `!!document.querySelector('`+selUploadFile+`') && !!document.querySelector('.dropzone')`)

	// The clip as a File in the page, and a drag over the zone.
	mustEval[chromedp.Void](b, `(() => { const bin = atob('`+base64.StdEncoding.EncodeToString(data)+`');`+
		` const bytes = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);`+
		` window.__dt = new DataTransfer(); window.__dt.items.add(new File([bytes], 'dropped-fjord.mp4', { type: 'video/mp4' }));`+
		` const zone = document.querySelector('.dropzone');`+
		` for (const type of ['dragenter', 'dragover']) zone.dispatchEvent(new DragEvent(type, { dataTransfer: window.__dt, bubbles: true, cancelable: true })); })()`)
	b.waitTrue("the zone highlighted during the drag", 5*time.Second, `document.querySelector('.dropzone').classList.contains('is-dragging')`)
	b.mustScreenshot("upload-drag-desktop-1280x800")
	mustEval[chromedp.Void](b, `document.querySelector('.dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: window.__dt, bubbles: true, cancelable: true }))`)
	b.waitTrue("the dropped file taken by the form", 10*time.Second,
		`(() => { const z = document.querySelector('.dropzone'), f = document.querySelector('`+selUploadFile+`').files;`+
			` return !z.classList.contains('is-dragging') && z.classList.contains('has-file') && f.length === 1 && f[0].name === 'dropped-fjord.mp4'`+
			` && f[0].size === `+strconv.Itoa(len(data))+` && document.querySelector('#file-info').textContent.startsWith('dropped-fjord.mp4 · ')`+
			` && document.querySelector('`+selUploadTitle+`').value === 'dropped-fjord'; })()`)
	if mustEval[bool](b, `!!document.querySelector('[data-testid="upload-queue"]')`) {
		b.fatalf("one dropped file made an upload queue; the form should take it")
	}
	b.mustScreenshot("upload-drop-desktop-1280x800")
	phase("the file was dropped")

	b.must("click Start upload", chromedp.Click(chromedp.CSS(selUploadStart)))
	b.waitUploadComplete(60 * time.Second)
	phase("upload complete")
	b.waitProcessingReady(n, 2*time.Minute)
	href := mustEval[string](b, `document.querySelector('`+selWatchLink+`').getAttribute('href')`)
	id, ok := strings.CutPrefix(href, "/watch/")
	if !ok || id == "" {
		b.fatalf("watch-link href = %q, want /watch/{id}", href)
	}
	var v video
	if code := n.getJSON("/api/v1/videos/"+id, &v); code != http.StatusOK || v.Status != "ready" || v.Title != "dropped-fjord" {
		b.fatalf("GET /api/v1/videos/%s: HTTP %d, status %q, title %q; want a ready video titled dropped-fjord", id, code, v.Status, v.Title)
	}
	phase("the dropped clip is ready")

	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 5*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("upload")
	b.scrollTop()
	b.mustScreenshot("upload-drop-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))

	if problems := b.consoleProblems(); len(problems) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(problems, "\n  "))
	}
	phase("done")
}
