package store

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// TestEdges: an edge entry is stored in canonical form, replaced, refused
// when malformed, and dropped with its member.
func TestEdges(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NoSync = true
	s, err := Open(filepath.Join(t.TempDir(), "fsm.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := command.Stamp{At: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	idx := uint64(0)
	apply := func(fn func(*Tx) error) error {
		t.Helper()
		idx++
		var aerr error
		if _, err := s.Update(idx, func(tx *Tx) error { aerr = fn(tx); return nil }); err != nil {
			t.Fatal(err)
		}
		return aerr
	}
	set := func(e model.Edge) error {
		return apply(func(tx *Tx) error { _, err := tx.SetEdge(&command.SetEdge{Stamp: at, Edge: e}); return err })
	}

	if err := set(model.Edge{ID: "a", PublicURL: "https://a.example/", Region: "eu",
		Coverage: []string{"10.1.2.3/16", "10.1.0.0/16", "2001:db8::1/32"}}); err != nil {
		t.Fatal(err)
	}
	edges, err := s.Edges()
	if err != nil || len(edges) != 1 {
		t.Fatalf("edges = %v, %v", edges, err)
	}
	if e := edges[0]; e.PublicURL != "https://a.example" || !slices.Equal(e.Coverage, []string{"10.1.0.0/16", "2001:db8::/32"}) || !e.UpdatedAt.Equal(at.At) {
		t.Fatalf("stored %+v", e)
	}
	for name, bad := range map[string]model.Edge{
		"no id":        {PublicURL: "https://x"},
		"no scheme":    {ID: "b", PublicURL: "b.example"},
		"ftp":          {ID: "b", PublicURL: "ftp://b.example"},
		"query":        {ID: "b", PublicURL: "https://b.example/?x=1"},
		"bad coverage": {ID: "b", PublicURL: "https://b.example", Coverage: []string{"10.0.0.0/33"}},
		"quote in url": {ID: "b", PublicURL: `https://b.example/"x`},
	} {
		if err := set(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if err := set(model.Edge{ID: "a", PublicURL: "http://127.0.0.1:9000"}); err != nil {
		t.Fatal(err)
	}
	if edges, _ := s.Edges(); len(edges) != 1 || edges[0].PublicURL != "http://127.0.0.1:9000" || edges[0].Coverage != nil {
		t.Fatalf("replaced: %+v", edges[0])
	}
	// A member's removal takes its edge entry.
	if err := apply(func(tx *Tx) error {
		_, err := tx.RemoveMember(&command.RemoveMember{Stamp: at, ID: "a"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if edges, _ := s.Edges(); len(edges) != 0 {
		t.Fatalf("edge kept after its member left: %+v", edges)
	}
	if err := apply(func(tx *Tx) error { _, err := tx.RemoveEdge(&command.RemoveEdge{Stamp: at, ID: "gone"}); return err }); err != nil {
		t.Fatalf("removing an unknown edge: %v", err)
	}
}
