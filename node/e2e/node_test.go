// Package e2e runs the real strata binary, built once per test run, as
// users do: `strata run` with the embedded configuration, real ffmpeg, real
// HTTP. It imports none of Strata's packages but the leaf loopport, so its
// test binary stays small.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratavideo/strata/deploy/loopport"
)

// strataBin is the binary under test, built by TestMain.
var strataBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strata-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	strataBin = filepath.Join(dir, "strata")
	build := exec.Command("go", "build", "-o", strataBin, "../")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building strata:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// node is one running strata process.
type node struct {
	t       *testing.T
	base    string // http://127.0.0.1:PORT
	dataDir string
	cmd     *exec.Cmd
	logs    *syncBuffer
	exited  chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freePort asks the kernel for a free loopback port that this test binary
// has not used before (see loopport: the kernel offers a just-closed port
// again often enough that a node once got one port for HTTP and cluster).
func freePort(t *testing.T) int {
	t.Helper()
	p, err := loopport.Free()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startNode runs `strata run` on dataDir and waits until /readyz says yes.
func startNode(t *testing.T, dataDir string, extraEnv ...string) *node {
	t.Helper()
	return startNodeConfig(t, dataDir, "", freePort(t), extraEnv...)
}

// startNodeConfig runs `strata run` with the Caddyfile at config (the
// embedded one when ""), serving HTTP on port.
func startNodeConfig(t *testing.T, dataDir, config string, port int, extraEnv ...string) *node {
	t.Helper()
	return startNodeBin(t, strataBin, true, dataDir, config, port, extraEnv...)
}

// startNodeBin runs bin (another build, for upgrade tests) and, with token,
// gives the test an admin token for the node's writes.
func startNodeBin(t *testing.T, bin string, token bool, dataDir, config string, port int, extraEnv ...string) *node {
	t.Helper()
	n := &node{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), dataDir: dataDir,
		logs: &syncBuffer{}, exited: make(chan struct{})}
	args := []string{"run"}
	if config != "" {
		args = append(args, "--config", config, "--adapter", "caddyfile")
	}
	n.cmd = exec.Command(bin, args...)
	n.cmd.Dir = t.TempDir()
	n.cmd.Env = append(os.Environ(),
		fmt.Sprintf("STRATA_ADDR=127.0.0.1:%d", port),
		"STRATA_DATA="+dataDir,
		"STRATA_ADMIN=unix/"+filepath.Join(dataDir, "admin.sock"),
		"AWS_EC2_METADATA_DISABLED=true",
	)
	n.cmd.Env = append(n.cmd.Env, extraEnv...)
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("strata logs (%s):\n%s", n.base, tail(n.logs.String(), 60))
		}
	})
	n.waitReady(60 * time.Second)
	if token {
		n.registerToken()
	}
	return n
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

func (n *node) waitReady(timeout time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-n.exited:
			n.t.Fatalf("strata exited before it was ready:\n%s", tail(n.logs.String(), 40))
		default:
		}
		resp, err := http.Get(n.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("strata not ready after %s (last: %v):\n%s", timeout, err, tail(n.logs.String(), 40))
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (n *node) stop() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		n.kill()
		n.t.Fatalf("strata did not stop within 30 s of SIGTERM")
	}
}

func (n *node) kill() {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Kill()
	<-n.exited
}

// getJSON fetches path and decodes the JSON answer into v, returning the status.
func (n *node) getJSON(path string, v any) int {
	n.t.Helper()
	resp, err := http.Get(n.base + path)
	if err != nil {
		n.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			n.t.Fatalf("GET %s: %d %q is not JSON: %v", path, resp.StatusCode, body, err)
		}
	}
	return resp.StatusCode
}

// video is the part of the API's video JSON the tests read.
type video struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Status      string   `json:"status"`
	Visibility  string   `json:"visibility"`
	Progress    float64  `json:"progress"`
	Error       string   `json:"error"`
	DurationS   float64  `json:"duration_s"`
	Renditions  []struct {
		Name   string `json:"name"`
		Height int    `json:"height"`
	} `json:"renditions"`
	HLS        string `json:"hls"`
	DASH       string `json:"dash"`
	Thumbnail  string `json:"thumbnail"`
	Thumbnails []struct {
		URL    string `json:"url"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	} `json:"thumbnails"`
	Storyboard string `json:"storyboard"`
	// Fast first play: playable while processing, larger rungs pending.
	Playable          bool     `json:"playable"`
	RenditionsPending []string `json:"renditions_pending"`
}

// waitVideo polls the video until it reaches a final status.
func (n *node) waitVideo(id string, timeout time.Duration) video {
	n.t.Helper()
	v, _ := n.watchVideo(id, timeout)
	return v
}

// watchVideo polls the video until it reaches a final status and returns
// every state it saw on the way.
func (n *node) watchVideo(id string, timeout time.Duration) (video, []video) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	var seen []video
	for {
		var v video
		status := n.getJSON("/api/v1/videos/"+id, &v)
		if status == http.StatusOK {
			seen = append(seen, v)
		}
		if status == http.StatusOK && (v.Status == "ready" || v.Status == "failed") {
			return v, seen
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("video %s still %q (HTTP %d) after %s", id, v.Status, status, timeout)
		}
		time.Sleep(250 * time.Millisecond) // poll interval
	}
}

// ffmpegRun runs ffmpeg or ffprobe and fails the test with its output.
func ffmpegRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// makeVideo renders a test video with ffmpeg's lavfi sources.
func makeVideo(t *testing.T, dir, name string, seconds int, size string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	ffmpegRun(t, "ffmpeg", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%s:rate=30:duration=%d", size, seconds),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%d", seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path)
	return path
}

// lines reads a body as lines, for the few text formats we check by hand.
func lines(r io.Reader) []string {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
