package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stratavideo/strata/cluster/logs"
)

// TestLogsGatheredFromEveryNode runs three nodes, each logging into a
// ring of its own, and reads the cluster's log view from a follower: the
// entries of all three, merged by time, with their node; then filtered
// by level, text and node; then with one node gone, whose problem is
// listed while the others' entries still come.
func TestLogsGatheredFromEveryNode(t *testing.T) {
	tc := newTestCluster(t)
	rings := map[string]*logs.Ring{}
	withRing := func(id string) func(*NodeConfig) {
		rings[id] = logs.NewRing(100)
		return func(c *NodeConfig) { c.LogRing = rings[id] }
	}
	tc.start("a", true, withRing("a"))
	tc.start("b", true, withRing("b"))
	tc.start("c", false, withRing("c"))
	tc.waitMembers("a", "b", "c")

	base := time.Now()
	for i, id := range []string{"c", "a", "b"} {
		log := zap.New(logs.NewCore(rings[id]))
		at := base.Add(time.Duration(i) * time.Millisecond)
		log.Check(zapcore.InfoLevel, "hello from "+id).Write()
		ce := log.Check(zapcore.ErrorLevel, "trouble on "+id)
		ce.Time = at.Add(10 * time.Millisecond)
		ce.Write(zap.String("request_id", "req-"+id))
	}
	follower := tc.nodes["b"]
	if follower.IsLeader() {
		follower = tc.nodes["c"]
	}
	ctx := context.Background()

	// A node that just joined learns the configuration listing all three
	// a moment after the others: ask until it does.
	var view LogsView
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		view, err = follower.Logs(ctx, "", logs.Filter{Query: "trouble", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(view.Nodes) == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var order []string
	for _, e := range view.Entries {
		order = append(order, e.Node+":"+e.Message)
	}
	want := []string{"c:trouble on c", "a:trouble on a", "b:trouble on b"}
	if len(order) != 3 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Fatalf("entries %v, want %v (merged by time); nodes %+v", order, want, view.Nodes)
	}
	if len(view.Nodes) != 3 || view.Nodes[0].ID != "a" || view.Nodes[0].Count != 1 || view.Nodes[2].Problem != "" {
		t.Fatalf("nodes %+v", view.Nodes)
	}
	if view.Entries[0].Fields["request_id"] != "req-c" {
		t.Fatalf("fields of c's entry: %v", view.Entries[0].Fields)
	}

	view, err = follower.Logs(ctx, "", logs.Filter{Level: zapcore.ErrorLevel, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Entries) != 2 || view.Entries[0].Node != "a" || view.Entries[1].Node != "b" {
		t.Fatalf("errors, the newest 2: %+v", view.Entries)
	}
	view, err = follower.Logs(ctx, "c", logs.Filter{Query: "hello", Limit: 10})
	if err != nil || len(view.Entries) != 1 || view.Entries[0].Node != "c" || len(view.Nodes) != 1 {
		t.Fatalf("node c only: %+v %v", view, err)
	}
	if _, err := follower.Logs(ctx, "nobody", logs.Filter{}); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("an unknown node: %v", err)
	}

	// An edge that went away: listed with its problem, the others shown.
	asker := tc.nodes["a"]
	tc.stop("c")
	view, err = asker.Logs(ctx, "", logs.Filter{Query: "trouble", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Entries) != 2 || len(view.Nodes) != 3 || view.Nodes[2].ID != "c" || view.Nodes[2].Problem == "" {
		t.Fatalf("with c down: %+v", view)
	}
}
