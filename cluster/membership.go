package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// startBackground runs a node's background work: on a multi-node cluster,
// asking to join until it is in the configuration; on every node, keeping
// its entry in the member registry current.
func (n *Node) startBackground() {
	if n.cfg.Cluster != nil {
		n.bg.Add(1)
		go func() {
			defer n.bg.Done()
			n.joinLoop()
		}()
	}
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		n.registerLoop()
	}()
	if n.cfg.Cluster != nil {
		n.bg.Add(1)
		go func() {
			defer n.bg.Done()
			n.levelLoop()
		}()
	}
}

// inConfiguration reports whether this node is in the Raft configuration
// it knows.
func (n *Node) inConfiguration() bool {
	f := n.c().raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(n.id) {
			return true
		}
	}
	return false
}

// joinTargets are the peers to ask for membership, and whether asking is
// needed: the node is missing from the configuration, or is in it under an
// address it no longer has (it restarted on another port or host). Besides
// the configured Join list, the configuration's other servers are asked:
// a restarted member needs no Join list to come back.
func (n *Node) joinTargets() ([]string, bool) {
	targets := n.joinList()
	f := n.c().raft.GetConfiguration()
	if f.Error() != nil {
		return targets, true
	}
	needed := true
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(n.id) {
			needed = s.Address != n.addr
			continue
		}
		if !slices.Contains(targets, string(s.Address)) {
			targets = append(targets, string(s.Address))
		}
	}
	return targets, needed
}

// joinList is a copy of the configured Join list.
func (n *Node) joinList() []string {
	n.joinMu.Lock()
	defer n.joinMu.Unlock()
	return slices.Clone(n.cfg.Cluster.Join)
}

// joinLoop asks peers to add this node until the node sees itself in the
// configuration under its current address.
func (n *Node) joinLoop() {
	wait := 200 * time.Millisecond
	for {
		join, needed := n.joinTargets()
		if !needed || len(join) == 0 {
			return
		}
		for _, peer := range join {
			if peer == string(n.addr) {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := n.askToJoin(ctx, peer)
			cancel()
			if err == nil {
				n.log.Info("joined the cluster", "via", peer)
				break
			}
			n.log.Debug("join attempt failed", "via", peer, "error", err)
		}
		select {
		case <-n.stop:
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (n *Node) askToJoin(ctx context.Context, peer string) error {
	resp, err := n.postJSON(ctx, peer, "/rpc/join", joinRequest{ID: n.id, Addr: string(n.addr), Voter: n.cfg.Cluster.Voter})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// AddPeer adds a node to the Raft configuration, through the leader. A
// node already there under the same address and suffrage is left alone;
// under another address its entry is updated; another node's entry at the
// same address is replaced.
func (n *Node) AddPeer(ctx context.Context, id, addr string, voter bool) error {
	if n.c().raft.State() != raft.Leader {
		leader, _ := n.c().raft.LeaderWithID()
		if leader == "" || n.rpc == nil {
			return ErrNotLeader
		}
		resp, err := n.postJSON(ctx, string(leader), "/rpc/join", joinRequest{ID: id, Addr: addr, Voter: voter})
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			return fmt.Errorf("leader refused the join: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
		}
		return nil
	}
	f := n.c().raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	want := raft.Nonvoter
	if voter {
		want = raft.Voter
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(id) && s.Address == raft.ServerAddress(addr) && s.Suffrage == want {
			// Added already (a retry, or a second asker): answer on the
			// same terms as the first time.
			n.waitConfigured(ctx, ConfigServer{ID: id, Addr: addr, Voter: voter})
			return nil
		}
		// The same node under a new address keeps its entry: AddVoter and
		// AddNonvoter update the address in place (and AddVoter promotes a
		// non-voter). Removing it first would make a leader that restarted
		// on a new port and won the election remove itself and shut its
		// Raft down for good (kill -9 in TestMetadataAPILinearizable).
		sameNode := s.ID == raft.ServerID(id)
		demote := sameNode && s.Suffrage == raft.Voter && want == raft.Nonvoter
		if !sameNode && s.Address == raft.ServerAddress(addr) || demote {
			if demote && id == n.id {
				// A leader cannot demote itself; another leader will.
				if err := n.c().raft.LeadershipTransfer().Error(); err != nil {
					return fmt.Errorf("hand over leadership before demoting %s: %w", id, err)
				}
				return fmt.Errorf("%w: leadership handed over; ask again", ErrNotLeader)
			}
			if err := n.c().raft.RemoveServer(s.ID, 0, 0).Error(); err != nil {
				return fmt.Errorf("replace %s: %w", s.ID, err)
			}
		}
	}
	var add raft.IndexFuture
	if voter {
		add = n.c().raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, 0)
	} else {
		add = n.c().raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, 0)
	}
	if err := add.Error(); err != nil {
		return fmt.Errorf("add %s: %w", id, err)
	}
	n.log.Info("node added to the cluster", "id", id, "addr", addr, "voter", voter)
	n.waitConfigured(ctx, ConfigServer{ID: id, Addr: addr, Voter: voter})
	return nil
}

// configWait bounds how long a join waits for the voters to hold the new
// configuration before it answers anyway.
const configWait = 5 * time.Second

// waitConfigured waits until every voter that answers holds a
// configuration with srv in it, or configWait passes. A configuration is
// committed once a majority holds it, and hashicorp/raft refuses a vote to
// a server missing from the voter's own configuration (hashicorp/raft#526).
// So if the leader died right after adding c while b still lacked the
// entry, b refused c and c refused b (its log was ahead), and the cluster
// stayed leaderless until the old leader came back: seen in
// TestLeaderLossAndRestart under CPU load. Answering the join only once
// every voter has the entry closes that window for an operator who stops
// the leader after a join.
func (n *Node) waitConfigured(ctx context.Context, srv ConfigServer) {
	if n.rpc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, configWait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		behind := n.votersBehind(ctx, srv)
		if len(behind) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			n.log.Warn("answering a join before every voter holds the new configuration", "id", srv.ID, "behind", behind)
			return
		case <-tick.C:
		}
	}
}

// votersBehind names the voters other than this node that answer and hold
// a configuration without srv. A voter that does not answer is not waited
// for: it learns the configuration when it returns.
func (n *Node) votersBehind(ctx context.Context, srv ConfigServer) []string {
	f := n.c().raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	var (
		mu     sync.Mutex
		behind []string
		wg     sync.WaitGroup
	)
	for _, s := range f.Configuration().Servers {
		if s.Suffrage != raft.Voter || s.ID == raft.ServerID(n.id) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := n.peerStatus(ctx, string(s.Address), StatusOptions{})
			if err != nil || slices.Contains(st.Configuration, srv) {
				return
			}
			mu.Lock()
			behind = append(behind, string(s.ID))
			mu.Unlock()
		}()
	}
	wg.Wait()
	return behind
}

