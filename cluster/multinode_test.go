package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

const testKey = "a cluster key for the tests only"

type testCluster struct {
	t     *testing.T
	base  string
	nodes map[string]*Node
	dirs  map[string]string
	// logs keeps the nodes' logs (Raft's included), printed if the test
	// fails: a rare failure is explained by them or not at all.
	logs *tailLog
}

// tailLog keeps the last max bytes written to it.
type tailLog struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (l *tailLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if over := len(l.buf) - l.max; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
	return len(p), nil
}

func (l *tailLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

func newTestCluster(t *testing.T) *testCluster {
	// The folder is made before the cleanup that closes the nodes is
	// registered, so it is removed after they are closed (cleanups run last
	// first); removed under them, the search index cannot write its last
	// batch and Close waits out its bound.
	tc := &testCluster{t: t, base: t.TempDir(), nodes: map[string]*Node{}, dirs: map[string]string{},
		logs: &tailLog{max: 256 << 10}}
	t.Cleanup(func() {
		for _, n := range tc.nodes {
			n.Close()
		}
		if t.Failed() {
			t.Logf("the nodes' last logs:\n%s", tc.logs)
		}
	})
	return tc
}

// start opens node id; the first node bootstraps, the others join it.
func (tc *testCluster) start(id string, voter bool, tune func(*NodeConfig)) *Node {
	tc.t.Helper()
	dir, ok := tc.dirs[id]
	if !ok {
		dir = filepath.Join(tc.base, id)
		tc.dirs[id] = dir
	}
	cfg := DefaultNodeConfig(dir)
	cfg.NodeID = id
	cfg.NoSync = true
	cfg.HeartbeatTimeout = 300 * time.Millisecond
	cfg.ElectionTimeout = 300 * time.Millisecond
	cfg.Roles = []string{"origin"}
	if !voter {
		cfg.Roles = []string{"edge"}
	}
	var join []string
	for _, n := range tc.nodes {
		join = append(join, n.Addr())
	}
	slices.Sort(join)
	cfg.Cluster = &ClusterConfig{Listen: "127.0.0.1:0", Key: testKey, Join: join, Voter: voter, HTTPURL: "http://" + id + ".test"}
	cfg.Logger = slog.New(slog.NewTextHandler(tc.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", id)
	if tune != nil {
		tune(&cfg)
	}
	n, err := OpenNode(cfg)
	if err != nil {
		tc.t.Fatalf("open %s: %v", id, err)
	}
	tc.nodes[id] = n
	return n
}

func (tc *testCluster) stop(id string) {
	tc.t.Helper()
	if err := tc.nodes[id].Close(); err != nil {
		tc.t.Logf("close %s: %v", id, err)
	}
	delete(tc.nodes, id)
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

func (tc *testCluster) leader() *Node {
	for _, n := range tc.nodes {
		if n.IsLeader() {
			return n
		}
	}
	return nil
}

// waitMembers waits until the leader's configuration has exactly ids.
func (tc *testCluster) waitMembers(ids ...string) {
	tc.t.Helper()
	slices.Sort(ids)
	eventually(tc.t, 20*time.Second, fmt.Sprintf("configuration %v", ids), func() error {
		if tc.leader() == nil {
			return errors.New("no leader")
		}
		// Every node, not only the leader: hashicorp/raft refuses votes
		// from a server missing from the voter's own configuration, so a
		// follower that has not yet received the entry adding the last
		// member, left alone with that member once the leader goes,
		// elects nobody until the leader returns (seen under load).
		for id, n := range tc.nodes {
			if got := configurationOf(n); !slices.Equal(got, ids) {
				return fmt.Errorf("configuration on %s: %v", id, got)
			}
		}
		return nil
	})
}

// converged waits until every running node has the same state hash.
func (tc *testCluster) converged() string {
	tc.t.Helper()
	var h string
	eventually(tc.t, 20*time.Second, "replicas converge", func() error {
		hashes := map[string]string{}
		for id, n := range tc.nodes {
			s, err := n.StateHash()
			if err != nil {
				return err
			}
			hashes[id] = s
		}
		first := ""
		for _, s := range hashes {
			if first == "" {
				first = s
			} else if s != first {
				return fmt.Errorf("hashes differ: %v", hashes)
			}
		}
		h = first
		return nil
	})
	return h
}

func createVideo(t *testing.T, n *Node, id, title string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	at := command.Stamp{At: time.Now().UTC()}
	if _, err := n.Apply(ctx, &command.CreateVideo{Stamp: at, Video: model.Video{ID: id, Title: title}}); err != nil {
		t.Fatalf("create %s on %s: %v", id, n.ID(), err)
	}
	if _, err := n.Apply(ctx, &command.VideoReady{Stamp: at, ID: id, DurationS: 1}); err != nil {
		t.Fatalf("ready %s on %s: %v", id, n.ID(), err)
	}
}

func searchAll(t *testing.T, n *Node, q string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := n.Search(context.Background(), index.Query{Text: q, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestClusterFormsForwardsAndReplicates: three origins and an edge form a
// cluster; writes made on followers (and the non-voting edge) reach the
// leader; every node holds the same state and answers search alike.
func TestClusterFormsForwardsAndReplicates(t *testing.T) {
	tc := newTestCluster(t)
	tc.start("o1", true, nil)
	tc.start("o2", true, nil)
	tc.start("o3", true, nil)
	tc.start("e1", false, nil)
	tc.waitMembers("o1", "o2", "o3", "e1")

	for i, id := range []string{"o2", "o3", "e1", "o1"} {
		createVideo(t, tc.nodes[id], fmt.Sprintf("v%d", i), "Harbour lights "+id)
	}
	// A business error crosses the forward intact.
	follower := tc.nodes["o2"]
	if follower.IsLeader() {
		follower = tc.nodes["o3"]
	}
	_, err := follower.Apply(context.Background(), &command.UpdateVideo{Stamp: command.Stamp{At: time.Now()}, ID: "missing"})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("forwarded update of a missing video: %v, want ErrNotFound", err)
	}
	tc.converged()
	for id, n := range tc.nodes {
		if got := searchAll(t, n, "harbour"); !slices.Equal(got, []string{"v0", "v1", "v2", "v3"}) {
			t.Errorf("search on %s = %v", id, got)
		}
	}

	eventually(t, 20*time.Second, "every node registered", func() error {
		ms, err := tc.nodes["e1"].Members()
		if err != nil {
			return err
		}
		if len(ms) != 4 {
			return fmt.Errorf("%d members", len(ms))
		}
		for _, m := range ms {
			if m.Voter != (m.ID != "e1") || m.HTTPURL != "http://"+m.ID+".test" {
				return fmt.Errorf("member %+v", m)
			}
		}
		return nil
	})
	// The edge follows without a vote.
	f := tc.leader().c().raft.GetConfiguration()
	for _, s := range f.Configuration().Servers {
		if (s.ID == "e1") != (s.Suffrage == raft.Nonvoter) {
			t.Errorf("server %s has suffrage %v", s.ID, s.Suffrage)
		}
	}

	st, err := tc.nodes["o3"].ClusterStatus(context.Background(), true)
	if err != nil || len(st) != 4 {
		t.Fatalf("status: %v %+v", err, st)
	}
	leaders := 0
	for _, s := range st {
		if !s.Healthy || s.Disk == nil || s.AppliedIndex == 0 {
			t.Errorf("status of %s: %+v", s.ID, s)
		}
		if s.State == "Leader" {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("%d leaders in %+v", leaders, st)
	}

	// The edge's cache history travels over the cluster port, when asked.
	tc.nodes["e1"].SetCacheHistory(func() *CacheHistory { return &CacheHistory{StepSeconds: 60, MemHits: []int64{7}} })
	st, err = tc.nodes["o3"].ClusterStatusWith(context.Background(), StatusOptions{History: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if got := s.EdgeCache != nil && len(s.EdgeCache.MemHits) == 1 && s.EdgeCache.MemHits[0] == 7; got != (s.ID == "e1") {
			t.Errorf("history of %s: %+v", s.ID, s.EdgeCache)
		}
	}
	st, _ = tc.nodes["o3"].ClusterStatus(context.Background(), false)
	for _, s := range st {
		if s.EdgeCache != nil {
			t.Errorf("history of %s without asking: %+v", s.ID, s.EdgeCache)
		}
	}
}

// TestPartitionedFollowerCatchesUpFromSnapshot: a follower cut off while
// the others write past a log compaction comes back by snapshot, and its
// state and search results agree with the rest.
func TestPartitionedFollowerCatchesUpFromSnapshot(t *testing.T) {
	tc := newTestCluster(t)
	small := func(c *NodeConfig) {
		c.TrailingLogs = 10
		c.SnapshotThreshold = 1 << 30
	}
	tc.start("a", true, small)
	tc.start("b", true, small)
	tc.start("c", true, small)
	tc.waitMembers("a", "b", "c")
	createVideo(t, tc.leader(), "before", "Before the cut")
	tc.converged()

	var cut *Node
	for _, n := range tc.nodes {
		if !n.IsLeader() {
			cut = n
			break
		}
	}
	cut.mux.Isolate()
	leader := tc.leader()
	for i := range 40 {
		createVideo(t, leader, fmt.Sprintf("during-%02d", i), "Snowfall written while cut off")
	}
	if err := leader.Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if got := searchAll(t, cut, "snowfall"); len(got) != 0 {
		t.Fatalf("the cut-off node saw writes: %v", got)
	}
	cut.mux.Rejoin()
	tc.converged()
	want := searchAll(t, leader, "snowfall")
	if len(want) != 40 {
		t.Fatalf("leader search = %d hits", len(want))
	}
	if got := searchAll(t, cut, "snowfall"); !slices.Equal(got, want) {
		t.Fatalf("after healing, search on %s = %v, want %v", cut.ID(), got, want)
	}
	// The log it missed was compacted away, so it must have caught up by
	// installing the leader's snapshot. (Raft counts the install once the
	// restore returns, a moment after the store shows it: poll.)
	eventually(t, 5*time.Second, "caught up by a snapshot", func() error {
		if n := cut.Stats()["last_snapshot_index"]; n == "0" || n == "" {
			return fmt.Errorf("%s: last_snapshot_index %q, applied %s", cut.ID(), n, cut.Stats()["applied_index"])
		}
		return nil
	})
}

// TestLeaderLossAndRestart: with the leader gone the others elect a new one
// and take writes; the old leader, restarted on another port, rejoins under
// its new address and catches up.
func TestLeaderLossAndRestart(t *testing.T) {
	tc := newTestCluster(t)
	tc.start("a", true, nil)
	tc.start("b", true, nil)
	tc.start("c", true, nil)
	tc.waitMembers("a", "b", "c")
	old := tc.leader()
	oldID := old.ID()
	createVideo(t, old, "v1", "First")
	tc.stop(oldID)

	start := time.Now()
	eventually(t, 15*time.Second, "a new leader", func() error {
		if tc.leader() == nil {
			return errors.New("none yet")
		}
		return nil
	})
	t.Logf("new leader %s after %s", tc.leader().ID(), time.Since(start))
	for _, n := range tc.nodes {
		createVideo(t, n, "v2-"+n.ID(), "Second")
		break
	}
	back := tc.start(oldID, true, nil)
	eventually(t, 20*time.Second, "the old leader rejoins under its new address", func() error {
		f := tc.leader().c().raft.GetConfiguration()
		for _, s := range f.Configuration().Servers {
			if string(s.ID) == oldID && string(s.Address) == back.Addr() {
				return nil
			}
		}
		return errors.New("not yet")
	})
	tc.converged()
}

// TestLeaderUpdatesItsOwnAddress: a leader whose configuration entry names
// an old address (it restarted on a new port and won the election before
// its join went through) handles its own join by updating the entry, not
// by removing itself: before, RemoveServer made it shut its Raft down for
// good and every write on it failed with "no reachable leader".
func TestLeaderUpdatesItsOwnAddress(t *testing.T) {
	tc := newTestCluster(t)
	tc.start("a", true, nil)
	tc.start("b", true, nil)
	tc.start("c", true, nil)
	tc.waitMembers("a", "b", "c")
	l := tc.leader()
	// Make the leader's own entry stale, as after a restart on a new port.
	if err := l.c().raft.AddVoter(raft.ServerID(l.ID()), "127.0.0.1:1", 0, 0).Error(); err != nil {
		t.Fatal(err)
	}
	if err := l.AddPeer(context.Background(), l.ID(), l.Addr(), true); err != nil {
		t.Fatalf("the leader's own join: %v", err)
	}
	if st := l.c().raft.State(); st != raft.Leader {
		t.Fatalf("the leader is %s after its own join", st)
	}
	found := false
	for _, s := range l.c().raft.GetConfiguration().Configuration().Servers {
		if string(s.ID) == l.ID() {
			found = string(s.Address) == l.Addr() && s.Suffrage == raft.Voter
		}
	}
	if !found {
		t.Fatalf("configuration %+v lacks the leader at %s", l.c().raft.GetConfiguration().Configuration().Servers, l.Addr())
	}
	createVideo(t, l, "v1", "After the address change")
	tc.converged()
}

// TestConsistentReadOnFollower: a follower's read after ConsistentRead sees
// a write just acknowledged elsewhere.
func TestConsistentReadOnFollower(t *testing.T) {
	tc := newTestCluster(t)
	tc.start("a", true, nil)
	tc.start("b", true, nil)
	tc.start("c", true, nil)
	tc.waitMembers("a", "b", "c")
	leader := tc.leader()
	for i := range 20 {
		id := fmt.Sprintf("v%d", i)
		createVideo(t, leader, id, "x")
		for _, n := range tc.nodes {
			if n == leader {
				continue
			}
			if err := n.ConsistentRead(context.Background()); err != nil {
				t.Fatalf("consistent read on %s: %v", n.ID(), err)
			}
			if _, err := n.Video(id); err != nil {
				t.Fatalf("%s after a consistent read misses %s: %v", n.ID(), id, err)
			}
		}
	}
}

// TestRemoveNode: a removed node leaves the configuration and the registry.
func TestRemoveNode(t *testing.T) {
	tc := newTestCluster(t)
	tc.start("a", true, nil)
	tc.start("b", true, nil)
	tc.start("c", true, nil)
	tc.waitMembers("a", "b", "c")
	var victim string
	for id, n := range tc.nodes {
		if !n.IsLeader() {
			victim = id
		}
	}
	var other *Node
	for id, n := range tc.nodes {
		if id != victim {
			other = n
		}
	}
	// A follower may not know the leader yet right after the cluster
	// formed: retry while it says so.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := other.RemovePeer(context.Background(), victim)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNotLeader) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
	tc.stop(victim)
	var rest []string
	for id := range tc.nodes {
		rest = append(rest, id)
	}
	tc.waitMembers(rest...)
	eventually(t, 10*time.Second, "registry without the removed node", func() error {
		ms, _ := other.Members()
		for _, m := range ms {
			if m.ID == victim {
				return fmt.Errorf("%s still registered", victim)
			}
		}
		return nil
	})
}

// TestFreshNodeJoinsByCommand: a node started on its own (so it
// bootstrapped a cluster of itself) joins another cluster when told to, and
// a node that holds videos refuses to.
func TestFreshNodeJoinsByCommand(t *testing.T) {
	tc := newTestCluster(t)
	a := tc.start("a", true, nil)
	createVideo(t, a, "v1", "Already here")
	// b starts alone: no join list.
	tcB, b := startAlone(t, "b")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.JoinCluster(ctx, a.Addr()); err != nil {
		t.Fatalf("join: %v", err)
	}
	tc.adopt(tcB, "b")
	tc.waitMembers("a", "b")
	eventually(t, 10*time.Second, "b has a's video", func() error {
		_, err := b.Video("v1")
		return err
	})
	tc.converged()

	// c holds a video of its own and must refuse.
	_, c := startAlone(t, "c")
	createVideo(t, c, "mine", "Mine")
	if err := c.JoinCluster(ctx, a.Addr()); err == nil {
		t.Fatal("a node with videos joined another cluster")
	}
	if _, err := c.Video("mine"); err != nil {
		t.Fatalf("the refused join lost c's video: %v", err)
	}
}

// TestEditsReachEverySearchWithinASecond: an edit, a change of visibility
// and a delete applied through any node show in every node's search
// results within a second of the write's answer (issue 8's freshness).
func TestEditsReachEverySearchWithinASecond(t *testing.T) {
	tc := newTestCluster(t)
	tc.start("a", true, nil)
	tc.start("b", true, nil)
	tc.start("c", true, nil)
	tc.start("e", false, nil)
	tc.waitMembers("a", "b", "c", "e")
	createVideo(t, tc.leader(), "kite", "Kite surfing at dawn")
	createVideo(t, tc.leader(), "gull", "Seagulls at dawn")
	tc.converged()
	var followers []*Node
	for _, n := range tc.nodes {
		if !n.IsLeader() {
			followers = append(followers, n)
		}
	}
	// everywhere polls every node's index until want holds for the query,
	// failing after a second.
	everywhere := func(what, q string, want []string) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for _, n := range tc.nodes {
			for {
				res, err := n.Search(context.Background(), index.Query{Text: q, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, h := range res.Hits {
					got = append(got, h.ID)
				}
				slices.Sort(got)
				if slices.Equal(got, want) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: search %q on %s = %v, want %v after a second", what, q, n.ID(), got, want)
				}
				time.Sleep(10 * time.Millisecond) // poll interval
			}
		}
	}
	ctx := context.Background()
	title := "Zeppelin at dawn"
	if _, err := followers[0].Apply(ctx, &command.UpdateVideo{Stamp: command.Stamp{At: time.Now().UTC()}, ID: "kite", Title: &title}); err != nil {
		t.Fatal(err)
	}
	everywhere("a new title", "zeppelin", []string{"kite"})
	everywhere("a new title", "dawn", []string{"gull", "kite"})
	private := model.Private
	if _, err := followers[1].Apply(ctx, &command.UpdateVideo{Stamp: command.Stamp{At: time.Now().UTC()}, ID: "gull", Visibility: &private}); err != nil {
		t.Fatal(err)
	}
	everywhere("a video made private", "dawn", []string{"kite"})
	if _, err := followers[2].Apply(ctx, &command.DeleteVideo{Stamp: command.Stamp{At: time.Now().UTC()}, ID: "kite"}); err != nil {
		t.Fatal(err)
	}
	everywhere("a deleted video", "zeppelin", nil)
}
