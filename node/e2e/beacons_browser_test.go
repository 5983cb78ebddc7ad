package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pagePlayback is window.__strata.playback: the figures the watch page
// measured for its session (web/src/lib/beacons.js).
type pagePlayback struct {
	Session        string  `json:"session"`
	StartupMs      float64 `json:"startupMs"`
	Rebuffers      int64   `json:"rebuffers"`
	RebufferMs     float64 `json:"rebufferMs"`
	WatchedS       float64 `json:"watchedS"`
	Kilobits       float64 `json:"kilobits"`
	BitrateS       float64 `json:"bitrateS"`
	BitrateKbpsAvg float64 `json:"bitrateKbpsAvg"`
	Errors         int64   `json:"errors"`
	Edge           string  `json:"edge"`
	Beacons        int     `json:"beacons"`
}

// qoeTotals is the part of GET /api/v1/admin/qoe the test reads.
type qoeTotals struct {
	Totals struct {
		Sessions       int64   `json:"sessions"`
		StartupMsSum   int64   `json:"startup_ms_sum"`
		StartupCount   int64   `json:"startup_count"`
		Rebuffers      int64   `json:"rebuffers"`
		RebufferMs     int64   `json:"rebuffer_ms"`
		WatchedMs      int64   `json:"watched_ms"`
		BitrateMs      int64   `json:"bitrate_ms"`
		Kilobits       int64   `json:"kilobits"`
		Errors         int64   `json:"errors"`
		StartupMsAvg   float64 `json:"startup_ms_avg"`
		BitrateKbpsAvg float64 `json:"bitrate_kbps_avg"`
	} `json:"totals"`
	ByEdge []struct {
		Edge     string `json:"edge"`
		Sessions int64  `json:"sessions"`
	} `json:"by_edge"`
}

