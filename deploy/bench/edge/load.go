package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rangeHeader is the range case's request: the first 64 KB of a segment.
const rangeHeader = "bytes=0-65535"

// wrkCases are the wrk cases, in the order a round runs them:
//
//	hot       one hot segment (1.2 MB)
//	rr        a round-robin over all segments
//	range     Range: bytes=0-65535 on the hot segment
//	small     a 64 KB object
//	cond      the 64 KB object, every tenth request conditional with an
//	          ETag that does not match (a browser revalidating: a 200)
//	playlist  the media playlist
var wrkCases = []string{"hot", "rr", "range", "small", "cond", "playlist"}

// casePaths are the paths a case's requests cycle through.
func (b *bench) casePaths(kind string, floor bool) []string {
	switch {
	case floor:
		return []string{smallPath}
	case kind == "rr":
		return b.paths
	case kind == "small", kind == "cond":
		return []string{smallPath}
	case kind == "playlist":
		return []string{playlistPath}
	default:
		return b.paths[:1]
	}
}

// runResult is one measured run.
type runResult struct {
	kind, peer string
	round      int
	rps        float64       // wrk cases
	p99        time.Duration // wrk: request latency; coalesce: time to the whole body
	p50, max   time.Duration // coalesce
	asked      time.Duration // coalesce: from the herd's start to the origin's first request
	cpuPerReq  time.Duration // server CPU (user+system) per request
	originHits int           // origin requests during the run
	note       string
}