// RemovePeer removes a node from the Raft configuration and the member
// registry, through the leader.
func (n *Node) RemovePeer(ctx context.Context, id string) error {
	if n.c().raft.State() != raft.Leader {
		leader, _ := n.c().raft.LeaderWithID()
		if leader == "" || n.rpc == nil {
			return ErrNotLeader
		}
		resp, err := n.postJSON(ctx, string(leader), "/rpc/remove", map[string]string{"id": id})
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			return fmt.Errorf("leader refused the removal: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
		}
		return nil
	}
	if _, err := n.Apply(ctx, &command.RemoveMember{Stamp: command.Stamp{At: time.Now().UTC()}, ID: id}); err != nil {
		return fmt.Errorf("remove %s from the registry: %w", id, err)
	}
	if err := n.c().raft.RemoveServer(raft.ServerID(id), 0, 0).Error(); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	n.log.Info("node removed from the cluster", "id", id)
	return nil
}

// Leave removes this node from the cluster. The node stops taking part in
// Raft; its operator stops the process afterwards.
func (n *Node) Leave(ctx context.Context) error {
	return n.RemovePeer(ctx, n.id)
}

// member is this node's registry entry as it should be.
func (n *Node) member() model.Member {
	m := model.Member{ID: n.id, Roles: slices.Clone(n.cfg.Roles), ClusterAddr: string(n.addr), Voter: true}
	if m.Roles == nil {
		m.Roles = []string{}
	}
	if cc := n.cfg.Cluster; cc != nil {
		m.HTTPURL, m.Voter = cc.HTTPURL, cc.Voter
	}
	return m
}

// registerLoop keeps this node's registry entry current: at start, after
// joining, and whenever it differs (a new address, new roles); and its
// edge entry, at once when the edge role sets it (SetEdge).
func (n *Node) registerLoop() {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	// Close waits for this loop: a write in flight gives up when it starts.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-n.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		if err := n.Register(ctx); err != nil {
			n.log.Debug("register in the member registry", "error", err)
		} else if err := n.registerEdge(ctx); err != nil {
			n.log.Debug("register in the edge registry", "error", err)
		}
		select {
		case <-n.stop:
			return
		case <-t.C:
		case <-n.edgeKick:
		}
	}
}

