package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browser is one headless Chromium with one tab, driven over the DevTools
// protocol. Every wait is a poll with a deadline; a failure saves a
// screenshot and reports what the page showed.
type browser struct {
	t       *testing.T
	ctx     context.Context // the tab; no deadline (it would end the browser)
	shotDir string
	log     *syncBuffer // Chromium's own stdout and stderr

	mu       sync.Mutex
	problems []string // console errors, uncaught exceptions, browser-log errors
	markers  map[string]bool
	failures int
}

// chromiumPath finds the browser. CI installs Debian's chromium package.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("STRATA_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("STRATA_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("the browser test needs Chromium, and none was found (looked for /usr/bin/chromium and chromium, " +
		"chromium-browser, google-chrome in PATH): install the chromium package (apt-get install chromium), " +
		"or point STRATA_CHROMIUM at a Chrome or Chromium binary")
	return ""
}

// screenshotDir is $STRATA_SCREENSHOTS, or <repo root>/.artifacts/screenshots.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STRATA_SCREENSHOTS")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot folder: %v", err)
	}
	return dir
}

// repoRoot walks up from the test's folder to the folder with go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test folder")
		}
		dir = parent
	}
}

// startBrowser runs a fresh headless Chromium (its own profile under
// t.TempDir()) with a 1280x800 viewport, and records console errors,
// uncaught exceptions and browser-log errors from then on.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	b := &browser{t: t, shotDir: screenshotDir(t), log: &syncBuffer{}, markers: map[string]bool{}}
	// A failure screenshot from an earlier run would only mislead.
	os.Remove(filepath.Join(b.shotDir, b.failureShotName()+".png"))
	// Chromium's temporary files (with disable-dev-shm-usage, its shared
	// memory too) go under t.TempDir(), so nothing is left in /tmp.
	tmp := filepath.Join(t.TempDir(), "chromium-tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.Env("TMPDIR=" + tmp),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// The machine has no internet: keep Chromium from phoning home
		// (component updates, sync, safe browsing, field trials), which only
		// adds timeouts and noise.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		// Headless on a busy 2-core machine: no throttling of timers.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium-profile")),
		chromedp.CombinedOutput(b.log),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for Chromium to exit, before t.TempDir is removed
	})
	b.ctx = ctx
	// The first Do starts the browser. It must not have a deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v\n%s", err, tail(b.log.String(), 30))
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			if strings.HasPrefix(m.Text, "strata-e2e-marker ") {
				b.markers[m.Text] = true
			} else if m.Type == chromedp.ConsoleError || m.IsException() {
				where := m.URL
				if where != "" {
					where = fmt.Sprintf(" (%s:%d)", where, m.Line+1)
				}
				src := "console"
				if m.Source != "" {
					src = "browser log/" + m.Source
				}
				b.problems = append(b.problems, fmt.Sprintf("%s %s: %s%s", src, m.Type, m.Text, where))
			}
			b.mu.Unlock()
		}
	}()
	if err := b.do(chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	// Until a test logs in through the UI, the page acts with the admin
	// token of the node started last (see auth_helpers_test.go).
	lastToken.Lock()
	tok := lastToken.v
	lastToken.Unlock()
	if tok != "" {
		err := b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders,
				network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + tok}})
			return err
		}))
		if err != nil {
			t.Fatalf("auth header: %v", err)
		}
	}
	return b
}

