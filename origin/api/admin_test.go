package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/account"
)

// adminMux serves the admin endpoints against n, the way Provision routes
// them, with p (nil: anonymous) as the request's principal.
func adminMux(n *cluster.Node, p *account.Principal) http.Handler {
	h := handler()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/admin/cluster", func(w http.ResponseWriter, r *http.Request) { h.runAdminCluster(w, r, n) })
	mux.HandleFunc("GET /api/v1/admin/jobs", func(w http.ResponseWriter, r *http.Request) { h.runAdminJobs(w, r, n) })
	mux.HandleFunc("POST /api/v1/admin/jobs/{id}/retry", func(w http.ResponseWriter, r *http.Request) { h.runAdminRetryJob(w, r, n) })
	mux.HandleFunc("GET /api/v1/admin/logs", func(w http.ResponseWriter, r *http.Request) { h.runAdminLogs(w, r, n) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p != nil {
			r = r.WithContext(account.WithPrincipal(r.Context(), p))
		}
		mux.ServeHTTP(w, r)
	})
}

func adminCall(t *testing.T, hd http.Handler, method, target string, out any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	hd.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q", method, target, ct)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, target, err, rec.Body)
		}
	}
	return rec.Code
}

// jobFixture makes two videos with a transcode job each: one dead (failed
// for good) and one still queued.
func jobFixture(t *testing.T, n *cluster.Node) {
	t.Helper()
	at := command.Stamp{At: time.Now().UTC()}
	applyOnly(t, n,
		&command.CreateVideo{Stamp: at, Video: model.Video{ID: "vdead", Title: "Broken upload"}},
		&command.EnqueueJob{Stamp: at, ID: "jdead", Kind: model.KindTranscode, VideoID: "vdead", MaxAttempts: 3},
		&command.ClaimJob{Stamp: at, Worker: "test/w0", Kinds: []model.JobKind{model.KindTranscode}, LeaseUntil: at.At.Add(time.Hour)},
		&command.FailJob{Stamp: at, JobID: "jdead", Worker: "test/w0", Reason: "the file is not a video", Permanent: true},
		&command.CreateVideo{Stamp: at, Video: model.Video{ID: "vqueued", Title: "Waiting"}},
		&command.EnqueueJob{Stamp: at, ID: "jqueued", Kind: model.KindTranscode, VideoID: "vqueued", MaxAttempts: 3},
	)
}