// Register writes this node's registry entry if it is missing or stale.
func (n *Node) Register(ctx context.Context) error {
	if !n.inConfiguration() {
		return errors.New("not in the cluster yet")
	}
	want := n.member()
	members, err := n.c().store.Members()
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.ID == want.ID && m.ClusterAddr == want.ClusterAddr && m.HTTPURL == want.HTTPURL &&
			m.Voter == want.Voter && slices.Equal(m.Roles, want.Roles) {
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = n.Apply(ctx, &command.RegisterMember{Stamp: command.Stamp{At: time.Now().UTC()}, Member: want})
	return err
}

// Disk is a file system's size and use.
type Disk struct {
	Path       string `json:"path"`
	TotalBytes uint64 `json:"total_bytes"`
	FreeBytes  uint64 `json:"free_bytes"`
	UsedBytes  uint64 `json:"used_bytes"`
}

// Status is one node's view of itself.
type Status struct {
	ID           string   `json:"id"`
	Roles        []string `json:"roles"`
	Addr         string   `json:"addr"`
	HTTPURL      string   `json:"http_url,omitempty"`
	State        string   `json:"state"`
	Voter        bool     `json:"voter"`
	Leader       string   `json:"leader"`
	Term         uint64   `json:"term"`
	AppliedIndex uint64   `json:"applied_index"`
	CommitIndex  uint64   `json:"commit_index"`
	LastIndex    uint64   `json:"last_log_index"`
	// Configuration is the newest cluster configuration this node holds,
	// committed or not.
	Configuration []ConfigServer `json:"configuration,omitempty"`
	Healthy       bool           `json:"healthy"`
	Problem       string         `json:"problem,omitempty"`
	Disk          *Disk          `json:"disk,omitempty"`
	// StateHash digests the replicated state, when asked for (it reads
	// the whole store).
	StateHash string `json:"state_hash,omitempty"`
	// CommandLevel is the command set this node's build understands
	// (command.Level); builds from before levels report none.
	CommandLevel uint8 `json:"command_level,omitempty"`
	// EdgeCache is an edge's recent cache figures, when asked for.
	EdgeCache *CacheHistory `json:"edge_cache,omitempty"`
	// EdgeLoad is what an edge served lately (edges.go), for choosing
	// among edges.
	EdgeLoad *EdgeLoad `json:"edge_load,omitempty"`
}

// ConfigServer is one server of a Raft configuration.
type ConfigServer struct {
	ID    string `json:"id"`
	Addr  string `json:"addr"`
	Voter bool   `json:"voter"`
}

// LocalStatus describes this node.
func (n *Node) LocalStatus() Status {
	leaderID, _ := n.Leader()
	stats := n.c().raft.Stats()
	st := Status{
		ID: n.id, Roles: n.member().Roles, Addr: string(n.addr), HTTPURL: n.member().HTTPURL,
		State: n.c().raft.State().String(), Voter: n.member().Voter, Leader: leaderID,
		AppliedIndex: n.c().raft.AppliedIndex(), CommitIndex: n.c().raft.CommitIndex(), LastIndex: n.c().raft.LastIndex(),
		Healthy: true, CommandLevel: command.Level, EdgeLoad: n.edgeLoad(),
	}
	fmt.Sscan(stats["term"], &st.Term)
	if f := n.c().raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			st.Configuration = append(st.Configuration, ConfigServer{ID: string(s.ID), Addr: string(s.Address), Voter: s.Suffrage == raft.Voter})
		}
	}
	if err := n.Ready(); err != nil {
		st.Healthy, st.Problem = false, err.Error()
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(n.cfg.DataDir, &fs); err == nil {
		total := fs.Blocks * uint64(fs.Bsize)
		free := fs.Bavail * uint64(fs.Bsize)
		st.Disk = &Disk{Path: n.cfg.DataDir, TotalBytes: total, FreeBytes: free, UsedBytes: total - fs.Bfree*uint64(fs.Bsize)}
	}
	return st
}

// ClusterStatus asks every server in the Raft configuration for its status,
// at once; a server that does not answer within the timeout is shown as
// unreachable. withHash adds each node's state hash.
func (n *Node) ClusterStatus(ctx context.Context, withHash bool) ([]Status, error) {
	return n.ClusterStatusWith(ctx, StatusOptions{Hash: withHash})
}

// localStatus is LocalStatus with what opts asks for.
func (n *Node) localStatus(opts StatusOptions) Status {
	st := n.LocalStatus()
	if opts.Hash {
		st.StateHash, _ = n.StateHash()
	}
	if opts.History {
		st.EdgeCache = n.cacheHistory()
	}
	return st
}

