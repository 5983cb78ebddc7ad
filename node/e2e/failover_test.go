package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// patchDescription sets a video's description through node n and reports
// whether the node acknowledged it.
func patchDescription(n *node, id, desc string) bool {
	req, _ := http.NewRequest(http.MethodPatch, n.base+"/api/v1/videos/"+id,
		strings.NewReader(fmt.Sprintf(`{"description":%q}`, desc)))
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 15 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestClusterLeaderKilledUnderWriteLoad kills -9 the leader three times
// while writers keep writing through every node. Each time a new leader
// must take over within 10 s; afterwards no acknowledged write is missing
// and every node holds the same state.
func TestClusterLeaderKilledUnderWriteLoad(t *testing.T) {
	dir := t.TempDir()
	nodes := map[string]*clusterNode{}
	var mu sync.Mutex
	startThreeOrigins(t, dir, nodes)

	// Records to write to: empty uploads make videos at once.
	var ids []string
	for i := range 12 {
		ids = append(ids, uploadWhole(t, nodes["o1"].node, nil, fmt.Sprintf("record %d", i)))
	}
	alive := func() []*clusterNode { return running(&mu, nodes) }

	// One writer per record writes increasing numbers through random nodes
	// and remembers the last one acknowledged.
	acked := make([]int, len(ids))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 1; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				live := alive()
				if len(live) == 0 {
					continue
				}
				if patchDescription(live[rand.IntN(len(live))].node, id, "seq-"+strconv.Itoa(seq)) {
					acked[i] = seq
				}
			}
		}()
	}

	var takeovers []time.Duration
	for round := range 3 {
		time.Sleep(time.Second) // let writes flow before the kill (load, not a wait for a condition)
		var view clusterView
		live := alive()
		if _, err := live[0].admin(http.MethodGet, "/strata/cluster", nil, &view); err != nil || view.Leader == "" {
			t.Fatalf("round %d: no leader before the kill: %v", round, err)
		}
		old := view.Leader
		mu.Lock()
		victim := nodes[old]
		mu.Unlock()
		victim.kill()
		start := time.Now()
		var survivor *clusterNode
		for _, n := range alive() {
			survivor = n
		}
		waitCluster(t, survivor.node, 15*time.Second, "a new leader", func(v clusterView) error {
			if v.Leader == "" || v.Leader == old {
				return fmt.Errorf("leader %q", v.Leader)
			}
			return nil
		})
		took := time.Since(start)
		takeovers = append(takeovers, took)
		t.Logf("round %d: %s killed, new leader after %s", round, old, took)
		restarted := victim.restart(t, dir)
		mu.Lock()
		nodes[old] = restarted
		mu.Unlock()
	}
	close(stop)
	wg.Wait()

	slices.Sort(takeovers)
	worst := takeovers[len(takeovers)-1]
	t.Logf("takeovers: %v (worst %s)", takeovers, worst)
	if worst > 10*time.Second {
		t.Errorf("a new leader took %s, want under 10 s", worst)
	}
	final := waitCluster(t, nodes["o1"].node, 60*time.Second, "every node converges", allHealthyAndEqual("o1", "o2", "o3"))
	t.Logf("converged at applied index %d", final.Nodes[0].AppliedIndex)

	for i, id := range ids {
		var v video
		if status := nodes["o2"].getJSON("/api/v1/videos/"+id, &v); status != 200 {
			t.Fatalf("record %s: HTTP %d", id, status)
		}
		got, err := strconv.Atoi(strings.TrimPrefix(v.Description, "seq-"))
		if err != nil || got < acked[i] {
			t.Errorf("record %s holds %q but write seq-%d was acknowledged", id, v.Description, acked[i])
		}
	}
	total := 0
	for _, a := range acked {
		total += a
	}
	t.Logf("%d writes acknowledged across %d records", total, len(ids))
}

// TestClusterFollowerCutOffCatchesUp freezes a follower (SIGSTOP: to the
// others it is as if its network were cut), edits and creates videos,
// thaws it: it catches up and its search results agree with the others'.
func TestClusterFollowerCutOffCatchesUp(t *testing.T) {
	dir := t.TempDir()
	o1 := startMember(t, dir, member{name: "o1", origin: "lease 4s"})
	o2 := startMember(t, dir, member{name: "o2", origin: "lease 4s", join: o1.clusterAddr})
	o3 := startMember(t, dir, member{name: "o3", origin: "lease 4s", join: o1.clusterAddr})
	view := waitCluster(t, o1.node, 30*time.Second, "three healthy nodes", allHealthyAndEqual("o1", "o2", "o3"))
	var follower, other *clusterNode
	for _, n := range []*clusterNode{o1, o2, o3} {
		if n.spec.name == view.Leader {
			continue
		}
		if follower == nil {
			follower = n
		} else {
			other = n
		}
	}
	src := makeVideo(t, dir, "tiny.mp4", 2, "320x240")
	data, _ := os.ReadFile(src)
	id := uploadWhole(t, other.node, data, "Walrus choir")
	if v := other.waitVideo(id, 2*time.Minute); v.Status != "ready" {
		t.Fatalf("video: %s %s", v.Status, v.Error)
	}
	checkSearch(t, follower.node, "walrus", id)

	if err := follower.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	defer func() {
		if !thawed {
			follower.cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	if !patchTitle(other.node, id, "Narwhal ballet") {
		t.Fatal("the edit during the cut was refused")
	}
	for i := range 20 {
		uploadWhole(t, other.node, nil, fmt.Sprintf("made while cut off %d", i))
	}
	follower.cmd.Process.Signal(syscall.SIGCONT)
	thawed = true
	waitCluster(t, other.node, 30*time.Second, "the thawed follower catches up", allHealthyAndEqual("o1", "o2", "o3"))
	for _, n := range []*clusterNode{follower, other} {
		checkSearch(t, n.node, "narwhal", id)
		checkSearchEmpty(t, n.node, "walrus")
	}
}

func patchTitle(n *node, id, title string) bool {
	req, _ := http.NewRequest(http.MethodPatch, n.base+"/api/v1/videos/"+id,
		strings.NewReader(fmt.Sprintf(`{"title":%q}`, title)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
