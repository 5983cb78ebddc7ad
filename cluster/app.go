// Package cluster is the Caddy app "strata": one node of a Strata cluster.
//
// The app opens the node (Raft, the bbolt FSM store, the Bleve index) and
// runs the node's roles, guest modules in the strata.roles namespace (origin,
// edge) that other packages register. Roles and HTTP handlers reach the node
// through the app; this package imports no other Strata folder.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap/exp/zapslog"

	"github.com/stratavideo/strata/cluster/logs"
)

func init() {
	caddy.RegisterModule(App{})
}

// nodes shares open nodes across config reloads, keyed by data folder. Caddy
// starts a new config before it stops the old one (FACTS.md), so the new app
// must find the node the old one holds, not open its files a second time.
// It is process-wide by necessity, like Caddy's own acmeserver database pool.
var nodes = caddy.NewUsagePool()

// validating is set by `strata validate`: Caddy's validate provisions
// every module without starting it, and opening the configured node would
// bootstrap a cluster in its data folder (a node meant to join one could
// then never join). Validation opens a throwaway one-node node instead.
var validating atomic.Bool

// ValidateOnly makes every App provisioned in this process open a
// throwaway node in a temporary folder, for `strata validate`.
func ValidateOnly() { validating.Store(true) }

// Role is a guest module that runs on a node once the node is open.
type Role interface {
	caddy.Module
	// Start begins the role's work (workers, caches) on n.
	Start(n *Node) error
	// Stop ends it; a role must release what Start took.
	Stop() error
}

// ReadyChecker is implemented by roles that can be not yet ready to serve.
type ReadyChecker interface {
	Ready() error
}

// App is the strata app.
type App struct {
	// DataDir holds everything the node stores. Default: ./strata-data.
	DataDir string `json:"data_dir,omitempty"`
	// NodeID names the node; generated on first start when empty.
	NodeID string `json:"node_id,omitempty"`
	// RolesRaw are the node's roles, keyed by role name (origin, edge).
	RolesRaw caddy.ModuleMap `json:"roles,omitempty" caddy:"namespace=strata.roles"`
	// StartTimeout bounds the wait for a Raft leader at start.
	StartTimeout caddy.Duration `json:"start_timeout,omitempty"`
	// Cluster makes this node part of a multi-node cluster. Without it the
	// node is a cluster of one with no cluster port.
	Cluster *ClusterOptions `json:"cluster,omitempty"`
	// Logs ships the node's log entries elsewhere.
	Logs *LogsOptions `json:"logs,omitempty"`

	roles   map[string]Role
	otlp    *logs.OTLP
	node    *Node
	poolKey string
	// validateDir is the throwaway data folder of `strata validate`.
	validateDir string
	log         *slog.Logger
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "strata",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision opens the node (or takes the one a previous config opened) and
// loads the roles.
func (a *App) Provision(ctx caddy.Context) error {
	a.log = NewLogger(ctx)
	if a.DataDir == "" {
		a.DataDir = "strata-data"
	}
	if a.StartTimeout <= 0 {
		a.StartTimeout = caddy.Duration(30 * time.Second)
	}
	dir, err := filepath.Abs(a.DataDir)
	if err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	a.DataDir = dir
	if validating.Load() {
		if dir, err = os.MkdirTemp("", "strata-validate-"); err != nil {
			return fmt.Errorf("validate: %w", err)
		}
		a.validateDir = dir
	}
	a.poolKey = "node:" + dir
	cfg := DefaultNodeConfig(dir)
	cfg.NodeID = a.NodeID
	cfg.Logger = a.log
	for name := range a.RolesRaw {
		cfg.Roles = append(cfg.Roles, name)
	}
	sort.Strings(cfg.Roles)
	if a.Cluster != nil {
		cc, err := a.Cluster.nodeConfig(slices.Contains(cfg.Roles, "origin"))
		if err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		cfg.Cluster = cc
		cfg.DefaultClusterTimeouts()
		if validating.Load() {
			cfg.Cluster = nil // checked above; no port, no peers
		}
	}
	val, _, err := nodes.LoadOrNew(a.poolKey, func() (caddy.Destructor, error) {
		n, err := OpenNode(cfg)
		if err != nil {
			return nil, err
		}
		return nodeDestructor{n}, nil
	})
	if err != nil {
		return fmt.Errorf("open node in %s: %w", dir, err)
	}
	a.node = val.(nodeDestructor).Node
	if err := registerMetrics(ctx.GetMetricsRegistry(), a.node); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}

	mods, err := ctx.LoadModule(a, "RolesRaw")
	if err != nil {
		return fmt.Errorf("loading roles: %w", err)
	}
	a.roles = map[string]Role{}
	for name, m := range mods.(map[string]any) {
		r, ok := m.(Role)
		if !ok {
			return fmt.Errorf("role %s: %T is not a strata role", name, m)
		}
		a.roles[name] = r
	}
	return nil
}

