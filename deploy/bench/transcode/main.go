// Command transcode-bench times Strata's one-pass ladder encode
// (origin/transcode.Transcode: one ffmpeg, one decode, every rung) against
// the same ladder made the way PeerTube makes it: one ffmpeg per rung, run
// one after another, each decoding the source itself, with identical
// encoder settings and ffmpeg's default threading.
//
// It generates its own source (see README.md for what and why), runs
// alternating rounds, prints every run, the medians and the ratio
// ours/peer, and exits non-zero if anything fails. Run it with
// `go run ./deploy/bench/transcode` (or `make bench-transcode`).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stratavideo/strata/origin/transcode"
)

type options struct {
	rounds      int
	seconds     int
	source      string
	sourceFile  string
	work        string
	keep        bool
	ssimSeconds int
	maxRatio    float64

	scaleSeconds int
	scaleSize    string
	pieceSeconds float64
	scaleRounds  int
	firstPlay    int
	firstMode    string
}

func main() {
	var o options
	flag.IntVar(&o.rounds, "rounds", 3, "alternating rounds (each times both arms once)")
	flag.IntVar(&o.seconds, "seconds", 60, "length of the generated 1080p30 source")
	flag.StringVar(&o.source, "source", "phone", `generated source: "phone" (grainy, 16 Mbit/s High profile, like a phone camera) or "plain" (testsrc2 at ffmpeg's default CRF 23)`)
	flag.StringVar(&o.sourceFile, "source-file", "", "use this file as the source instead of generating one (e.g. a real phone video)")
	flag.StringVar(&o.work, "work", "", "work directory (default: a new temporary directory, removed at the end)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.IntVar(&o.ssimSeconds, "ssim-seconds", 0, "after round 1, compare each rung of both arms with the source over this many seconds (SSIM); 0 skips")
	flag.Float64Var(&o.maxRatio, "max-ratio", 0, "exit non-zero when the median ratio ours/peer is above this (0: report only)")
	flag.IntVar(&o.scaleSeconds, "scaleout-seconds", 600, "length of the scale-out (d) source; 0 skips (d)")
	flag.StringVar(&o.scaleSize, "scaleout-size", "854x480", "frame size of the scale-out source")
	flag.Float64Var(&o.pieceSeconds, "piece-seconds", 60, "chunk length for the scale-out run")
	flag.StringVar(&o.firstMode, "first-play", "", `override first_play: "growing" (the default), "staged" or "off"`)
	flag.IntVar(&o.firstPlay, "first-play-height", -1, "override first_play_height for -first-play staged (-1: the default)")
	flag.IntVar(&o.scaleRounds, "scaleout-rounds", 1, "alternating rounds of (d)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-transcode:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.rounds < 1 || o.seconds < 4 {
		return errors.New("need -rounds ≥ 1 and -seconds ≥ 4")
	}
	// Ctrl-C cancels the context, which kills the running ffmpeg's whole
	// process group instead of leaving it to finish on its own.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	work := o.work
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "bench-transcode-"); err != nil {
			return err
		}
	}
	if !o.keep && o.work == "" {
		defer os.RemoveAll(work)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	fmt.Printf("ffmpeg: %s\n", ffmpegVersion())
	fmt.Printf("cores: %d (load average now: %s)\n", numCPU(), loadAvg())

	src := o.sourceFile
	if src == "" {
		src = filepath.Join(work, "source-"+o.source+".mp4")
		t0 := time.Now()
		if err := generateSource(ctx, o, src); err != nil {
			return fmt.Errorf("generating the source: %w", err)
		}
		fmt.Printf("source: %q generated in %s\n", o.source, time.Since(t0).Round(time.Second))
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}

	cfg := transcode.DefaultConfig()
	if o.firstMode != "" {
		cfg.FirstPlay = o.firstMode
	}
	if o.firstPlay >= 0 {
		cfg.FirstPlayMaxHeight = o.firstPlay
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	p, err := transcode.ProbeFile(ctx, cfg, src)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	fmt.Printf("source: %s, %.1f s %dx%d@%.2f %s, %.1f MB (%.1f Mbit/s)\n", filepath.Base(src), p.DurationS, p.Width, p.Height,
		p.FPS, p.VideoCodec, float64(st.Size())/1e6, float64(p.BitRate)/1e6)
	rungs := transcode.PlanLadder(cfg, p)
	var names []string
	for _, r := range rungs {
		w, h := transcode.RungSize(p, r)
		names = append(names, fmt.Sprintf("%s %dx%d ≤%dk", r.Name, w, h, r.VideoKbps))
	}
	fmt.Printf("ladder: %s; x264 %s crf %d; %d s segments; AAC %dk\n\n", strings.Join(names, ", "), cfg.Preset, cfg.CRF, cfg.SegmentSeconds, cfg.AudioKbps)

	var ours, peer, bare, oursCPU, peerCPU, bareCPU, firstPlay []float64
	var cmds [][]string // ffmpeg command lines our pipeline ran, in order
	oursDir := filepath.Join(work, "ours")
	peerDir := filepath.Join(work, "peer")
	for round := 1; round <= o.rounds; round++ {
		arms := []string{"ours", "bare", "peer"}
		if round%2 == 0 {
			arms = []string{"peer", "bare", "ours"}
		}
		if round == 1 {
			arms = []string{"ours", "peer", "bare"} // bare replays what ours ran
		}
		var res *transcode.Result
		for _, arm := range arms {
			// The run's storyboard tiles and their log sit beside the output.
			dirs := []string{oursDir, oursDir + ".stage2", oursDir + ".tiles", oursDir + ".tiles.d"}
			if arm == "peer" {
				dirs = []string{peerDir}
			}
			for _, d := range dirs {
				if err := os.RemoveAll(d); err != nil {
					return err
				}
			}
			cpu0 := childCPU()
			start := time.Now()
			var err error
			var fp float64
			switch arm {
			case "ours":
				var rec [][]string
				res, fp, rec, err = oursPipeline(ctx, cfg, src, oursDir)
				if cmds == nil {
					cmds = rec
				}
			case "bare":
				err = replay(ctx, cmds, oursDir)
			default:
				err = peerLadder(ctx, cfg, p, src, peerDir)
			}
			wall := time.Since(start).Seconds()
			cpu := childCPU() - cpu0
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round, arm, err)
			}
			extra := ""
			switch arm {
			case "ours":
				ours, oursCPU, firstPlay = append(ours, wall), append(oursCPU, cpu), append(firstPlay, fp/wall)
				extra = fmt.Sprintf("  first playable at %.2f s (%.3f of the total)", fp, fp/wall)
			case "bare":
				bare, bareCPU = append(bare, wall), append(bareCPU, cpu)
				extra = fmt.Sprintf("  (%d ffmpeg commands)", len(cmds))
			default:
				peer, peerCPU = append(peer, wall), append(peerCPU, cpu)
			}
			fmt.Printf("round %d  %-4s  %7.2f s wall  %7.2f s CPU (%.2f cores)  load %s%s\n", round, arm, wall, cpu, cpu/wall, loadAvg(), extra)
			if round == 1 && arm == "peer" {
				if err := checkSameEncoder(res, oursDir, peerDir); err != nil {
					return err
				}
				if o.ssimSeconds > 0 {
					if err := compareQuality(ctx, p, rungs, res, src, oursDir, peerDir, o.ssimSeconds); err != nil {
						return err
					}
				}
			}
		}
	}
	mo, mp, mb := median(ours), median(peer), median(bare)
	fmt.Printf("\nmedian  ours %.2f s (CPU %.2f s)   peer %.2f s (CPU %.2f s)   bare %.2f s (CPU %.2f s)\n",
		mo, median(oursCPU), mp, median(peerCPU), mb, median(bareCPU))
	ratio := mo / mp
	verdict := func(x, goal float64) string {
		if x <= goal {
			return fmt.Sprintf("goal ≤ %.2f met", goal)
		}
		return fmt.Sprintf("goal ≤ %.2f NOT met", goal)
	}
	fmt.Printf("(a) ours/peer = %.3f (%s); per round:", ratio, verdict(ratio, 0.70))
	for i := range ours {
		fmt.Printf(" %.3f", ours[i]/peer[i])
	}
	// CPU seconds are less disturbed than wall time by other work on a
	// shared machine (not immune: contention also slows each instruction).
	fmt.Printf("; CPU %.3f\n", median(oursCPU)/median(peerCPU))
	fmt.Printf("(b) ours/bare ffmpeg = %.3f (%s); per round:", mo/mb, verdict(mo/mb, 1.05))
	for i := range ours {
		fmt.Printf(" %.3f", ours[i]/bare[i])
	}
	fmt.Println()
	fmt.Printf("(c) first playable/total = %.3f (%s), median of rounds\n", median(firstPlay), verdict(median(firstPlay), 0.35))
	if o.scaleSeconds > 0 {
		if err := scaleOut(ctx, o, work); err != nil {
			return fmt.Errorf("scale-out: %w", err)
		}
	}
	if o.maxRatio > 0 && ratio > o.maxRatio {
		return fmt.Errorf("median ratio %.3f above -max-ratio %.3f", ratio, o.maxRatio)
	}
	return nil
}

