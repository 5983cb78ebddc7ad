// Package health is the Caddy HTTP handler strata_health: liveness and
// readiness of a Strata node, for load balancers and orchestrators.
package health

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stratavideo/strata/cluster"
)

func init() {
	caddy.RegisterModule(Handler{})
	httpcaddyfile.RegisterHandlerDirective("strata_health", parseCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("strata_health", httpcaddyfile.Before, "file_server")
}

// Handler answers liveness ("live": the process serves HTTP) or readiness
// ("ready": the node has a leader, has applied the log, and its roles run).
type Handler struct {
	// Check is "live" or "ready".
	Check string `json:"check,omitempty"`

	app *cluster.App
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.strata_health",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision finds the strata app.
func (h *Handler) Provision(ctx caddy.Context) error {
	if h.Check == "" {
		h.Check = "live"
	}
	app, err := cluster.FromContext(ctx)
	if err != nil {
		return err
	}
	h.app = app
	return nil
}

// Validate checks the check name.
func (h *Handler) Validate() error {
	if h.Check != "live" && h.Check != "ready" {
		return fmt.Errorf("check %q: want live or ready", h.Check)
	}
	return nil
}

// ServeHTTP implements caddyhttp.MiddlewareHandler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	body := map[string]any{"status": "ok", "node_id": h.app.Node().ID(), "roles": h.app.RoleNames()}
	status := http.StatusOK
	if h.Check == "ready" {
		if err := h.app.Ready(); err != nil {
			status = http.StatusServiceUnavailable
			body["status"] = "unavailable"
			body["reason"] = err.Error()
		}
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(body)
	}
	return nil
}

// UnmarshalCaddyfile reads the directive:
//
//	strata_health [live|ready]
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		h.Check = d.Val()
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

func parseCaddyfile(hp httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var h Handler
	err := h.UnmarshalCaddyfile(hp.Dispenser)
	return &h, err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddyfile.Unmarshaler       = (*Handler)(nil)
)
