package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserFirstPlayPreview: a 480p upload plays in the browser, from
// its beginning and in every quality, while the server still encodes it
// (growing first play: EVENT playlists that hls.js follows as live), with a
// note saying so that goes away when it is ready, when the playlists end;
// the upload page and "my videos" offer "Watch now" before ready; the seek
// bar shows storyboard tiles under the mouse, the keyboard and a finger;
// cards and the poster use the thumbnail sizes.
//
// The node's ffmpeg is a wrapper (first in its PATH): the ladder's run
// reads its 30 s source in real time (-re), as a slow machine would, so
// the node publishes it while it encodes; and when it is done the wrapper
// waits for a gate file before it exits, so the test sees the
// playable-processing state for as long as it needs.
func TestBrowserFirstPlayPreview(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)
	work := t.TempDir()
	gate := filepath.Join(work, "release-ladder")
	n := startNode(t, filepath.Join(work, "data"), "PATH="+realTimeFFmpeg(t, work, gate)+string(os.PathListSeparator)+os.Getenv("PATH"))
	clip := makeVideo(t, work, "harbour-lights.mp4", 30, "854x480")
	b := startBrowser(t)
	phase("node (real-time ffmpeg), 480p test video and Chromium started")

	// ---- upload through the UI; "Watch now" once the low rungs play
	b.must("open the upload page", chromedp.Navigate(n.base+"/upload"))
	b.waitTrue("the upload form", 15*time.Second, `!!document.querySelector('`+selUploadFile+`')`)
	b.must("choose the file", chromedp.SetUploadFiles(chromedp.CSS(selUploadFile), []string{clip}))
	b.waitTrue("the title default", 10*time.Second, `document.querySelector('`+selUploadTitle+`').value === 'harbour-lights'`)
	b.must("click Start upload", chromedp.Click(chromedp.CSS(selUploadStart)))
	b.waitUploadComplete(60 * time.Second)
	b.waitTrue("the upload page to offer Watch now while processing", 3*time.Minute,
		`document.querySelector('[data-testid="processing-status"]')?.dataset.status === 'processing'`+
			` && document.querySelector('`+selWatchLink+`')?.dataset.playable === 'true'`+
			` && document.querySelector('`+selWatchLink+`').textContent === 'Watch now'`)
	href := mustEval[string](b, `document.querySelector('`+selWatchLink+`').getAttribute('href')`)
	id := strings.TrimPrefix(href, "/watch/")
	v := n.video(id)
	checkGrowing(t, v, []int{480, 360, 240})
	phase(fmt.Sprintf("playable while processing; %d renditions", len(v.Renditions)))
	b.mustScreenshot("firstplay-upload-desktop-1280x800")

	// ---- "my videos" offers it too
	b.must("open my videos", chromedp.Navigate(n.base+"/account/videos"))
	b.waitTrue("my videos with a visible Watch now for the video", 20*time.Second,
		`(() => { const r = [...document.querySelectorAll('[data-testid="my-video"]')].find(r => r.dataset.id === '`+id+`');`+
			` const a = r?.querySelector('[data-testid="my-video-watch-now"]'); return !!a && !a.hidden && a.getAttribute('href') === '`+href+`'; })()`)

	// ---- the watch page plays while the API still says processing
	b.must("open the watch page", chromedp.Navigate(n.base+href))
	b.waitTrue("the player with hls.js", 30*time.Second,
		`!!document.querySelector('`+selPlayer+`') && !!window.__strata.hls && !document.querySelector('`+selQuality+`').disabled`)
	note := mustEval[string](b, `document.querySelector('[data-testid="renditions-pending"]:not([hidden])')?.textContent || ''`)
	want := "Still processing: the video plays while the rest of it is encoded."
	if note != want {
		b.fatalf("pending note %q, want %q", note, want)
	}
	if role := mustEval[string](b, `document.querySelector('[data-testid="renditions-pending"]').getAttribute('role')`); role != "status" {
		b.fatalf("the pending note has role %q, want status (a polite live region)", role)
	}
	b.playAndWatch(1.5, 60*time.Second)
	if v := n.video(id); v.Status != "processing" {
		b.fatalf("the video is %s already: the gate did not hold the ladder", v.Status)
	}
	// hls.js follows the growing playlists as live ones, yet the viewer
	// started at the beginning, not near their end.
	if !mustEval[bool](b, `window.__strata.hls.levels.some(l => l.details?.live)`) {
		b.fatalf("hls.js does not see a growing (live) playlist while processing")
	}
	if at := mustEval[float64](b, `document.querySelector('`+selPlayer+`').currentTime`); at > 6 {
		b.fatalf("playback is at %.1f s: it did not start at the beginning", at)
	}
	if got := mustEval[int](b, `window.__strata.hls.levels.length`); got != len(v.Renditions) {
		b.fatalf("hls.js has %d levels while processing, the API lists %d playable renditions", got, len(v.Renditions))
	}
	phase("the watch page plays (currentTime > 1.5 s) while the API says processing")
	b.mustScreenshot("firstplay-watch-processing-desktop-1280x800")
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 10*time.Second, `window.innerWidth === 390`)
	if w := mustEval[int](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("watch page (processing) at 390 px scrolls sideways: %d px wide", w)
	}
	b.mustScreenshot("firstplay-watch-processing-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 10*time.Second, `window.innerWidth === 1280`)

	// ---- let the ladder finish: the note goes, playback goes on, the new
	// rungs come on the next pause
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	b.until("the note to say all qualities are ready, or to be gone", 3*time.Minute,
		`(() => { const n = document.querySelector('[data-testid="renditions-pending"]'); return n.hidden ? 'gone' : n.dataset.state; })()`,
		func(s string) (bool, error) {
			if s == "failed" {
				return false, fmt.Errorf("the note says processing failed")
			}
			return s == "ready" || s == "gone", nil
		})
	v = n.video(id)
	if v.Status != "ready" {
		b.fatalf("the page says ready, the API %q", v.Status)
	}
	checkLadder(t, v, []int{480, 360, 240})
	b.waitTrue("the note to disappear", 20*time.Second, `document.querySelector('[data-testid="renditions-pending"]').hidden`)
	if !mustEval[bool](b, `!!window.__strata.hls && !document.querySelector('`+selPlayer+`').error`) {
		b.fatalf("the player went away when the video became ready")
	}
	mustEval[chromedp.Void](b, `document.querySelector('`+selPlayer+`').pause()`)
	b.waitTrue("hls.js to list the whole ladder, ended, after the pause", 30*time.Second,
		fmt.Sprintf(`window.__strata.hls?.levels?.length === %d && document.querySelectorAll('%s option').length === %d`+
			` && window.__strata.hls.levels.every(l => !l.details || !l.details.live)`,
			len(v.Renditions), selQuality, len(v.Renditions)+1))
	phase("ready: the note went, the playlists ended, the quality menu has the whole ladder")

	// ---- storyboard preview under the mouse
	if v.Storyboard == "" || len(v.Thumbnails) < 2 {
		b.fatalf("ready video without a storyboard or thumbnail sizes: %+v", v)
	}
	b.waitTrue("an enabled seek bar", 20*time.Second, `!document.querySelector('[data-testid="seek-bar"]')?.disabled`)
	x, y := b.seekBarPoint(0.5)
	b.must("hover the seek bar", chromedp.MouseEvent(chromedp.MouseMoved, x-4, y), chromedp.MouseEvent(chromedp.MouseMoved, x, y))
	sprite := b.waitPreview("mouse", v.DurationS*0.5, 2.0)
	phase("hover preview shows " + sprite)
	b.mustScreenshot("storyboard-hover-desktop-1280x800")
	b.must("leave the seek bar", chromedp.MouseEvent(chromedp.MouseMoved, x, y-300))
	b.waitTrue("the preview to hide when the mouse leaves", 10*time.Second,
		`document.querySelector('[data-testid="storyboard-preview"]').hidden`)

	// ---- keyboard: the preview comes briefly at the new place
	mustEval[chromedp.Void](b, `(() => { const v = document.querySelector('`+selPlayer+`'); v.currentTime = 2; })()`)
	b.waitTrue("the seek to 2 s", 10*time.Second, `Math.abs(document.querySelector('`+selPlayer+`').currentTime - 2) < 0.3`)
	b.must("arrow right on the seek bar", chromedp.Focus(chromedp.CSS(`[data-testid="seek-bar"]`)), chromedp.KeyEvent(kb.ArrowRight))
	b.waitPreview("keyboard", 7, 0.3)
	b.waitTrue("the keyboard preview to go away by itself", 10*time.Second,
		`document.querySelector('[data-testid="storyboard-preview"]').hidden`)

	// ---- phone: a finger dragging the bar
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 10*time.Second, `window.innerWidth === 390`)
	// Paused at the start, so that the seek the drag makes is what moves
	// the playhead (a playing clip would run past the target).
	mustEval[bool](b, fmt.Sprintf(`(() => { const v = document.querySelector('%s'); v.pause(); v.currentTime = 0; return true; })()`, selPlayer))
	b.waitTrue("the paused start", 10*time.Second, fmt.Sprintf(`document.querySelector('%s').paused && document.querySelector('%s').currentTime < 1`, selPlayer, selPlayer))
	x0, y0 := b.seekBarPoint(0.1)
	x1, _ := b.seekBarPoint(0.8)
	b.must("drag the seek bar with a finger", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		touch := func(typ input.DispatchTouchEventType, x float64) error {
			pts := []*input.TouchPoint{{X: x, Y: y0}}
			if typ == input.DispatchTouchEventTypeTouchEnd {
				pts = []*input.TouchPoint{}
			}
			_, err := cdp.Call(ctx, tg, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: pts})
			return err
		}
		if err := touch(input.DispatchTouchEventTypeTouchStart, x0); err != nil {
			return err
		}
		for i := 1; i <= 6; i++ {
			if err := touch(input.DispatchTouchEventTypeTouchMove, x0+(x1-x0)*float64(i)/6); err != nil {
				return err
			}
		}
		return nil
	}))
	b.waitPreview("touch drag", v.DurationS*0.8, 2.0)
	b.mustScreenshot("storyboard-touch-phone-390x844")
	b.must("lift the finger", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}})
		return err
	}))
	b.waitTrue("the drag to seek the video", 10*time.Second,
		fmt.Sprintf(`Math.abs(document.querySelector('%s').currentTime - %f) < 2`, selPlayer, v.DurationS*0.8))
	if w := mustEval[int](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("watch page (ready) at 390 px scrolls sideways: %d px wide", w)
	}
	phase("touch preview and seek checked")

	// ---- cards: every size in srcset, lazy, the small one on a phone
	b.must("open home (phone)", chromedp.Navigate(n.base+"/"))
	b.waitTrue("the card's picture loaded", 20*time.Second,
		`(() => { const i = document.querySelector('[data-testid="result-card"][data-id="`+id+`"] img'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	var card struct {
		Srcset  string `json:"srcset"`
		Sizes   string `json:"sizes"`
		Loading string `json:"loading"`
		Current string `json:"current"`
	}
	raw := mustEval[string](b, `(() => { const i = document.querySelector('[data-testid="result-card"][data-id="`+id+`"] img');`+
		` return JSON.stringify({ srcset: i.getAttribute('srcset') || '', sizes: i.getAttribute('sizes') || '', loading: i.getAttribute('loading') || '', current: i.currentSrc }); })()`)
	if err := json.Unmarshal([]byte(raw), &card); err != nil {
		t.Fatal(err)
	}
	for _, th := range v.Thumbnails {
		if !strings.Contains(card.Srcset, fmt.Sprintf("%s %dw", th.URL, th.Width)) {
			b.fatalf("card srcset %q lacks %s %dw", card.Srcset, th.URL, th.Width)
		}
	}
	if card.Sizes == "" || card.Loading != "lazy" {
		b.fatalf("card image sizes %q, loading %q", card.Sizes, card.Loading)
	}
	largest := v.Thumbnails[0]
	if strings.HasSuffix(card.Current, largest.URL) {
		b.fatalf("a 390 px phone fetched the largest thumbnail (%dw): %s", largest.Width, card.Current)
	}
	t.Logf("phone card picture: %s (srcset %s)", card.Current, card.Srcset)
	b.mustScreenshot("home-cards-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 10*time.Second, `window.innerWidth === 1280`)
	b.mustScreenshot("home-cards-desktop-1280x800")

	if p := b.consoleProblems(); len(p) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(p, "\n  "))
	}
	phase("done")
}

// realTimeFFmpeg writes an ffmpeg wrapper into dir/bin and returns that
// folder: the ladder's run (the dash muxer's) reads its source in real time
// and, once done, waits until gate exists before it exits; every other
// run is the real ffmpeg's.
func realTimeFFmpeg(t *testing.T, dir, gate string) string {
	t.Helper()
	real, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/sh
# Test double: the ladder's run reads the source in real time (-re applies
# to the first input), then holds until the test says go.
case "$*" in
*" -f dash "*)
	%q -re "$@"
	rc=$?
	while [ ! -e %q ]; do sleep 0.1; done
	exit $rc ;;
esac
exec %q "$@"
`, real, gate, real)
	if err := os.WriteFile(filepath.Join(bin, "ffmpeg"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// video reads a video from the API.
func (n *node) video(id string) video {
	n.t.Helper()
	var v video
	if status := n.getJSON("/api/v1/videos/"+id, &v); status != http.StatusOK {
		n.t.Fatalf("GET /api/v1/videos/%s: HTTP %d", id, status)
	}
	return v
}

// seekBarPoint scrolls the seek bar into view and returns the viewport
// point at fraction f of its width, on its middle line.
func (b *browser) seekBarPoint(f float64) (float64, float64) {
	b.t.Helper()
	var p struct{ X, Y float64 }
	raw := mustEval[string](b, fmt.Sprintf(`(() => { const r = document.querySelector('[data-testid="seek-bar"]');
		r.scrollIntoView({ block: 'center' }); const b = r.getBoundingClientRect();
		return JSON.stringify({ X: b.left + b.width * %f, Y: b.top + b.height / 2 }); })()`, f))
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		b.t.Fatal(err)
	}
	return p.X, p.Y
}

// waitPreview waits for the storyboard preview to show a sprite tile for
// about time want (± tol seconds) and returns the sprite's URL.
func (b *browser) waitPreview(how string, want, tol float64) string {
	b.t.Helper()
	v := b.until("the storyboard preview ("+how+")", 20*time.Second,
		`(() => { const p = document.querySelector('[data-testid="storyboard-preview"]'); if (!p || p.hidden) return 'hidden';
			const tile = p.querySelector('.scrub-tile'); const bg = tile && !tile.hidden ? getComputedStyle(tile).backgroundImage : '';
			return JSON.stringify({ t: +p.dataset.time, bg, sprite: tile?.dataset.sprite || '' }); })()`,
		func(s string) (bool, error) {
			if s == "hidden" {
				return false, nil
			}
			var p struct {
				T      float64 `json:"t"`
				BG     string  `json:"bg"`
				Sprite string  `json:"sprite"`
			}
			if err := json.Unmarshal([]byte(s), &p); err != nil {
				return false, err
			}
			return strings.Contains(p.BG, "/sprite-") && strings.Contains(p.BG, ".jpg") && p.T > want-tol && p.T < want+tol, nil
		})
	var p struct {
		Sprite string `json:"sprite"`
	}
	_ = json.Unmarshal([]byte(v), &p)
	if r, _ := get(b.t, p.Sprite, nil); r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "image/jpeg" {
		b.fatalf("the preview's sprite %s: HTTP %d %s", p.Sprite, r.StatusCode, r.Header.Get("Content-Type"))
	}
	return p.Sprite
}
