package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

// The edge registry. An edge role tells its node where viewers reach it
// (SetEdge); the node keeps that entry current in the replicated store the
// way it keeps its member entry (registerLoop), so origins choose edges
// from their own replica. Health and load are not replicated: they change
// by the second, and writing them through Raft would cost every node a
// log entry per edge per tick. They travel in the nodes' statuses, which
// every clustered node already asks its peers for every few seconds
// (levelLoop); the origin reads the last answers.

// EdgeHeader names the edge on the requests it sends upstream to fill its
// cache. An origin that rewrites a manifest for content steering makes
// that edge the first pathway: the copy an edge caches is the one its own
// viewers start from.
const EdgeHeader = "Strata-Edge"

// EdgeLoad is how busy an edge is: what it served over the last complete
// sampling step (a minute).
type EdgeLoad struct {
	RequestsPerSec float64 `json:"requests_per_sec"`
	BytesPerSec    float64 `json:"bytes_per_sec"`
}

// edgeSource is what the running edge role says of itself.
type edgeSource struct {
	// entry is the registry entry wanted; its PublicURL is "" when the
	// role runs without one (then no entry should exist).
	entry model.Edge
	load  func() EdgeLoad
}

// statusSnapshot is the cluster status as last asked.
type statusSnapshot struct {
	at  time.Time
	sts []Status
}

// statusStale is how old a remembered status may be and still count: a
// few refreshes, so one slow round does not mark edges unknown.
const statusStale = 4 * levelRefresh

// SetEdge makes entry this node's wanted edge registry entry and load its
// load figure, until the returned function is called. An entry without a
// public URL asks for the node's entry to be removed. A later call takes
// over (a reloaded config's edge role from the old one). Removing the
// source, as a stopping role does, leaves the replicated entry alone: a
// restarting edge is still the viewers' edge.
func (n *Node) SetEdge(entry model.Edge, load func() EdgeLoad) (remove func()) {
	entry.ID = n.id
	src := &edgeSource{entry: entry, load: load}
	n.edge.Store(src)
	// Register at once rather than at the register loop's next tick.
	select {
	case n.edgeKick <- struct{}{}:
	default:
	}
	return func() { n.edge.CompareAndSwap(src, nil) }
}

// edgeLoad is this node's edge load, or nil when it runs no edge role.
func (n *Node) edgeLoad() *EdgeLoad {
	if src := n.edge.Load(); src != nil && src.load != nil {
		l := src.load()
		return &l
	}
	return nil
}

// registerEdge writes, replaces or removes this node's edge entry when it
// differs from what the edge role wants. It waits for the whole cluster
// to understand edge commands (an older build would stop on them).
func (n *Node) registerEdge(ctx context.Context) error {
	src := n.edge.Load()
	if src == nil || !n.inConfiguration() {
		return nil
	}
	n.edgeMu.Lock()
	defer n.edgeMu.Unlock()
	want := src.entry
	if want.PublicURL != "" {
		if err := store.CheckEdge(&want); err != nil {
			return fmt.Errorf("edge entry: %w", err)
		}
	}
	edges, err := n.c().store.Edges()
	if err != nil {
		return err
	}
	var have *model.Edge
	for _, e := range edges {
		if e.ID == n.id {
			have = e
		}
	}
	var c command.Command
	switch {
	case want.PublicURL == "" && have == nil:
		return nil
	case want.PublicURL == "":
		c = &command.RemoveEdge{Stamp: command.Stamp{At: time.Now().UTC()}, ID: n.id}
	case have != nil && have.PublicURL == want.PublicURL && have.Region == want.Region && slices.Equal(have.Coverage, want.Coverage):
		return nil
	default:
		c = &command.SetEdge{Stamp: command.Stamp{At: time.Now().UTC()}, Edge: want}
	}
	if err := n.checkLevel(c); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = n.Apply(ctx, c)
	return err
}

// Edges lists the edge registry, sorted by ID.
func (n *Node) Edges() ([]*model.Edge, error) { return n.c().store.Edges() }

// EdgeView is a registered edge with what its status last said.
type EdgeView struct {
	model.Edge
	// Known says a recent status was heard (or refused): Healthy and
	// Load mean something.
	Known   bool
	Healthy bool
	Load    EdgeLoad
}

// EdgeViews are the registered edges with their health and load as this
// node last heard them. An edge with no recent status is not Known; an
// unreachable one is Known and not Healthy.
func (n *Node) EdgeViews() ([]EdgeView, error) {
	edges, err := n.Edges()
	if err != nil {
		return nil, err
	}
	byID := map[string]Status{}
	if snap := n.statuses.Load(); snap != nil && time.Since(snap.at) < statusStale {
		for _, st := range snap.sts {
			byID[st.ID] = st
		}
	}
	out := make([]EdgeView, 0, len(edges))
	for _, e := range edges {
		v := EdgeView{Edge: *e}
		st, ok := byID[e.ID]
		if e.ID == n.id {
			st, ok = n.LocalStatus(), true
		}
		if ok {
			v.Known = true
			v.Healthy = st.Healthy && st.State != "unreachable"
			if st.EdgeLoad != nil {
				v.Load = *st.EdgeLoad
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// noteStatuses remembers a round of statuses for EdgeViews.
func (n *Node) noteStatuses(sts []Status) {
	n.statuses.Store(&statusSnapshot{at: time.Now(), sts: sts})
}