// TestAdminAPIRefusesNonAdmins: anonymous callers get 401; users,
// moderators, and admins acting through a token without the admin scope
// get 403, on every admin endpoint.
func TestAdminAPIRefusesNonAdmins(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	jobFixture(t, n)
	endpoints := [][2]string{
		{http.MethodGet, "/api/v1/admin/cluster"},
		{http.MethodGet, "/api/v1/admin/jobs"},
		{http.MethodPost, "/api/v1/admin/jobs/jdead/retry"},
		{http.MethodGet, "/api/v1/admin/logs"},
	}
	readToken := &model.APIToken{Scopes: []model.Scope{model.ScopeRead, model.ScopeUpload}}
	cases := []struct {
		who  string
		p    *account.Principal
		want int
	}{
		{"anonymous", nil, http.StatusUnauthorized},
		{"user", &account.Principal{User: &model.User{ID: "u1", Role: model.RoleUser}}, http.StatusForbidden},
		{"moderator", &account.Principal{User: &model.User{ID: "u2", Role: model.RoleModerator}}, http.StatusForbidden},
		{"admin with an upload token", &account.Principal{User: &model.User{ID: "u3", Role: model.RoleAdmin}, Token: readToken}, http.StatusForbidden},
	}
	for _, c := range cases {
		hd := adminMux(n, c.p)
		for _, e := range endpoints {
			var body struct {
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if code := adminCall(t, hd, e[0], e[1], &body); code != c.want || body.Error.Code == "" {
				t.Errorf("%s: %s %s: HTTP %d (error code %q), want %d with an error code", c.who, e[0], e[1], code, body.Error.Code, c.want)
			}
		}
	}
	// Nothing was retried.
	jobs, _ := n.Jobs(func(j *model.Job) bool { return j.ID == "jdead" })
	if len(jobs) != 1 || jobs[0].State != model.JobDead {
		t.Fatalf("after refused retries the dead job is %+v", jobs)
	}
}

// TestAdminAPIClusterJobsRetry: an admin sees the cluster (this node, the
// leader, healthy, with its disk), the job queue with counts and a state
// filter, and retries a dead job (a second retry, or one of a queued job,
// is refused with 409; an unknown job is 404).
func TestAdminAPIClusterJobsRetry(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	jobFixture(t, n)
	admin := &account.Principal{User: &model.User{ID: "admin1", Role: model.RoleAdmin}}
	hd := adminMux(n, admin)

	// The cluster, in the shape of the operator's GET /strata/cluster.
	var raw map[string]any
	if code := adminCall(t, hd, http.MethodGet, "/api/v1/admin/cluster", &raw); code != http.StatusOK {
		t.Fatalf("cluster: HTTP %d", code)
	}
	for _, k := range []string{"self", "leader", "nodes"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("cluster answer lacks %q: %v", k, raw)
		}
	}
	var cv cluster.ClusterView
	adminCall(t, hd, http.MethodGet, "/api/v1/admin/cluster", &cv)
	if cv.Self != n.ID() || cv.Leader != n.ID() || len(cv.Nodes) != 1 {
		t.Fatalf("cluster view %+v: want this node (%s) alone and leading", cv, n.ID())
	}
	nd := cv.Nodes[0]
	if nd.ID != n.ID() || nd.State != "Leader" || !nd.Voter || !nd.Healthy || nd.AppliedIndex == 0 ||
		nd.Disk == nil || nd.Disk.TotalBytes == 0 {
		t.Errorf("node status %+v: want the leader, a voter, healthy, with an applied index and its disk", nd)
	}
	nodes := raw["nodes"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "roles", "state", "voter", "leader", "applied_index", "healthy", "disk"} {
		if _, ok := nodes[k]; !ok {
			t.Errorf("node status lacks %q: %v", k, nodes)
		}
	}

	// The queue: newest first, with counts over every job.
	var jv JobsView
	if code := adminCall(t, hd, http.MethodGet, "/api/v1/admin/jobs", &jv); code != http.StatusOK {
		t.Fatalf("jobs: HTTP %d", code)
	}
	if len(jv.Jobs) != 2 || jv.Jobs[0].ID != "jqueued" || jv.Jobs[1].ID != "jdead" {
		t.Fatalf("jobs %+v: want jqueued then jdead", jv.Jobs)
	}
	dead := jv.Jobs[1]
	if dead.State != model.JobDead || dead.LastError != "the file is not a video" || dead.VideoTitle != "Broken upload" || dead.VideoID != "vdead" {
		t.Errorf("dead job %+v: want dead, its reason and its video's title", dead)
	}
	if jv.Counts[model.JobDead] != 1 || jv.Counts[model.JobQueued] != 1 || jv.Counts[model.JobRunning] != 0 {
		t.Errorf("counts %v: want 1 dead, 1 queued, 0 running", jv.Counts)
	}
	var rawJobs map[string]any
	adminCall(t, hd, http.MethodGet, "/api/v1/admin/jobs", &rawJobs)
	j0 := rawJobs["jobs"].([]any)[1].(map[string]any)
	for _, k := range []string{"id", "kind", "video_id", "video_title", "state", "attempts", "max_attempts", "last_error", "created_at", "updated_at"} {
		if _, ok := j0[k]; !ok {
			t.Errorf("job lacks %q: %v", k, j0)
		}
	}
	for _, s := range []string{"dead", "failed"} {
		var f JobsView
		adminCall(t, hd, http.MethodGet, "/api/v1/admin/jobs?state="+s, &f)
		if len(f.Jobs) != 1 || f.Jobs[0].ID != "jdead" || f.Counts[model.JobQueued] != 1 {
			t.Errorf("state=%s: %+v, want only jdead (and counts of all)", s, f)
		}
	}
	var lim JobsView
	adminCall(t, hd, http.MethodGet, "/api/v1/admin/jobs?limit=1", &lim)
	if len(lim.Jobs) != 1 || lim.Jobs[0].ID != "jqueued" {
		t.Errorf("limit=1: %+v, want the newest job only", lim.Jobs)
	}
	for _, bad := range []string{"?state=bogus", "?limit=0", "?limit=x"} {
		if code := adminCall(t, hd, http.MethodGet, "/api/v1/admin/jobs"+bad, nil); code != http.StatusBadRequest {
			t.Errorf("jobs%s: HTTP %d, want 400", bad, code)
		}
	}

	// Retry.
	var retried JobView
	if code := adminCall(t, hd, http.MethodPost, "/api/v1/admin/jobs/jdead/retry", &retried); code != http.StatusOK {
		t.Fatalf("retry: HTTP %d", code)
	}
	if retried.ID != "jdead" || retried.State != model.JobQueued || retried.Attempts != 0 {
		t.Errorf("retried job %+v: want queued with no attempts used", retried)
	}
	if v, err := n.Video("vdead"); err != nil || v.Status != model.StatusUploaded || v.Error != "" {
		t.Errorf("video after retry: %+v, %v; want uploaded again, without an error", v, err)
	}
	for _, id := range []string{"jdead", "jqueued"} {
		if code := adminCall(t, hd, http.MethodPost, "/api/v1/admin/jobs/"+id+"/retry", nil); code != http.StatusConflict {
			t.Errorf("retry of the queued job %s: HTTP %d, want 409", id, code)
		}
	}
	if code := adminCall(t, hd, http.MethodPost, "/api/v1/admin/jobs/nope/retry", nil); code != http.StatusNotFound {
		t.Errorf("retry of an unknown job: HTTP %d, want 404", code)
	}
}

