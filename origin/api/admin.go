package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/origin/account"
	"github.com/stratavideo/strata/origin/httperr"
)

// The admin dashboard's API (admins only; 401 without a login, 403 for
// anyone else):
//
//	GET  /api/v1/admin/cluster               every node: roles, state, leader, applied index, health, disk
//	GET  /api/v1/admin/cluster?history=1     the same, with each edge's cache figures a minute for a day (edge_cache)
//	GET  /api/v1/admin/jobs?state=&limit=    the job queue, newest first, and counts by state
//	POST /api/v1/admin/jobs/{id}/retry       a dead job back in the queue with fresh attempts
//
// Users are the account service's (/api/v1/admin/users); moderation uses
// PATCH and DELETE /api/v1/videos/{id}, which admins may do to any video.

// JobView is a job as the dashboard shows it: the job and its video's title.
type JobView struct {
	*model.Job
	VideoTitle string `json:"video_title,omitempty"`
}

// JobsView is GET /api/v1/admin/jobs's answer. Counts covers every job,
// whatever the filter; Jobs is the filtered list, newest first, at most
// limit long.
type JobsView struct {
	Jobs   []JobView              `json:"jobs"`
	Counts map[model.JobState]int `json:"counts"`
}

// jobStates are the states GET /api/v1/admin/jobs filters on; "failed" is
// another name for dead (failed for good, waiting for a retry).
var jobStates = map[string]model.JobState{
	"queued": model.JobQueued, "running": model.JobRunning, "done": model.JobDone,
	"dead": model.JobDead, "failed": model.JobDead,
}

// needAdmin answers 401 or 403 and returns false unless an admin asks.
func needAdmin(w http.ResponseWriter, r *http.Request) bool {
	p := account.Need(w, r, model.ScopeAdmin)
	if p == nil {
		return false
	}
	if !p.IsAdmin() {
		httperr.Write(w, http.StatusForbidden, "forbidden", "only admins see the dashboard")
		return false
	}
	return true
}

func (h *Handler) adminCluster(w http.ResponseWriter, r *http.Request) {
	h.runAdminCluster(w, r, h.app.Node())
}

func (h *Handler) adminJobs(w http.ResponseWriter, r *http.Request) {
	h.runAdminJobs(w, r, h.app.Node())
}

func (h *Handler) adminRetryJob(w http.ResponseWriter, r *http.Request) {
	h.runAdminRetryJob(w, r, h.app.Node())
}

func (h *Handler) runAdminCluster(w http.ResponseWriter, r *http.Request, n *cluster.Node) {
	if !needAdmin(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	opts := cluster.StatusOptions{History: r.URL.Query().Get("history") != ""}
	nodes, err := n.ClusterStatusWith(ctx, opts)
	if err != nil {
		h.writeStoreError(w, err, "cluster")
		return
	}
	if nodes == nil {
		nodes = []cluster.Status{}
	}
	leader, _ := n.Leader()
	edges, err := n.Edges()
	if err != nil {
		h.writeStoreError(w, err, "edge registry")
		return
	}
	if edges == nil {
		edges = []*model.Edge{}
	}
	writeJSON(w, http.StatusOK, cluster.ClusterView{Self: n.ID(), Leader: leader, Nodes: nodes, Edges: edges})
}

func (h *Handler) runAdminJobs(w http.ResponseWriter, r *http.Request, n *cluster.Node) {
	if !needAdmin(w, r) {
		return
	}
	q := r.URL.Query()
	var state model.JobState
	if s := q.Get("state"); s != "" {
		var ok bool
		if state, ok = jobStates[s]; !ok {
			httperr.BadRequest(w, "state is one of queued, running, done, dead (or failed)")
			return
		}
	}
	limit := 100
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 1000 {
			httperr.BadRequest(w, "limit is a number from 1 to 1000")
			return
		}
		limit = v
	}
	counts := map[model.JobState]int{model.JobQueued: 0, model.JobRunning: 0, model.JobDone: 0, model.JobDead: 0}
	jobs, err := n.Jobs(func(j *model.Job) bool {
		counts[j.State]++
		return state == "" || j.State == state
	})
	if err != nil {
		h.writeStoreError(w, err, "jobs")
		return
	}
	slices.Reverse(jobs) // newest first
	if len(jobs) > limit {
		jobs = jobs[:limit]
	}
	out := JobsView{Jobs: make([]JobView, 0, len(jobs)), Counts: counts}
	for _, j := range jobs {
		jv := JobView{Job: j}
		if v, err := n.Video(j.VideoID); err == nil {
			jv.VideoTitle = v.Title
		}
		out.Jobs = append(out.Jobs, jv)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) runAdminRetryJob(w http.ResponseWriter, r *http.Request, n *cluster.Node) {
	if !needAdmin(w, r) {
		return
	}
	v, err := n.Apply(r.Context(), &command.RetryJob{Stamp: command.Stamp{At: time.Now().UTC()}, JobID: r.PathValue("id")})
	switch {
	case errors.Is(err, store.ErrInvalid):
		httperr.Write(w, http.StatusConflict, "not_dead", err.Error())
		return
	case err != nil:
		h.writeStoreError(w, err, "job")
		return
	}
	j, _ := v.(*model.Job)
	if j == nil {
		httperr.Internal(w)
		return
	}
	jv := JobView{Job: j}
	if v, err := n.Video(j.VideoID); err == nil {
		jv.VideoTitle = v.Title
	}
	writeJSON(w, http.StatusOK, jv)
}