func (r runResult) String() string {
	switch r.kind {
	case "coalesce":
		return fmt.Sprintf("round %d  herd      %-12s origin fetches %d (first at +%.1f ms)  p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms%s",
			r.round, r.peer, r.originHits, ms(r.asked), ms(r.p50), ms(r.p99), ms(r.max), r.note)
	default:
		return fmt.Sprintf("round %d  %-8s  %-12s %8.0f req/s  p99 %7.2f ms  server CPU %5.1f µs/req  origin fetches %d%s",
			r.round, r.kind, r.peer, r.rps, ms(r.p99), float64(r.cpuPerReq.Nanoseconds())/1e3, r.originHits, r.note)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

// wrkScript cycles through the case's paths; the range case adds a Range
// header to every request, the cond case an If-None-Match to every tenth.
func (b *bench) wrkScript(kind string, floor bool) (string, error) {
	var quoted []string
	for _, p := range b.casePaths(kind, floor) {
		quoted = append(quoted, strconv.Quote(p))
	}
	headers, tenth := "{}", "headers"
	switch kind {
	case "range":
		headers = `{["Range"] = "` + rangeHeader + `"}`
	case "cond":
		tenth = `{["If-None-Match"] = '"not-this-one"'}`
	}
	script := fmt.Sprintf(`local paths = {%s}
local headers = %s
local tenth = %s
local i = 0
request = function()
  i = i + 1
  local h = headers
  if i %% 10 == 0 then h = tenth end
  return wrk.format("GET", paths[(i %% #paths) + 1], h)
end
`, strings.Join(quoted, ","), headers, tenth)
	path := filepath.Join(b.work, fmt.Sprintf("wrk-%s-%v.lua", kind, floor))
	return path, os.WriteFile(path, []byte(script), 0o644)
}

// warm fetches every file through p (twice: Strata's first hit after a
// fill is the one that starts its prefetch) and checks the case's answer.
func (b *bench) warm(p *peer, kind string) error {
	client := &http.Client{Timeout: 30 * time.Second}
	all := append(append([]string{}, b.paths...), smallPath, playlistPath)
	if p.floor {
		all = []string{smallPath}
	}
	for i, path := range append(all, all...) {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", p.port, path), nil)
		if kind == "range" && i == 0 {
			req.Header.Set("Range", rangeHeader)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if kind == "range" && i == 0 && !p.floor {
			want, _ := os.ReadFile(filepath.Join(b.work, "content", path))
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[:65536]) {
				return fmt.Errorf("range answer: %d, %d bytes", resp.StatusCode, len(body))
			}
		}
	}
	return nil
}

var (
	reRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reP99     = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+)(us|ms|s)\s*$`)
	reNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	reSockErr = regexp.MustCompile(`Socket errors:.*`)
)

func (b *bench) wrkCase(ctx context.Context, p *peer, kind string, round int) (runResult, error) {
	r := runResult{kind: kind, peer: p.name, round: round}
	if err := b.warm(p, kind); err != nil {
		return r, fmt.Errorf("warming: %w", err)
	}
	script, err := b.wrkScript(kind, p.floor)
	if err != nil {
		return r, err
	}
	originBefore := b.originRequests()
	cpuBefore := treeCPU(p.pid)
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(b.o.threads), "-c", strconv.Itoa(b.o.conns),
		"-d", fmt.Sprintf("%ds", int(b.o.duration.Seconds())), "--latency", "-s", script,
		fmt.Sprintf("http://127.0.0.1:%d", p.port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	cpu := treeCPU(p.pid) - cpuBefore
	r.originHits = b.originRequests() - originBefore
	m := reRPS.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk's output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := reP99.FindSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(m[2])]
		r.p99 = time.Duration(v * float64(unit))
	}
	if m := reNon2xx.FindSubmatch(out); m != nil {
		r.note += " NON-2xx " + string(m[1])
	}
	if m := reSockErr.Find(out); m != nil {
		r.note += " " + string(m)
	}
	if total := r.rps * b.o.duration.Seconds(); total > 0 {
		r.cpuPerReq = time.Duration(float64(cpu) / total)
	}
	return r, nil
}

// coalesceCase sends o.waiters concurrent GETs for one object no peer has
// seen, each on its own connection, and counts the slow origin's fetches.
//
// The connections are open before the clock starts, as a live stream's
// players hold theirs when a new segment is listed. Dialled inside the
// herd, the clients' 200 connects, each through net/http's dial and
// connection goroutines, put the first request on the wire 1-25 ms late:
// noise of the client's own making in every peer's figures.
func (b *bench) coalesceCase(ctx context.Context, p *peer, round, slot int) (runResult, error) {
	r := runResult{kind: "coalesce", peer: p.name, round: round}
	// Ten numbers apart per run, so Strata's prefetch of the next two
	// segments never warms another run's object.
	path := fmt.Sprintf("/media/%s/chunk-0000-0-%05d.m4s", coldVideo, 1000+round*100+slot*10)
	url := fmt.Sprintf("http://127.0.0.1:%d%s", p.port, path)
	want := coldBody(path, b.o.segSize)
	conns, err := dialAll(ctx, fmt.Sprintf("127.0.0.1:%d", p.port), b.o.waiters)
	if err != nil {
		return r, fmt.Errorf("herd: %w", err)
	}
	defer func() {
		for c := range conns {
			c.Close() // any the transport did not take
		}
	}()
	tr := &http.Transport{MaxIdleConnsPerHost: b.o.waiters, DisableCompression: true,
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			if c, ok := <-conns; ok {
				return c, nil
			}
			return nil, errors.New("herd: more connections asked for than waiters")
		}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	start := make(chan struct{})
	lat := make([]time.Duration, b.o.waiters)
	errs := make([]error, b.o.waiters)
	var wg sync.WaitGroup
	for i := range b.o.waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			buf := make([]byte, 256<<10)
			<-start
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			n, intact, err := readCompare(resp.Body, want, buf)
			resp.Body.Close()
			lat[i] = time.Since(t0)
			if err != nil || resp.StatusCode != 200 || !intact {
				errs[i] = fmt.Errorf("status %d, %d bytes, intact %v, %v", resp.StatusCode, n, intact, err)
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	bad := 0
	for _, err := range errs {
		if err != nil {
			if bad == 0 {
				r.note = " first error: " + err.Error()
			}
			bad++
		}
	}
	if bad > 0 {
		r.note = fmt.Sprintf(" %d of %d FAILED;%s", bad, b.o.waiters, r.note)
	}
	slices.Sort(lat)
	r.p50 = lat[len(lat)/2]
	r.p99 = lat[len(lat)*99/100]
	r.max = lat[len(lat)-1]
	hits, asked, err := b.slow.requests(path)
	r.originHits = hits
	if hits > 0 {
		r.asked = asked.Sub(began)
	}
	return r, err
}

// dialAll opens n connections to addr, returned in a closed channel.
func dialAll(ctx context.Context, addr string, n int) (chan net.Conn, error) {
	conns := make(chan net.Conn, n)
	var d net.Dialer
	for range n {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			close(conns)
			for c := range conns {
				c.Close()
			}
			return nil, err
		}
		conns <- c
	}
	close(conns)
	return conns, nil
}

// readCompare reads r to its end through buf, comparing it with want as
// it goes. The herd's 200 clients share the two cores with the server
// under test: read whole into growing buffers (io.ReadAll) they cost the
// machine about 60 ms more per run than compared in place, which blurred
// the servers' differences (a bare Go server behind the same 500 ms: p99
// 713-846 ms with ReadAll, 648-689 ms with this). buf is made before the
// clock starts: made here, the 200 buffers (50 MB to zero, and the
// collections they start) landed in the measured window, just as the
// bodies began to arrive.
func readCompare(r io.Reader, want, buf []byte) (n int, intact bool, err error) {
	intact = true
	for {
		k, rerr := r.Read(buf)
		if intact && (n+k > len(want) || !bytes.Equal(buf[:k], want[n:n+k])) {
			intact = false
		}
		n += k
		if rerr == io.EOF {
			return n, intact && n == len(want), nil
		}
		if rerr != nil {
			return n, false, rerr
		}
	}
}

// originRequests counts the nginx origin's access log lines.
func (b *bench) originRequests() int {
	f, err := os.Open(filepath.Join(b.work, "logs", "origin-access.log"))
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
	}
	return n
}

// treeCPU is the user+system CPU of pid and its descendants (nginx and
// Varnish work in child processes).
func treeCPU(pid int) time.Duration {
	children := map[int][]int{}
	ticks := map[int]int64{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command may hold spaces; fields follow the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+2:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		children[ppid] = append(children[ppid], p)
		ticks[p] = ut + st
	}
	var total int64
	stack := []int{pid}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		total += ticks[p]
		stack = append(stack, children[p]...)
	}
	return time.Duration(total) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
