package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// failoverState is what the failover test reads of the page each poll.
type failoverState struct {
	Time      float64  `json:"t"`
	Paused    bool     `json:"paused"`
	Error     string   `json:"error"`
	Alert     string   `json:"alert"`
	Pathway   string   `json:"pathway"`
	FragHosts []string `json:"frag_hosts"` // hosts of main fragments loaded, in order
}

const failoverStateJS = `JSON.stringify((() => {
	const v = document.querySelector('` + selPlayer + `');
	const hls = window.__strata.hls;
	return {
		t: v ? v.currentTime : -1, paused: v ? v.paused : true,
		error: !v ? 'no video element' : v.error ? v.error.code + ' ' + v.error.message : (hls ? '' : 'no hls.js'),
		alert: document.querySelector('.player-problem .alert, [role="alert"]')?.innerText || '',
		pathway: hls?.levels?.[0]?.attrs?.['PATHWAY-ID'] || '',
		frag_hosts: (window.__fragHosts || []).slice(),
	};
})())`

// TestEdgeFailoverBrowser: a viewer whose coverage puts it on edge A
// plays a ready 45 s video in Chromium with hls.js, its fragments from
// A; edge A's process is killed mid-play; hls.js leaves A's pathway for
// B's (content steering: the master lists both edges), fragments come
// from B, playback goes on past everything buffered before the kill, and
// the page shows no error.
func TestEdgeFailoverBrowser(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)
	dir := t.TempDir()
	// Chromium's connections come from 127.0.0.1: edge A covers exactly
	// that address, edge B all of loopback (the next pathway).
	o, a, b := startEdgeCluster(t, dir, true, "127.0.0.1/32", "127.0.0.0/8")
	src := makeVideo(t, dir, "failover.mp4", 45, "640x360")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	id := uploadWhole(t, o.node, data, "Failover")
	if v := o.waitVideo(id, 5*time.Minute); v.Status != "ready" {
		t.Fatalf("video: %s %s", v.Status, v.Error)
	}
	v := waitEdgeChoice(t, clientFrom("127.0.0.1"), o.base, id, "edge-a", nil)
	if !strings.HasPrefix(v.HLS, a.base+"/") {
		t.Fatalf("hls %q not on edge A %s", v.HLS, a.base)
	}
	hostA, hostB := strings.TrimPrefix(a.base, "http://"), strings.TrimPrefix(b.base, "http://")
	// The page's policy lets the player reach both edges.
	resp, _ := get(t, o.base+"/watch/"+id, nil)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' "+a.base+" "+b.base+";") && !strings.Contains(csp, "connect-src 'self' "+b.base+" "+a.base+";") {
		t.Fatalf("the UI's CSP does not allow the edges: %q", csp)
	}
	phase("cluster of one origin and two edges; 45 s video ready; the API sends 127.0.0.1 to edge A")

	// On loopback hls.js would have the whole video in a second (for a
	// low bitrate it buffers up to 600 s ahead): the browser's network is
	// throttled to 1.5 times the top rung's bitrate, a viewer with a
	// modest line, so the buffer grows a little faster than playback and
	// the player needs the network after the kill.
	_, master := get(t, o.base+"/media/"+id+"/master.m3u8", nil)
	top := 0
	for _, l := range strings.Split(string(master), "\n") {
		if _, rest, ok := strings.Cut(l, "BANDWIDTH="); ok && strings.HasPrefix(l, "#EXT-X-STREAM-INF:") {
			bw, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
			top = max(top, bw)
		}
	}
	if top == 0 {
		t.Fatalf("no BANDWIDTH in the master:\n%s", master)
	}
	br := startBrowser(t)
	br.must("viewer network: no admin header, throttled", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		// A viewer, not the test's admin: no Authorization header.
		if _, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{}}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Latency: 10, DownloadThroughput: 1.5 * float64(top) / 8, UploadThroughput: -1}},
		})
		return err
	}))
	phase(fmt.Sprintf("browser throttled to %.0f kbit/s (top rung %d kbit/s)", 1.5*float64(top)/1000, top/1000))
	br.must("open the watch page", chromedp.Navigate(o.base+"/watch/"+id))
	br.waitTrue("the player with hls.js", 30*time.Second,
		`!!document.querySelector('`+selPlayer+`') && !!window.__strata.hls && !document.querySelector('`+selQuality+`').disabled`)
	mustEval[chromedp.Void](br, `(() => {
		window.__fragHosts = performance.getEntriesByType('resource')
			.filter(e => /\/chunk-[^/]*\.m4s/.test(e.name)).map(e => new URL(e.name).host);
		window.__strata.hls.on('hlsFragLoaded', (_e, d) => {
			if (d.frag.type === 'main') window.__fragHosts.push(new URL(d.frag.url).host);
		});
	})()`)
	br.playAndWatch(1.0, 60*time.Second)
	read := func() failoverState {
		var s failoverState
		if err := json.Unmarshal([]byte(mustEval[string](br, failoverStateJS)), &s); err != nil {
			br.fatalf("page state: %v", err)
		}
		return s
	}
	br.until("a fragment from edge A", 30*time.Second, failoverStateJS, func(v string) (bool, error) {
		var s failoverState
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return false, err
		}
		return len(s.FragHosts) > 0, nil
	})
	before := read()
	for _, h := range before.FragHosts {
		if h != hostA {
			br.fatalf("before the kill a fragment came from %s, not edge A (%s): %v", h, hostA, before.FragHosts)
		}
	}
	if before.Pathway != "edge-a" || before.Alert != "" || before.Error != "" {
		br.fatalf("before the kill: %+v", before)
	}
	br.mustScreenshot("edge-failover-edge-a-desktop-1280x800")

	// What was buffered at the kill plays without the network: playback
	// must go past it to prove the failover.
	bufferedEnd := mustEval[float64](br, `(() => { const v = document.querySelector('`+selPlayer+`');
		let end = v.currentTime; for (let i = 0; i < v.buffered.length; i++) if (v.buffered.start(i) <= end + 0.5) end = Math.max(end, v.buffered.end(i));
		return end; })()`)
	if bufferedEnd > 42 {
		br.fatalf("%.1f s of the 45 s video were buffered before the kill: nothing left to prove a failover with", bufferedEnd)
	}
	killedAt := read().Time
	a.kill()
	phase(fmt.Sprintf("edge A killed at currentTime %.1f s, buffered to %.1f s, fragments so far %v", killedAt, bufferedEnd, before.FragHosts))

	// Past the buffer, and for a good ten seconds after the kill.
	target := max(bufferedEnd+4, killedAt+10)
	last := br.until(fmt.Sprintf("playback past %.1f s from edge B", target), 2*time.Minute, failoverStateJS, func(v string) (bool, error) {
		var s failoverState
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return false, err
		}
		if s.Error != "" || s.Alert != "" {
			return false, fmt.Errorf("the player failed after the kill: %s", v)
		}
		return s.Time > target, nil
	})
	var after failoverState
	_ = json.Unmarshal([]byte(last), &after)
	fromB := 0
	for _, h := range after.FragHosts[len(before.FragHosts):] {
		if h == hostB {
			fromB++
		}
	}
	if fromB < 2 || after.Pathway != "edge-b" {
		br.fatalf("after the kill: pathway %q, fragments %v: fewer than 2 from edge B (%s)", after.Pathway, after.FragHosts, hostB)
	}
	for _, p := range br.consoleProblems() {
		if strings.Contains(p, "Content Security Policy") {
			br.fatalf("CSP violation: %s", p)
		}
	}
	phase(fmt.Sprintf("playback went on to %.1f s on pathway %s, %d fragments from edge B, no error shown", after.Time, after.Pathway, fromB))
	br.mustScreenshot("edge-failover-edge-b-desktop-1280x800")
	br.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	br.waitTrue("the phone layout", 10*time.Second, `window.innerWidth === 390`)
	if s := read(); s.Alert != "" || s.Error != "" {
		br.fatalf("at phone width: %+v", s)
	}
	br.mustScreenshot("edge-failover-edge-b-phone-390x844")
}
