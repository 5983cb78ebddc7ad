package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	json "github.com/go-json-experiment/json/v1"

	"github.com/stratavideo/strata/cluster/model"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI serves the cluster's operator endpoints on Caddy's admin
// endpoint (which the operator already protects), under /strata/:
//
//	GET  /strata/cluster          every node: roles, leader, applied index, health, disk
//	                              (?hash=1 adds each node's state hash)
//	GET  /strata/jobs             the job queue (?state=queued|running|done|dead)
//	GET  /strata/videos/{id}      a video's full record (holders of its copies too)
//	POST /strata/cluster/join     {"addr": "host:port"}: this (empty) node joins that cluster
//	POST /strata/cluster/leave    this node leaves its cluster
//	POST /strata/cluster/remove   {"id": "node-id"}: remove another node
//
// `strata cluster …` commands are clients of these.
type adminAPI struct {
	app *App
}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.strata",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Provision finds the strata app, if this config has one.
func (a *adminAPI) Provision(ctx caddy.Context) error {
	if v, err := ctx.AppIfConfigured("strata"); err == nil {
		a.app, _ = v.(*App)
	}
	return nil
}

// Routes implements caddy.AdminRouter.
func (a *adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/strata/", Handler: caddy.AdminHandlerFunc(a.serve)}}
}

// ClusterView is GET /strata/cluster's answer.
type ClusterView struct {
	Self   string   `json:"self"`
	Leader string   `json:"leader"`
	Nodes  []Status `json:"nodes"`
	// Edges is the edge registry: where viewers reach each edge and whom
	// it covers (each node's status carries its health and load).
	Edges []*model.Edge `json:"edges"`
}

func (a *adminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	if a.app == nil || a.app.node == nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("this config runs no strata node")}
	}
	n := a.app.node
	ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
	defer cancel()
	switch path := strings.TrimSuffix(r.URL.Path, "/"); {
	case path == "/strata/cluster" && r.Method == http.MethodGet:
		nodes, err := n.ClusterStatus(ctx, r.URL.Query().Get("hash") != "")
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
		}
		leader, _ := n.Leader()
		edges, _ := n.Edges()
		if edges == nil {
			edges = []*model.Edge{}
		}
		return writeAdminJSON(w, ClusterView{Self: n.ID(), Leader: leader, Nodes: nodes, Edges: edges})
	case path == "/strata/jobs" && r.Method == http.MethodGet:
		state := model.JobState(r.URL.Query().Get("state"))
		jobs, err := n.Jobs(func(j *model.Job) bool { return state == "" || j.State == state })
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
		}
		if jobs == nil {
			jobs = []*model.Job{}
		}
		return writeAdminJSON(w, map[string]any{"jobs": jobs})
	case strings.HasPrefix(path, "/strata/videos/") && r.Method == http.MethodGet:
		v, err := n.Video(strings.TrimPrefix(path, "/strata/videos/"))
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: err}
		}
		return writeAdminJSON(w, v)
	case path == "/strata/cluster/join" && r.Method == http.MethodPost:
		var body struct {
			Addr string `json:"addr"`
		}
		if err := decodeBody(r, &body); err != nil || body.Addr == "" {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("join needs {\"addr\": \"host:port\"}")}
		}
		if err := n.JoinCluster(ctx, body.Addr); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusConflict, Err: err}
		}
		return writeAdminJSON(w, map[string]string{"joined": body.Addr, "self": n.ID()})
	case path == "/strata/cluster/leave" && r.Method == http.MethodPost:
		if err := n.Leave(ctx); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusConflict, Err: err}
		}
		return writeAdminJSON(w, map[string]string{"left": n.ID()})
	case path == "/strata/cluster/remove" && r.Method == http.MethodPost:
		var body struct {
			ID string `json:"id"`
		}
		if err := decodeBody(r, &body); err != nil || body.ID == "" {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("remove needs {\"id\": \"node-id\"}")}
		}
		if err := n.RemovePeer(ctx, body.ID); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusConflict, Err: err}
		}
		return writeAdminJSON(w, map[string]string{"removed": body.ID})
	}
	return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no such endpoint: %s %s", r.Method, r.URL.Path)}
}

func decodeBody(r *http.Request, v any) error {
	return json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(v)
}

func writeAdminJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Interface guards
var (
	_ caddy.AdminRouter = (*adminAPI)(nil)
	_ caddy.Provisioner = (*adminAPI)(nil)
)
