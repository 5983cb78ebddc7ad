package account

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRegisterLogoutLogin(t *testing.T) {
	h := newHarness(t, nil)
	key := newSoftKey(t, "localhost", testOrigin)
	l := h.register("alice", key)

	w := h.call(http.MethodGet, "/api/v1/account/me", nil, l.headers())
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"name":"alice"`) {
		t.Fatalf("me: %d %s", w.Code, w.Body)
	}
	if w := h.call(http.MethodPost, "/api/v1/account/logout", nil, l.headers()); w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	if w := h.call(http.MethodGet, "/api/v1/account/me", nil, l.headers()); w.Code != http.StatusUnauthorized {
		t.Fatalf("me after logout: %d", w.Code)
	}
	// Discoverable login, then by name.
	for _, body := range []map[string]string{{}, {"name": "alice"}} {
		o := h.begin("/api/v1/account/login/begin", body, nil)
		l2 := loginFrom(t, h.call(http.MethodPost, "/api/v1/account/login/finish?ceremony="+o.Ceremony, key.get(o), nil))
		if w := h.call(http.MethodGet, "/api/v1/account/me", nil, l2.headers()); w.Code != http.StatusOK {
			t.Fatalf("me after login: %d", w.Code)
		}
	}
	// The name is taken now.
	raw, _ := json.Marshal(map[string]string{"name": "alice"})
	if w := h.call(http.MethodPost, "/api/v1/account/register/begin", raw, nil); w.Code != http.StatusConflict {
		t.Fatalf("taken name: %d %s", w.Code, w.Body)
	}
}

// TestLoginRefusals: each way a login must fail, with the code that says
// why.
func TestLoginRefusals(t *testing.T) {
	cases := []struct {
		name     string
		tamper   func(h *harness, k *softKey)
		wantCode int
		wantErr  string
		wantText string
	}{
		{"wrong origin", func(h *harness, k *softKey) { k.origin = "http://evil.example" }, http.StatusUnauthorized, "login_failed", "origin"},
		{"wrong RP ID", func(h *harness, k *softKey) { k.rpID = "evil.example" }, http.StatusUnauthorized, "login_failed", "RP"},
		{"user presence missing", func(h *harness, k *softKey) { k.noUP = true }, http.StatusUnauthorized, "login_failed", "presence"},
		{"expired challenge", func(h *harness, k *softKey) { h.now = h.now.Add(5*time.Minute + time.Second) }, http.StatusBadRequest, "challenge_expired", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			key := newSoftKey(t, "localhost", testOrigin)
			h.register("alice", key)
			o := h.begin("/api/v1/account/login/begin", map[string]string{}, nil)
			tc.tamper(h, key)
			w := h.call(http.MethodPost, "/api/v1/account/login/finish?ceremony="+o.Ceremony, key.get(o), nil)
			if w.Code != tc.wantCode || errCode(w) != tc.wantErr || !strings.Contains(strings.ToLower(w.Body.String()), strings.ToLower(tc.wantText)) {
				t.Fatalf("got %d %s, want %d %s mentioning %q", w.Code, w.Body, tc.wantCode, tc.wantErr, tc.wantText)
			}
			if c := w.Result().Cookies(); len(c) != 0 {
				t.Fatalf("a refused login set cookies %v", c)
			}
		})
	}
}

func TestRegisterRefusals(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(h *harness, k *softKey)
		wantErr string
	}{
		{"wrong origin", func(h *harness, k *softKey) { k.origin = "http://evil.example" }, "webauthn_failed"},
		{"wrong RP ID", func(h *harness, k *softKey) { k.rpID = "evil.example" }, "webauthn_failed"},
		{"user presence missing", func(h *harness, k *softKey) { k.noUP = true }, "webauthn_failed"},
		{"expired challenge", func(h *harness, k *softKey) { h.now = h.now.Add(6 * time.Minute) }, "challenge_expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			key := newSoftKey(t, "localhost", testOrigin)
			o := h.begin("/api/v1/account/register/begin", map[string]string{"name": "bob"}, nil)
			tc.tamper(h, key)
			w := h.call(http.MethodPost, "/api/v1/account/register/finish?ceremony="+o.Ceremony, key.create(o), nil)
			if w.Code != http.StatusBadRequest || errCode(w) != tc.wantErr {
				t.Fatalf("got %d %s, want 400 %s", w.Code, w.Body, tc.wantErr)
			}
			if _, err := h.n.UserByName("bob"); err == nil {
				t.Fatal("a refused registration made the account")
			}
		})
	}
}

func TestChallengeIsSingleUse(t *testing.T) {
	h := newHarness(t, nil)
	key := newSoftKey(t, "localhost", testOrigin)
	h.register("alice", key)
	o := h.begin("/api/v1/account/login/begin", map[string]string{}, nil)
	resp := key.get(o)
	loginFrom(t, h.call(http.MethodPost, "/api/v1/account/login/finish?ceremony="+o.Ceremony, resp, nil))
	w := h.call(http.MethodPost, "/api/v1/account/login/finish?ceremony="+o.Ceremony, resp, nil)
	if w.Code != http.StatusBadRequest || errCode(w) != "challenge_used" {
		t.Fatalf("replayed assertion: %d %s", w.Code, w.Body)
	}
	// A fresh assertion for the used challenge is refused too.
	w = h.call(http.MethodPost, "/api/v1/account/login/finish?ceremony="+o.Ceremony, key.get(o), nil)
	if errCode(w) != "challenge_used" {
		t.Fatalf("second assertion on a used challenge: %d %s", w.Code, w.Body)
	}
}

func TestClonedCredentialIsRefusedAndFlagged(t *testing.T) {
	h := newHarness(t, nil)
	key := newSoftKey(t, "localhost", testOrigin)
	h.register("alice", key)
	clone := key.clone()
	login := func(k *softKey) (int, string) {
		o := h.begin("/api/v1/account/login/begin", map[string]string{}, nil)
		w := h.call(http.MethodPost, "/api/v1/account/login/finish?ceremony="+o.Ceremony, k.get(o), nil)
		return w.Code, errCode(w)
	}
	for range 3 { // the original moves its counter to 3
		if code, e := login(key); code != http.StatusOK {
			t.Fatalf("genuine login: %d %s", code, e)
		}
	}
	// The clone still counts from the copy's value: 1, below 3.
	if code, e := login(clone); code != http.StatusForbidden || e != "passkey_flagged" {
		t.Fatalf("cloned login: %d %s", code, e)
	}
	// The flagged passkey logs nobody in any more, whoever holds it.
	if code, e := login(key); code != http.StatusForbidden || e != "passkey_flagged" {
		t.Fatalf("login with a flagged passkey: %d %s", code, e)
	}
	ps, _ := h.n.Passkeys(mustUserID(t, h, "alice"))
	if len(ps) != 1 || !ps[0].Cloned {
		t.Fatalf("passkey not flagged: %+v", ps)
	}
}

func mustUserID(t *testing.T, h *harness, name string) string {
	u, err := h.n.UserByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestAddAndRemovePasskeys(t *testing.T) {
	h := newHarness(t, nil)
	first := newSoftKey(t, "localhost", testOrigin)
	l := h.register("alice", first)
	// Adding a passkey needs the session (and its CSRF token).
	h.now = h.now.Add(time.Minute)
	o := h.begin("/api/v1/account/register/begin", map[string]string{}, l.headers())
	second := newSoftKey(t, "localhost", testOrigin)
	if w := h.call(http.MethodPost, "/api/v1/account/register/finish?name=Laptop&ceremony="+o.Ceremony, second.create(o), l.headers()); w.Code != http.StatusOK {
		t.Fatalf("add passkey: %d %s", w.Code, w.Body)
	}
	var list struct {
		Passkeys []PasskeyView `json:"passkeys"`
	}
	w := h.call(http.MethodGet, "/api/v1/account/passkeys", nil, l.headers())
	_ = json.Unmarshal(w.Body.Bytes(), &list)
	if len(list.Passkeys) != 2 || list.Passkeys[1].Name != "Laptop" {
		t.Fatalf("passkeys: %s", w.Body)
	}
	if w := h.call(http.MethodDelete, "/api/v1/account/passkeys/"+list.Passkeys[0].ID, nil, l.headers()); w.Code != http.StatusNoContent {
		t.Fatalf("delete passkey: %d %s", w.Code, w.Body)
	}
	if w := h.call(http.MethodDelete, "/api/v1/account/passkeys/"+list.Passkeys[1].ID, nil, l.headers()); w.Code != http.StatusConflict {
		t.Fatalf("deleting the last passkey: %d %s", w.Code, w.Body)
	}
	// The removed passkey no longer logs in; the other does.
	o = h.begin("/api/v1/account/login/begin", map[string]string{}, nil)
	if w := h.call(http.MethodPost, "/api/v1/account/login/finish?ceremony="+o.Ceremony, first.get(o), nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("removed passkey: %d %s", w.Code, w.Body)
	}
	o = h.begin("/api/v1/account/login/begin", map[string]string{}, nil)
	loginFrom(t, h.call(http.MethodPost, "/api/v1/account/login/finish?ceremony="+o.Ceremony, second.get(o), nil))
}

func TestSetupLinkMakesFirstAdminPasskey(t *testing.T) {
	h := newHarness(t, nil)
	// Bootstrap made "admin"; an operator makes another admin with a link.
	out, err := h.s.EnsureAdmin(t.Context(), "root", false)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimPrefix(out.SetupLink, SetupPath+"?token=")
	key := newSoftKey(t, "localhost", testOrigin)
	o := h.begin("/api/v1/account/register/begin", map[string]string{"setup_token": secret}, nil)
	l := loginFrom(t, h.call(http.MethodPost, "/api/v1/account/register/finish?ceremony="+o.Ceremony, key.create(o), nil))
	w := h.call(http.MethodGet, "/api/v1/account/me", nil, l.headers())
	if !strings.Contains(w.Body.String(), `"role":"admin"`) || !strings.Contains(w.Body.String(), `"name":"root"`) {
		t.Fatalf("me: %s", w.Body)
	}
	raw, _ := json.Marshal(map[string]string{"setup_token": secret})
	if w := h.call(http.MethodPost, "/api/v1/account/register/begin", raw, nil); w.Code != http.StatusGone {
		t.Fatalf("reused setup link: %d %s", w.Code, w.Body)
	}
	tok, err := h.s.EnsureAdmin(t.Context(), "root", true)
	if err != nil || !strings.HasPrefix(tok.Token, tokenPrefix) {
		t.Fatalf("admin token: %+v %v", tok, err)
	}
}
