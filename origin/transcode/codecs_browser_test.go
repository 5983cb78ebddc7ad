package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The HLS master with H.264 and AV1 variants, played by hls.js (the UI's
// player) in headless Chromium: Chromium accepts our av01 strings through
// MediaSource.isTypeSupported, hls.js starts on one codec family and its
// automatic switching stays within it, and a switch to the other family
// forced by the application plays on (hls.js uses SourceBuffer.changeType).
// Skipped without Chromium or without web/node_modules (npm ci in web/).
func TestBrowserPlaysExtraCodecAV1(t *testing.T) {
	requireFFmpeg(t)
	chromium, hlsJS := browserDeps(t)
	dir := t.TempDir()
	src := makeClip(t, dir, "src", clipOpts{w: 640, h: 360, seconds: 8, video: true, audio: true})
	cfg := av1TestConfig(CodecAV1)
	out := filepath.Join(dir, "out")
	res, err := Transcode(context.Background(), cfg, src, nil, out, nil)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	var codecs []string
	for _, r := range res.Renditions {
		v, _, _ := strings.Cut(r.Codecs, ",")
		codecs = append(codecs, v)
	}

	mux := http.NewServeMux()
	mux.Handle("/media/", http.StripPrefix("/media/", http.FileServer(http.Dir(out))))
	mux.HandleFunc("/hls.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, hlsJS) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><video id=v muted playsinline></video><script src="/hls.js"></script>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := startChromium(t, chromium)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("evaluating %s: %v", expr, err)
		}
		return v
	}
	// poll evaluates cond (a boolean expression) until it holds.
	poll := func(what, cond string, within time.Duration) {
		t.Helper()
		waitFor(t, within, what+" (state: "+eval(`JSON.stringify(window.st)`)+")", func() bool {
			return eval(`String(!!(`+cond+`))`) == "true"
		})
	}
	run("open the page", chromedp.Navigate(srv.URL+"/"))

	cj, _ := json.Marshal(codecs)
	var supported []bool
	if err := json.Unmarshal([]byte(eval(`JSON.stringify(`+string(cj)+`.map(c => MediaSource.isTypeSupported('video/mp4; codecs="' + c + '"')))`)), &supported); err != nil {
		t.Fatal(err)
	}
	for i, c := range codecs {
		if !supported[i] {
			t.Errorf("Chromium: MediaSource.isTypeSupported('video/mp4; codecs=%q') is false", c)
		}
	}

	// HEVC is not asserted either way: Chrome plays it where the platform
	// decodes it in hardware; Debian's Chromium here does not.
	t.Logf("Chromium: isTypeSupported(hvc1.1.6.L90.90) = %s",
		eval(`String(MediaSource.isTypeSupported('video/mp4; codecs="hvc1.1.6.L90.90"'))`))

	eval(`(() => {
		const st = window.st = {levels: [], played: [], errors: []};
		const v = document.getElementById('v');
		const hls = window.hls = new Hls();
		hls.on(Hls.Events.MANIFEST_PARSED, () => { st.levels = hls.levels.map(l => l.videoCodec); v.play(); });
		hls.on(Hls.Events.FRAG_BUFFERED, (e, d) => { if (d.frag.type === 'main') st.played.push(hls.levels[d.frag.level].videoCodec); });
		hls.on(Hls.Events.ERROR, (e, d) => { if (d.fatal) st.errors.push(d.details); });
		hls.loadSource('/media/master.m3u8');
		hls.attachMedia(v);
		return 'ok';
	})()`)
	poll("hls.js playing past 2 s", `document.getElementById('v').currentTime > 2 || st.errors.length`, 60*time.Second)
	var st struct {
		Levels, Played, Errors []string
	}
	state := func() {
		t.Helper()
		if err := json.Unmarshal([]byte(eval(`JSON.stringify(window.st)`)), &st); err != nil {
			t.Fatal(err)
		}
	}
	state()
	if len(st.Errors) > 0 {
		t.Fatalf("hls.js fatal errors: %v", st.Errors)
	}
	if len(st.Levels) != len(codecs) {
		t.Errorf("hls.js kept %d levels %v, the master has %d %v", len(st.Levels), st.Levels, len(codecs), codecs)
	}
	first := codecFamily(st.Played[0])
	for _, c := range st.Played {
		if codecFamily(c) != first {
			t.Errorf("hls.js switched codec family on its own: buffered %v", st.Played)
			break
		}
	}
	t.Logf("hls.js levels %v; automatic play buffered %v", st.Levels, st.Played)

	// An application may still force a level of the other family.
	other := -1
	for i, c := range st.Levels {
		if codecFamily(c) != first {
			other = i
			break
		}
	}
	if other < 0 {
		t.Fatalf("no level outside %s among %v", first, st.Levels)
	}
	eval(`(() => { window.mark = document.getElementById('v').currentTime; hls.currentLevel = ` + jsonInt(other) + `; return 'ok'; })()`)
	poll("playback after a forced codec switch", `document.getElementById('v').currentTime > window.mark + 2 || document.getElementById('v').ended || st.errors.length`, 60*time.Second)
	state()
	if len(st.Errors) > 0 {
		t.Fatalf("hls.js fatal errors after a forced switch to %s: %v", st.Levels[other], st.Errors)
	}
	if last := st.Played[len(st.Played)-1]; codecFamily(last) == first {
		t.Errorf("forced switch to level %d (%s) buffered only %v", other, st.Levels[other], st.Played)
	}
	t.Logf("after forcing level %d: buffered %v", other, st.Played)
}

// browserDeps finds Chromium and hls.js, or skips.
func browserDeps(t *testing.T) (chromium, hlsJS string) {
	t.Helper()
	chromium = os.Getenv("STRATA_CHROMIUM")
	if chromium == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				chromium = p
				break
			}
		}
	}
	if chromium == "" {
		t.Skip("no Chromium (apt-get install chromium, or set STRATA_CHROMIUM)")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	hlsJS = filepath.Join(wd, "..", "..", "web", "node_modules", "hls.js", "dist", "hls.min.js")
	if _, err := os.Stat(hlsJS); errors.Is(err, os.ErrNotExist) {
		t.Skipf("no %s (run npm ci in web/)", hlsJS)
	}
	return chromium, hlsJS
}

// startChromium runs a headless Chromium with its own profile and temp
// folder under t.TempDir(); the browser ends with the test.
func startChromium(t *testing.T, path string) context.Context {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "chromium-tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.Env("TMPDIR="+tmp),
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium-profile")),
	)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

func jsonInt(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
