package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/fsm"
	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/raftlog"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/cluster/transport"
)

// core is Raft and the state machine it drives, with their files.
type core struct {
	log   *slog.Logger
	raft  *raft.Raft
	trans raft.Transport
	logs  *raftlog.Store
	snaps *raft.FileSnapshotStore
	store *store.Store
	index *index.Index
	fsm   *fsm.FSM
	// clean records a clean shutdown of the store (see trustStore).
	clean func() error
}

// c is the current core.
func (n *Node) c() *core { return n.core.Load() }

// close stops Raft and closes the files.
func (c *core) close() error {
	var errs []error
	if c.raft != nil {
		if err := c.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("raft shutdown: %w", err))
		}
	}
	if t, ok := c.trans.(interface{ Close() error }); ok {
		_ = t.Close()
	}
	if c.fsm != nil {
		c.fsm.Close()
	}
	if c.store != nil && c.clean != nil {
		errs = append(errs, c.clean())
	}
	for _, cl := range []interface{ Close() error }{c.logs, c.index, c.store} {
		if cl != nil && !isNilCloser(cl) {
			errs = append(errs, cl.Close())
		}
	}
	return errors.Join(errs...)
}

func isNilCloser(c interface{ Close() error }) bool {
	switch v := c.(type) {
	case *raftlog.Store:
		return v == nil
	case *index.Index:
		return v == nil
	case *store.Store:
		return v == nil
	}
	return false
}

// openCore opens the state and starts Raft on it.
func (n *Node) openCore() (_ *core, err error) {
	c := &core{log: n.log}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	if err := n.openState(c); err != nil {
		return nil, err
	}
	if err := n.startRaft(c); err != nil {
		return nil, err
	}
	return c, nil
}

// openState opens the FSM store, the index, the Raft log and the snapshots,
// and brings the store and index level with each other and the snapshots.
func (n *Node) openState(c *core) error {
	dir := n.cfg.DataDir
	stCfg := store.DefaultConfig()
	noSync, clean, err := trustStore(dir, n.log)
	if err != nil {
		return err
	}
	stCfg.NoSync = noSync || n.cfg.NoSync
	if c.store, err = store.Open(filepath.Join(dir, "fsm.db"), stCfg); err != nil {
		return err
	}
	c.clean = func() error {
		if err := c.store.Sync(); err != nil {
			return err
		}
		return clean()
	}
	ixOpts := index.Options{PersistEvery: index.DefaultPersistEvery}
	if n.cfg.NoSync {
		// Nothing here is synced anyway, and tests close nodes often.
		ixOpts.PersistEvery = 0
	}
	if c.index, err = index.OpenWith(filepath.Join(dir, "index"), ixOpts); err != nil {
		return err
	}
	c.fsm = fsm.New(c.store, c.index, n.log.With("part", "fsm"))
	c.fsm.Listen(n.dispatch)
	if c.logs, err = openLogStore(filepath.Join(dir, "raft"), n.cfg.NoSync, n.log.With("part", "raft-log")); err != nil {
		return err
	}
	c.snaps, err = raft.NewFileSnapshotStoreWithLogger(filepath.Join(dir, "raft"), 2, newHCLogger("raft", n.log))
	if err != nil {
		return fmt.Errorf("open snapshots: %w", err)
	}
	if err := c.catchUpFromSnapshot(); err != nil {
		return err
	}
	return c.checkIndex()
}

func (n *Node) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.id)
	rc.Logger = newHCLogger("raft", n.log)
	rc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	rc.ElectionTimeout = n.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = min(n.cfg.HeartbeatTimeout, rc.LeaderLeaseTimeout)
	rc.SnapshotThreshold = n.cfg.SnapshotThreshold
	rc.SnapshotInterval = n.cfg.SnapshotInterval
	rc.TrailingLogs = n.cfg.TrailingLogs
	rc.BatchApplyCh = true
	// A follower learns that an entry is committed with the leader's next
	// append, which an idle leader sends after CommitTimeout. A write
	// forwarded by a follower waits for that before it answers (read your
	// writes), so the default 50 ms would be a floor under every forwarded
	// write; 10 ms costs an idle follower a hundred empty appends a second.
	rc.CommitTimeout = 10 * time.Millisecond
	// The store survives restarts and skips entries it already holds, so a
	// restart need not reload the last snapshot (see catchUpFromSnapshot).
	rc.NoSnapshotRestoreOnStart = true
	rc.NoLegacyTelemetry = true
	return rc
}

// startRaft makes the core's Raft transport and starts Raft, bootstrapping
// or re-addressing the cluster when this node is alone in it.
func (n *Node) startRaft(c *core) error {
	rc := n.raftConfig()
	if n.mux == nil {
		_, c.trans = raft.NewInmemTransport(n.addr)
	} else {
		c.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream:  n.mux.RaftLayer(),
			MaxPool: 5,
			Timeout: 10 * time.Second,
			Logger:  newHCLogger("raft-net", n.log),
		})
	}
	has, err := raft.HasExistingState(c.logs, c.logs, c.snaps)
	if err != nil {
		return fmt.Errorf("read raft state: %w", err)
	}
	self := raft.Server{Suffrage: raft.Voter, ID: rc.LocalID, Address: n.addr}
	switch {
	case !has && (n.cfg.Cluster == nil || len(n.joinList()) == 0):
		boot := raft.Configuration{Servers: []raft.Server{self}}
		if err := raft.BootstrapCluster(rc, c.logs, c.logs, c.snaps, c.trans, boot); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	case has:
		if err := n.readdressAlone(c, rc, self); err != nil {
			return err
		}
	}
	// Recent entries are served from memory: the leader reads the entry
	// before each append's batch (setPreviousLog) for every follower,
	// even for the empty appends an idle leader sends every CommitTimeout,
	// and once raftlog has flushed an entry each read was a bbolt lookup
	// and a msgpack decode (a third of an idle cluster's profiled CPU).
	logs, err := raft.NewLogCache(logCacheEntries, c.logs)
	if err != nil {
		return fmt.Errorf("log cache: %w", err)
	}
	if c.raft, err = raft.NewRaft(rc, c.fsm, logs, c.logs, c.snaps, c.trans); err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	// From now on the leader's appends are synced beside replication
	// (raftlog).
	r := c.raft
	c.logs.SetLeading(func() bool { return r.State() == raft.Leader })
	return nil
}

