package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// Video IDs of the working set (served by the nginx origin) and of the
// coalescing objects (served by the slow origin), the small object's
// size (a 64 KB object: an audio segment, a thumbnail) and the paths of
// the small object and the media playlist.
const (
	hotVideo     = "benchvid"
	coldVideo    = "coalvid"
	smallSize    = 64 << 10
	smallPath    = "/media/" + hotVideo + "/audio-64k.m4s"
	playlistPath = "/media/" + hotVideo + "/720p.m3u8"
)

// bench is one benchmark's processes and files.
type bench struct {
	o    options
	work string

	originPort int
	slow       *slowOrigin
	peers      []*peer
	procs      []*exec.Cmd
	cleanups   []func()
	paths      []string // the segments' request paths
}

// segPath is the request path of working-set segment i (1-based).
func segPath(i int) string {
	return fmt.Sprintf("/media/%s/chunk-0000-0-%05d.m4s", hotVideo, i)
}

func (b *bench) setup(ctx context.Context) error {
	// The HLS files: segments of random bytes, a media playlist listing
	// them, and a 64 KB object.
	dir := filepath.Join(b.work, "content", "media", hotVideo)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		buf := make([]byte, n)
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		return buf
	}
	playlist := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init-0.mp4\"\n"
	for i := 1; i <= b.o.segments; i++ {
		if err := os.WriteFile(filepath.Join(b.work, "content", segPath(i)), random(b.o.segSize), 0o644); err != nil {
			return err
		}
		b.paths = append(b.paths, segPath(i))
		playlist += fmt.Sprintf("#EXTINF:4.000000,\n%s\n", filepath.Base(segPath(i)))
	}
	playlist += "#EXT-X-ENDLIST\n"
	if err := os.WriteFile(filepath.Join(b.work, "content", playlistPath), []byte(playlist), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.work, "content", smallPath), random(smallSize), 0o644); err != nil {
		return err
	}
	for _, d := range []string{"logs", "run"} {
		if err := os.MkdirAll(filepath.Join(b.work, d), 0o755); err != nil {
			return err
		}
	}
	var err error
	if b.originPort, err = freePort(); err != nil {
		return err
	}
	if err := b.startNginx(ctx, "origin", nginxOriginConf, map[string]string{"PORT": strconv.Itoa(b.originPort)}); err != nil {
		return err
	}
	if b.slow, err = startSlowOrigin(b.o.slowDelay, b.o.segSize); err != nil {
		return err
	}
	b.cleanups = append(b.cleanups, b.slow.close)

	wanted := map[string]bool{}
	for _, p := range strings.Split(b.o.peers, ",") {
		wanted[strings.TrimSpace(p)] = true
	}
	starters := []struct {
		name  string
		start func(context.Context) (*peer, error)
	}{
		{"strata", b.startStrata}, {"nginx", b.startNginxCache}, {"varnish", b.startVarnish},
		{"ats", b.startATS}, {"caddy-floor", b.startCaddyFloor}, {"against", b.startAgainst},
	}
	if b.o.against != "" {
		wanted["against"] = true
	}
	for _, s := range starters {
		if !wanted[s.name] {
			continue
		}
		p, err := s.start(ctx)
		if err != nil {
			return fmt.Errorf("start %s: %w", s.name, err)
		}
		if err := b.check(p); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		b.peers = append(b.peers, p)
		fmt.Printf("bench-edge: %s ready on 127.0.0.1:%d\n", p.name, p.port)
	}
	if len(b.peers) == 0 || b.peers[0].name != "strata" {
		return fmt.Errorf("the peers must include strata: got %q", b.o.peers)
	}
	return nil
}

func (b *bench) peerNames() []string {
	var names []string
	for _, p := range b.peers {
		names = append(names, p.name)
	}
	return names
}

// check fetches a segment twice through p: the bytes must be the origin's
// and the second answer a hit by the peer's own report.
func (b *bench) check(p *peer) error {
	want, err := os.ReadFile(filepath.Join(b.work, "content", segPath(1)))
	if err != nil {
		return err
	}
	path := segPath(1)
	if p.floor {
		want, path = []byte(strings.Repeat("s", smallSize)), smallPath
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", p.port, path)
	var hdr http.Header
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 2; i++ {
		resp, err := http.Get(url)
		if err != nil {
			if time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond) // the peer is still starting
				i--
				continue
			}
			return err
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			if time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond) // the edge role is still starting
				i--
				continue
			}
		}
		if err != nil || resp.StatusCode != 200 || string(got) != string(want) {
			return fmt.Errorf("GET %s: %d, %d bytes, %v", url, resp.StatusCode, len(got), err)
		}
		hdr = resp.Header
	}
	if !p.isHit(hdr) {
		return fmt.Errorf("second GET was not a cache hit: %v", hdr)
	}
	return nil
}

// start runs a process in the background, its output to logs/name.log.
func (b *bench) start(name string, env []string, argv ...string) (*exec.Cmd, error) {
	logf, err := os.Create(filepath.Join(b.work, "logs", name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = b.work
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	b.procs = append(b.procs, cmd)
	b.cleanups = append(b.cleanups, func() { logf.Close() })
	return cmd, nil
}

// stopAll ends every process the bench started (their process groups) and
// runs the cleanups.
func (b *bench) stopAll() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	for _, cmd := range b.procs {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		}
	}
	for _, cmd := range b.procs {
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
}

// seedCluster records the bench's videos as public and ready in the
// strata node's store, as the cluster log would on a real edge: the edge
// refuses media of videos it does not know.
func seedCluster(dataDir string) error {
	cfg := cluster.DefaultNodeConfig(dataDir)
	n, err := cluster.OpenNode(cfg)
	if err != nil {
		return err
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, id := range []string{hotVideo, coldVideo} {
		if v, err := n.Video(id); err == nil && v.Status == model.StatusReady {
			continue
		}
		if _, err := n.Apply(ctx, &command.CreateVideo{Stamp: command.Stamp{At: now},
			Video: model.Video{ID: id, Title: id, Visibility: model.Public}}); err != nil {
			return fmt.Errorf("create %s: %w", id, err)
		}
		if _, err := n.Apply(ctx, &command.VideoReady{Stamp: command.Stamp{At: now}, ID: id, Master: "master.m3u8"}); err != nil {
			return fmt.Errorf("ready %s: %w", id, err)
		}
	}
	return nil
}

// freePort is a free loopback port below the kernel's ephemeral range
// (32768-60999 by default). A port from that range (127.0.0.1:0) is
// free only until the peer binds it, and on a machine where other test
// suites open :0 listeners, one of theirs can take it first and answer
// the bench instead of the peer.
func freePort() (int, error) {
	for range 200 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, errors.New("no free port in 20000-31999")
}

// coldBody is the slow origin's deterministic object for path. ChaCha8
// makes 1.2 MB in about 1 ms; a byte per PCG call took 5-6 ms, which
// the origin spent inside Strata's herds when its prefetch asked for the
// next two segments as the first waiters finished.
func coldBody(path string, size int) []byte {
	b := make([]byte, size)
	_, _ = rand.NewChaCha8(sha256.Sum256([]byte(path))).Read(b)
	return b
}
