// Command cluster starts and stops a local Strata cluster for development
// and tests: three origins and two edges as processes on loopback, each
// with its own data folder, ports picked free, the configs of
// deploy/examples. `make cluster` and `make cluster-down` run it.
//
//	go run ./deploy/cluster up   [-dir .cache/cluster] [-bin bin/strata]
//	go run ./deploy/cluster down [-dir .cache/cluster]
//
// up prints each node's URL and returns once every node is ready and the
// cluster has a leader and all five members; the nodes keep running. down
// stops them and removes the folder: the cluster is for trying things
// out, not for keeping data.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/stratavideo/strata/deploy/loopport"
)

// node is one process of the cluster, as saved in the state file.
type node struct {
	ID          string `json:"id"`
	Role        string `json:"role"` // origin or edge
	URL         string `json:"url"`
	ClusterAddr string `json:"cluster_addr"`
	Admin       string `json:"admin"` // unix socket of its admin endpoint
	Data        string `json:"data"`
	Log         string `json:"log"`
	PID         int    `json:"pid"`
}

type state struct {
	Nodes []node `json:"nodes"`
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "up" && os.Args[1] != "down") {
		fmt.Fprintln(os.Stderr, "usage: cluster up|down [-dir DIR] [-bin STRATA] [-examples DIR]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", ".cache/cluster", "folder for the nodes' data, logs and the state file")
	bin := fs.String("bin", "bin/strata", "the strata binary")
	examples := fs.String("examples", "deploy/examples", "folder of the example Caddyfiles")
	timeout := fs.Duration("timeout", 30*time.Second, "how long up waits for the cluster")
	fs.Parse(os.Args[2:])
	var err error
	if os.Args[1] == "up" {
		err = up(*dir, *bin, *examples, *timeout)
	} else {
		err = down(*dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func up(dir, bin, examples string, timeout time.Duration) error {
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err == nil {
		return fmt.Errorf("a cluster is already up in %s: run `make cluster-down` first", dir)
	}
	absBin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(absBin); err != nil {
		return fmt.Errorf("no strata binary at %s (make build): %w", bin, err)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	if examples, err = filepath.Abs(examples); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	keyRaw := make([]byte, 24)
	rand.Read(keyRaw)
	key := hex.EncodeToString(keyRaw)

	start := time.Now()
	var st state
	for _, spec := range []struct{ id, role string }{
		{"origin-1", "origin"}, {"origin-2", "origin"}, {"origin-3", "origin"},
		{"edge-1", "edge"}, {"edge-2", "edge"},
	} {
		httpPort, err := loopport.Free()
		if err != nil {
			return err
		}
		clusterPort, err := loopport.Free()
		if err != nil {
			return err
		}
		data := filepath.Join(dir, spec.id)
		st.Nodes = append(st.Nodes, node{
			ID: spec.id, Role: spec.role,
			URL:         fmt.Sprintf("http://127.0.0.1:%d", httpPort),
			ClusterAddr: fmt.Sprintf("127.0.0.1:%d", clusterPort),
			Admin:       filepath.Join(data, "admin.sock"),
			Data:        data,
			Log:         filepath.Join(dir, spec.id+".log"),
		})
	}
	var origins []string
	for _, n := range st.Nodes {
		if n.Role == "origin" {
			origins = append(origins, strings.TrimPrefix(n.URL, "http://"))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for i := range st.Nodes {
		n := &st.Nodes[i]
		config := filepath.Join(examples, "cluster-node.Caddyfile")
		if n.Role == "edge" {
			config = filepath.Join(examples, "edge-node.Caddyfile")
		}
		join := ""
		if i > 0 {
			join = st.Nodes[0].ClusterAddr
		}
		env := append(os.Environ(),
			"STRATA_NODE_ID="+n.ID,
			"STRATA_ADDR="+strings.TrimPrefix(n.URL, "http://"),
			"STRATA_URL="+n.URL,
			"STRATA_DATA="+n.Data,
			"STRATA_ADMIN=unix/"+n.Admin,
			"STRATA_CLUSTER_ADDR="+n.ClusterAddr,
			"STRATA_CLUSTER_KEY="+key,
			"STRATA_JOIN="+join,
			"STRATA_ORIGINS="+strings.Join(origins, " "),
		)
		if err := os.MkdirAll(n.Data, 0o750); err != nil {
			return err
		}
		logf, err := os.Create(n.Log)
		if err != nil {
			return err
		}
		cmd := exec.Command(absBin, "run", "--config", config, "--adapter", "caddyfile")
		cmd.Env, cmd.Dir = env, n.Data
		cmd.Stdout, cmd.Stderr = logf, logf
		// Its own session: the node outlives this command.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			logf.Close()
			return fmt.Errorf("start %s: %w", n.ID, err)
		}
		logf.Close()
		n.PID = cmd.Process.Pid
		cmd.Process.Release()
		if err := saveState(dir, st); err != nil {
			return err
		}
		// The first origin bootstraps the cluster the others join: wait
		// for it before starting them.
		if i == 0 {
			if err := waitReady(ctx, *n); err != nil {
				return err
			}
		}
	}
	for _, n := range st.Nodes {
		if err := waitReady(ctx, n); err != nil {
			return err
		}
	}
	if err := waitMembers(ctx, st); err != nil {
		return err
	}
	fmt.Printf("Strata cluster up in %.1f s (data and logs in %s):\n", time.Since(start).Seconds(), dir)
	for _, n := range st.Nodes {
		fmt.Printf("  %-9s %-7s %s   cluster %s   admin unix/%s\n", n.ID, n.Role, n.URL, n.ClusterAddr, n.Admin)
	}
	fmt.Println("Stop it with `make cluster-down`.")
	return nil
}

func saveState(dir string, st state) error {
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "state.json"), raw, 0o600)
}

// waitReady polls the node's /readyz until it answers 200.
func waitReady(ctx context.Context, n node) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.URL+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := alive(n); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s (log: %s): %w", n.ID, n.URL, n.Log, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// alive reports a node whose process is gone.
func alive(n node) error {
	if err := syscall.Kill(n.PID, 0); err != nil {
		return fmt.Errorf("%s exited (log: %s)", n.ID, n.Log)
	}
	return nil
}

// waitMembers polls the first origin's admin endpoint until the cluster
// has a leader and every node is a member.
func waitMembers(ctx context.Context, st state) error {
	admin := st.Nodes[0].Admin
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", admin)
		},
	}}
	var last error
	for {
		last = func() error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/strata/cluster", nil)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var v struct {
				Leader string `json:"leader"`
				Nodes  []struct {
					ID string `json:"id"`
				} `json:"nodes"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
				return err
			}
			if v.Leader == "" || len(v.Nodes) != len(st.Nodes) {
				return fmt.Errorf("leader %q, %d of %d members", v.Leader, len(v.Nodes), len(st.Nodes))
			}
			return nil
		}()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the cluster did not form: %v", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func down(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		fmt.Println("no cluster is up in", dir)
		return nil
	}
	if err != nil {
		return err
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	for _, n := range st.Nodes {
		syscall.Kill(n.PID, syscall.SIGTERM)
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, n := range st.Nodes {
		for syscall.Kill(n.PID, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond) // poll interval
		}
		if syscall.Kill(n.PID, 0) == nil {
			syscall.Kill(n.PID, syscall.SIGKILL)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	fmt.Printf("stopped %d nodes; removed %s\n", len(st.Nodes), dir)
	return nil
}