// step runs actions with a deadline of their own.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// must runs actions and fails the test (with a screenshot) on an error.
func (b *browser) must(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := b.do(actions...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// evalJS evaluates a JavaScript expression (promises are awaited) and
// decodes its value.
func evalJS[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// mustEval is evalJS that fails the test on an error.
func mustEval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := evalJS[T](b, expr)
	if err != nil {
		b.fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// until polls expr, a JavaScript expression that gives a string, every
// 100 ms. check says whether the value is the awaited one; an error from
// check fails the test at once (the page reached a state it cannot leave).
// After timeout the test fails with the last value and what the page shows.
func (b *browser) until(what string, timeout time.Duration, expr string, check func(v string) (bool, error)) string {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	var lastErr error
	for {
		v, err := evalJS[string](b, expr)
		if err == nil {
			last, lastErr = v, nil
			done, bad := check(v)
			if bad != nil {
				b.fatalf("waiting for %s: %v", what, bad)
			}
			if done {
				return v
			}
		} else {
			lastErr = err // e.g. a navigation replaced the page: ask again
		}
		if time.Now().After(deadline) {
			b.fatalf("waiting for %s: not there after %s (last value %q, last error %v)", what, timeout, last, lastErr)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
}

// waitTrue polls a boolean JavaScript expression until it is true.
func (b *browser) waitTrue(what string, timeout time.Duration, expr string) {
	b.t.Helper()
	b.until(what, timeout, fmt.Sprintf("String(!!(%s))", expr), func(v string) (bool, error) { return v == "true", nil })
}

var shotName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (b *browser) failureShotName() string {
	return shotName.ReplaceAllString("FAILED-"+b.t.Name(), "_")
}

// screenshot saves a full-page PNG as <shotDir>/<name>.png and returns its path.
func (b *browser) screenshot(name string) (string, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	path := filepath.Join(b.shotDir, shotName.ReplaceAllString(name, "_")+".png")
	return path, os.WriteFile(path, buf, 0o644)
}

// mustScreenshot saves a screenshot and logs its path.
func (b *browser) mustScreenshot(name string) string {
	b.t.Helper()
	path, err := b.screenshot(name)
	if err != nil {
		b.fatalf("screenshot %s: %v", name, err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// fatalf fails the test with what the page showed, the console problems so
// far and a screenshot of the moment.
func (b *browser) fatalf(format string, args ...any) {
	b.t.Helper()
	b.mu.Lock()
	b.failures++
	n := b.failures
	problems := slices.Clone(b.problems)
	b.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	var report strings.Builder
	report.WriteString(msg)
	if n > 1 { // fatalf from inside the report itself: do not recurse
		b.t.Fatal(report.String())
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	page, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`location.href + "\n" + (document.body ? document.body.innerText : "(no body)").slice(0, 1500)`))
	cancel()
	if err != nil {
		page = fmt.Sprintf("(could not read the page: %v)", err)
	}
	fmt.Fprintf(&report, "\n--- the page showed:\n%s", page)
	if len(problems) > 0 {
		fmt.Fprintf(&report, "\n--- console problems so far:\n  %s", strings.Join(problems, "\n  "))
	}
	if path, err := b.screenshot(b.failureShotName()); err == nil {
		fmt.Fprintf(&report, "\n--- screenshot: %s", path)
	} else {
		fmt.Fprintf(&report, "\n--- no screenshot: %v", err)
	}
	// Chromium's own output, without the D-Bus complaints of a machine
	// that has no session bus (they are always there and mean nothing).
	var out []string
	for _, line := range strings.Split(b.log.String(), "\n") {
		if strings.TrimSpace(line) != "" && !strings.Contains(line, "dbus/") {
			out = append(out, line)
		}
	}
	if len(out) > 0 {
		fmt.Fprintf(&report, "\n--- Chromium's output (tail):\n%s", tail(strings.Join(out, "\n"), 15))
	}
	b.t.Fatal(report.String())
}

// consoleProblems returns every console error, uncaught exception and
// browser-log error so far. It first logs a marker and waits until the
// reader saw it, so no message the page wrote before the call is missed.
func (b *browser) consoleProblems() []string {
	b.t.Helper()
	marker := fmt.Sprintf("strata-e2e-marker %d", time.Now().UnixNano())
	mustEval[chromedp.Void](b, fmt.Sprintf("console.info(%q)", marker))
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		seen := b.markers[marker]
		problems := slices.Clone(b.problems)
		b.mu.Unlock()
		if seen {
			return problems
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the console reader did not see its marker within 10 s")
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// bodyText is an excerpt of what the page shows, for failure messages.
func (b *browser) bodyText() string {
	v, err := evalJS[string](b, `(document.body ? document.body.innerText : "").slice(0, 600)`)
	if err != nil {
		return fmt.Sprintf("(could not read the page: %v)", err)
	}
	return v
}

// stagedUploads lists the tus uploads staged on the server (<data>/uploads/*.info).
func stagedUploads(t *testing.T, dataDir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dataDir, "uploads", "*.info"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range matches {
		ids = append(ids, strings.TrimSuffix(filepath.Base(m), ".info"))
	}
	sort.Strings(ids)
	return ids
}

// stagedBytes is how many bytes of an upload the server holds: the size of
// the file tusd's filestore writes as the data arrives.
func stagedBytes(t *testing.T, dataDir, id string) int64 {
	t.Helper()
	st, err := os.Stat(filepath.Join(dataDir, "uploads", id))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// tusOffset asks the server for an upload's offset with a tus HEAD.
func tusOffset(t *testing.T, uploadURL string) (int64, int64) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodHead, uploadURL, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("tus HEAD %s: %v", uploadURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tus HEAD %s: HTTP %d", uploadURL, resp.StatusCode)
	}
	off, err1 := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	size, err2 := strconv.ParseInt(resp.Header.Get("Upload-Length"), 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("tus HEAD %s: Upload-Offset %q, Upload-Length %q", uploadURL,
			resp.Header.Get("Upload-Offset"), resp.Header.Get("Upload-Length"))
	}
	return off, size
}

// storedTusUploads reads tus-js-client's resume entries from localStorage.
type storedTusUpload struct {
	Key       string `json:"key"`
	UploadURL string `json:"uploadUrl"`
	Size      int64  `json:"size"`
}

func (b *browser) storedTusUploads() []storedTusUpload {
	b.t.Helper()
	raw := mustEval[string](b, `JSON.stringify(Object.keys(localStorage).filter(k => k.startsWith('tus::')).map(k => {
		let v = {};
		try { v = JSON.parse(localStorage.getItem(k)) || {}; } catch {}
		return { key: k, uploadUrl: v.uploadUrl || '', size: v.size || 0 };
	}))`)
	var out []storedTusUpload
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		b.fatalf("localStorage tus entries %q: %v", raw, err)
	}
	return out
}
