package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"
)

// telemetryCaddyfile is a cluster member with Caddy's access log on
// standard output (JSON), /metrics, the web UI, and, for an edge
// (originHTTP set), the edge role in front of that origin.
func telemetryCaddyfile(name, clusterAddr, join string, httpPort int, originHTTP string) string {
	role := "\t\torigin\n"
	media := "\t\tstrata_media\n"
	if originHTTP != "" {
		role = "\t\tedge {\n\t\t\tdisk off\n\t\t}\n"
		media = fmt.Sprintf("\t\tstrata_edge {\n\t\t\torigin %s\n\t\t}\n", originHTTP)
	}
	return fmt.Sprintf(`{
	admin {$STRATA_ADMIN}
	persist_config off
	storage file_system {$STRATA_DATA}/caddy
	filesystem strata_web strata_web
	strata {
		data {$STRATA_DATA}
		node_id %s
		cluster {
			listen %s
			key "%s"
			join %s
			http_url http://127.0.0.1:%d
		}
%s	}
}

http://:{$STRATA_LISTEN_PORT} {
	bind tcp/{$STRATA_LISTEN_HOST}
	log {
		output stdout
		format json
	}
	handle /api/* {
		strata_api
	}
	handle /media/* {
%s	}
	handle /healthz {
		strata_health live
	}
	handle /readyz {
		strata_health ready
	}
	handle /metrics {
		metrics
	}
	handle {
		fs strata_web
		try_files {path} /index.html
		file_server
	}
}
`, name, clusterAddr, clusterKey, join, httpPort, role, media)
}

// TestRequestIDEdgeToOrigin runs an origin and an edge as two processes
// of one cluster, both with Caddy's access log. A media request through
// the edge with an X-Request-ID gets it back and the edge's fill carries
// it to the origin: both access logs have it; a request without one gets
// an ID the edge made, which the origin's log has too. The edge's admin
// API gathers the log entries of both nodes; each node's /metrics has the
// families the operations view needs (requests and latency by route,
// cache hit ratio, transcode queue and durations, Raft state).
func TestRequestIDEdgeToOrigin(t *testing.T) {
	started := time.Now()
	phase := func(what string) { t.Logf("[%5.1fs] %s", time.Since(started).Seconds(), what) }
	dir := t.TempDir()
	origin, edge := startOriginAndEdge(t, dir)
	phase("an origin and an edge")

	data, err := os.ReadFile(makeVideo(t, dir, "telemetry.mp4", 2, "320x240"))
	if err != nil {
		t.Fatal(err)
	}
	id := uploadWhole(t, origin, data, "Telemetry clip")
	if v := origin.waitVideo(id, 3*time.Minute); v.Status != "ready" {
		t.Fatalf("the clip is %q, want ready", v.Status)
	}
	v := edge.waitVideo(id, 30*time.Second)
	phase("the clip is ready on both nodes")

	// ---- a viewer's ID, through the edge to the origin
	const sent = "e2e-trace-0001"
	resp, _ := get(t, edge.base+v.HLS, map[string]string{"X-Request-ID": sent})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Cache") != "MISS" || resp.Header.Get("X-Request-ID") != sent {
		t.Fatalf("master through the edge: %d, X-Cache %q, X-Request-ID %q", resp.StatusCode, resp.Header.Get("X-Cache"), resp.Header.Get("X-Request-ID"))
	}
	waitAccessLogged(t, edge, sent, v.HLS)
	waitAccessLogged(t, origin, sent, v.HLS)
	// ---- no ID sent: the edge makes one, the origin gets it
	poster := v.HLS[:strings.LastIndex(v.HLS, "/")+1] + "storyboard.vtt"
	if v.Thumbnail != "" {
		poster = v.Thumbnail
	}
	resp, _ = get(t, edge.base+poster, nil)
	made := resp.Header.Get("X-Request-ID")
	if resp.Header.Get("X-Cache") != "MISS" || len(made) != 24 {
		t.Fatalf("%s through the edge: %d, X-Cache %q, X-Request-ID %q", poster, resp.StatusCode, resp.Header.Get("X-Cache"), made)
	}
	waitAccessLogged(t, edge, made, poster)
	waitAccessLogged(t, origin, made, poster)
	phase("request IDs in both nodes' access logs")

	// ---- the cluster's log view, asked of the edge
	var view struct {
		Entries []struct {
			Node    string `json:"node"`
			Message string `json:"msg"`
		} `json:"entries"`
		Nodes []struct {
			ID      string `json:"id"`
			Count   int    `json:"count"`
			Problem string `json:"problem"`
		} `json:"nodes"`
	}
	adminGetJSON(t, edge, "/api/v1/admin/logs?q=strata+node+started", &view)
	from := map[string]bool{}
	for _, e := range view.Entries {
		from[e.Node] = true
	}
	if !from["origin"] || !from["edge"] || len(view.Nodes) != 2 || view.Nodes[0].Problem != "" || view.Nodes[1].Problem != "" {
		t.Fatalf("the log view from the edge: %+v", view)
	}
	phase("the edge's log view has both nodes' entries")

	// ---- metrics
	checkFamilies(t, edge, `strata_edge_requests_total{result="miss"}`, "strata_edge_hit_ratio",
		`strata_raft_state{state="follower"} 1`, "strata_raft_term", "strata_raft_commit_index",
		"strata_raft_last_contact_seconds", "strata_raft_servers 2", "strata_raft_voters 1",
		`strata_http_requests_total{code="200",route="GET /api/v1/videos/{id}"}`,
		`strata_http_request_duration_seconds_bucket{route="GET /api/v1/videos/{id}"`)
	checkFamilies(t, origin, `strata_raft_state{state="leader"} 1`, "strata_raft_leader 1",
		"strata_jobs_queued", "strata_jobs_running", `strata_job_seconds_count{kind="transcode",result="done"}`,
		`strata_jobs_finished_total{kind="transcode",result="done"}`,
		`strata_http_requests_total{code="200",route="media manifest"}`,
		`strata_http_request_duration_seconds_count{route="media manifest"}`,
		`strata_http_requests_total{code="201",route="/api/v1/uploads/"}`, // tus's creation
		`strata_store_cache_reads_total{kind="video",result="hit"}`)
	phase("both nodes' /metrics have every family")
}

