package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidate: `strata validate` names the line and the reason of a bad
// config, and passes a good one without touching the node's data folder:
// a node meant to join a cluster must not bootstrap one by being checked.
func TestValidate(t *testing.T) {
	work := t.TempDir()
	bad := filepath.Join(work, "bad.Caddyfile")
	os.WriteFile(bad, []byte("{\n\tstrata {\n\t\tdata "+work+"/x\n\t\torigin {\n\t\t\tworkers lots\n\t\t}\n\t}\n}\n"), 0o600)
	out, err := exec.Command(strataBin, "validate", "--config", bad, "--adapter", "caddyfile").CombinedOutput()
	if err == nil {
		t.Fatalf("a bad config validated:\n%s", out)
	}
	if !strings.Contains(string(out), "bad.Caddyfile:5") || !strings.Contains(string(out), "workers: want a positive whole number") {
		t.Fatalf("the error does not name the line and the reason:\n%s", out)
	}

	data := filepath.Join(work, "joiner")
	cmd := exec.Command(strataBin, "validate", "--config", "../../deploy/examples/cluster-node.Caddyfile", "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(),
		"STRATA_DATA="+data, "STRATA_NODE_ID=origin-2", "STRATA_ADMIN=unix/"+filepath.Join(work, "admin.sock"),
		"STRATA_CLUSTER_ADDR=127.0.0.1:0", "STRATA_CLUSTER_KEY=a cluster key for the tests only",
		"STRATA_JOIN=127.0.0.1:1", "STRATA_URL=http://127.0.0.1:1", "STRATA_ADDR=127.0.0.1:0")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Valid configuration") {
		t.Fatalf("a good config: %v\n%s", err, out)
	}
	for _, p := range []string{"fsm.db", "raft", "node-id"} {
		if _, err := os.Stat(filepath.Join(data, p)); err == nil {
			t.Errorf("validate wrote %s into the node's data folder", p)
		}
	}
}
