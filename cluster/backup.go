package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/store"
)

func init() {
	caddy.RegisterModule(backupAPI{})
}

// Backup writes a consistent copy of the replicated state (a bbolt image
// of the FSM store: videos, jobs, accounts, members) to w. It first makes
// this node's reads linearizable, so the copy holds every write
// acknowledged before the backup began, wherever it was made. It returns
// the log index the copy reflects.
func (n *Node) Backup(ctx context.Context, w io.Writer) (uint64, error) {
	if err := n.ConsistentRead(ctx); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	sn, err := n.c().store.Snapshot()
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer sn.Release()
	return sn.Applied(), writeBackup(sn, w)
}

func writeBackup(sn *store.Snapshot, w io.Writer) error {
	if _, err := sn.WriteTo(w); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	return nil
}

// RestoreConfig says where and how to restore a backup.
type RestoreConfig struct {
	// DataDir is the new node's data folder. It must hold no cluster
	// state yet.
	DataDir string
	// NodeID is the node's ID if the config names one; empty picks one.
	NodeID string
	// WithMedia says the backup's media was restored into the node's
	// blob folders, so this node now holds every copy.
	WithMedia bool
	Logger    *slog.Logger
}

// restoreIndex is the log position of a restored node's state: the one
// Raft snapshot the restore writes. New writes follow it.
const restoreIndex, restoreTerm = 1, 1

// RestoreBackup makes DataDir the data folder of a new one-node cluster
// whose state is the backup read from image. It runs offline, before the
// node starts: the store is written from the image, the search index is
// built from it, and a Raft snapshot of it is written with this node as
// the only voter, so the restored state is part of the Raft history (a
// node that later loses its store file gets it back from the snapshot)
// and the node starts as a leader of itself. Other nodes join it as usual.
func RestoreBackup(cfg RestoreConfig, image io.Reader) (err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := cfg.DataDir
	for _, p := range []string{"fsm.db", "raft"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			return fmt.Errorf("restore: %s already holds a node's state (%s); restore into a new folder", dir, p)
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	id, err := nodeID(dir, cfg.NodeID)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// On failure, leave no half-restored state that a start would trust.
	defer func() {
		if err != nil {
			for _, p := range []string{"fsm.db", "fsm.db.restore", "index", "raft"} {
				os.RemoveAll(filepath.Join(dir, p))
			}
		}
	}()

	st, err := store.Open(filepath.Join(dir, "fsm.db"), store.DefaultConfig())
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	if err := st.Restore(image); err != nil {
		return fmt.Errorf("restore: the backup is not a Strata store: %w", err)
	}
	holder := ""
	if cfg.WithMedia {
		holder = id
	}
	if err := st.Rehome(restoreIndex, holder); err != nil {
		return fmt.Errorf("restore: %w", err)
	}

	ix, err := index.Open(filepath.Join(dir, "index"))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := ix.Rebuild(st.EachVideo, restoreIndex); err != nil {
		ix.Close()
		return fmt.Errorf("restore: search index: %w", err)
	}
	if err := ix.Close(); err != nil {
		return fmt.Errorf("restore: search index: %w", err)
	}

	raftDir := filepath.Join(dir, "raft")
	logs, err := openLogStore(raftDir, false, nil)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The term of the snapshot: a node's current term is never behind its
	// log's.
	err = logs.SetUint64([]byte("CurrentTerm"), restoreTerm)
	if cerr := logs.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: raft state: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(raftDir, 2, newHCLogger("raft", log))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The address is a placeholder: the node re-addresses a cluster it is
	// alone in to wherever it runs (readdressAlone).
	conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(id), Address: raft.ServerAddress("restored-" + id)}}}
	_, trans := raft.NewInmemTransport("")
	sink, err := snaps.Create(raft.SnapshotVersionMax, restoreIndex, restoreTerm, conf, restoreIndex, trans)
	if err != nil {
		return fmt.Errorf("restore: raft snapshot: %w", err)
	}
	sn, err := st.Snapshot()
	if err != nil {
		sink.Cancel()
		return fmt.Errorf("restore: %w", err)
	}
	_, err = sn.WriteTo(sink)
	sn.Release()
	if err != nil {
		sink.Cancel()
		return fmt.Errorf("restore: raft snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("restore: raft snapshot: %w", err)
	}
	log.Info("restored a backup", "data_dir", dir, "node_id", id, "with_media", cfg.WithMedia)
	return nil
}

// backupAPI serves GET /strata/backup on Caddy's admin endpoint: the
// node's consistent copy of the replicated state, for `strata backup`.
// It is its own admin module so that it stays apart from the cluster
// routes; the longer pattern wins over /strata/.
type backupAPI struct {
	app *App
}

// CaddyModule returns the Caddy module information.
func (backupAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.strata_backup",
		New: func() caddy.Module { return new(backupAPI) },
	}
}

// Provision finds the strata app, if this config has one.
func (a *backupAPI) Provision(ctx caddy.Context) error {
	if v, err := ctx.AppIfConfigured("strata"); err == nil {
		a.app, _ = v.(*App)
	}
	return nil
}

// Routes implements caddy.AdminRouter.
func (a *backupAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/strata/backup", Handler: caddy.AdminHandlerFunc(a.serve)}}
}

func (a *backupAPI) serve(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("use GET")}
	}
	if a.app == nil || a.app.node == nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("this config runs no strata node")}
	}
	n := a.app.node
	// The consistent read and the snapshot come first so that a failure
	// can still be an error status, and the header can say exactly which
	// index the copy holds; once bytes flow, a failure cuts the stream
	// short and the client sees a truncated copy (which restore refuses).
	if err := n.ConsistentRead(r.Context()); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: err}
	}
	sn, err := n.c().store.Snapshot()
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: err}
	}
	defer sn.Release()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Strata-Node", n.ID())
	w.Header().Set("X-Strata-Applied", strconv.FormatUint(sn.Applied(), 10))
	if err := writeBackup(sn, w); err != nil {
		n.log.Error("backup cut short", "error", err)
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner = (*backupAPI)(nil)
	_ caddy.AdminRouter = (*backupAPI)(nil)
)
