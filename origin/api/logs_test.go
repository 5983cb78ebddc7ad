package api

import (
	"net/http"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/logs"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/account"
)

// TestAdminLogs: an admin reads the node's recent entries (what Strata's
// modules log through cluster.NewLogger's tee), filtered by level and
// text, newest last, each with its node; bad filters are 400 and an
// unknown node 404.
func TestAdminLogs(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	log := zap.New(logs.Tee(zapcore.NewNopCore())).Named("http.handlers.strata_api")
	log.Info("admin logs test: a video was uploaded", zap.String("video_id", "v1"))
	log.Warn("admin logs test: a fill failed", zap.String("request_id", "abc123"))
	hd := adminMux(n, &account.Principal{User: &model.User{ID: "admin1", Role: model.RoleAdmin}})

	var view cluster.LogsView
	if code := adminCall(t, hd, http.MethodGet, "/api/v1/admin/logs?q=admin+logs+test", &view); code != http.StatusOK {
		t.Fatalf("HTTP %d", code)
	}
	if len(view.Entries) != 2 || view.Entries[1].Message != "admin logs test: a fill failed" || view.Entries[0].Node != n.ID() ||
		view.Entries[0].Logger != "http.handlers.strata_api" || view.Entries[0].Fields["video_id"] != "v1" {
		t.Fatalf("entries %+v", view.Entries)
	}
	if len(view.Nodes) != 1 || view.Nodes[0].ID != n.ID() || view.Nodes[0].Count != 2 {
		t.Fatalf("nodes %+v", view.Nodes)
	}
	adminCall(t, hd, http.MethodGet, "/api/v1/admin/logs?level=warn&q=abc123&node="+n.ID(), &view)
	if len(view.Entries) != 1 || view.Entries[0].Level != "warn" {
		t.Fatalf("warn and request ID: %+v", view.Entries)
	}
	for target, want := range map[string]int{
		"/api/v1/admin/logs?level=loud":  http.StatusBadRequest,
		"/api/v1/admin/logs?limit=0":     http.StatusBadRequest,
		"/api/v1/admin/logs?node=nobody": http.StatusNotFound,
	} {
		if code := adminCall(t, hd, http.MethodGet, target, nil); code != want {
			t.Errorf("%s: HTTP %d, want %d", target, code, want)
		}
	}
}
