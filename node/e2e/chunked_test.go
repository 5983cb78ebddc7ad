package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClusterChunkedTranscode: a source past the chunking threshold is cut
// into pieces that workers on several origins encode; the join publishes
// one video that plays whole, and every origin drops its work files.
func TestClusterChunkedTranscode(t *testing.T) {
	dir := t.TempDir()
	opts := "chunk 2s\n\t\t\tchunk_min 10s"
	o1 := startMember(t, dir, member{name: "o1", origin: opts})
	o2 := startMember(t, dir, member{name: "o2", origin: opts, join: o1.clusterAddr})
	o3 := startMember(t, dir, member{name: "o3", origin: opts, join: o1.clusterAddr})
	nodes := []*clusterNode{o1, o2, o3}
	waitCluster(t, o1.node, 30*time.Second, "three healthy nodes", allHealthyAndEqual("o1", "o2", "o3"))

	// Keyframes every second, as phones write them: 2 s pieces.
	src := filepath.Join(dir, "long.mp4")
	ffmpegRun(t, "ffmpeg", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=20",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=20",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", src)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	up := tusCreate(t, o2.base, data, map[string]string{"filename": "long.mp4", "title": "Chunked capybara"})
	up.patchOK(0, len(data))
	id := up.id()
	v := o1.waitVideo(id, 4*time.Minute)
	if v.Status != "ready" {
		t.Fatalf("video: %s %s", v.Status, v.Error)
	}
	chunks, joins := 0, 0
	workers := map[string]bool{}
	for _, j := range o1.jobs(t) {
		if j.VideoID != id {
			continue
		}
		switch j.Kind {
		case "chunk":
			chunks++
			workers[strings.Split(j.Worker, "/")[0]] = true
		case "join":
			joins++
		}
		if j.State != "done" {
			t.Errorf("job %s (%s) is %s", j.ID, j.Kind, j.State)
		}
	}
	if chunks < 5 || joins != 1 {
		t.Fatalf("%d chunk jobs and %d joins for a 20 s source in 2 s pieces", chunks, joins)
	}
	if len(workers) < 2 {
		t.Errorf("chunks all ran on %v; want workers of two origins or more", workers)
	}
	checkLadder(t, v, []int{360, 240})
	for _, n := range nodes {
		checkMedia(t, n.node, v, 20)
	}
	checkImages(t, o1.node, v, 640, 360)

	// Work files go once the video is ready.
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		work := filepath.Join(dir, n.spec.name, "blobs", "raw", id, "work")
		for {
			// Empty folders may stay (the file store leaves them).
			var files []string
			_ = filepath.WalkDir(work, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					files = append(files, p)
				}
				return nil
			})
			if len(files) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still has work files for %s: %v", n.spec.name, id, files)
			}
			time.Sleep(100 * time.Millisecond) // poll interval
		}
	}
}