// oursPipeline runs what an origin runs for an upload: probe, the ladder
// with first play (by default one growing run, published once a viewer
// would not catch up with it) and the pictures. It returns when it was
// first playable (seconds from the start) and the ffmpeg command lines it
// ran.
func oursPipeline(ctx context.Context, cfg transcode.Config, src, out string) (*transcode.Result, float64, [][]string, error) {
	var cmds [][]string
	cfg.OnExec = func(bin string, args []string) {
		if bin == cfg.FFmpeg {
			cmds = append(cmds, args)
		}
	}
	start := time.Now()
	p, err := transcode.ProbeFile(ctx, cfg, src)
	if err != nil {
		return nil, 0, nil, err
	}
	var firstPlay float64
	res, err := transcode.TranscodeStaged(ctx, cfg, src, p, out, nil, func(*transcode.Result) error {
		if firstPlay == 0 { // a growing run hands over a snapshot per segment
			firstPlay = time.Since(start).Seconds()
		}
		return nil
	})
	if err != nil {
		return nil, 0, nil, err
	}
	if _, err := transcode.ImagesFor(ctx, cfg, src, p, out, res); err != nil {
		return nil, 0, nil, err
	}
	if firstPlay == 0 { // one run: playable when everything is
		firstPlay = time.Since(start).Seconds()
	}
	return res, firstPlay, cmds, nil
}

