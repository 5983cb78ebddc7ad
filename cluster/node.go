package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/fsm"
	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

// ErrNotLeader is returned by Apply on a node that cannot take writes.
var ErrNotLeader = errors.New("this node is not the cluster leader")

// NodeConfig is what a Node needs to start.
type NodeConfig struct {
	// DataDir holds every file of the node.
	DataDir string
	// NodeID names the node in the cluster; read from DataDir/node-id, or
	// generated and saved there on first start, when empty.
	NodeID string
	// HeartbeatTimeout and ElectionTimeout tune Raft; a single node with an
	// in-memory transport can use short ones and be writable sooner.
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

// Node is one member of the cluster: Raft, the FSM's bbolt store and the
// node's search index. It outlives config reloads (the app shares it through
// a caddy.UsagePool keyed by its data folder).
type Node struct {
	cfg   NodeConfig
	id    string
	log   *slog.Logger
	raft  *raft.Raft
	logs  *raftboltdb.BoltStore
	store *store.Store
	index *index.Index
	fsm   *fsm.FSM
	trans raft.Transport
}

// OpenNode opens (or creates) the node's files and starts Raft. A node with
// no Raft state bootstraps a single-voter cluster of itself.
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
	n := &Node{cfg: cfg, log: cfg.Logger}
	defer func() {
		if err != nil {
			n.closeFiles()
		}
	}()
	if n.id, err = nodeID(dir, cfg.NodeID); err != nil {
		return nil, err
	}

	stCfg := store.DefaultConfig()
	stCfg.NoSync = cfg.NoSync
	if n.store, err = store.Open(filepath.Join(dir, "fsm.db"), stCfg); err != nil {
		return nil, err
	}
	if n.index, err = index.Open(filepath.Join(dir, "index")); err != nil {
		return nil, err
	}
	n.fsm = fsm.New(n.store, n.index, cfg.Logger.With("part", "fsm"))

	n.logs, err = raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(dir, "raft", "raft.db"),
		BoltOptions: &bbolt.Options{Timeout: 5 * time.Second},
		NoSync:      cfg.NoSync,
	})
	if err != nil {
		return nil, fmt.Errorf("open raft log: %w", err)
	}
	hlog := newHCLogger("raft", cfg.Logger)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(dir, "raft"), 2, hlog)
	if err != nil {
		return nil, fmt.Errorf("open snapshots: %w", err)
	}
	if err := n.catchUpFromSnapshot(snaps); err != nil {
		return nil, err
	}
	if err := n.checkIndex(); err != nil {
		return nil, err
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.id)
	rc.Logger = hlog
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = min(cfg.HeartbeatTimeout, rc.LeaderLeaseTimeout)
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.BatchApplyCh = true
	// The store survives restarts and skips entries it already holds, so a
	// restart need not reload the last snapshot (see catchUpFromSnapshot).
	rc.NoSnapshotRestoreOnStart = true
	rc.NoLegacyTelemetry = true

	addr, trans := raft.NewInmemTransport(raft.ServerAddress("inmem-" + n.id))
	n.trans = trans
	has, err := raft.HasExistingState(n.logs, n.logs, snaps)
	if err != nil {
		return nil, fmt.Errorf("read raft state: %w", err)
	}
	if !has {
		boot := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: addr}}}
		if err := raft.BootstrapCluster(rc, n.logs, n.logs, snaps, trans, boot); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
	}
	if n.raft, err = raft.NewRaft(rc, n.fsm, n.logs, n.logs, snaps, trans); err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	return n, nil
}

// catchUpFromSnapshot restores the newest snapshot into the store when the
// store is behind it: the FSM file was lost, or the node was down while the
// log it missed was compacted away. Raft itself does not restore on start
// (NoSnapshotRestoreOnStart), because a healthy store already has it all.
func (n *Node) catchUpFromSnapshot(snaps *raft.FileSnapshotStore) error {
	metas, err := snaps.List()
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	if len(metas) == 0 {
		return nil
	}
	applied, err := n.store.Applied()
	if err != nil {
		return err
	}
	if applied >= metas[0].Index {
		return nil
	}
	n.log.Info("store is behind the newest snapshot; restoring it", "store_index", applied, "snapshot_index", metas[0].Index)
	_, rc, err := snaps.Open(metas[0].ID)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", metas[0].ID, err)
	}
	return n.fsm.Restore(rc)
}

