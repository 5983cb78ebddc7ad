// Package api is the origin's REST API, the Caddy HTTP handler strata_api:
// videos, search and the tus upload endpoint under /api/v1/.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/jsonio"
	"github.com/stratavideo/strata/cluster/reqid"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/origin"
	"github.com/stratavideo/strata/origin/account"
	"github.com/stratavideo/strata/origin/beacon"
	"github.com/stratavideo/strata/origin/httperr"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler serves /api/v1/. Reads and writes work on any node (writes are
// forwarded to the leader); uploads need the node's origin role.
type Handler struct {
	// RPID is the WebAuthn relying party ID; empty means each request's
	// host (fine for localhost, set it for a real domain).
	RPID string `json:"rp_id,omitempty"`
	// Origins are the origins passkey ceremonies and cookie writes may come
	// from; empty means the request's own origin.
	Origins []string `json:"origins,omitempty"`
	// PasswordLogin turns on the password fallback for accounts.
	PasswordLogin bool `json:"password_login,omitempty"`

	app      *cluster.App
	origin   *origin.Origin // nil on a node without the origin role
	log      *slog.Logger
	mux      *http.ServeMux
	accounts *account.Service
	// beaconCollector counts views and playback quality from beacons;
	// it is shared, under beaconKey, with the configs before and after
	// this one (see collectors).
	beaconCollector *beacon.Collector
	beaconKey       any
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.strata_api",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision finds the node's origin role and builds the routes.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.log = cluster.NewLogger(ctx)
	app, err := cluster.FromContext(ctx)
	if err != nil {
		return err
	}
	h.app = app
	h.origin, _ = app.Role("origin").(*origin.Origin)
	cfg := account.DefaultConfig()
	cfg.RPID, cfg.Origins, cfg.PasswordLogin, cfg.Logger = h.RPID, h.Origins, h.PasswordLogin, h.log
	if h.accounts, err = account.New(app.Node(), cfg); err != nil {
		return err
	}
	go h.bootstrap(ctx)
	if err := h.startBeacons(app.Node()); err != nil {
		return err
	}
	mux := http.NewServeMux()
	h.accounts.Routes(mux)
	mux.HandleFunc("GET /api/v1/account/videos", h.myVideos)
	mux.HandleFunc("/api/v1/uploads/", h.uploads)
	mux.HandleFunc("GET /api/v1/videos", h.listVideos)
	mux.HandleFunc("GET /api/v1/videos/{id}", h.getVideo)
	mux.HandleFunc("PATCH /api/v1/videos/{id}", h.patchVideo)
	mux.HandleFunc("DELETE /api/v1/videos/{id}", h.deleteVideo)
	mux.HandleFunc("GET /api/v1/videos/{id}/captions", h.listCaptions)
	mux.HandleFunc("PUT /api/v1/videos/{id}/captions/{lang}", h.putCaption)
	mux.HandleFunc("DELETE /api/v1/videos/{id}/captions/{lang}", h.deleteCaption)
	mux.HandleFunc("GET /api/v1/search", h.search)
	mux.HandleFunc("GET /api/v1/search/suggest", h.suggest)
	mux.HandleFunc("GET /api/v1/videos/trending", h.trending)
	mux.HandleFunc("GET /api/v1/videos/{id}/related", h.related)
	mux.HandleFunc("GET /api/v1/admin/cluster", h.adminCluster)
	mux.HandleFunc("GET /api/v1/admin/jobs", h.adminJobs)
	mux.HandleFunc("POST /api/v1/admin/jobs/{id}/retry", h.adminRetryJob)
	mux.HandleFunc("GET /api/v1/admin/qoe", h.adminQoE)
	mux.HandleFunc("GET /api/v1/admin/logs", h.adminLogs)
	mux.HandleFunc("POST /api/v1/beacons", h.beacons)
	mux.HandleFunc("GET /api/v1/steering/{id}", h.steeringManifest)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httperr.Write(w, http.StatusNotFound, "not_found", "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
	h.mux = mux
	return nil
}

// ServeHTTP implements caddyhttp.MiddlewareHandler. The API answers every
// path it is routed; it never calls next. Each request is counted by its
// route (the mux pattern) in strata_http_requests_total and timed.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	reqid.Ensure(w, r)
	start := time.Now()
	rec := &cluster.StatusRecorder{ResponseWriter: w}
	h.serve(rec, r)
	route := "other"
	if _, p := h.mux.Handler(r); p != "" && p != "/api/" {
		route = p
	}
	cluster.ObserveRequest(route, rec.Status, time.Since(start))
	return nil
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	// A method the mux knows the path for but not the method comes back as
	// a plain-text 405; wrap it (jsonErrorWriter) to keep errors JSON.
	//
	// Beacons are anonymous and sent by navigator.sendBeacon, which cannot
	// add the CSRF header: they skip the login (whose cookie they may
	// carry) and change nothing of any account.
	if r.Method == http.MethodPost && r.URL.Path == "/api/v1/beacons" {
		h.mux.ServeHTTP(&jsonErrorWriter{ResponseWriter: w}, r)
		return
	}
	p, err := h.accounts.Authenticate(r)
	if err != nil {
		account.WriteAuthError(w, err)
		return
	}
	if err := h.accounts.CheckCSRF(r, p); err != nil {
		httperr.Write(w, http.StatusForbidden, "csrf", err.Error())
		return
	}
	if p != nil {
		r = r.WithContext(account.WithPrincipal(r.Context(), p))
	}
	h.mux.ServeHTTP(&jsonErrorWriter{ResponseWriter: w}, r)
}

// bootstrap makes the media signing key and, on a fresh cluster, the first
// admin and its setup link, once the node has a leader.
func (h *Handler) bootstrap(ctx caddy.Context) {
	for ctx.Err() == nil {
		if err := h.app.Node().WaitLeader(ctx); err != nil {
			return
		}
		err := h.accounts.Bootstrap(ctx)
		if err == nil {
			return
		}
		h.log.Warn("account bootstrap failed; retrying", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// parts returns the running origin's pieces (only the node on a node
// without the origin role), or answers 503.
func (h *Handler) parts(w http.ResponseWriter) (origin.Parts, bool) {
	if h.origin == nil {
		return origin.Parts{Node: h.app.Node()}, true
	}
	p, err := h.origin.Parts()
	if err != nil {
		httperr.Unavailable(w, "the node is starting; try again in a moment")
		return p, false
	}
	return p, true
}

func (h *Handler) uploads(w http.ResponseWriter, r *http.Request) {
	p, ok := h.parts(w)
	if !ok {
		return
	}
	if p.Uploads == nil {
		httperr.Write(w, http.StatusNotFound, "no_uploads", "this node takes no uploads; send them to an origin")
		return
	}
	if r.Method != http.MethodOptions {
		r, ok = h.authorizeUpload(w, r, p)
		if !ok {
			return
		}
	}
	p.Uploads.ServeHTTP(w, r)
}

// writeJSON answers 200 with v.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_ = jsonio.Write(w, v)
}

// writeStoreError maps store errors to HTTP answers.
func (h *Handler) writeStoreError(w http.ResponseWriter, err error, what string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		httperr.NotFound(w, what)
	case errors.Is(err, store.ErrInvalid):
		httperr.BadRequest(w, err.Error())
	case errors.Is(err, store.ErrExists):
		httperr.Write(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, store.ErrExpired), errors.Is(err, store.ErrUsed):
		httperr.Write(w, http.StatusGone, "gone", err.Error())
	case errors.Is(err, cluster.ErrOutcomeUnknown):
		httperr.Write(w, http.StatusServiceUnavailable, "outcome_unknown", cluster.ErrOutcomeUnknown.Error())
	case errors.Is(err, cluster.ErrNotLeader):
		httperr.Unavailable(w, "the cluster has no leader right now; try again in a moment")
	case errors.Is(err, cluster.ErrUpgradeInProgress):
		httperr.Write(w, http.StatusServiceUnavailable, "upgrade_in_progress", cluster.ErrUpgradeInProgress.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		httperr.Write(w, http.StatusGatewayTimeout, "timeout", "the request took too long")
	default:
		h.log.Error("request failed", "error", err)
		httperr.Internal(w)
	}
}

// jsonErrorWriter replaces the mux's plain-text 405 with a JSON error.
type jsonErrorWriter struct {
	http.ResponseWriter
	swallow bool
}

func (w *jsonErrorWriter) WriteHeader(code int) {
	if code == http.StatusMethodNotAllowed && w.Header().Get("Content-Type") != "application/json" {
		w.swallow = true
		httperr.Write(w.ResponseWriter, code, "method_not_allowed", "this endpoint does not take that method")
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *jsonErrorWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap exposes the connection to tusd's http.ResponseController.
func (w *jsonErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
