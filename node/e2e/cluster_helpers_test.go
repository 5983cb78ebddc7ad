package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const clusterKey = "e2e cluster key, not a secret"

// member describes one node of a test cluster.
type member struct {
	name   string
	origin string // the origin role's block, "" for a node without it
	join   string // a member's cluster port, "" to bootstrap
	// bin is another build to run, without an admin token for the test
	// (upgrade tests); "" is the build under test.
	bin string
	// httpPort and clusterAddr, when set, are the ports to use (a node
	// restarted in place); otherwise free ones are picked.
	httpPort    int
	clusterAddr string
	// edge is the edge role's block ("" for a node without it) and
	// edgeOrigin the origin's HTTP address (host:port) it fills from.
	edge, edgeOrigin string
	// ui serves the web UI with the default config's headers.
	ui bool
}

// clusterNode is a running member.
type clusterNode struct {
	*node
	spec        member
	clusterAddr string
	config      string
}

// startMember writes the member's Caddyfile and runs it.
func startMember(t *testing.T, dir string, m member) *clusterNode {
	t.Helper()
	httpPort, clusterAddr := m.httpPort, m.clusterAddr
	if httpPort == 0 {
		httpPort = freePort(t)
	}
	if clusterAddr == "" {
		clusterAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	}
	dataDir := filepath.Join(dir, m.name)
	cfg := filepath.Join(dir, m.name+".Caddyfile")
	if err := os.WriteFile(cfg, []byte(memberCaddyfile(m, clusterAddr, httpPort)), 0o600); err != nil {
		t.Fatal(err)
	}
	var n *node
	if m.bin == "" {
		n = startNodeConfig(t, dataDir, cfg, httpPort)
	} else {
		n = startNodeBin(t, m.bin, false, dataDir, cfg, httpPort)
	}
	return &clusterNode{node: n, spec: m, clusterAddr: clusterAddr, config: cfg}
}

// restart starts a stopped member again on its data, with new ports.
func (c *clusterNode) restart(t *testing.T, dir string) *clusterNode {
	t.Helper()
	return startMember(t, dir, c.spec)
}