// checkIndex rebuilds the search index when it does not reflect exactly what
// the store holds (a crash between the two writes, a lost index folder).
func (n *Node) checkIndex() error {
	sa, err := n.store.Applied()
	if err != nil {
		return err
	}
	ia, err := n.index.Applied()
	if err != nil || ia != sa {
		n.log.Info("search index differs from the store; rebuilding it", "store_index", sa, "index_index", ia, "error", err)
		return n.fsm.RebuildIndex()
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

// WaitLeader blocks until the cluster has a leader or ctx ends.
func (n *Node) WaitLeader(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr, _ := n.raft.LeaderWithID(); addr != "" {
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
	if addr, _ := n.raft.LeaderWithID(); addr == "" {
		return errors.New("no cluster leader")
	}
	if n.raft.AppliedIndex() < n.raft.CommitIndex() {
		return fmt.Errorf("applying the log (%d of %d)", n.raft.AppliedIndex(), n.raft.CommitIndex())
	}
	return nil
}

// Apply replicates c and returns what the state machine made of it: the
// changed record, or the store's business error (test with errors.Is against
// the store's errors).
func (n *Node) Apply(ctx context.Context, c command.Command) (any, error) {
	data, err := command.Encode(c)
	if err != nil {
		return nil, err
	}
	timeout := n.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return nil, context.DeadlineExceeded
		}
	}
	f := n.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return nil, fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		return nil, fmt.Errorf("apply %T: %w", c, err)
	}
	res, ok := f.Response().(fsm.Result)
	if !ok {
		return nil, fmt.Errorf("apply %T: entry was already applied", c)
	}
	return res.Value, res.Err
}

// Listen registers fn to hear every applied command on this node, until the
// returned function is called. fn runs on the apply path and must not block.
func (n *Node) Listen(fn func(fsm.Event)) (cancel func()) { return n.fsm.Listen(fn) }

// Video reads a video from the local store.
func (n *Node) Video(id string) (*model.Video, error) { return n.store.Video(id) }

// Videos reads videos by ID from the local store, in order.
func (n *Node) Videos(ids []string) ([]*model.Video, error) { return n.store.Videos(ids) }

// ListVideos pages through the local store, newest first.
func (n *Node) ListVideos(cursor string, limit int, keep func(*model.Video) bool) ([]*model.Video, string, error) {
	return n.store.ListVideos(cursor, limit, keep)
}

// JobsOf reads a video's jobs from the local store.
func (n *Node) JobsOf(videoID string) ([]*model.Job, error) { return n.store.JobsOf(videoID) }

// Jobs reads jobs from the local store.
func (n *Node) Jobs(keep func(*model.Job) bool) ([]*model.Job, error) { return n.store.Jobs(keep) }

// OpenJobs counts the queued and running jobs.
func (n *Node) OpenJobs() (queued, running int, err error) { return n.store.OpenJobs() }

// AppliedIndex is the last log index this node has applied.
func (n *Node) AppliedIndex() uint64 { return n.raft.AppliedIndex() }

// IsLeader reports whether this node leads the cluster.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Search queries the node's local index.
func (n *Node) Search(ctx context.Context, q index.Query) (*index.Result, error) {
	return n.index.Search(ctx, q)
}

// Snapshot asks Raft for a snapshot now (tests, backups).
func (n *Node) Snapshot() error { return n.raft.Snapshot().Error() }

// Stats are Raft's figures, for status pages.
func (n *Node) Stats() map[string]string { return n.raft.Stats() }

// Close stops Raft and closes every file.
func (n *Node) Close() error {
	var errs []error
	if n.raft != nil {
		if err := n.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("raft shutdown: %w", err))
		}
	}
	if c, ok := n.trans.(interface{ Close() error }); ok {
		_ = c.Close()
	}
	errs = append(errs, n.closeFiles())
	return errors.Join(errs...)
}

func (n *Node) closeFiles() error {
	var errs []error
	if n.logs != nil {
		errs = append(errs, n.logs.Close())
	}
	if n.index != nil {
		errs = append(errs, n.index.Close())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	return errors.Join(errs...)
}
