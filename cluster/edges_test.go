package cluster

import (
	"slices"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

// TestSetEdge: the edge role's entry reaches the registry in canonical
// form, the node's own status carries its load, a changed entry replaces
// it, a stopping role leaves it, and a role without a public URL removes
// it.
func TestSetEdge(t *testing.T) {
	n := openTestNode(t, t.TempDir())
	defer n.Close()
	waitEdges := func(what string, ok func([]*model.Edge) bool) []*model.Edge {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			edges, err := n.Edges()
			if err == nil && ok(edges) {
				return edges
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: edges = %v, %v", what, edges, err)
			}
			time.Sleep(20 * time.Millisecond) // poll interval
		}
	}
	load := func() EdgeLoad { return EdgeLoad{RequestsPerSec: 2, BytesPerSec: 3000} }
	remove := n.SetEdge(model.Edge{PublicURL: "https://e.example/", Region: "eu", Coverage: []string{"10.1.2.3/16"}}, load)
	edges := waitEdges("registered", func(es []*model.Edge) bool { return len(es) == 1 })
	if e := edges[0]; e.ID != n.ID() || e.PublicURL != "https://e.example" || !slices.Equal(e.Coverage, []string{"10.1.0.0/16"}) {
		t.Fatalf("entry = %+v", e)
	}
	views, err := n.EdgeViews()
	if err != nil || len(views) != 1 || !views[0].Known || !views[0].Healthy || views[0].Load.BytesPerSec != 3000 {
		t.Fatalf("views = %+v, %v", views, err)
	}
	if st := n.LocalStatus(); st.EdgeLoad == nil || st.EdgeLoad.RequestsPerSec != 2 {
		t.Fatalf("status load = %+v", st.EdgeLoad)
	}

	// A reload's role takes over with new coverage; the old one's removal
	// leaves the new source in place.
	remove2 := n.SetEdge(model.Edge{PublicURL: "https://e.example", Coverage: []string{"192.0.2.0/24"}}, load)
	remove()
	waitEdges("replaced", func(es []*model.Edge) bool {
		return len(es) == 1 && slices.Equal(es[0].Coverage, []string{"192.0.2.0/24"})
	})
	// A stopping role leaves the entry: a restarting edge stays the
	// viewers' edge.
	remove2()
	if st := n.LocalStatus(); st.EdgeLoad != nil {
		t.Fatalf("load reported with no edge role: %+v", st.EdgeLoad)
	}
	if err := n.registerEdge(t.Context()); err != nil {
		t.Fatal(err)
	}
	if edges, _ := n.Edges(); len(edges) != 1 {
		t.Fatalf("a stopped role removed the entry: %v", edges)
	}
	// A role without a public URL removes it.
	defer n.SetEdge(model.Edge{}, nil)()
	waitEdges("removed", func(es []*model.Edge) bool { return len(es) == 0 })
}