func memberCaddyfile(m member, clusterAddr string, httpPort int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{
	admin {$STRATA_ADMIN}
	persist_config off
	storage file_system {$STRATA_DATA}/caddy
	strata {
		data {$STRATA_DATA}
		node_id %s
		cluster {
			listen %s
			key "%s"
			join %s
			http_url http://127.0.0.1:%d
		}
`, m.name, clusterAddr, clusterKey, m.join, httpPort)
	if m.origin != "" {
		fmt.Fprintf(&b, "\t\torigin {\n%s\n\t\t}\n", m.origin)
	}
	if m.edge != "" {
		fmt.Fprintf(&b, "\t\tedge {\n%s\n\t\t}\n", m.edge)
	}
	b.WriteString("\t}\n")
	if m.ui {
		b.WriteString("\tfilesystem strata_web strata_web\n")
	}
	b.WriteString("}\n\nhttp://:{$STRATA_LISTEN_PORT} {\n\tbind tcp/{$STRATA_LISTEN_HOST}\n")
	b.WriteString("\thandle /api/* {\n\t\tstrata_api\n\t}\n")
	switch {
	case m.edge != "" && m.edgeOrigin != "":
		fmt.Fprintf(&b, "\thandle /media/* {\n\t\tstrata_edge {\n\t\t\torigin %s\n\t\t}\n\t}\n", m.edgeOrigin)
	case m.origin != "":
		b.WriteString("\thandle /media/* {\n\t\tstrata_media\n\t}\n")
	}
	b.WriteString("\thandle /healthz {\n\t\tstrata_health live\n\t}\n\thandle /readyz {\n\t\tstrata_health ready\n\t}\n")
	if m.ui {
		// The default config's policy, which allows the registered edges.
		b.WriteString(`	@ui not path /api/* /media/* /healthz /readyz /metrics
	strata_edge_origins @ui
	header @ui {
		` + defaultCSPLine() + `
	}
	handle {
		fs strata_web
		try_files {path} /index.html
		file_server
	}
`)
	}
	b.WriteString("}\n")
	return b.String()
}

// admin calls the node's admin endpoint over its unix socket.
func (n *node) admin(method, path string, body any, out any) (int, error) {
	sock := filepath.Join(n.dataDir, "admin.sock")
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = strings.NewReader(string(raw))
	}
	req, _ := http.NewRequest(method, "http://localhost"+path, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: %w", raw, err)
		}
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, nil
}

// nodeStatus is the part of the admin cluster view the tests read.
type nodeStatus struct {
	ID           string   `json:"id"`
	Roles        []string `json:"roles"`
	State        string   `json:"state"`
	Voter        bool     `json:"voter"`
	Leader       string   `json:"leader"`
	AppliedIndex uint64   `json:"applied_index"`
	Healthy      bool     `json:"healthy"`
	StateHash    string   `json:"state_hash"`
}

type clusterView struct {
	Self   string       `json:"self"`
	Leader string       `json:"leader"`
	Nodes  []nodeStatus `json:"nodes"`
}

// waitCluster polls one node's view of the cluster until cond holds.
func waitCluster(t *testing.T, n *node, timeout time.Duration, what string, cond func(clusterView) error) clusterView {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var v clusterView
		_, err := n.admin(http.MethodGet, "/strata/cluster?hash=1", nil, &v)
		if err == nil {
			err = cond(v)
		}
		if err == nil {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
}

// allHealthyAndEqual: every node of ids is in the view, healthy, and all
// hold the same state.
func allHealthyAndEqual(ids ...string) func(clusterView) error {
	return func(v clusterView) error {
		if len(v.Nodes) != len(ids) {
			return fmt.Errorf("%d nodes, want %d: %+v", len(v.Nodes), len(ids), v.Nodes)
		}
		hash := ""
		for _, s := range v.Nodes {
			if !s.Healthy {
				return fmt.Errorf("%s is not healthy: %+v", s.ID, s)
			}
			if hash == "" {
				hash = s.StateHash
			} else if s.StateHash != hash {
				return fmt.Errorf("state hashes differ: %+v", v.Nodes)
			}
		}
		return nil
	}
}

type job struct {
	ID      string `json:"id"`
	VideoID string `json:"video_id"`
	State   string `json:"state"`
	Worker  string `json:"worker"`
	Kind    string `json:"kind"`
}

func (n *node) jobs(t *testing.T) []job {
	t.Helper()
	var out struct {
		Jobs []job `json:"jobs"`
	}
	if _, err := n.admin(http.MethodGet, "/strata/jobs", nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Jobs
}

// startThreeOrigins starts o1 (which bootstraps), o2 and o3 into nodes,
// origins without workers, and waits until they are one healthy cluster.
func startThreeOrigins(t *testing.T, dir string, nodes map[string]*clusterNode) {
	t.Helper()
	nodes["o1"] = startMember(t, dir, member{name: "o1", origin: "workers 0"})
	nodes["o2"] = startMember(t, dir, member{name: "o2", origin: "workers 0", join: nodes["o1"].clusterAddr})
	nodes["o3"] = startMember(t, dir, member{name: "o3", origin: "workers 0", join: nodes["o1"].clusterAddr})
	waitCluster(t, nodes["o1"].node, 30*time.Second, "three healthy nodes", allHealthyAndEqual("o1", "o2", "o3"))
}

// running lists the members whose process has not exited.
func running(mu *sync.Mutex, nodes map[string]*clusterNode) []*clusterNode {
	mu.Lock()
	defer mu.Unlock()
	var out []*clusterNode
	for _, n := range nodes {
		select {
		case <-n.exited:
		default:
			out = append(out, n)
		}
	}
	return out
}

// defaultCSPLine is the Content-Security-Policy line of node/Caddyfile,
// so member configs serve the UI under the policy users get.
func defaultCSPLine() string {
	src, err := os.ReadFile(filepath.Join("..", "Caddyfile"))
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "Content-Security-Policy ") {
			return l
		}
	}
	panic("node/Caddyfile has no Content-Security-Policy line")
}
