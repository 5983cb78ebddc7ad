package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/fsm"
	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/logs"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/transport"
)

// ErrNotLeader is returned when a write cannot reach a leader.
var ErrNotLeader = errors.New("the cluster has no reachable leader")

// ErrOutcomeUnknown is returned when the leader took a write but lost its
// leadership before the write was confirmed: a new leader may or may not
// have it. Clients read the record and retry if the change is missing.
var ErrOutcomeUnknown = errors.New("the cluster changed leader before the write was confirmed; it may or may not have been saved")

// NodeConfig is what a Node needs to start.
type NodeConfig struct {
	// DataDir holds every file of the node.
	DataDir string
	// NodeID names the node in the cluster; read from DataDir/node-id, or
	// generated and saved there on first start, when empty.
	NodeID string
	// Cluster makes the node a member of a multi-node cluster; nil runs a
	// single node over an in-memory transport, with no port at all.
	Cluster *ClusterConfig
	// Roles are the node's roles, recorded in the member registry.
	Roles []string
	// HeartbeatTimeout and ElectionTimeout tune Raft.
	HeartbeatTimeout time.Duration
	ElectionTimeout  time.Duration
	// SnapshotThreshold is how many log entries trigger a snapshot.
	SnapshotThreshold uint64
	// SnapshotInterval is how often Raft checks whether to snapshot.
	SnapshotInterval time.Duration
	// TrailingLogs are kept after a snapshot for followers that lag a little.
	TrailingLogs uint64
	// ApplyTimeout bounds a write when the caller's context has no deadline.
	ApplyTimeout time.Duration
	// NoSync skips fsync in the stores; only for tests.
	NoSync bool
	Logger *slog.Logger
	// LogRing is the ring of recent log entries the node serves to the
	// cluster's log view; nil: the process's (logs.Default).
	LogRing *logs.Ring
}

// ClusterConfig is a node's place in a multi-node cluster.
type ClusterConfig struct {
	// Listen is the cluster port (Raft and RPC, TLS).
	Listen string
	// Advertise is the address peers dial; default: Listen.
	Advertise string
	// Key is the shared cluster key; certificates are derived from it.
	Key string
	// CertFile, KeyFile and CAFile replace the derived certificates with
	// the operator's own.
	CertFile, KeyFile, CAFile string
	// Join lists peers' cluster ports to ask for membership on first start.
	// A node with no state and no Join list bootstraps a new cluster.
	Join []string
	// Voter: origins vote, edges only follow the log.
	Voter bool
	// HTTPURL is where this node serves HTTP, for the member registry.
	HTTPURL string
}

// DefaultNodeConfig is a single node's configuration for dataDir.
func DefaultNodeConfig(dataDir string) NodeConfig {
	return NodeConfig{
		DataDir:           dataDir,
		HeartbeatTimeout:  200 * time.Millisecond,
		ElectionTimeout:   200 * time.Millisecond,
		SnapshotThreshold: 8192,
		SnapshotInterval:  2 * time.Minute,
		TrailingLogs:      10240,
		ApplyTimeout:      10 * time.Second,
	}
}

// DefaultClusterTimeouts are Raft's timeouts for nodes on a network: long
// enough not to call elections over a garbage-collection pause, short enough
// to replace a dead leader within a few seconds.
func (c *NodeConfig) DefaultClusterTimeouts() {
	c.HeartbeatTimeout = time.Second
	c.ElectionTimeout = time.Second
}

// Node is one member of the cluster: Raft, the FSM's bbolt store and the
// node's search index, and on a multi-node cluster the cluster port. It
// outlives config reloads (the app shares it through a caddy.UsagePool
// keyed by its data folder).
type Node struct {
	cfg  NodeConfig
	id   string
	log  *slog.Logger
	addr raft.ServerAddress

	// core is Raft and the state it drives. It is replaced as a whole when
	// a fresh node resets itself to join another cluster.
	core atomic.Pointer[core]

	// listeners hear applied commands; they outlive a core.
	lmu       sync.Mutex
	nextL     int
	listeners map[int]func(fsm.Event)

	// history is the edge role's cache history for the status, if any.
	history atomic.Pointer[historySource]
	// edge is what the edge role says of itself (edges.go); edgeMu keeps
	// two registrations from proposing at once; edgeKick wakes the
	// register loop when the edge role changes its entry.
	edge     atomic.Pointer[edgeSource]
	edgeMu   sync.Mutex
	edgeKick chan struct{}
	// statuses are the peers' statuses as last asked (levelLoop).
	statuses atomic.Pointer[statusSnapshot]

	// Multi-node only.
	mux *transport.Mux
	// resetMu serialises resets against each other and against Close.
	resetMu sync.Mutex
	// joinMu guards cfg.Cluster.Join: JoinCluster replaces it while the
	// join loop reads it.
	joinMu sync.Mutex
	rpc    *http.Client
	rpcSrv *http.Server
	rpcMux *http.ServeMux
	// rpcRoutes hold the roles' RPC handlers, replaceable across reloads.
	rpcRoutesMu sync.Mutex
	rpcRoutes   map[string]*atomic.Pointer[http.Handler]

	// levels are the command levels peers last reported (see levels.go).
	levels sync.Map

	stop chan struct{}
	bg   sync.WaitGroup
}

