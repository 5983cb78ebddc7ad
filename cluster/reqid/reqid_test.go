package reqid

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEnsureKeepsAValidIDAndReplacesOthers(t *testing.T) {
	for _, c := range []struct {
		sent string
		keep bool
	}{
		{"", false},
		{"3f2a9c1e-77b4-4c1e-9a43-0d2c5b1e8f10", true},
		{"edge-1:abc_DEF.42+/=@x", true},
		{"has space", false},
		{"quote\"d", false},
		{"line\nbreak", false},
		{strings.Repeat("a", MaxLen), true},
		{strings.Repeat("a", MaxLen+1), false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/media/v/master.m3u8", nil)
		if c.sent != "" {
			r.Header.Set(Header, c.sent)
		}
		w := httptest.NewRecorder()
		id := Ensure(w, r)
		if c.keep != (id == c.sent) || !Valid(id) {
			t.Errorf("sent %q: got %q (keep %v)", c.sent, id, c.keep)
		}
		if w.Header().Get(Header) != id || r.Header.Get(Header) != id || Of(r) != id {
			t.Errorf("sent %q: response %q, request %q, want %q on both", c.sent, w.Header().Get(Header), r.Header.Get(Header), id)
		}
		// A second Strata handler on the same request keeps the ID.
		if again := Ensure(httptest.NewRecorder(), r); again != id {
			t.Errorf("sent %q: the next handler made %q, want %q", c.sent, again, id)
		}
	}
	seen := map[string]bool{}
	for range 3 * batch {
		id := New()
		if seen[id] || len(id) != 24 || !Valid(id) {
			t.Fatalf("New: %q (seen %v)", id, seen[id])
		}
		seen[id] = true
	}
}
