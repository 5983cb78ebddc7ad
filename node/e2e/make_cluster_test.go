package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
)

// localCluster is what deploy/cluster's state file says about the nodes.
type localCluster struct {
	Nodes []struct {
		ID, Role, URL, Admin, Data string
		PID                        int
	} `json:"nodes"`
}

// upLocalCluster starts the cluster of `make cluster` (deploy/cluster) with
// the binary under test and stops it when the test ends. It checks that
// the cluster was up within the 30 s the issue allows.
func upLocalCluster(t *testing.T) (localCluster, string) {
	t.Helper()
	launcher := filepath.Join(t.TempDir(), "cluster")
	if out, err := exec.Command("go", "build", "-o", launcher, "../../deploy/cluster").CombinedOutput(); err != nil {
		t.Fatalf("build deploy/cluster: %v\n%s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "cluster")
	out, err := exec.Command(launcher, "up", "-dir", dir, "-bin", strataBin, "-examples", "../../deploy/examples").CombinedOutput()
	t.Cleanup(func() {
		if out, err := exec.Command(launcher, "down", "-dir", dir).CombinedOutput(); err != nil {
			t.Errorf("cluster down: %v\n%s", err, out)
		}
	})
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", l, tail(string(b), 30))
		}
		t.Fatalf("cluster up: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	m := regexp.MustCompile(`up in ([0-9.]+) s`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("cluster up printed no time: %s", out)
	}
	if secs, _ := strconv.ParseFloat(string(m[1]), 64); secs >= 30 {
		t.Errorf("the cluster took %.1f s to come up, want under 30", secs)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lc localCluster
	if err := json.Unmarshal(raw, &lc); err != nil {
		t.Fatal(err)
	}
	return lc, launcher
}

// TestMakeCluster: `make cluster`'s launcher brings up three voting
// origins and two non-voting edges on loopback, each URL ready; down
// stops every process and removes the folder.
func TestMakeCluster(t *testing.T) {
	lc, launcher := upLocalCluster(t)
	if len(lc.Nodes) != 5 {
		t.Fatalf("%d nodes", len(lc.Nodes))
	}
	for _, n := range lc.Nodes {
		resp, err := http.Get(n.URL + "/readyz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s/readyz: %v %v", n.ID, n.URL, resp, err)
		}
		resp.Body.Close()
	}
	out, err := exec.Command(strataBin, "cluster", "status", "--address", "unix/"+lc.Nodes[0].Admin).CombinedOutput()
	if err != nil {
		t.Fatalf("strata cluster status: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	for want, count := range map[string]int{
		`origin-\d( \(this node\))?\s+origin\s+(Leader|Follower)\s+true`: 3,
		`edge-\d\s+edge\s+Follower\s+false`:                              2,
	} {
		if got := regexp.MustCompile(want).FindAll(out, -1); len(got) != count {
			t.Errorf("status lines matching %q: %q, want %d", want, got, count)
		}
	}
	// Each edge answers for media (nothing uploaded: a clean 404).
	for _, n := range lc.Nodes[3:] {
		resp, err := http.Get(n.URL + "/media/nothing/master.m3u8")
		if err != nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s media: %v %v", n.ID, resp, err)
		}
		resp.Body.Close()
	}

	dir := filepath.Dir(lc.Nodes[0].Data)
	if out, err := exec.Command(launcher, "down", "-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("cluster down: %v\n%s", err, out)
	}
	for _, n := range lc.Nodes {
		if err := syscall.Kill(n.PID, 0); err == nil {
			// Reaped by whoever adopted it, or a zombie: either way it
			// must not answer.
			if resp, err := http.Get(n.URL + "/healthz"); err == nil {
				resp.Body.Close()
				t.Errorf("%s still answers after down", n.ID)
			}
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after down: %v", dir, err)
	}
}
