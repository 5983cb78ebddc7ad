package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// slowOriginEnv, set in its environment to "DELAY SIZE", makes this
// program the herd case's slow origin instead of the bench.
const slowOriginEnv = "BENCH_EDGE_SLOW_ORIGIN"

// slowOrigin is the herd case's origin: it answers 500 ms after a
// request arrives, so 200 misses reach the server under test while its
// first fetch is in flight, and it counts what it is asked.
//
// It runs as a process of its own (this program again, see
// serveSlowOrigin). In the bench's process it shared a Go runtime with
// the 200 clients as they started, and its reading of the peer's fetch
// waited behind their goroutines: the fetch reached its handler 2-25 ms
// after the peer sent it, which added that much, varying, to every
// peer's herd.
type slowOrigin struct {
	port int
	cmd  *exec.Cmd
	in   io.Closer
}

func startSlowOrigin(delay time.Duration, size int) (*slowOrigin, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", slowOriginEnv, delay, size))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe() // closed by close: the origin exits at EOF
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("slow origin: %w", err)
	}
	s := &slowOrigin{cmd: cmd, in: in}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err == nil {
		s.port, err = strconv.Atoi(strings.TrimSpace(line))
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("slow origin: no port (%q): %w", line, err)
	}
	return s, nil
}

// requests is how many times path was asked for, and when it was first
// asked.
func (s *slowOrigin) requests(path string) (int, time.Time, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/_requests?path=%s", s.port, path))
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("slow origin: %w", err)
	}
	defer resp.Body.Close()
	var n int
	var first int64
	if _, err := fmt.Fscan(resp.Body, &n, &first); err != nil {
		return 0, time.Time{}, fmt.Errorf("slow origin: count of %s: %w", path, err)
	}
	return n, time.Unix(0, first), nil
}

func (s *slowOrigin) close() {
	s.in.Close()
	if err := s.cmd.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-edge: slow origin:", err)
	}
}

// serveSlowOrigin is the slow origin's process: arg is "DELAY SIZE". It
// prints its port, serves until its standard input closes, and answers
// /_requests?path=P with P's count and the Unix nanoseconds of its first
// arrival.
func serveSlowOrigin(arg string) error {
	var delay time.Duration
	var size int
	f := strings.Fields(arg)
	if len(f) != 2 {
		return fmt.Errorf("%s=%q: want \"DELAY SIZE\"", slowOriginEnv, arg)
	}
	delay, err := time.ParseDuration(f[0])
	if err == nil {
		size, err = strconv.Atoi(f[1])
	}
	if err != nil {
		return fmt.Errorf("%s=%q: %w", slowOriginEnv, arg, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var mu sync.Mutex
	count := map[string]int{}
	first := map[string]time.Time{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		if r.URL.Path == "/_requests" {
			p := r.URL.Query().Get("path")
			mu.Lock()
			n, t := count[p], first[p]
			mu.Unlock()
			var ns int64
			if n > 0 {
				ns = t.UnixNano()
			}
			fmt.Fprintf(w, "%d %d\n", n, ns)
			return
		}
		mu.Lock()
		if count[r.URL.Path] == 0 {
			first[r.URL.Path] = arrived
		}
		count[r.URL.Path]++
		mu.Unlock()
		if !strings.HasPrefix(r.URL.Path, "/media/"+coldVideo+"/") {
			http.NotFound(w, r)
			return
		}
		// Made while waiting: the answer comes delay after the
		// request, not delay plus the few ms its 1.2 MB take to make.
		body := coldBody(r.URL.Path, size)
		time.Sleep(time.Until(arrived.Add(delay)))
		w.Header().Set("Content-Type", "video/iso.segment")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("ETag", `"`+strconv.Itoa(len(r.URL.Path))+`"`)
		w.Write(body)
	})}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		srv.Close()
	}()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