// replay runs the recorded ffmpeg command lines as they are, one after
// another, into fresh output folders: the bare cost of what the pipeline
// asks of ffmpeg.
func replay(ctx context.Context, cmds [][]string, out string) error {
	for _, d := range []string{out, out + ".stage2", out + ".tiles.d"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, args := range cmds {
		if err := ffmpeg(ctx, args); err != nil {
			return err
		}
	}
	return nil
}

// generateSource writes the benchmark's 1080p30 source with a stereo sine.
func generateSource(ctx context.Context, o options, out string) error {
	dur := strconv.Itoa(o.seconds)
	var videoIn string
	var videoEnc []string
	switch o.source {
	case "phone":
		// testsrc2 is sharp synthetic detail; temporal noise adds the
		// sensor grain of real camera footage, which costs x264 and the
		// decoder like real footage does. Encoded the way phones record
		// 1080p30: H.264 High, no B-frames, ~16 Mbit/s.
		videoIn = "testsrc2=size=1920x1080:rate=30:duration=" + dur + ",noise=alls=4:allf=t"
		videoEnc = []string{"-c:v", "libx264", "-preset", "superfast", "-profile:v", "high", "-bf", "0",
			"-pix_fmt", "yuv420p", "-b:v", "16M", "-maxrate", "16M", "-bufsize", "32M"}
	case "plain":
		// What `ffmpeg -f lavfi -i testsrc2` gives with defaults: x264
		// medium, CRF 23, ~6 Mbit/s at 1080p30. Cheaper to decode.
		videoIn = "testsrc2=size=1920x1080:rate=30:duration=" + dur
		videoEnc = []string{"-c:v", "libx264", "-pix_fmt", "yuv420p"}
	default:
		return fmt.Errorf("unknown -source %q", o.source)
	}
	args := []string{"-nostdin", "-hide_banner", "-v", "error", "-y",
		"-f", "lavfi", "-i", videoIn,
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=" + dur}
	args = append(args, videoEnc...)
	args = append(args, "-c:a", "aac", "-b:a", "192k", "-ac", "2", "-movflags", "+faststart", out)
	if b, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, b)
	}
	return nil
}

// childCPU is the user+system CPU seconds of all waited-for children so far.
func childCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ffmpegVersion() string {
	out, err := exec.Command("ffmpeg", "-hide_banner", "-version").Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return line
}

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\nprocessor")) + 1
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return "?"
	}
	return f[0]
}

var x264OptionsRE = regexp.MustCompile(`options: ([^\x00]*)`)

// x264Options returns the settings string x264 embeds in the first
// segment of a media playlist, without the threading fields, which are the
// one thing the arms are allowed to differ in.
func x264Options(dir, playlist string) (string, error) {
	pl, err := os.ReadFile(filepath.Join(dir, playlist))
	if err != nil {
		return "", err
	}
	var seg string
	for _, l := range strings.Split(string(pl), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			seg = l
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, seg))
	if err != nil {
		return "", err
	}
	m := x264OptionsRE.FindSubmatch(data)
	if m == nil {
		return "", fmt.Errorf("%s: no x264 options SEI", seg)
	}
	var keep []string
	for _, f := range strings.Fields(string(m[1])) {
		if strings.HasPrefix(f, "threads=") || strings.HasPrefix(f, "lookahead_threads=") || strings.HasPrefix(f, "sliced_threads=") {
			continue
		}
		keep = append(keep, f)
	}
	return strings.Join(keep, " "), nil
}

// checkSameEncoder proves the arms encoded every rung with the same x264
// settings, from what x264 wrote into the streams.
func checkSameEncoder(res *transcode.Result, oursDir, peerDir string) error {
	for i, r := range res.Renditions {
		a, err := x264Options(oursDir, r.Playlist)
		if err != nil {
			return fmt.Errorf("ours rung %s: %w", r.Name, err)
		}
		b, err := x264Options(filepath.Join(peerDir, strconv.Itoa(i)), "media_0.m3u8")
		if err != nil {
			return fmt.Errorf("peer rung %d: %w", i, err)
		}
		if a != b {
			return fmt.Errorf("rung %s encoded differently:\nours: %s\npeer: %s", r.Name, a, b)
		}
	}
	fmt.Println("check: x264 settings identical in both arms for every rung (threading aside)")
	return nil
}