// logCacheEntries is how many recent log entries are kept in memory for
// replication, about 1 MB of 1 KB entries.
const logCacheEntries = 1024

// openTransport gives the node its address: an in-memory name on a single
// node, or the TLS cluster port.
func (n *Node) openTransport() error {
	cc := n.cfg.Cluster
	if cc == nil {
		n.addr = raft.ServerAddress("inmem-" + n.id)
		return nil
	}
	var id *transport.Identity
	var err error
	if cc.CertFile != "" {
		id, err = transport.IdentityFromFiles(cc.CertFile, cc.KeyFile, cc.CAFile, os.ReadFile)
	} else {
		id, err = transport.IdentityFromKey(cc.Key, n.id, time.Now())
	}
	if err != nil {
		return err
	}
	if n.mux, err = transport.Listen(cc.Listen, cc.Advertise, id, n.log.With("part", "transport")); err != nil {
		return err
	}
	n.addr = raft.ServerAddress(n.mux.Addr().String())
	n.rpc = n.mux.HTTPClient(30 * time.Second)
	n.rpcMux = n.newRPCMux()
	n.rpcSrv = n.mux.ServeRPC(n.rpcMux)
	return nil
}

// readdressAlone rewrites the Raft configuration when this node is the
// only server in it under another address: an all-in-one node that is
// given a cluster port, or a lone node moved to another host. A node with
// peers keeps its configuration; it rejoins to update its address.
func (n *Node) readdressAlone(c *core, rc *raft.Config, self raft.Server) error {
	// GetConfiguration marks the config it is given as not to be started;
	// give it a copy.
	probe := *rc
	conf, err := raft.GetConfiguration(&probe, c.fsm, c.logs, c.logs, c.snaps, c.trans)
	if err != nil {
		return fmt.Errorf("read raft configuration: %w", err)
	}
	if len(conf.Servers) != 1 || conf.Servers[0].ID != self.ID || conf.Servers[0].Address == self.Address {
		return nil
	}
	n.log.Info("this node is alone in its cluster under another address; re-addressing it",
		"old", conf.Servers[0].Address, "new", self.Address)
	next := raft.Configuration{Servers: []raft.Server{self}}
	recover := *rc
	if err := raft.RecoverCluster(&recover, c.fsm, c.logs, c.logs, c.snaps, c.trans, next); err != nil {
		return fmt.Errorf("re-address cluster: %w", err)
	}
	return nil
}

// openLogStore opens Raft's log and stable store: raftlog's synced journal
// in front of raftlog's segment files, which receive entries in batches
// (see package raftlog). A raft-boltdb file left by an earlier version
// (raft.db) is moved into the segments first. (raft-wal was tried for its
// single fsync per append, but v0.4.0, the newest the module proxy
// serves, leaves a segment sealed without an index after a tail
// truncation, and the node cannot start again: hashicorp/raft-wal#31,
// fixed after that release. Our kill -9 tests hit it.)
func openLogStore(dir string, noSync bool, logger *slog.Logger) (*raftlog.Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("raft log dir: %w", err)
	}
	segs, err := raftlog.OpenSegments(dir, noSync)
	if err != nil {
		return nil, fmt.Errorf("open raft log: %w", err)
	}
	if err := importBoltLog(dir, segs, logger); err != nil {
		segs.Close()
		return nil, err
	}
	s, err := raftlog.New(segs, raftlog.Options{Dir: dir, Logger: logger, NoSync: noSync})
	if err != nil {
		segs.Close()
		return nil, err
	}
	return s, nil
}

// importBoltLog moves an earlier version's log into segs: the
// raft-boltdb file, with the journal entries it had not received yet,
// then removes the file. Until the removal a restart imports again from
// the start, so a node stopped halfway loses nothing.
func importBoltLog(dir string, segs *raftlog.Segments, logger *slog.Logger) error {
	path := filepath.Join(dir, "raft.db")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	open := func() (*raftboltdb.BoltStore, error) {
		b, err := raftboltdb.New(raftboltdb.Options{
			Path:        path,
			BoltOptions: &bbolt.Options{Timeout: 5 * time.Second, FreelistType: bbolt.FreelistMapType, NoFreelistSync: true},
		})
		if err != nil {
			return nil, fmt.Errorf("open the earlier raft log %s: %w", path, err)
		}
		return b, nil
	}
	b, err := open()
	if err != nil {
		return err
	}
	// The journal's entries go to the old file first (as that version
	// did at start-up), and the journal is left empty.
	old, err := raftlog.New(b, raftlog.Options{Dir: dir, Logger: logger})
	if err != nil {
		b.Close()
		return fmt.Errorf("recover the earlier raft log's journal: %w", err)
	}
	if err := old.Close(); err != nil {
		return fmt.Errorf("close the earlier raft log: %w", err)
	}
	if b, err = open(); err != nil {
		return err
	}
	err = segs.Import(b)
	err = errors.Join(err, b.Close())
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove the earlier raft log: %w", err)
	}
	logger.Info("raft log: moved the earlier raft-boltdb log into segment files")
	return nil
}