// ClusterStatusWith is ClusterStatus with what opts asks for.
func (n *Node) ClusterStatusWith(ctx context.Context, opts StatusOptions) ([]Status, error) {
	f := n.c().raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	servers := f.Configuration().Servers
	members, _ := n.c().store.Members()
	byID := map[string]*model.Member{}
	for _, m := range members {
		byID[m.ID] = m
	}
	out := make([]Status, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		if s.ID == raft.ServerID(n.id) {
			out[i] = n.localStatus(opts)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := n.peerStatus(ctx, string(s.Address), opts)
			if err != nil {
				st = Status{ID: string(s.ID), Addr: string(s.Address), State: "unreachable", Problem: err.Error(),
					Voter: s.Suffrage == raft.Voter}
				if m := byID[st.ID]; m != nil {
					st.Roles, st.HTTPURL = m.Roles, m.HTTPURL
				}
			}
			out[i] = st
		}()
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (n *Node) peerStatus(ctx context.Context, addr string, opts StatusOptions) (Status, error) {
	if n.rpc == nil {
		return Status{}, errors.New("no cluster port")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	q := url.Values{}
	if opts.Hash {
		q.Set("hash", "1")
	}
	if opts.History {
		q.Set("history", "1")
	}
	u := "http://" + addr + "/rpc/status"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Status{}, err
	}
	resp, err := n.rpc.Do(req)
	if err != nil {
		return Status{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Status{}, fmt.Errorf("status: %s", resp.Status)
	}
	var st Status
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// JoinCluster makes this node a member of the cluster whose node answers at
// addr. Only a node that holds nothing yet can: it was started on its own
// (and so bootstrapped a cluster of itself) and is now told where it
// belongs. Its own one-node Raft state is discarded and it asks addr to add
// it; a node with videos or jobs refuses, because Raft cannot merge two
// histories and the other cluster's would overwrite them.
func (n *Node) JoinCluster(ctx context.Context, addr string) error {
	if n.mux == nil {
		return errors.New("this node has no cluster port: give the strata option a cluster block first")
	}
	n.resetMu.Lock()
	defer n.resetMu.Unlock()
	c := n.c()
	f := c.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	for _, s := range f.Configuration().Servers {
		if string(s.Address) == addr {
			return errors.New("this node is already in that cluster")
		}
	}
	if servers := len(f.Configuration().Servers); servers > 1 {
		return fmt.Errorf("this node is already in a cluster of %d servers; remove it from that cluster first", servers)
	}
	if vs, _, err := c.store.ListVideos("", 1, nil); err != nil || len(vs) > 0 {
		return fmt.Errorf("this node holds videos; only an empty node can join another cluster (%v)", err)
	}
	if js, err := c.store.Jobs(nil); err != nil || len(js) > 0 {
		return fmt.Errorf("this node holds jobs; only an empty node can join another cluster (%v)", err)
	}
	n.log.Info("discarding this node's own one-node cluster to join another", "via", addr)
	if err := c.close(); err != nil {
		n.log.Warn("closing the old state", "error", err)
	}
	for _, p := range []string{"raft", "fsm.db", "index"} {
		if err := os.RemoveAll(filepath.Join(n.cfg.DataDir, p)); err != nil {
			return fmt.Errorf("discard %s: %w", p, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(n.cfg.DataDir, "raft"), 0o750); err != nil {
		return err
	}
	n.joinMu.Lock()
	n.cfg.Cluster.Join = []string{addr}
	n.joinMu.Unlock()
	nc, err := n.openCore()
	if err != nil {
		return fmt.Errorf("reopen to join: %w", err)
	}
	n.core.Store(nc)
	// The join loop keeps asking in the background should this call give
	// up (its context ends) before the leader adds the node.
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		n.joinLoop()
	}()
	// Ask until the leader answers, which it does once every voter that
	// answers holds the configuration with this node (waitConfigured),
	// and until this node sees itself in it.
	for {
		err := n.askToJoin(ctx, addr)
		if err == nil && n.inConfiguration() {
			n.log.Info("joined the cluster", "via", addr)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("asked %s to join; not in its configuration yet: %w (%v)", addr, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// PeerAddr is the cluster address of a server in the Raft configuration,
// or "" when it is not there. It answers before the member registry does,
// for a node that has just joined.
func (n *Node) PeerAddr(id string) string {
	f := n.c().raft.GetConfiguration()
	if f.Error() != nil {
		return ""
	}
	for _, s := range f.Configuration().Servers {
		if string(s.ID) == id {
			return string(s.Address)
		}
	}
	return ""
}
