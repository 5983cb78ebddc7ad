package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestBackupAndRestore: `strata backup --media` of a running node, then
// `strata restore` into a fresh folder: the node started there has the
// video, plays it, finds it, and takes new uploads. Restoring over a
// folder that holds a node is refused.
func TestBackupAndRestore(t *testing.T) {
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")
	n := startNode(t, dataDir)
	data, err := os.ReadFile(makeVideo(t, work, "clip.mp4", 2, "320x240"))
	if err != nil {
		t.Fatal(err)
	}
	up := tusCreate(t, n.base, data, map[string]string{"filename": "clip.mp4", "title": "Backed up lighthouse"})
	up.patchOK(0, len(data))
	id := up.id()
	if v := n.waitVideo(id, 3*time.Minute); v.Status != "ready" {
		t.Fatalf("video: %s %s", v.Status, v.Error)
	}

	file := filepath.Join(work, "backup.tar")
	strata := func(args ...string) ([]byte, error) {
		cmd := exec.Command(strataBin, args...)
		cmd.Env = n.cmd.Env
		return cmd.CombinedOutput()
	}
	if out, err := strata("backup", "--media", "--data", dataDir, "--address", "unix/"+filepath.Join(dataDir, "admin.sock"), file); err != nil {
		t.Fatalf("strata backup: %v\n%s", err, out)
	}
	n.stop()

	if out, err := strata("restore", "--data", dataDir, file); err == nil {
		t.Fatalf("restore over a node's folder succeeded:\n%s", out)
	}
	fresh := filepath.Join(work, "fresh")
	if out, err := strata("restore", "--data", fresh, file); err != nil {
		t.Fatalf("strata restore: %v\n%s", err, out)
	}
	m := startNode(t, fresh)
	v := m.waitVideo(id, 30*time.Second)
	if v.Status != "ready" || v.Title != "Backed up lighthouse" {
		t.Fatalf("restored video = %+v", v)
	}
	checkMedia(t, m, v, 2)
	if got := m.searchReply("/api/v1/search?q=lighthouse").ids(); len(got) != 1 || got[0] != id {
		t.Fatalf("search on the restored node = %v", got)
	}
	up2 := tusCreate(t, m.base, data, map[string]string{"filename": "clip.mp4", "title": "After the restore"})
	up2.patchOK(0, len(data))
	if v := m.waitVideo(up2.id(), 3*time.Minute); v.Status != "ready" {
		t.Fatalf("upload after the restore: %s %s", v.Status, v.Error)
	}
	if resp, _ := get(t, m.base+"/healthz", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
}
