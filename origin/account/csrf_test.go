package account

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestCSRF(t *testing.T) {
	h := newHarness(t, nil)
	l := h.register("alice", newSoftKey(t, "localhost", testOrigin))
	body := []byte(`{"name":"ci","scopes":["read"]}`)
	cookie := CookieName + "=" + l.cookie
	cases := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		// What a form on another site can make a browser send: the cookie
		// (SameSite=Lax blocks it on POST in browsers; an old browser may
		// not), no CSRF header, a foreign Origin.
		{"cross-site form post", map[string]string{"Cookie": cookie, "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded"}, http.StatusForbidden},
		{"same-site but other origin", map[string]string{"Cookie": cookie, CSRFHeader: l.csrf, "Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"foreign origin with the token", map[string]string{"Cookie": cookie, CSRFHeader: l.csrf, "Origin": "http://evil.example"}, http.StatusForbidden},
		{"no token", map[string]string{"Cookie": cookie, "Origin": testOrigin}, http.StatusForbidden},
		{"wrong token", map[string]string{"Cookie": cookie, CSRFHeader: "guess", "Origin": testOrigin}, http.StatusForbidden},
		{"the page's own request", l.headers(), http.StatusCreated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := h.call(http.MethodPost, "/api/v1/account/tokens", body, tc.hdr)
			if w.Code != tc.want {
				t.Fatalf("got %d %s, want %d", w.Code, w.Body, tc.want)
			}
			if tc.want == http.StatusForbidden && errCode(w) != "csrf" {
				t.Fatalf("code %q, want csrf", errCode(w))
			}
		})
	}
	// Reads need no token.
	if w := h.call(http.MethodGet, "/api/v1/account/me", nil, map[string]string{"Cookie": cookie}); w.Code != http.StatusOK {
		t.Fatalf("read with the cookie only: %d", w.Code)
	}
}

