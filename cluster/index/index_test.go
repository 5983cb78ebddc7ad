package index

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

func put(t *testing.T, x *Index, applied uint64, vs ...*model.Video) {
	t.Helper()
	b := x.NewBatch()
	for _, v := range vs {
		b.Put(v.ID, v)
	}
	if err := x.Commit(b, applied); err != nil {
		t.Fatal(err)
	}
}

func ids(t *testing.T, x *Index, q Query) []string {
	t.Helper()
	res, err := x.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	slices.Sort(out)
	return out
}

func TestSearchVisibilityTyposAndRebuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ready := func(id, title, owner string, vis model.Visibility) *model.Video {
		return &model.Video{ID: id, Title: title, Owner: owner, Visibility: vis, Status: model.StatusReady, CreatedAt: at}
	}
	put(t, x, 7,
		ready("pub", "Valorant tournament finals", "ana", model.Public),
		ready("unl", "Valorant practice", "ana", model.Unlisted),
		ready("prv", "Valorant private scrim", "bob", model.Private),
		&model.Video{ID: "proc", Title: "Valorant processing", Visibility: model.Public, Status: model.StatusProcessing},
		&model.Video{ID: "tag", Title: "Clip", Tags: []string{"Valorant"}, Visibility: model.Public, Status: model.StatusReady},
	)
	for name, c := range map[string]struct {
		q    Query
		want []string
	}{
		"anonymous sees ready public only": {Query{Text: "valorant"}, []string{"pub", "tag"}},
		"owner sees own private":           {Query{Text: "valorant", Viewer: "bob"}, []string{"prv", "pub", "tag"}},
		"typo in a long word":              {Query{Text: "valrant"}, []string{"pub", "tag"}},
		"admin sees all":                   {Query{Text: "valorant", All: true}, []string{"proc", "prv", "pub", "tag", "unl"}},
		"empty query lists public":         {Query{}, []string{"pub", "tag"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := ids(t, x, c.q); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	if n, _ := x.Applied(); n != 7 {
		t.Fatalf("applied = %d", n)
	}
	// Deleting and rebuilding.
	b := x.NewBatch()
	b.Put("pub", nil)
	if err := x.Commit(b, 8); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, x, Query{Text: "tournament"}); len(got) != 0 {
		t.Fatalf("deleted video found: %v", got)
	}
	err = x.Rebuild(func(fn func(*model.Video) error) error {
		return fn(ready("new", "Rebuilt tournament", "", model.Public))
	}, 9)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, x, Query{Text: "tournament"}); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("after rebuild: %v", got)
	}
	if n, _ := x.Applied(); n != 9 {
		t.Fatalf("applied after rebuild = %d", n)
	}
}

// TestCloseWritesEverything: batches return before they are on disk, and
// Close waits for them, so a reopened index holds the last one and needs
// no rebuild.
func TestCloseWritesEverything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		b := x.NewBatch()
		b.Put(fmt.Sprint("v", i), &model.Video{ID: fmt.Sprint("v", i), Title: "Batch", Visibility: model.Public, Status: model.StatusReady})
		if err := x.Commit(b, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	x, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if a, err := x.Applied(); err != nil || a != n {
		t.Fatalf("applied after reopen = %d, %v; want %d", a, err, n)
	}
	if c, _ := x.Count(); c != n {
		t.Fatalf("%d documents after reopen, want %d", c, n)
	}
}

// TestOtherMappingIsRebuilt: an index written with another mapping version
// opens empty, with applied index 0, so the node rebuilds it.
func TestOtherMappingIsRebuilt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	put(t, x, 5, &model.Video{ID: "a", Title: "A"})
	x.mu.RLock()
	err = x.idx.SetInternal(keyMapping, []byte("0"))
	x.mu.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	x, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if a, _ := x.Applied(); a != 0 {
		t.Fatalf("applied = %d, want 0 (rebuild)", a)
	}
	if c, _ := x.Count(); c != 0 {
		t.Fatalf("%d documents kept from another mapping", c)
	}
}
