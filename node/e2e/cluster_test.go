package e2e

import (
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestClusterUploadElsewhereSurvivesLosses runs real processes: three
// origins and a follower without roles form a cluster; an upload on an
// origin that runs no workers is transcoded by another and is searchable on
// every node; with R = 2, killing the origin that transcoded it leaves the
// video playing; killing the worker's node mid-transcode still ends with a
// ready video.
func TestClusterUploadElsewhereSurvivesLosses(t *testing.T) {
	dir := t.TempDir()
	o1 := startMember(t, dir, member{name: "o1", origin: "workers 0\nlease 4s"})
	o2 := startMember(t, dir, member{name: "o2", origin: "lease 4s", join: o1.clusterAddr})
	o3 := startMember(t, dir, member{name: "o3", origin: "lease 4s", join: o1.clusterAddr})
	f1 := startMember(t, dir, member{name: "f1", join: o1.clusterAddr})
	waitCluster(t, o1.node, 30*time.Second, "four healthy nodes", allHealthyAndEqual("o1", "o2", "o3", "f1"))
	var view clusterView
	o1.admin("GET", "/strata/cluster", nil, &view)
	for _, s := range view.Nodes {
		if s.Voter != (s.ID != "f1") {
			t.Errorf("%s voter=%v", s.ID, s.Voter)
		}
	}

	src := makeVideo(t, dir, "cluster.mp4", 6, "640x360")
	data, _ := os.ReadFile(src)
	up := tusCreate(t, o1.base, data, map[string]string{"filename": "cluster.mp4", "title": "Quokka parade across the cluster"})
	up.patchOK(0, len(data))
	id := up.id()
	v := o1.waitVideo(id, 3*time.Minute)
	if v.Status != "ready" {
		t.Fatalf("video: %s %s", v.Status, v.Error)
	}
	worker := ""
	for _, j := range o1.jobs(t) {
		if j.VideoID == id {
			worker = j.Worker
		}
	}
	if !strings.HasPrefix(worker, "o2/") && !strings.HasPrefix(worker, "o3/") {
		t.Fatalf("transcoded by %q, want a worker on o2 or o3", worker)
	}
	waitCluster(t, o1.node, 30*time.Second, "replicas converge", allHealthyAndEqual("o1", "o2", "o3", "f1"))
	for _, n := range []*clusterNode{o1, o2, o3, f1} {
		checkSearch(t, n.node, "quokka", id)
	}

	// The transcoding origin dies: the other copy (R = 2) still serves.
	byName := map[string]*clusterNode{"o2": o2, "o3": o3}
	transcoder := byName[strings.Split(worker, "/")[0]]
	waitCopies(t, o1.node, id, 2)
	transcoder.kill()
	for _, n := range []*clusterNode{o1, o2, o3} {
		if n == transcoder {
			continue
		}
		checkMedia(t, n.node, v, 6)
	}
}

// waitCopies waits until the video's media and raw upload each have n
// holders.
func waitCopies(t *testing.T, n *node, id string, want int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var v struct {
			MediaHolders []string `json:"media_holders"`
			RawHolders   []string `json:"raw_holders"`
		}
		if _, err := n.admin("GET", "/strata/videos/"+url.PathEscape(id), nil, &v); err == nil &&
			len(v.MediaHolders) >= want && len(v.RawHolders) >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("video %s never reached %d copies: %+v", id, want, v)
		}
		time.Sleep(200 * time.Millisecond) // poll interval
	}
}

// TestClusterWorkerKilledMidTranscode: the node whose worker holds the job
// is killed while ffmpeg runs; the lease expires and another origin's
// worker makes the video ready.
func TestClusterWorkerKilledMidTranscode(t *testing.T) {
	dir := t.TempDir()
	o1 := startMember(t, dir, member{name: "o1", origin: "workers 0\nlease 3s"})
	o2 := startMember(t, dir, member{name: "o2", origin: "lease 3s", join: o1.clusterAddr})
	o3 := startMember(t, dir, member{name: "o3", origin: "lease 3s", join: o1.clusterAddr})
	waitCluster(t, o1.node, 30*time.Second, "three healthy nodes", allHealthyAndEqual("o1", "o2", "o3"))
	src := makeVideo(t, dir, "long.mp4", 12, "1280x720")
	data, _ := os.ReadFile(src)
	id := uploadWhole(t, o1.node, data, "killed worker")

	var first string
	deadline := time.Now().Add(2 * time.Minute)
	for first == "" {
		for _, j := range o1.jobs(t) {
			if j.VideoID == id && j.State == "running" {
				var v video
				o1.getJSON("/api/v1/videos/"+id, &v)
				if v.Progress > 0 {
					first = j.Worker
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the job never ran")
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
	victim := map[string]*clusterNode{"o2": o2, "o3": o3}[strings.Split(first, "/")[0]]
	victim.kill()
	v := o1.waitVideo(id, 3*time.Minute)
	if v.Status != "ready" {
		t.Fatalf("after the worker's node died the video is %s: %s", v.Status, v.Error)
	}
	for _, j := range o1.jobs(t) {
		if j.VideoID == id && strings.HasPrefix(j.Worker, victim.spec.name+"/") {
			t.Fatalf("the job was completed by the dead node's worker %s", j.Worker)
		}
	}
	survivor := o2
	if victim == o2 {
		survivor = o3
	}
	checkMedia(t, survivor.node, v, 12)
}