func TestTokenScopes(t *testing.T) {
	h := newHarness(t, nil)
	l := h.register("alice", newSoftKey(t, "localhost", testOrigin))
	mk := func(scopes string) string {
		w := h.call(http.MethodPost, "/api/v1/account/tokens", []byte(`{"name":"t","scopes":`+scopes+`}`), l.headers())
		var tv TokenView
		if err := json.Unmarshal(w.Body.Bytes(), &tv); err != nil || w.Code != http.StatusCreated || tv.Secret == "" {
			t.Fatalf("create token: %d %s", w.Code, w.Body)
		}
		return tv.Secret
	}
	read, admin := mk(`["read"]`), mk(`["admin"]`)
	bearer := func(s string) map[string]string { return map[string]string{"Authorization": "Bearer " + s} }
	// Bearer requests need no CSRF token: a browser never adds one by itself.
	if w := h.call(http.MethodGet, "/api/v1/account/me", nil, bearer(read)); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"via":"token"`) {
		t.Fatalf("read token on /me: %d %s", w.Code, w.Body)
	}
	if w := h.call(http.MethodPost, "/api/v1/account/tokens", []byte(`{"name":"x"}`), bearer(read)); w.Code != http.StatusForbidden || errCode(w) != "insufficient_scope" {
		t.Fatalf("read token making a token: %d %s", w.Code, w.Body)
	}
	if w := h.call(http.MethodPost, "/api/v1/account/tokens", []byte(`{"name":"x"}`), bearer(admin)); w.Code != http.StatusCreated {
		t.Fatalf("admin token making a token: %d %s", w.Code, w.Body)
	}
	if w := h.call(http.MethodGet, "/api/v1/account/me", nil, bearer("strata_nope")); w.Code != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", w.Code)
	}
	// Revoked tokens stop working.
	var list struct {
		Tokens []TokenView `json:"tokens"`
	}
	_ = json.Unmarshal(h.call(http.MethodGet, "/api/v1/account/tokens", nil, l.headers()).Body.Bytes(), &list)
	for _, tv := range list.Tokens {
		if tv.Secret != "" {
			t.Fatal("a token list shows secrets")
		}
		h.call(http.MethodDelete, "/api/v1/account/tokens/"+tv.ID, nil, l.headers())
	}
	if w := h.call(http.MethodGet, "/api/v1/account/me", nil, bearer(read)); w.Code != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", w.Code)
	}
	// Non-admins do not manage accounts, whatever their token says.
	if w := h.call(http.MethodGet, "/api/v1/admin/users", nil, l.headers()); w.Code != http.StatusForbidden {
		t.Fatalf("user listing users: %d", w.Code)
	}
}

func TestRateLimits(t *testing.T) {
	h := newHarness(t, nil)
	got429 := false
	for i := 0; i < 40 && !got429; i++ {
		w := h.call(http.MethodPost, "/api/v1/account/login/begin", []byte(`{}`), nil)
		got429 = w.Code == http.StatusTooManyRequests && errCode(w) == "rate_limited" && w.Header().Get("Retry-After") != ""
	}
	if !got429 {
		t.Fatal("40 login attempts from one address were never limited")
	}
	for i := 0; i < 40; i++ {
		if w := h.call(http.MethodGet, "/api/v1/account/me", nil, map[string]string{"Authorization": "Bearer strata_guess"}); w.Code == http.StatusTooManyRequests {
			return
		}
	}
	t.Fatal("40 wrong API tokens from one address were never limited")
}

func TestSessionsListAndRevoke(t *testing.T) {
	h := newHarness(t, nil)
	key := newSoftKey(t, "localhost", testOrigin)
	a := h.register("alice", key)
	o := h.begin("/api/v1/account/login/begin", map[string]string{}, nil)
	b := loginFrom(t, h.call(http.MethodPost, "/api/v1/account/login/finish?ceremony="+o.Ceremony, key.get(o), nil))
	var list struct {
		Sessions []SessionView `json:"sessions"`
	}
	_ = json.Unmarshal(h.call(http.MethodGet, "/api/v1/account/sessions", nil, a.headers()).Body.Bytes(), &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("sessions: %+v", list)
	}
	for _, s := range list.Sessions {
		if !s.Current {
			if w := h.call(http.MethodDelete, "/api/v1/account/sessions/"+s.ID, nil, a.headers()); w.Code != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", w.Code, w.Body)
			}
		}
	}
	if w := h.call(http.MethodGet, "/api/v1/account/me", nil, b.headers()); w.Code != http.StatusUnauthorized {
		t.Fatalf("revoked session still works: %d", w.Code)
	}
	if w := h.call(http.MethodGet, "/api/v1/account/me", nil, a.headers()); w.Code != http.StatusOK {
		t.Fatalf("current session: %d", w.Code)
	}
}

func TestPasswordLogin(t *testing.T) {
	off := newHarness(t, nil)
	if w := off.call(http.MethodPost, "/api/v1/account/login/password", []byte(`{"name":"a","password":"b"}`), nil); w.Code != http.StatusNotFound {
		t.Fatalf("password login while off: %d", w.Code)
	}
	h := newHarness(t, func(c *Config) { c.PasswordLogin = true })
	l := h.register("alice", newSoftKey(t, "localhost", testOrigin))
	if w := h.call(http.MethodPut, "/api/v1/account/password", []byte(`{"password":"correct horse battery"}`), l.headers()); w.Code != http.StatusNoContent {
		t.Fatalf("set password: %d %s", w.Code, w.Body)
	}
	if w := h.call(http.MethodPost, "/api/v1/account/login/password", []byte(`{"name":"alice","password":"wrong horse battery"}`), nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", w.Code)
	}
	loginFrom(t, h.call(http.MethodPost, "/api/v1/account/login/password", []byte(`{"name":"alice","password":"correct horse battery"}`), nil))
}
