package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestKilledMidTranscodeResumes: kill -9 the node while it transcodes; after
// a restart the job runs again at once (no wait for the dead lease) and the
// video becomes ready and playable. Nothing acknowledged is lost.
func TestKilledMidTranscodeResumes(t *testing.T) {
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")
	n := startNode(t, dataDir)
	src := makeVideo(t, work, "long.mp4", 20, "1280x720")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	id := uploadWhole(t, n, data, "survives a crash")

	deadline := time.Now().Add(2 * time.Minute)
	for {
		var v video
		n.getJSON("/api/v1/videos/"+id, &v)
		if v.Status == "processing" && v.Progress > 0 {
			break
		}
		if v.Status == "ready" || v.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("wanted to catch the video processing, it is %q at %.0f%%", v.Status, v.Progress)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
	n.kill() // SIGKILL: no chance to hand the job back

	start := time.Now()
	n = startNode(t, dataDir)
	v := n.waitVideo(id, 3*time.Minute)
	if v.Status != "ready" {
		t.Fatalf("after the crash the video is %s: %s", v.Status, v.Error)
	}
	// The lease is 30 s; a resume that waited for it would take longer
	// than the transcode itself on this machine.
	t.Logf("ready %.1f s after the restart", time.Since(start).Seconds())
	checkMedia(t, n, v, 20)
}