// TestAdminAPIClusterHistory: ?history=1 adds the node's edge cache
// history (edge_cache) to its status; without it the answer stays small.
func TestAdminAPIClusterHistory(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	hd := adminMux(n, &account.Principal{User: &model.User{ID: "admin1", Role: model.RoleAdmin}})
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	remove := n.SetCacheHistory(func() *cluster.CacheHistory {
		return &cluster.CacheHistory{Start: start, StepSeconds: 60,
			MemHits: []int64{3, 0}, DiskHits: []int64{1, 0}, Stale: []int64{0, 0}, Misses: []int64{1, 2},
			MemBytes: []int64{3000, 0}, DiskBytes: []int64{1000, 0}, StaleBytes: []int64{0, 0}, UpstreamBytes: []int64{1000, 2000}}
	})

	var raw struct {
		Nodes []map[string]json.RawMessage `json:"nodes"`
	}
	adminCall(t, hd, http.MethodGet, "/api/v1/admin/cluster", &raw)
	if _, ok := raw.Nodes[0]["edge_cache"]; ok {
		t.Errorf("edge_cache without ?history=1: %s", raw.Nodes[0]["edge_cache"])
	}

	var cv cluster.ClusterView
	if code := adminCall(t, hd, http.MethodGet, "/api/v1/admin/cluster?history=1", &cv); code != http.StatusOK {
		t.Fatalf("cluster?history=1: HTTP %d", code)
	}
	h := cv.Nodes[0].EdgeCache
	if h == nil || !h.Start.Equal(start) || h.StepSeconds != 60 || len(h.MemHits) != 2 || h.Misses[1] != 2 || h.UpstreamBytes[1] != 2000 {
		t.Fatalf("edge_cache %+v: want the node's history", h)
	}
	adminCall(t, hd, http.MethodGet, "/api/v1/admin/cluster?history=1", &raw)
	var keys map[string]any
	if err := json.Unmarshal(raw.Nodes[0]["edge_cache"], &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"start", "step_seconds", "mem_hits", "disk_hits", "stale", "misses", "mem_bytes", "disk_bytes", "stale_bytes", "upstream_bytes"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("edge_cache lacks %q", k)
		}
	}

	// A node whose edge role stopped has none.
	remove()
	cv = cluster.ClusterView{}
	adminCall(t, hd, http.MethodGet, "/api/v1/admin/cluster?history=1", &cv)
	if cv.Nodes[0].EdgeCache != nil {
		t.Errorf("edge_cache after the role stopped: %+v", cv.Nodes[0].EdgeCache)
	}
}
