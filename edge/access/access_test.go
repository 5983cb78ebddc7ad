package access

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

type videos struct {
	mu    sync.Mutex
	m     map[string]model.Video
	reads int
	// during, when set, runs inside a read, to race an invalidation
	// against it.
	during func()
}

func (v *videos) Video(id string) (*model.Video, error) {
	v.mu.Lock()
	v.reads++
	vid, ok := v.m[id]
	during := v.during
	v.during = nil
	v.mu.Unlock()
	if during != nil {
		during()
	}
	if !ok {
		return nil, fmt.Errorf("video %q: %w", id, store.ErrNotFound)
	}
	return &vid, nil
}

func (v *videos) set(id string, s model.Status, vis model.Visibility) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m[id] = model.Video{ID: id, Status: s, Visibility: vis}
}

type acceptToken string

func (a acceptToken) Verify(r *http.Request, id string) error {
	if r.URL.Query().Get("token") == string(a)+id {
		return nil
	}
	return errors.New("bad token")
}

func TestDecisions(t *testing.T) {
	vs := &videos{m: map[string]model.Video{}}
	vs.set("pub", model.StatusReady, model.Public)
	vs.set("unl", model.StatusReady, model.Unlisted)
	vs.set("priv", model.StatusReady, model.Private)
	vs.set("proc", model.StatusProcessing, model.Public)
	refuse := NewGate(vs, nil)
	signed := NewGate(vs, acceptToken("ok-"))
	for _, tc := range []struct {
		gate *Gate
		url  string
		id   string
		want Decision
	}{
		{refuse, "/m", "pub", Allow},
		{refuse, "/m", "unl", Allow},
		{refuse, "/m", "priv", Forbidden},
		{refuse, "/m?token=ok-priv", "priv", Forbidden}, // no signing keys: refused outright
		{refuse, "/m", "proc", NotFound},
		{refuse, "/m", "nope", NotFound},
		{signed, "/m?token=ok-priv", "priv", Allow}, // the seam, once a verifier exists
		{signed, "/m?token=ok-pub", "priv", Forbidden},
		{signed, "/m", "priv", Forbidden},
	} {
		got, err := tc.gate.Check(httptest.NewRequest(http.MethodGet, tc.url, nil), tc.id)
		if err != nil || got != tc.want {
			t.Errorf("%s %s: %v, %v; want %v", tc.url, tc.id, got, err, tc.want)
		}
	}
}

func TestMemoAndInvalidate(t *testing.T) {
	vs := &videos{m: map[string]model.Video{}}
	vs.set("v", model.StatusReady, model.Public)
	g := NewGate(vs, nil)
	r := httptest.NewRequest(http.MethodGet, "/m", nil)
	for range 5 {
		g.Check(r, "v")
	}
	if vs.reads != 1 {
		t.Fatalf("%d store reads for one video, want 1", vs.reads)
	}
	vs.set("v", model.StatusReady, model.Private)
	g.Invalidate("v")
	if d, _ := g.Check(r, "v"); d != Forbidden {
		t.Fatal("made private, still allowed after Invalidate")
	}
	// An invalidation while a read is in flight: the stale answer the read
	// got must not be remembered.
	vs.set("w", model.StatusReady, model.Public)
	vs.during = func() {
		vs.set("w", model.StatusReady, model.Private)
		g.Invalidate("w")
	}
	if d, _ := g.Check(r, "w"); d != Allow {
		t.Fatal("the racing read itself answers from what it read")
	}
	if d, _ := g.Check(r, "w"); d != Forbidden {
		t.Fatal("a decision read before an invalidation was remembered after it")
	}
}

func TestMemoBounded(t *testing.T) {
	vs := &videos{m: map[string]model.Video{}}
	g := NewGate(vs, nil)
	g.limit = 10
	r := httptest.NewRequest(http.MethodGet, "/m", nil)
	for i := range 100 {
		g.Check(r, fmt.Sprint(i))
	}
	if g.size > 10 {
		t.Fatalf("memo holds %d, limit 10", g.size)
	}
}
