package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Selectors of the account pages' test hooks.
const (
	selNavLogin      = `[data-testid="nav-login"]`
	selAccountMenu   = `[data-testid="account-menu"]`
	selLogout        = `[data-testid="logout"]`
	selNavMyVideos   = `[data-testid="nav-my-videos"]`
	selNavAccount    = `[data-testid="nav-account"]`
	selLoginRequired = `[data-testid="login-required"]`
	selLoginLink     = `[data-testid="login-link"]`
	selLoginSubmit   = `[data-testid="login-submit"]`
	selRegisterLink  = `[data-testid="register-link"]`
	selRegisterName  = `[data-testid="register-name"]`
	selRegisterShown = `[data-testid="register-display-name"]`
	selRegisterGo    = `[data-testid="register-submit"]`
	selMyVideosEmpty = `[data-testid="my-videos-empty"]`
)

// TestAuthBrowserPasskeys drives the account UI in headless Chromium with
// the DevTools virtual authenticator standing in for the user's device:
// register a new account with a passkey, log out (after which "my videos"
// and the upload page ask to log in, and the API says 401), log in again
// with the same passkey (discoverable: no name typed), upload a video
// through the UI's file input with the session cookie and its CSRF token,
// see it under "my videos" until it is ready, make an API token on the
// account page and use it, then make the video private and play it: every
// media request carries the media token.
//
// The page is opened as http://localhost:PORT, not 127.0.0.1: WebAuthn
// and the Secure session cookie need a secure context, and the RP ID must
// be a domain name.
func TestAuthBrowserPasskeys(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t) // fail first, and clearly, when Chromium is missing

	work := t.TempDir()
	n := startNode(t, filepath.Join(work, "data"))
	u, err := url.Parse(n.base)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://localhost:" + u.Port()
	const (
		name    = "ada-e2e"
		shown   = "Ada Lovelace"
		title   = "Analytical engine, first light"
		tokName = "e2e script"
	)
	clip := makeVideo(t, work, "analytical-engine.mp4", 4, "640x360")
	b := startBrowser(t)
	b.withoutInjectedToken()
	authID := b.addVirtualAuthenticator()
	phase("node, test video, Chromium and the virtual authenticator ready")

	// Record the requests of the tus client and the player.
	var reqMu sync.Mutex
	var tusReqs, mediaReqs []string
	lctx, stopListening := context.WithCancel(b.ctx)
	defer stopListening()
	if err := chromedp.Listen(lctx, func(ev any) {
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok {
			return
		}
		p, err := url.Parse(e.Request.URL)
		if err != nil {
			return
		}
		reqMu.Lock()
		defer reqMu.Unlock()
		switch {
		case strings.HasPrefix(p.Path, "/api/v1/uploads/"):
			var csrf, authz bool
			for k := range e.Request.Headers {
				csrf = csrf || strings.EqualFold(k, "X-CSRF-Token")
				authz = authz || strings.EqualFold(k, "Authorization")
			}
			tusReqs = append(tusReqs, fmt.Sprintf("%s csrf=%t authorization=%t", e.Request.Method, csrf, authz))
		case strings.HasPrefix(p.Path, "/media/"):
			mediaReqs = append(mediaReqs, e.Request.URL)
		}
	}); err != nil {
		b.fatalf("listening to network requests: %v", err)
	}

	// ---- nobody is logged in: the injected admin token is really gone
	b.must("open the home page", chromedp.Navigate(base+"/"))
	b.waitTrue("the header's Log in link", 15*time.Second, `!!document.querySelector('`+selNavLogin+`')`)
	if code := b.fetchStatus("/api/v1/account/me"); code != http.StatusUnauthorized {
		b.fatalf("GET /api/v1/account/me from a fresh browser: HTTP %d, want 401 (is an Authorization header still injected?)", code)
	}

	// ---- register with a passkey
	b.must("click Log in", chromedp.Click(chromedp.CSS(selNavLogin)))
	b.waitTrue("the login page", 15*time.Second, `location.pathname === '/login' && !!document.querySelector('`+selRegisterLink+`')`)
	b.must("click Create an account", chromedp.Click(chromedp.CSS(selRegisterLink)))
	b.waitTrue("the registration form", 15*time.Second, `location.pathname === '/register' && !!document.querySelector('`+selRegisterName+`')`)
	b.must("type the account name", chromedp.SendKeys(chromedp.CSS(selRegisterName), name))
	b.must("type the display name", chromedp.SendKeys(chromedp.CSS(selRegisterShown), shown))
	b.mustScreenshot("auth-register-desktop-1280x800")
	b.must("click Create account with a passkey", chromedp.Click(chromedp.CSS(selRegisterGo)))
	b.waitTrue("my (empty) videos after registering, logged in", 30*time.Second,
		`location.pathname === '/account/videos' && !!document.querySelector('`+selMyVideosEmpty+`')`+
			` && (document.querySelector('`+selAccountMenu+`')?.textContent || '').includes('`+shown+`')`)
	creds := b.credentials(authID)
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		b.fatalf("the virtual authenticator holds %d credentials (%+v), want one discoverable credential for RP ID localhost", len(creds), creds)
	}
	b.checkSessionCookie(base)
	phase("registered " + name + " with a passkey")

	// ---- log out
	b.must("open the account menu", chromedp.Click(chromedp.CSS(selAccountMenu)))
	b.waitTrue("the account menu", 5*time.Second, `!document.getElementById('account-menu').hidden`)
	b.must("click Log out", chromedp.Click(chromedp.CSS(selLogout)))
	b.waitTrue("the home page, logged out", 15*time.Second,
		`location.pathname === '/' && !!document.querySelector('`+selNavLogin+`') && !document.querySelector('`+selAccountMenu+`')`)

	// The negative: "my videos" asks to log in, and so do the API and the
	// upload page. A full load, so nothing is left from before.
	b.must("open /account/videos", chromedp.Navigate(base+"/account/videos"))
	b.waitTrue("my videos to ask to log in", 15*time.Second,
		`!!document.querySelector('`+selLoginRequired+`') && document.querySelector('`+selLoginRequired+`').innerText.includes('Log in to see your videos')`+
			` && !document.querySelector('[data-testid="my-videos"]')`)
	for _, p := range []string{"/api/v1/account/me", "/api/v1/account/videos"} {
		if code := b.fetchStatus(p); code != http.StatusUnauthorized {
			b.fatalf("GET %s after logging out: HTTP %d, want 401", p, code)
		}
	}
	if c := b.cookie(base, "strata_session"); c != nil {
		b.fatalf("the session cookie is still set after logging out: %+v", c)
	}
	b.mustScreenshot("auth-logged-out-my-videos-1280x800")
	b.must("open /upload", chromedp.Navigate(base+"/upload"))
	b.waitTrue("the upload page to ask to log in", 15*time.Second,
		`!!document.querySelector('`+selLoginRequired+`') && !document.querySelector('`+selUploadFile+`')`)
	phase("logged out; my videos and upload ask to log in")

	// ---- log in with the passkey, from the upload page's link
	b.must("click Log in on the upload page", chromedp.Click(chromedp.CSS(selLoginLink)))
	b.waitTrue("the login page (back to /upload after)", 15*time.Second,
		`location.pathname === '/login' && new URLSearchParams(location.search).get('next') === '/upload' && !!document.querySelector('`+selLoginSubmit+`')`)
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 10*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("login")
	b.mustScreenshot("auth-login-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 10*time.Second, `window.innerWidth === 1280`)
	b.must("click Log in with a passkey", chromedp.Click(chromedp.CSS(selLoginSubmit)))
	b.waitTrue("the upload form, logged in", 30*time.Second,
		`location.pathname === '/upload' && !!document.querySelector('`+selUploadFile+`') && !!document.querySelector('`+selAccountMenu+`')`)
	if creds := b.credentials(authID); len(creds) != 1 || creds[0].SignCount < 1 {
		b.fatalf("after the login the authenticator holds %+v, want the one passkey with a sign count ≥ 1", creds)
	}
	b.checkSessionCookie(base)
	phase("logged in with the passkey")

	// ---- upload through the UI
	b.must("choose the file", chromedp.SetUploadFiles(chromedp.CSS(selUploadFile), []string{clip}))
	b.waitTrue("the title to default to the file name", 10*time.Second,
		`document.querySelector('`+selUploadTitle+`').value === 'analytical-engine'`)
	b.typeTitle(title)
	b.must("click Start upload", chromedp.Click(chromedp.CSS(selUploadStart)))
	b.waitUploadComplete(60 * time.Second)
	href := mustEval[string](b, `document.querySelector('`+selWatchLink+`').getAttribute('href')`)
	id, ok := strings.CutPrefix(href, "/watch/")
	if !ok || id == "" || strings.Contains(id, "/") {
		b.fatalf("watch-link href = %q, want /watch/{id}", href)
	}
	reqMu.Lock()
	tus := slices.Clone(tusReqs)
	reqMu.Unlock()
	var writes int
	for _, r := range tus {
		if strings.HasPrefix(r, "POST") || strings.HasPrefix(r, "PATCH") {
			writes++
			if !strings.Contains(r, "csrf=true") || !strings.Contains(r, "authorization=false") {
				b.fatalf("a tus write went out without the CSRF header, or with an Authorization header: %v", tus)
			}
		}
	}
	if writes == 0 {
		b.fatalf("no tus POST or PATCH was seen: %v", tus)
	}
	phase(fmt.Sprintf("uploaded %s (tus requests %v)", id, tus))

	// ---- my videos: the video is there, then ready (polled with a deadline)
	b.must("open the account menu", chromedp.Click(chromedp.CSS(selAccountMenu)))
	b.must("click My videos", chromedp.Click(chromedp.CSS(selNavMyVideos)))
	row := `document.querySelector('[data-testid="my-video"][data-id="` + id + `"]')`
	b.waitTrue("the video under my videos", 15*time.Second, `location.pathname === '/account/videos' && !!`+row)
	b.until("the video to be ready under my videos", 3*time.Minute, row+`?.dataset.status || 'gone'`,
		func(v string) (bool, error) {
			switch v {
			case "ready":
				return true, nil
			case "failed", "gone":
				return false, fmt.Errorf("the video is %s: %s", v, b.bodyText())
			}
			return false, nil
		})
	if got := mustEval[string](b, row+`.querySelector('[data-testid="my-video-link"]').textContent`); got != title {
		b.fatalf("my videos shows the title %q, want %q", got, title)
	}
	if got := mustEval[string](b, row+`.dataset.visibility + ' ' + `+row+`.querySelector('[data-testid="visibility-select"]').value`); got != "public public" {
		b.fatalf("visibility on my videos = %q, want public", got)
	}
	b.waitTrue("the ready video's thumbnail", 15*time.Second, row+`.querySelector('img')?.complete && `+row+`.querySelector('img').naturalWidth > 0`)
	var v video
	if code := n.getJSON("/api/v1/videos/"+id, &v); code != http.StatusOK || v.Status != "ready" || v.Title != title {
		b.fatalf("GET /api/v1/videos/%s anonymously: HTTP %d %+v", id, code, v)
	}
	b.mustScreenshot("auth-my-videos-desktop-1280x800")
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the phone layout", 10*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("my videos")
	b.mustScreenshot("auth-my-videos-phone-390x844")
	phase("the video is ready under my videos")

	// ---- account page: passkeys, sessions, a new API token shown once
	b.must("open the account menu", chromedp.Click(chromedp.CSS(selAccountMenu)))
	b.must("click Account", chromedp.Click(chromedp.CSS(selNavAccount)))
	b.waitTrue("the account page with its lists", 15*time.Second,
		`location.pathname === '/account' && document.querySelectorAll('[data-testid="passkey"]').length === 1`+
			` && !!document.querySelector('[data-testid="session"][data-current="true"]')`)
	b.checkNoSideScroll("account")
	b.scrollTop()
	b.mustScreenshot("auth-account-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))
	b.waitTrue("the desktop layout", 10*time.Second, `window.innerWidth === 1280`)
	b.must("type the token name", chromedp.SendKeys(chromedp.CSS(`[data-testid="token-name"]`), tokName))
	b.must("tick the upload scope", chromedp.Click(chromedp.CSS(`[data-testid="token-scope-upload"]`)))
	b.must("click Create token", chromedp.Click(chromedp.CSS(`[data-testid="token-create"]`)))
	secret := b.until("the new token's secret", 15*time.Second,
		`document.querySelector('[data-testid="token-secret-value"]')?.textContent || ''`,
		func(v string) (bool, error) { return strings.HasPrefix(v, "strata_"), nil })
	b.waitTrue("the token in the list", 10*time.Second,
		`[...document.querySelectorAll('[data-testid="token"]')].some(t => t.innerText.includes('`+tokName+`'))`)
	b.scrollTop() // the new secret took the focus; the sticky header would sit mid-shot
	b.mustScreenshot("auth-account-desktop-1280x800")
	tokClient := client{t: t, base: n.base, tok: secret}
	var me struct {
		User struct{ Name string } `json:"user"`
		Via  string                `json:"via"`
	}
	tokClient.json(http.MethodGet, "/api/v1/account/me", "", http.StatusOK, &me)
	if me.User.Name != name || me.Via != "token" {
		b.fatalf("the token made on the account page is %+v, want %s via token", me, name)
	}
	phase("made an API token on the account page and used it")

	// ---- make it private on my videos; anonymous viewers lose it, the owner plays it
	b.must("open the account menu", chromedp.Click(chromedp.CSS(selAccountMenu)))
	b.must("click My videos", chromedp.Click(chromedp.CSS(selNavMyVideos)))
	b.waitTrue("the video under my videos", 15*time.Second, `location.pathname === '/account/videos' && !!`+row)
	mustEval[chromedp.Void](b, `(() => { const s = `+row+`.querySelector('[data-testid="visibility-select"]'); s.value = 'private'; s.dispatchEvent(new Event('change')); })()`)
	b.waitTrue("the video to be private", 15*time.Second,
		row+`.dataset.visibility === 'private' && (document.querySelector('[data-testid="my-videos-status"]')?.textContent || '').includes('private')`)
	if code := n.getJSON("/api/v1/videos/"+id, nil); code != http.StatusNotFound {
		b.fatalf("GET /api/v1/videos/%s anonymously after making it private: HTTP %d, want 404", id, code)
	}
	reqMu.Lock()
	mediaReqs = nil
	reqMu.Unlock()
	b.must("follow the title to the watch page", chromedp.Click(chromedp.CSS(`[data-testid="my-video"][data-id="`+id+`"] [data-testid="my-video-link"]`)))
	b.waitTrue("the watch page with hls.js", 30*time.Second,
		`location.pathname === '/watch/`+id+`' && !!document.querySelector('`+selPlayer+`') && !!window.__strata.hls`)
	b.playAndWatch(1.0, 60*time.Second)
	reqMu.Lock()
	media := slices.Clone(mediaReqs)
	reqMu.Unlock()
	var segments int
	for _, m := range media {
		mu, err := url.Parse(m)
		if err != nil || mu.Query().Get("token") == "" {
			b.fatalf("a media request of the private video went out without ?token=: %s (all: %v)", m, media)
		}
		if !strings.HasSuffix(mu.Path, ".m3u8") && !strings.HasSuffix(mu.Path, ".jpg") {
			segments++
		}
		// The token is what opens it: the same URL without it is refused.
		if strings.HasSuffix(mu.Path, ".m3u8") {
			q := mu.Query()
			q.Del("token")
			mu.RawQuery = q.Encode()
			resp, err := plain.Get(n.base + mu.Path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				b.fatalf("GET %s without the token: HTTP %d, want 403", mu.Path, resp.StatusCode)
			}
		}
	}
	if segments == 0 {
		b.fatalf("the player fetched no segments of the private video (requests: %v)", media)
	}
	phase(fmt.Sprintf("the private video plays for its owner (%d media requests, all with a token)", len(media)))

	// Only the expected refusals may be in the console: the 401s of "who
	// am I" and "my videos" while nobody was logged in.
	var unexpected []string
	for _, p := range b.consoleProblems() {
		if strings.Contains(p, "status of 401") &&
			(strings.Contains(p, "/api/v1/account/me") || strings.Contains(p, "/api/v1/account/videos")) {
			continue
		}
		unexpected = append(unexpected, p)
	}
	if len(unexpected) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(unexpected, "\n  "))
	}
	phase("done")
}

