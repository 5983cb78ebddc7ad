package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/logs"
)

// NodeLogs is what one node answered to a log query.
type NodeLogs struct {
	ID string `json:"id"`
	// Count is the number of its entries in the answer.
	Count int `json:"count"`
	// Problem says why the node did not answer ("" when it did).
	Problem string `json:"problem,omitempty"`
}

// LogsView is the cluster-wide log view: the entries of every node asked,
// merged by time (oldest first), the newest filter.Limit of them.
type LogsView struct {
	Entries []logs.Entry `json:"entries"`
	Nodes   []NodeLogs   `json:"nodes"`
}

// logRing is the ring this node serves: its config's, or the process's.
func (n *Node) logRing() *logs.Ring {
	if n.cfg.LogRing != nil {
		return n.cfg.LogRing
	}
	return logs.Default
}

// LocalLogs are this node's entries matching f, stamped with its ID.
func (n *Node) LocalLogs(f logs.Filter) []logs.Entry {
	out := n.logRing().Entries(f)
	for i := range out {
		out[i].Node = n.id
	}
	return out
}

// Logs gathers the entries matching f from every member of the Raft
// configuration (only from node when it is not ""), in parallel, each
// bounded by a short timeout: a node that does not answer is listed with
// its problem, and the others' entries are still shown.
func (n *Node) Logs(ctx context.Context, node string, f logs.Filter) (LogsView, error) {
	cfg := n.c().raft.GetConfiguration()
	if err := cfg.Error(); err != nil {
		return LogsView{}, fmt.Errorf("raft configuration: %w", err)
	}
	var servers []raft.Server
	for _, s := range cfg.Configuration().Servers {
		if node == "" || string(s.ID) == node {
			servers = append(servers, s)
		}
	}
	if node != "" && len(servers) == 0 {
		return LogsView{}, fmt.Errorf("%w: node %s", ErrUnknownNode, node)
	}
	view := LogsView{Nodes: make([]NodeLogs, len(servers))}
	parts := make([][]logs.Entry, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		if string(s.ID) == n.id {
			parts[i] = n.LocalLogs(f)
			view.Nodes[i] = NodeLogs{ID: n.id, Count: len(parts[i])}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			es, err := n.peerLogs(ctx, string(s.Address), f)
			view.Nodes[i] = NodeLogs{ID: string(s.ID), Count: len(es)}
			if err != nil {
				view.Nodes[i].Problem = err.Error()
			}
			parts[i] = es
		}()
	}
	wg.Wait()
	for _, p := range parts {
		view.Entries = append(view.Entries, p...)
	}
	slices.SortStableFunc(view.Entries, func(a, b logs.Entry) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Node, b.Node), cmp.Compare(a.Seq, b.Seq))
	})
	if f.Limit > 0 && len(view.Entries) > f.Limit {
		view.Entries = view.Entries[len(view.Entries)-f.Limit:]
	}
	// Count what is shown of each node, after the cut.
	shown := map[string]int{}
	for _, e := range view.Entries {
		shown[e.Node]++
	}
	for i := range view.Nodes {
		view.Nodes[i].Count = shown[view.Nodes[i].ID]
	}
	slices.SortFunc(view.Nodes, func(a, b NodeLogs) int { return cmp.Compare(a.ID, b.ID) })
	if view.Entries == nil {
		view.Entries = []logs.Entry{}
	}
	return view, nil
}

// ErrUnknownNode is Logs' answer for a node not in the cluster.
var ErrUnknownNode = errors.New("no such node")

func (n *Node) peerLogs(ctx context.Context, addr string, f logs.Filter) ([]logs.Entry, error) {
	if n.rpc == nil {
		return nil, errors.New("no cluster port")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/rpc/logs?"+f.Values().Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := n.rpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("logs: %s", resp.Status)
	}
	var es []logs.Entry
	if err := json.NewDecoder(resp.Body).Decode(&es); err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	return es, nil
}

// rpcLogs is GET /rpc/logs?level=&q=&limit=: this node's entries.
func (n *Node) rpcLogs(w http.ResponseWriter, r *http.Request) {
	f, err := logs.ParseFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	es := n.LocalLogs(f)
	if es == nil {
		es = []logs.Entry{}
	}
	writeJSON(w, http.StatusOK, es)
}