// OpenNode opens (or creates) the node's files and starts Raft. A node with
// no Raft state and nobody to join bootstraps a cluster of itself.
func OpenNode(cfg NodeConfig) (_ *Node, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ApplyTimeout <= 0 {
		cfg.ApplyTimeout = 10 * time.Second
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	cfg.DataDir = dir
	if err := os.MkdirAll(filepath.Join(dir, "raft"), 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger, stop: make(chan struct{}), edgeKick: make(chan struct{}, 1)}
	defer func() {
		if err != nil {
			n.closeAll()
		}
	}()
	if n.id, err = nodeID(dir, cfg.NodeID); err != nil {
		return nil, err
	}
	if err := n.openTransport(); err != nil {
		return nil, err
	}
	c, err := n.openCore()
	if err != nil {
		return nil, err
	}
	n.core.Store(c)
	n.startBackground()
	return n, nil
}

// catchUpFromSnapshot restores the newest snapshot into the store when the
// store is behind it: the FSM file was lost, or the node was down while the
// log it missed was compacted away. Raft itself does not restore on start
// (NoSnapshotRestoreOnStart), because a healthy store already has it all.
func (c *core) catchUpFromSnapshot() error {
	metas, err := c.snaps.List()
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	if len(metas) == 0 {
		return nil
	}
	applied, err := c.store.Applied()
	if err != nil {
		return err
	}
	if applied >= metas[0].Index {
		return nil
	}
	c.log.Info("store is behind the newest snapshot; restoring it", "store_index", applied, "snapshot_index", metas[0].Index)
	_, rc, err := c.snaps.Open(metas[0].ID)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", metas[0].ID, err)
	}
	return c.fsm.Restore(rc)
}

// checkIndex rebuilds the search index when it does not reflect exactly what
// the store holds (a crash between the two writes, a lost index folder).
func (c *core) checkIndex() error {
	sa, err := c.store.Applied()
	if err != nil {
		return err
	}
	ia, err := c.index.Applied()
	if err != nil || ia != sa {
		c.log.Info("search index differs from the store; rebuilding it", "store_index", sa, "index_index", ia, "error", err)
		return c.fsm.RebuildIndex()
	}
	return nil
}

// nodeID returns the configured ID, or the one saved in dir, or a new one.
func nodeID(dir, configured string) (string, error) {
	path := filepath.Join(dir, "node-id")
	saved, err := os.ReadFile(path)
	switch {
	case err == nil && strings.TrimSpace(string(saved)) != "":
		id := strings.TrimSpace(string(saved))
		if configured != "" && configured != id {
			return "", fmt.Errorf("data dir %s belongs to node %q, not %q", dir, id, configured)
		}
		return id, nil
	case err != nil && !os.IsNotExist(err):
		return "", fmt.Errorf("read node id: %w", err)
	}
	id := configured
	if id == "" {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("node id: %w", err)
		}
		id = "node-" + hex.EncodeToString(b[:])
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save node id: %w", err)
	}
	return id, nil
}

// ID is the node's ID.
func (n *Node) ID() string { return n.id }

// DataDir is the node's data folder (absolute).
func (n *Node) DataDir() string { return n.cfg.DataDir }

// Addr is the node's Raft address: its cluster port, or an in-memory name.
func (n *Node) Addr() string { return string(n.addr) }

// Roles are the node's configured roles.
func (n *Node) Roles() []string { return n.cfg.Roles }

