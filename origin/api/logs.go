package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/logs"
	"github.com/stratavideo/strata/origin/httperr"
)

// The cluster-wide log view (admins only):
//
//	GET /api/v1/admin/logs?node=&level=&q=&limit=   every node's recent entries, merged by time
//
// level is the lowest level shown (debug, info, warn, error; default
// info), q a text looked for in the message, the logger and the fields,
// limit the number of the newest entries (default 200, at most 2000),
// node one node's ID. Each node keeps its last 2000 entries in memory
// (package cluster/logs); the answer lists every node asked with the
// number of its entries shown, or why it did not answer.

func (h *Handler) adminLogs(w http.ResponseWriter, r *http.Request) {
	h.runAdminLogs(w, r, h.app.Node())
}

func (h *Handler) runAdminLogs(w http.ResponseWriter, r *http.Request, n *cluster.Node) {
	if !needAdmin(w, r) {
		return
	}
	f, err := logs.ParseFilter(r.URL.Query())
	if err != nil {
		httperr.BadRequest(w, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	view, err := n.Logs(ctx, r.URL.Query().Get("node"), f)
	if errors.Is(err, cluster.ErrUnknownNode) {
		httperr.NotFound(w, "node")
		return
	}
	if err != nil {
		h.writeStoreError(w, err, "logs")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, view)
}
