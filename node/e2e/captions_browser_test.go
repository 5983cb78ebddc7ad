package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserCaptions: an SRT caption uploaded through the API becomes a
// text track of the watch page's <video> in its language; choosing it in
// the page's Captions menu shows it, with the cue text hls.js loaded from
// the subtitle playlist the master now lists.
func TestBrowserCaptions(t *testing.T) {
	chromiumPath(t)
	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	src := makeVideo(t, work, "captioned.mp4", 4, "320x180")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	up := tusCreate(t, n.base, data, map[string]string{"filename": "captioned.mp4", "title": "Captioned"})
	up.patchOK(0, len(data))
	id := up.id()
	if v := n.waitVideo(id, 3*time.Minute); v.Status != "ready" {
		t.Fatalf("video %s is %s", id, v.Status)
	}
	const srt = "1\n00:00:00,000 --> 00:00:04,000\nHallo Welt\n"
	req, err := http.NewRequest(http.MethodPut, n.base+"/api/v1/videos/"+id+"/captions/de?label=Deutsch", strings.NewReader(srt))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req) // authTransport adds the admin token
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT caption: HTTP %d", resp.StatusCode)
	}

	b := startBrowser(t)
	b.must("open the watch page", chromedp.Navigate(n.base+"/watch/"+id))
	b.waitTrue("a German text track on the video and an enabled Captions menu", 30*time.Second,
		`[...(document.querySelector('`+selPlayer+`')?.textTracks || [])].some(t => t.language === 'de' && t.label === 'Deutsch')`+
			` && !document.querySelector('[data-testid="subtitles-select"]')?.disabled`)
	opts := mustEval[[]string](b, `[...document.querySelector('[data-testid="subtitles-select"]').options].map(o => o.textContent)`)
	if strings.Join(opts, "|") != "Off|Deutsch" {
		b.fatalf("Captions menu %v, want Off and Deutsch", opts)
	}
	// Choose Deutsch as a keyboard user would: focus the menu, arrow down.
	b.must("choose Deutsch", chromedp.Focus(chromedp.CSS(`[data-testid="subtitles-select"]`)), chromedp.KeyEvent(kb.ArrowDown))
	b.waitTrue("hls.js to switch to the German track", 10*time.Second, `window.__strata.hls?.subtitleTrack === 0`)
	b.playAndWatch(0.5, 60*time.Second)
	b.waitTrue("the German track showing its cue", 30*time.Second,
		`[...document.querySelector('`+selPlayer+`').textTracks].some(t => t.language === 'de' && t.mode === 'showing'`+
			` && t.cues && [...t.cues].some(c => c.text === 'Hallo Welt'))`)
	if p := b.consoleProblems(); len(p) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(p, "\n  "))
	}
}
