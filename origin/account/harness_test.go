package account

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/fsm"
	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/origin/httperr"
)

// testNode is a one-replica cluster without Raft: commands go through the
// real encoding and FSM into a real store.
type testNode struct {
	*store.Store
	f      *fsm.FSM
	mu     sync.Mutex
	idx    uint64
	closed bool
}

func newTestNode(t *testing.T) *testNode {
	dir := t.TempDir()
	cfg := store.DefaultConfig()
	cfg.NoSync = true
	st, err := store.Open(filepath.Join(dir, "fsm.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	f := fsm.New(st, ix, nil)
	n := &testNode{Store: st, f: f}
	t.Cleanup(func() {
		// A token's use is recorded off the request: an apply may still
		// come after the test; it must find the node closed, not the
		// store.
		n.mu.Lock()
		n.closed = true
		n.mu.Unlock()
		f.Close()
		ix.Close()
		st.Close()
	})
	return n
}

func (n *testNode) Apply(_ context.Context, c command.Command) (any, error) {
	raw, err := command.Encode(c)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errors.New("test node closed")
	}
	n.idx++
	res := n.f.Apply(&raft.Log{Index: n.idx, Type: raft.LogCommand, Data: raw}).(fsm.Result)
	return res.Value, res.Err
}

// harness serves the account routes the way strata_api does.
type harness struct {
	t   *testing.T
	n   *testNode
	s   *Service
	now time.Time
	h   http.Handler
}

const testOrigin = "http://localhost"

func newHarness(t *testing.T, mod func(*Config)) *harness {
	h := &harness{t: t, n: newTestNode(t), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := DefaultConfig()
	cfg.Now = func() time.Time { return h.now }
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(h.n, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	if err := s.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Routes(mux)
	h.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Authenticate(r)
		if err != nil {
			WriteAuthError(w, err)
			return
		}
		if err := s.CheckCSRF(r, p); err != nil {
			httperr.Write(w, http.StatusForbidden, "csrf", err.Error())
			return
		}
		mux.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
	return h
}

// call sends a request from the browser at testOrigin; hdr may add headers
// (Cookie, the CSRF header, Authorization).
func (h *harness) call(method, path string, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	h.t.Helper()
	r := httptest.NewRequest(method, testOrigin+path, bytes.NewReader(body))
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, r)
	return w
}

func (h *harness) begin(path string, body any, hdr map[string]string) options {
	h.t.Helper()
	raw, _ := json.Marshal(body)
	w := h.call(http.MethodPost, path, raw, hdr)
	if w.Code != http.StatusOK {
		h.t.Fatalf("%s: %d %s", path, w.Code, w.Body)
	}
	var o options
	if err := json.Unmarshal(w.Body.Bytes(), &o); err != nil {
		h.t.Fatal(err)
	}
	return o
}

// login is a browser's logged-in state.
type login struct {
	cookie, csrf string
}

func (l login) headers() map[string]string {
	return map[string]string{"Cookie": CookieName + "=" + l.cookie, CSRFHeader: l.csrf, "Origin": testOrigin, "Sec-Fetch-Site": "same-origin"}
}

func loginFrom(t *testing.T, w *httptest.ResponseRecorder) login {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("ceremony refused: %d %s", w.Code, w.Body)
	}
	var me Me
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
				t.Fatalf("session cookie %+v is not HttpOnly, Secure, SameSite=Lax", c)
			}
			return login{cookie: c.Value, csrf: me.CSRFToken}
		}
	}
	t.Fatal("no session cookie")
	return login{}
}

// register makes an account with key and returns its login.
func (h *harness) register(name string, key *softKey) login {
	h.t.Helper()
	o := h.begin("/api/v1/account/register/begin", map[string]string{"name": name}, nil)
	return loginFrom(h.t, h.call(http.MethodPost, "/api/v1/account/register/finish?ceremony="+o.Ceremony, key.create(o), nil))
}

// errCode reads the JSON error code of an answer.
func errCode(w *httptest.ResponseRecorder) string {
	var b httperr.Body
	_ = json.Unmarshal(w.Body.Bytes(), &b)
	return b.Error.Code
}

var _ = errors.Is