// NewLogger is the logger a Strata module logs with: Caddy's logger for
// it, teed into the node's ring of recent entries (package logs), which
// the admin dashboard's log view reads.
func NewLogger(ctx caddy.Context) *slog.Logger {
	return slog.New(zapslog.NewHandler(logs.Tee(ctx.Logger().Core())))
}

// Validate checks the configuration without side effects.
func (a *App) Validate() error {
	for name := range a.roles {
		if name != "origin" && name != "edge" {
			return fmt.Errorf("unknown role %q (want origin or edge)", name)
		}
	}
	return nil
}

// LogsOptions are where else a node's log entries go. Each node keeps its
// last entries in memory regardless (the admin dashboard's log view).
type LogsOptions struct {
	// OTLP is an OTLP/HTTP collector's URL (for example
	// http://otel-collector:4318): every entry the node keeps is also sent
	// there, in batches, with the node's ID as service.instance.id.
	OTLP string `json:"otlp,omitempty"`
}

// Start waits for a leader, then starts the roles.
func (a *App) Start() error {
	if a.Logs != nil && a.Logs.OTLP != "" && !validating.Load() {
		// Here, not in Provision: a reload whose new config fails before
		// starting keeps the old config's exporter.
		o, err := logs.NewOTLP(context.Background(), logs.OTLPConfig{Endpoint: a.Logs.OTLP, Node: a.node.ID()})
		if err != nil {
			return fmt.Errorf("logs: %w", err)
		}
		a.otlp = o
		logs.SetExporter(o.Exporter)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(a.StartTimeout))
	defer cancel()
	if err := a.node.WaitLeader(ctx); err != nil {
		return err
	}
	applyRuntime(planRuntime(a.RoleNames(), os.Getenv, cgroupMemoryMax), a.log)
	var started []Role
	for _, name := range a.RoleNames() {
		r := a.roles[name]
		if err := r.Start(a.node); err != nil {
			for _, s := range started {
				_ = s.Stop()
			}
			return fmt.Errorf("start role %s: %w", name, err)
		}
		started = append(started, r)
	}
	a.log.Info("strata node started", "node_id", a.node.ID(), "data_dir", a.DataDir, "roles", a.RoleNames())
	return nil
}

// Stop stops the roles. The node itself stays open until Cleanup, because a
// reload's new config is already using it.
func (a *App) Stop() error {
	var errs []error
	if a.otlp != nil {
		// What is waiting is sent (briefly); a reload's new exporter has
		// taken over already.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, a.otlp.Shutdown(ctx))
		cancel()
		a.otlp = nil
	}
	for _, name := range a.RoleNames() {
		if err := a.roles[name].Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop role %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Cleanup releases this config's hold on the node; the last holder closes it.
func (a *App) Cleanup() error {
	if a.poolKey == "" {
		return nil
	}
	_, err := nodes.Delete(a.poolKey)
	if a.validateDir != "" {
		err = errors.Join(err, os.RemoveAll(a.validateDir))
	}
	return err
}

// Node is the open node.
func (a *App) Node() *Node { return a.node }

// Role returns the named role, or nil.
func (a *App) Role(name string) Role { return a.roles[name] }

// RoleNames lists the configured roles, sorted.
func (a *App) RoleNames() []string {
	names := make([]string, 0, len(a.roles))
	for n := range a.roles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Ready reports whether the node and each role can serve.
func (a *App) Ready() error {
	if err := a.node.Ready(); err != nil {
		return err
	}
	for _, name := range a.RoleNames() {
		if rc, ok := a.roles[name].(ReadyChecker); ok {
			if err := rc.Ready(); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

// FromContext returns the strata app of the config being provisioned.
func FromContext(ctx caddy.Context) (*App, error) {
	v, err := ctx.App("strata")
	if err != nil {
		return nil, fmt.Errorf("the strata app: %w", err)
	}
	a, ok := v.(*App)
	if !ok {
		return nil, fmt.Errorf("the strata app is a %T", v)
	}
	return a, nil
}

type nodeDestructor struct{ *Node }

// Destruct implements caddy.Destructor.
func (d nodeDestructor) Destruct() error { return d.Close() }

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.Validator    = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
