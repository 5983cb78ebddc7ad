package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// oldBuild is the last commit before command levels (and accounts): the
// build a rolling upgrade starts from.
const oldBuild = "1b3ba16"

// buildOld builds the strata binary of an older commit from this
// repository's history.
func buildOld(t *testing.T, rev string) string {
	t.Helper()
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("the upgrade test builds %s from git history: %v", rev, err)
	}
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(src, 0o750); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), rev+".tar")
	if out, err := exec.Command("git", "-C", strings.TrimSpace(string(root)), "archive", "-o", tarball, rev).CombinedOutput(); err != nil {
		t.Fatalf("git archive %s: %v\n%s", rev, err, out)
	}
	if out, err := exec.Command("tar", "-x", "-C", src, "-f", tarball).CombinedOutput(); err != nil {
		t.Fatalf("untar %s: %v\n%s", rev, err, out)
	}
	bin := filepath.Join(t.TempDir(), "strata-"+rev)
	build := exec.Command("go", "build", "-o", bin, "./node")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", rev, err, out)
	}
	return bin
}

// TestRollingUpgrade: a cluster of three origins running an older build is
// upgraded one node at a time to this one. While builds are mixed the
// cluster keeps serving and replicating, and the new nodes refuse to
// propose what the old ones cannot apply (accounts) with a clear answer;
// once every node runs the new build, accounts work, the video made
// before the upgrade still plays, and every node holds the same state.
func TestRollingUpgrade(t *testing.T) {
	old := buildOld(t, oldBuild)
	dir := t.TempDir()
	nodes := map[string]*clusterNode{}
	nodes["o1"] = startMember(t, dir, member{name: "o1", origin: "workers 1", bin: old})
	nodes["o2"] = startMember(t, dir, member{name: "o2", origin: "workers 1", join: nodes["o1"].clusterAddr, bin: old})
	nodes["o3"] = startMember(t, dir, member{name: "o3", origin: "workers 1", join: nodes["o1"].clusterAddr, bin: old})
	waitCluster(t, nodes["o1"].node, 60*time.Second, "three old nodes", allHealthyAndEqual("o1", "o2", "o3"))

	data, err := os.ReadFile(makeVideo(t, dir, "clip.mp4", 2, "320x240"))
	if err != nil {
		t.Fatal(err)
	}
	id := uploadWhole(t, nodes["o1"].node, data, "Made before the upgrade")
	if v := nodes["o1"].waitVideo(id, 3*time.Minute); v.Status != "ready" {
		t.Fatalf("video on the old cluster: %s %s", v.Status, v.Error)
	}

	// same polls until every node answers the same title for the video.
	same := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for name, n := range nodes {
			for {
				var v video
				if n.getJSON("/api/v1/videos/"+id, &v) == http.StatusOK && v.Title == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: title %q, want %q", name, v.Title, want)
				}
				time.Sleep(50 * time.Millisecond) // poll interval
			}
		}
	}
	patch := func(n *clusterNode, title string) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"title": title})
		req, _ := http.NewRequest(http.MethodPatch, n.base+"/api/v1/videos/"+id, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PATCH on %s: %d", n.spec.name, resp.StatusCode)
		}
	}

	for i, name := range []string{"o3", "o2", "o1"} {
		nodes[name].stop()
		spec := nodes[name].spec
		spec.bin = ""
		// In place: the new build on the old node's data and ports. No
		// admin token yet: accounts wait for the last old node.
		spec.clusterAddr = nodes[name].clusterAddr
		spec.httpPort = portOf(t, nodes[name].base)
		nodes[name] = startMemberNoToken(t, dir, spec)
		waitCluster(t, nodes[name].node, 60*time.Second, name+" upgraded", healthyMembers("o1", "o2", "o3"))
		same("Made before the upgrade")
		if i < 2 {
			// Mixed builds: writes through an old node replicate to all.
			title := "Edited with " + name + " upgraded"
			patch(nodes["o1"], title)
			same(title)
			// The new node will not propose what old nodes cannot apply.
			out, err := exec.Command(strataBin, "admin", "create", "ada", "--token",
				"--address", "unix/"+filepath.Join(nodes[name].dataDir, "admin.sock")).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "older Strata") {
				t.Fatalf("admin create during the upgrade: %v\n%s", err, out)
			}
			patch(nodes["o1"], "Made before the upgrade")
			same("Made before the upgrade")
		}
	}

	// Every node new: accounts work (as soon as the nodes have told each
	// other their build), the old video plays, the state is the same.
	for _, n := range nodes {
		n.registerToken()
	}
	id2 := uploadWhole(t, nodes["o2"].node, data, "Made after the upgrade")
	if v := nodes["o2"].waitVideo(id2, 3*time.Minute); v.Status != "ready" {
		t.Fatalf("video after the upgrade: %s %s", v.Status, v.Error)
	}
	var v video
	if nodes["o3"].getJSON("/api/v1/videos/"+id, &v) != http.StatusOK || v.HLS == "" {
		t.Fatalf("the old video after the upgrade: %+v", v)
	}
	if resp, _ := get(t, nodes["o3"].base+v.HLS, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the old video's master after the upgrade: %d", resp.StatusCode)
	}
	waitCluster(t, nodes["o1"].node, 30*time.Second, "one state on three new nodes", allHealthyAndEqual("o1", "o2", "o3"))
}

func portOf(t *testing.T, base string) int {
	t.Helper()
	_, port, _ := strings.Cut(strings.TrimPrefix(base, "http://"), ":")
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("port of %s: %v", base, err)
	}
	return n
}

// startMemberNoToken starts the build under test without asking it for
// an admin token (which it cannot give while older nodes remain).
func startMemberNoToken(t *testing.T, dir string, m member) *clusterNode {
	t.Helper()
	m.bin = strataBin
	return startMember(t, dir, m)
}

// healthyMembers: every node of ids is in the view and healthy (states
// are compared through the API: builds hash their stores differently).
func healthyMembers(ids ...string) func(clusterView) error {
	return func(v clusterView) error {
		if len(v.Nodes) != len(ids) {
			return fmt.Errorf("%d nodes, want %d", len(v.Nodes), len(ids))
		}
		for _, s := range v.Nodes {
			if !s.Healthy {
				return fmt.Errorf("%s is not healthy", s.ID)
			}
		}
		return nil
	}
}
