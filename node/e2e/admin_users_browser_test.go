package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAdminUsersBrowser walks the admin dashboard's users list as an
// admin: a second account ("bob", made an admin by `strata admin create`)
// becomes a moderator with a 50 MB storage quota and a 20 MB daily upload
// quota, and is disabled. The row shows the new role, the quota and the
// "disabled" pill; the admin API agrees; bob's token no longer works. The
// admin's own row cannot be changed. Screenshots at desktop and phone width.
func TestAdminUsersBrowser(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	chromiumPath(t)

	n := startNode(t, filepath.Join(t.TempDir(), "data"))
	bobToken := adminToken(t, n, "bob")
	if code := authGet(t, n, bobToken, "/api/v1/account/me", nil); code != http.StatusOK {
		t.Fatalf("bob's token before: HTTP %d, want 200", code)
	}
	phase("node with a second account, bob")

	b := startBrowser(t)
	b.must("open the dashboard", chromedp.Navigate(n.base+"/admin"))
	bob := `[...document.querySelectorAll('[data-testid="user"]')].find(u => u.textContent.includes('@bob'))`
	b.waitTrue("bob and the admin in the users list", 20*time.Second,
		`!!(`+bob+`) && [...document.querySelectorAll('[data-testid="user"]')].some(u => u.textContent.includes('@e2e'))`)
	// The admin's own row: role and disabled cannot be changed.
	if got := mustEval[bool](b, `(() => { const me = [...document.querySelectorAll('[data-testid="user"]')].find(u => u.textContent.includes('@e2e'));`+
		` return me.querySelector('[data-testid="user-role"]').disabled && me.querySelector('[data-testid="user-disabled"]').disabled; })()`); !got {
		b.fatalf("the admin's own role and disabled box can be changed")
	}
	bobID := mustEval[string](b, `(`+bob+`).dataset.id`)
	row := `[data-testid="user"][data-id="` + bobID + `"]`
	if got := mustEval[string](b, `document.querySelector('`+row+` [data-testid="user-role"]').value`); got != "admin" {
		b.fatalf("bob's role select shows %q, want admin", got)
	}

	// ---- a quota that is not a number is refused in the page
	b.must("type a bad quota", chromedp.SendKeys(chromedp.CSS(row+` [data-testid="user-storage"]`), "-5"))
	b.must("click Save", chromedp.Click(chromedp.CSS(row+` [data-testid="user-save"]`)))
	b.waitTrue("the bad quota refused", 5*time.Second,
		`document.querySelector('`+row+` [data-testid="user-storage"]').getAttribute('aria-invalid') === 'true'`+
			` && document.querySelector('`+row+`').textContent.includes('number of megabytes')`)
	phase("a bad quota is refused")

	// ---- moderator, 50 MB storage, 20 MB a day, disabled
	b.must("set role and quotas",
		chromedp.SetValue(chromedp.CSS(row+` [data-testid="user-role"]`), "moderator"),
		chromedp.SetValue(chromedp.CSS(row+` [data-testid="user-storage"]`), ""),
		chromedp.SendKeys(chromedp.CSS(row+` [data-testid="user-storage"]`), "50"),
		chromedp.SendKeys(chromedp.CSS(row+` [data-testid="user-daily"]`), "20"),
		chromedp.Click(chromedp.CSS(row+` [data-testid="user-disabled"]`)),
		chromedp.Click(chromedp.CSS(row+` [data-testid="user-save"]`)))
	b.waitTrue("bob's row saved: moderator, disabled, 50 MB quota", 15*time.Second,
		`(() => { const r = document.querySelector('`+row+`'); if (!r) return false;`+
			` const pills = [...r.querySelectorAll('.pill')].map(p => p.textContent);`+
			` return r.querySelector('.status-line').textContent === 'Saved.' && pills.includes('moderator') && pills.includes('disabled')`+
			` && r.querySelector('[data-testid="user-role"]').value === 'moderator' && r.querySelector('[data-testid="user-disabled"]').checked`+
			` && r.querySelector('[data-testid="user-storage"]').value === '50' && r.querySelector('[data-testid="user-daily"]').value === '20'`+
			` && /of 50(\.0)? MB used/.test(r.querySelector('.row-meta').textContent); })()`)
	b.scrollIntoView(row)
	b.mustScreenshot("admin-users-desktop-1280x800")
	phase("bob saved as a disabled moderator with quotas")

	// ---- the API agrees, and bob's token is refused
	var list struct {
		Users []struct {
			ID               string `json:"id"`
			Role             string `json:"role"`
			Disabled         bool   `json:"disabled"`
			StorageQuota     int64  `json:"storage_quota"`
			DailyUploadQuota int64  `json:"daily_upload_quota"`
		} `json:"users"`
	}
	tok, _ := nodeTokens.Load(strings.TrimPrefix(n.base, "http://"))
	if code := authGet(t, n, tok.(string), "/api/v1/admin/users", &list); code != http.StatusOK {
		t.Fatalf("GET /api/v1/admin/users: HTTP %d", code)
	}
	found := false
	for _, u := range list.Users {
		if u.ID != bobID {
			continue
		}
		found = true
		if u.Role != "moderator" || !u.Disabled || u.StorageQuota != 50_000_000 || u.DailyUploadQuota != 20_000_000 {
			t.Errorf("bob in the API: %+v, want a disabled moderator with 50 MB and 20 MB quotas", u)
		}
	}
	if !found {
		t.Errorf("bob (%s) is not in GET /api/v1/admin/users", bobID)
	}
	if code := authGet(t, n, bobToken, "/api/v1/account/me", nil); code == http.StatusOK {
		t.Errorf("bob's token still works after he was disabled")
	}
	phase("the API agrees and bob's token is refused")

	// ---- after a reload the row still shows it
	b.must("reload", chromedp.Reload())
	b.waitTrue("bob still a disabled moderator after a reload", 20*time.Second,
		`(() => { const r = document.querySelector('`+row+`'); return !!r && [...r.querySelectorAll('.pill')].some(p => p.textContent === 'disabled')`+
			` && r.querySelector('[data-testid="user-role"]').value === 'moderator'; })()`)

	// ---- phone width
	b.must("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.waitTrue("the dashboard laid out for the phone", 5*time.Second, `window.innerWidth === 390`)
	b.checkNoSideScroll("admin users")
	b.scrollIntoView(row)
	b.mustScreenshot("admin-users-phone-390x844")
	b.must("desktop viewport", chromedp.EmulateViewport(1280, 800))

	if problems := b.consoleProblems(); len(problems) > 0 {
		b.fatalf("console errors or exceptions:\n  %s", strings.Join(problems, "\n  "))
	}
	phase("done")
}

// authGet GETs path from n with a bearer token and decodes the JSON answer
// into v (when v is not nil and the answer is 200). It returns the status.
func authGet(t *testing.T, n *node, token, path string, v any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, n.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// scrollIntoView scrolls the element sel matches to the top of the window.
func (b *browser) scrollIntoView(sel string) {
	b.t.Helper()
	mustEval[chromedp.Void](b, `document.querySelector('`+sel+`').scrollIntoView({block: 'start'})`)
}
