package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// errDeadline is the cause attached to our own wall-clock limit, so a
// timeout can be told apart from the caller cancelling.
var errDeadline = errors.New("time limit exceeded")

// stderrLines is how much of a tool's stderr is kept for error messages.
const stderrLines = 20

// waitDelay bounds how long Wait lingers for output pipes after the process
// was killed (a grandchild could hold them open).
const waitDelay = 5 * time.Second

type runResult struct {
	stdout     []byte
	stderrTail []string
	exitErr    *exec.ExitError // set when the tool ran and exited non-zero
}

// run executes bin in its own process group under timeout and the
// containment of contain.go, streaming stdout to out and keeping the tail
// of stderr. On timeout or when ctx is cancelled the whole group is
// killed (see proc_*.go). The returned error wraps errDeadline for our
// timeout, ctx.Err() for cancellation, and errMemoryLimit or errCPULimit
// when a resource limit stopped the tool.
func run(ctx context.Context, cfg Config, bin string, args []string, timeout time.Duration, out io.Writer) (*runResult, error) {
	tctx, cancel := context.WithTimeoutCause(ctx, timeout, errDeadline)
	defer cancel()

	tail := &tailWriter{max: stderrLines}
	lim := limitsFor(cfg, timeout)
	cfg.logger().Debug("transcode: exec", "cmd", bin, "args", strings.Join(args, " "))
	if cfg.OnExec != nil {
		cfg.OnExec(bin, slices.Clone(args))
	}
	name := bin
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}

	start := time.Now()
	cmd, err := startContained(cfg, bin, args, lim, func(path string, argv []string) *exec.Cmd {
		cmd := exec.CommandContext(tctx, path, argv...)
		cmd.WaitDelay = waitDelay
		cmd.Stdin = nil // /dev/null: ffmpeg must never wait on a terminal
		cmd.Stdout = out
		cmd.Stderr = tail
		return cmd
	})
	if err == nil {
		err = cmd.Wait()
	}
	res := &runResult{stderrTail: tail.Lines()}
	var ee *exec.ExitError
	errors.As(err, &ee)
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s: %w", name, ctx.Err())
	case tctx.Err() != nil && errors.Is(context.Cause(tctx), errDeadline):
		return res, fmt.Errorf("%s killed after %s: %w%s", name, time.Since(start).Round(time.Second), errDeadline, formatTail(res.stderrTail))
	}
	if lerr := limitFailure(lim, res.stderrTail, ee); lerr != nil {
		res.exitErr = ee
		return res, fmt.Errorf("%s %w%s", name, lerr, formatTail(res.stderrTail))
	}
	if err == nil {
		return res, nil
	}
	if ee != nil {
		res.exitErr = ee
		return res, fmt.Errorf("%s failed (%v): %w%s", name, ee.ProcessState, err, formatTail(res.stderrTail))
	}
	return res, fmt.Errorf("%s: %w", name, err)
}

// runCapture runs a tool whose stdout is a bounded document (ffprobe JSON).
func runCapture(ctx context.Context, cfg Config, bin string, args []string, timeout time.Duration, maxOut int) (*runResult, error) {
	buf := &limitedBuffer{max: maxOut}
	res, err := run(ctx, cfg, bin, args, timeout, buf)
	if res != nil {
		res.stdout = buf.Bytes()
	}
	if err == nil && buf.overflow {
		return res, inputErrorf("not a video file: it describes too many streams")
	}
	return res, err
}

func formatTail(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return "\n--- stderr (last lines) ---\n" + strings.Join(lines, "\n")
}

// limitedBuffer keeps at most max bytes and remembers that it dropped some.
type limitedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.overflow = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// tailWriter keeps the last max lines written to it, each cut to 400
// bytes, so a chatty or hostile stream cannot grow memory.
type tailWriter struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
}

const maxLineLen = 400

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			if room := maxLineLen - len(t.partial); room > 0 {
				t.partial = append(t.partial, p[:min(room, len(p))]...)
			}
			break
		}
		if room := maxLineLen - len(t.partial); room > 0 {
			t.partial = append(t.partial, p[:min(room, i)]...)
		}
		t.push()
		p = p[i+1:]
	}
	return n, nil
}

func (t *tailWriter) push() {
	line := strings.TrimSpace(string(t.partial))
	t.partial = t.partial[:0]
	if line == "" {
		return
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = append(t.lines[:0], t.lines[len(t.lines)-t.max:]...)
	}
}

// Lines returns the kept lines, including an unterminated last one.
func (t *tailWriter) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.partial) > 0 {
		t.push()
	}
	return append([]string(nil), t.lines...)
}

// progressWriter parses ffmpeg's "-progress pipe:1" key=value stream and
// reports percent of durationS done through report. Calls are throttled to
// one per reportEvery unless the value moved by at least 1 point, never go
// backwards, and never reach 100: only the caller, after the outputs are
// verified, reports 100.
type progressWriter struct {
	durationS float64
	report    func(float64)
	now       func() time.Time

	partial  []byte
	last     float64
	lastTime time.Time
	started  bool
}

const reportEvery = 500 * time.Millisecond

func (w *progressWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(w.partial)+len(p) <= 256 {
				w.partial = append(w.partial, p...)
			}
			break
		}
		if len(w.partial)+i <= 256 {
			w.partial = append(w.partial, p[:i]...)
			w.line(string(w.partial))
		}
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (w *progressWriter) line(l string) {
	key, val, ok := strings.Cut(strings.TrimSpace(l), "=")
	if !ok || w.report == nil || w.durationS <= 0 {
		return
	}
	// ffmpeg 5.1 prints both; out_time_ms is (despite its name) also in
	// microseconds, a long-standing ffmpeg quirk.
	if key != "out_time_us" && key != "out_time_ms" {
		return
	}
	us, err := strconv.ParseInt(val, 10, 64)
	if err != nil || us < 0 {
		return // "N/A" before the first packet
	}
	pct := float64(us) / 1e6 / w.durationS * 100
	pct = min(pct, 99.9)
	now := w.now()
	if pct <= w.last && w.started {
		return
	}
	if w.started && pct-w.last < 1 && now.Sub(w.lastTime) < reportEvery {
		return
	}
	w.started = true
	w.last, w.lastTime = pct, now
	w.report(pct)
}