// TestPlayerBeaconsBrowser plays a real video in headless Chromium and
// checks what its beacons add up to. A first session watched for about
// 5 s and left (the page's pagehide beacon) counts no view but its
// quality; a second session (a new page view) watched past 10 s counts
// one view, and more beacons of it count no more. The dashboard API's
// figures are the sums of what the two pages measured: sessions,
// startup, watched time and the time-weighted bitrate.
func TestPlayerBeaconsBrowser(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)

	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	data, err := os.ReadFile(makeVideo(t, work, "beacons.mp4", 20, "320x240"))
	if err != nil {
		t.Fatal(err)
	}
	id := uploadWhole(t, n, data, "Beacon clip")
	if v := n.waitVideo(id, 3*time.Minute); v.Status != "ready" {
		t.Fatalf("the clip is %q, want ready", v.Status)
	}
	phase("the clip is ready")

	b := startBrowser(t)
	watch := func() {
		b.must("open the watch page", chromedp.Navigate(n.base+"/watch/"+id))
		b.waitTrue("the player", 20*time.Second,
			`!!document.querySelector('`+selPlayer+`') && !!window.__strata.hls && !!window.__strata.playback`)
	}
	measured := func() pagePlayback {
		var p pagePlayback
		raw := mustEval[string](b, `JSON.stringify(window.__strata.playback)`)
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			t.Fatalf("window.__strata.playback %s: %v", raw, err)
		}
		return p
	}

	// pause stops playback (its beacon sends what was measured, as the end's
	// does) and returns the page's figures.
	pause := func() pagePlayback {
		mustEval[bool](b, `(document.querySelector('`+selPlayer+`').pause(), true)`)
		b.waitTrue("paused", 5*time.Second, `document.querySelector('`+selPlayer+`').paused`)
		time.Sleep(500 * time.Millisecond) // the pause event and its beacon
		return measured()
	}

	// ---- a session of about 5 s: no view, but its beacons arrive
	watch()
	b.playAndWatch(4.5, 30*time.Second)
	short := pause()
	if short.WatchedS < 4 || short.WatchedS >= 10 || short.StartupMs <= 0 {
		t.Fatalf("the short session measured %+v", short)
	}
	b.must("leave the page (pagehide)", chromedp.Navigate(n.base+"/"))
	phase(fmt.Sprintf("a short session: %.1f s watched, startup %.0f ms", short.WatchedS, short.StartupMs))
	waitFor(t, "the short session's figures", 10*time.Second, func() (bool, string) {
		q := adminQoE(t, n, id)
		return q.Totals.Sessions == 1 && q.Totals.StartupCount == 1, fmt.Sprintf("%+v", q.Totals)
	})
	time.Sleep(2 * time.Second) // flushes every second: a view would be in by now
	if v := videoViews(t, n, id); v != 0 {
		t.Fatalf("a session of %.1f s counted %d views, want 0", short.WatchedS, v)
	}
	phase("the short session counted no view")

	// ---- a new page view, watched past 10 s: one view
	watch()
	b.playAndWatch(12, 40*time.Second)
	// The periodic beacon after 10 s watched (every 5 s).
	waitFor(t, "one view", 15*time.Second, func() (bool, string) {
		v := videoViews(t, n, id)
		return v == 1, fmt.Sprintf("%d views", v)
	})
	phase("the long session counted a view")
	// More of the same session: another beacon (periodic, or the end's),
	// the pause's, and still one view.
	sent := measured().Beacons
	b.waitTrue("another beacon", 10*time.Second, fmt.Sprintf(`window.__strata.playback.beacons >= %d`, sent+1))
	long := pause()
	if long.Session == short.Session {
		t.Fatalf("the second page view reused session %s", long.Session)
	}
	if long.WatchedS < 12 || long.BitrateKbpsAvg <= 0 || long.Errors != 0 {
		t.Fatalf("the long session measured %+v", long)
	}
	b.mustScreenshot("beacons-watch-desktop-1280x800")

	// ---- the dashboard API adds up what the pages measured
	wantWatchedMs := (short.WatchedS + long.WatchedS) * 1000
	var q qoeTotals
	waitFor(t, "the dashboard's figures match the pages'", 10*time.Second, func() (bool, string) {
		q = adminQoE(t, n, id)
		return math.Abs(float64(q.Totals.WatchedMs)-wantWatchedMs) <= 5, fmt.Sprintf("%+v, want watched_ms %.0f", q.Totals, wantWatchedMs)
	})
	tot := q.Totals
	if tot.Sessions != 2 || tot.StartupCount != 2 {
		t.Errorf("sessions %d, startups %d; want 2 and 2", tot.Sessions, tot.StartupCount)
	}
	if want := short.StartupMs + long.StartupMs; math.Abs(float64(tot.StartupMsSum)-want) > 2 {
		t.Errorf("startup_ms_sum %d, the pages measured %.1f", tot.StartupMsSum, want)
	}
	if want := (short.StartupMs + long.StartupMs) / 2; math.Abs(tot.StartupMsAvg-want) > 1 {
		t.Errorf("startup_ms_avg %.1f, the pages measured %.1f", tot.StartupMsAvg, want)
	}
	if want := (short.BitrateS + long.BitrateS) * 1000; math.Abs(float64(tot.BitrateMs)-want) > 5 {
		t.Errorf("bitrate_ms %d, the pages measured %.0f", tot.BitrateMs, want)
	}
	wantKbps := (short.Kilobits + long.Kilobits) / (short.BitrateS + long.BitrateS)
	if math.Abs(tot.BitrateKbpsAvg-wantKbps) > 0.01*wantKbps {
		t.Errorf("bitrate_kbps_avg %.1f, the pages measured %.1f", tot.BitrateKbpsAvg, wantKbps)
	}
	if want := short.Rebuffers + long.Rebuffers; tot.Rebuffers != want {
		t.Errorf("rebuffers %d, the pages counted %d", tot.Rebuffers, want)
	}
	if tot.Errors != 0 {
		t.Errorf("errors %d, want 0", tot.Errors)
	}
	host := strings.TrimPrefix(n.base, "http://")
	if len(q.ByEdge) != 1 || q.ByEdge[0].Edge != host || long.Edge != host {
		t.Errorf("by edge %+v, the page's edge %q; want the media host %s", q.ByEdge, long.Edge, host)
	}
	if v := videoViews(t, n, id); v != 1 {
		t.Errorf("%d views after the session's last beacons, want 1", v)
	}
	phase(fmt.Sprintf("the dashboard: %d sessions, startup %.0f ms, %.0f kbps, %d ms watched",
		tot.Sessions, tot.StartupMsAvg, tot.BitrateKbpsAvg, tot.WatchedMs))

	if problems := b.consoleProblems(); len(problems) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(problems, "\n  "))
	}
}

// videoViews is the video's view count, as anyone reads it.
func videoViews(t *testing.T, n *node, id string) int64 {
	t.Helper()
	var v struct {
		Views int64 `json:"views"`
	}
	if code := n.getJSON("/api/v1/videos/"+id, &v); code != http.StatusOK {
		t.Fatalf("video %s: HTTP %d", id, code)
	}
	return v.Views
}

// adminQoE is GET /api/v1/admin/qoe?video=id with the node's admin token.
func adminQoE(t *testing.T, n *node, id string) qoeTotals {
	t.Helper()
	var q qoeTotals
	adminGetJSON(t, n, "/api/v1/admin/qoe?video="+id, &q)
	return q
}

// adminGetJSON GETs path with the node's admin token into v.
func adminGetJSON(t *testing.T, n *node, path string, v any) {
	t.Helper()
	tok, ok := nodeTokens.Load(strings.TrimPrefix(n.base, "http://"))
	if !ok {
		t.Fatal("the node has no admin token")
	}
	req, _ := http.NewRequest(http.MethodGet, n.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok.(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// waitFor polls cond every 200 ms until it holds or timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (%s)", what, timeout, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