// withoutInjectedToken undoes what startBrowser does for the tests written
// before accounts (an admin API token on every request): this test must
// get everything it does from logging in through the UI.
func (b *browser) withoutInjectedToken() {
	b.t.Helper()
	b.must("drop the injected Authorization header", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{}})
		return err
	}))
}

// addVirtualAuthenticator gives the tab a platform authenticator that makes
// discoverable passkeys and verifies the user without asking.
func (b *browser) addVirtualAuthenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	var id webauthn.AuthenticatorID
	b.must("virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			},
		})
		id = res.AuthenticatorID
		return err
	}))
	return id
}

// credentials lists the passkeys the virtual authenticator holds.
func (b *browser) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	var out []*webauthn.Credential
	b.must("read the authenticator's credentials", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		out = res.Credentials
		return err
	}))
	return out
}

// cookie returns the browser's cookie name for base, or nil.
func (b *browser) cookie(base, name string) *network.Cookie {
	b.t.Helper()
	var found *network.Cookie
	b.must("read cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
		for _, c := range res.Cookies {
			if c.Name == name {
				found = c
			}
		}
		return err
	}))
	return found
}

// checkSessionCookie checks the session cookie's flags, and that the page's
// scripts cannot read it.
func (b *browser) checkSessionCookie(base string) {
	b.t.Helper()
	c := b.cookie(base, "strata_session")
	if c == nil {
		b.fatalf("no strata_session cookie after logging in")
	}
	if !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
		b.fatalf("strata_session cookie: HttpOnly %t, Secure %t, SameSite %q, Path %q; want HttpOnly, Secure, Lax, /",
			c.HTTPOnly, c.Secure, c.SameSite, c.Path)
	}
	if mustEval[bool](b, `document.cookie.includes('strata_session')`) {
		b.fatalf("the page's scripts can read the session cookie")
	}
}

// fetchStatus is the HTTP status the page gets for a same-origin GET.
func (b *browser) fetchStatus(path string) int {
	b.t.Helper()
	raw := mustEval[string](b, fmt.Sprintf(`fetch(%q, { headers: { Accept: 'application/json' } }).then(r => String(r.status))`, path))
	var code int
	if err := json.Unmarshal([]byte(raw), &code); err != nil {
		b.fatalf("fetch %s: status %q", path, raw)
	}
	return code
}

// scrollTop scrolls the page to its top, for a full-page screenshot.
func (b *browser) scrollTop() {
	b.t.Helper()
	mustEval[chromedp.Void](b, `window.scrollTo(0, 0)`)
	b.waitTrue("the page at its top", 5*time.Second, `window.scrollY === 0`)
}

// checkNoSideScroll fails the test when the page is wider than the window.
func (b *browser) checkNoSideScroll(page string) {
	b.t.Helper()
	if w := mustEval[[]int](b, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		b.t.Errorf("the %s page at %d px wide scrolls sideways: it is %d px wide", page, w[1], w[0])
	}
}