// startOriginAndEdge runs an origin (the cluster's first node) and an edge
// that joins it, named origin and edge (telemetryCaddyfile).
func startOriginAndEdge(t *testing.T, dir string) (origin, edge *node) {
	t.Helper()
	start := func(name, join, originHTTP string) (*node, string) {
		port := freePort(t)
		clusterAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		cfg := filepath.Join(dir, name+".Caddyfile")
		if err := os.WriteFile(cfg, []byte(telemetryCaddyfile(name, clusterAddr, join, port, originHTTP)), 0o600); err != nil {
			t.Fatal(err)
		}
		return startNodeConfig(t, filepath.Join(dir, name), cfg, port), clusterAddr
	}
	origin, originCluster := start("origin", "", "")
	edge, _ = start("edge", originCluster, strings.TrimPrefix(origin.base, "http://"))
	return origin, edge
}

// waitAccessLogged waits for n's access log line of uri with request ID id.
func waitAccessLogged(t *testing.T, n *node, id, uri string) {
	t.Helper()
	waitFor(t, "the access log of "+uri+" with "+id+" on "+n.base, 5*time.Second, func() (bool, string) {
		for _, line := range strings.Split(n.logs.String(), "\n") {
			if strings.Contains(line, `"http.log.access`) && strings.Contains(line, `"uri":"`+uri+`"`) && strings.Contains(line, `"`+id+`"`) {
				return true, ""
			}
		}
		return false, tail(n.logs.String(), 5)
	})
}

// checkFamilies fails unless every want starts a line of n's /metrics.
func checkFamilies(t *testing.T, n *node, want ...string) {
	t.Helper()
	resp, body := get(t, n.base+"/metrics", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s/metrics: HTTP %d", n.base, resp.StatusCode)
	}
	lines := strings.Split(string(body), "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s/metrics has no line starting %s", n.base, w)
		}
	}
}

// TestLogsShippedOverOTLP runs a node with `logs { otlp <url> }` pointed
// at a collector made of an httptest server that decodes the requests
// with the OTLP protobuf types: the node's start line arrives, with the
// node's ID as the resource's service.instance.id.
func TestLogsShippedOverOTLP(t *testing.T) {
	var mu sync.Mutex
	var records []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req collogs.ExportLogsServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("%s: not an OTLP request: %v", r.URL.Path, err)
		}
		mu.Lock()
		for _, rl := range req.ResourceLogs {
			node := ""
			for _, kv := range rl.Resource.GetAttributes() {
				if kv.Key == "service.instance.id" {
					node = kv.Value.GetStringValue()
				}
			}
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					records = append(records, r.URL.Path+" "+node+" "+lr.SeverityText+" "+lr.Body.GetStringValue())
				}
			}
		}
		mu.Unlock()
		out, _ := proto.Marshal(&collogs.ExportLogsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	defer srv.Close()

	dir := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(dir, "Caddyfile")
	config := fmt.Sprintf(`{
	admin {$STRATA_ADMIN}
	persist_config off
	storage file_system {$STRATA_DATA}/caddy
	strata {
		data {$STRATA_DATA}
		node_id shipper
		logs {
			otlp %s
		}
		origin
	}
}

http://:{$STRATA_LISTEN_PORT} {
	bind tcp/{$STRATA_LISTEN_HOST}
	handle /api/* {
		strata_api
	}
	handle /readyz {
		strata_health ready
	}
	handle /healthz {
		strata_health live
	}
}
`, srv.URL)
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	startNodeConfig(t, filepath.Join(dir, "data"), cfg, port)
	// The node logs "strata node started" as it starts; batches go every 5 s.
	waitFor(t, "the start line at the collector", 15*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range records {
			if r == "/v1/logs shipper info strata node started" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d records: %q", len(records), records)
	})
}