// WaitLeader blocks until the cluster has a leader or ctx ends.
func (n *Node) WaitLeader(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr, _ := n.c().raft.LeaderWithID(); addr != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for a leader: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Ready reports whether the node can serve: Raft has a leader and this node
// has applied what it knows to be committed.
func (n *Node) Ready() error {
	if addr, _ := n.c().raft.LeaderWithID(); addr == "" {
		return errors.New("no cluster leader")
	}
	if n.c().raft.AppliedIndex() < n.c().raft.CommitIndex() {
		return fmt.Errorf("applying the log (%d of %d)", n.c().raft.AppliedIndex(), n.c().raft.CommitIndex())
	}
	return nil
}

// Listen registers fn to hear every applied command on this node, until the
// returned function is called. fn runs on the apply path and must not block.
func (n *Node) Listen(fn func(fsm.Event)) (cancel func()) {
	n.lmu.Lock()
	defer n.lmu.Unlock()
	if n.listeners == nil {
		n.listeners = map[int]func(fsm.Event){}
	}
	n.nextL++
	id := n.nextL
	n.listeners[id] = fn
	return func() {
		n.lmu.Lock()
		defer n.lmu.Unlock()
		delete(n.listeners, id)
	}
}

// dispatch passes an applied command to the node's listeners.
func (n *Node) dispatch(e fsm.Event) {
	n.lmu.Lock()
	ls := make([]func(fsm.Event), 0, len(n.listeners))
	for _, fn := range n.listeners {
		ls = append(ls, fn)
	}
	n.lmu.Unlock()
	for _, fn := range ls {
		fn(e)
	}
}

// Video reads a video from the local store.
func (n *Node) Video(id string) (*model.Video, error) { return n.c().store.Video(id) }

// CaptionText returns the WebVTT text of a video's caption in lang, from
// this node's replica (ErrNotFound from the store when there is none).
func (n *Node) CaptionText(videoID, lang string) ([]byte, error) {
	return n.c().store.CaptionText(videoID, lang)
}

// Videos reads videos by ID from the local store, in order.
func (n *Node) Videos(ids []string) ([]*model.Video, error) { return n.c().store.Videos(ids) }

// ListVideos pages through the local store, newest first.
func (n *Node) ListVideos(cursor string, limit int, keep func(*model.Video) bool) ([]*model.Video, string, error) {
	return n.c().store.ListVideos(cursor, limit, keep)
}

// QoE returns the playback-quality sums of day and video (either empty
// for all), by day, video and edge.
func (n *Node) QoE(day, video string) ([]*model.QoE, error) { return n.c().store.QoE(day, video) }

// JobsOf reads a video's jobs from the local store.
func (n *Node) JobsOf(videoID string) ([]*model.Job, error) { return n.c().store.JobsOf(videoID) }

// Jobs reads jobs from the local store.
func (n *Node) Jobs(keep func(*model.Job) bool) ([]*model.Job, error) { return n.c().store.Jobs(keep) }

// OpenJobs counts the queued and running jobs.
func (n *Node) OpenJobs() (queued, running int, err error) { return n.c().store.OpenJobs() }

// Members reads the member registry from the local store.
func (n *Node) Members() ([]*model.Member, error) { return n.c().store.Members() }

// StateHash digests the replicated state, to compare replicas.
func (n *Node) StateHash() (string, error) { return n.c().store.Hash() }

// AppliedIndex is the last log index this node has applied.
func (n *Node) AppliedIndex() uint64 { return n.c().raft.AppliedIndex() }

// IsLeader reports whether this node leads the cluster.
func (n *Node) IsLeader() bool { return n.c().raft.State() == raft.Leader }

// Leader returns the leader's ID and address, empty when unknown.
func (n *Node) Leader() (id, addr string) {
	a, i := n.c().raft.LeaderWithID()
	return string(i), string(a)
}

// WaitIndexed blocks until this node's search index reflects everything
// the node has applied so far.
func (n *Node) WaitIndexed(ctx context.Context) error {
	c := n.c()
	// The store's applied index, not Raft's: Raft counts entries (no-ops)
	// that never reach the state machine.
	applied, err := c.store.Applied()
	if err != nil {
		return err
	}
	return c.fsm.WaitIndexed(ctx, applied)
}

// Search queries the node's local index.
func (n *Node) Search(ctx context.Context, q index.Query) (*index.Result, error) {
	return n.c().index.Search(ctx, q)
}

// Snapshot asks Raft for a snapshot now (tests, backups).
func (n *Node) Snapshot() error { return n.c().raft.Snapshot().Error() }

// Stats are Raft's figures, for status pages.
func (n *Node) Stats() map[string]string { return n.c().raft.Stats() }

// Close stops Raft and closes every file and port.
func (n *Node) Close() error {
	close(n.stop)
	n.bg.Wait()
	n.resetMu.Lock()
	defer n.resetMu.Unlock()
	return n.closeAll()
}

// closeAll closes the core, the port and the transport.
func (n *Node) closeAll() error {
	var errs []error
	if c := n.core.Load(); c != nil {
		errs = append(errs, c.close())
	}
	if n.rpcSrv != nil {
		_ = n.rpcSrv.Close()
	}
	if n.mux != nil {
		errs = append(errs, n.mux.Close())
	}
	return errors.Join(errs...)
}
