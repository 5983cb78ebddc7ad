package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/stratavideo/strata/origin/transcode"
)

// scaleOut is (d): a long source encoded by one origin pinned to one core,
// against chunked transcoding on two origins pinned to one core each
// (taskset stands in for two machines). Both arms run the library
// functions the origins' workers run, in the order the job queue runs them:
// the cutting origin cuts the source and queues the chunks, the other
// origin starts on them while the cutting one encodes the audio and the
// pictures and then takes chunks too, and one joins at the end. What
// it leaves out is the cluster around them (Raft entries and the copies of
// pieces and chunks between origins, about a second per gigabyte on
// loopback).
func scaleOut(ctx context.Context, o options, work string) error {
	dir := filepath.Join(work, "scaleout")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src := filepath.Join(dir, "source.mp4")
	t0 := time.Now()
	dur := strconv.Itoa(o.scaleSeconds)
	if b, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size="+o.scaleSize+":rate=30:duration="+dur,
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration="+dur,
		"-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart", src).CombinedOutput(); err != nil {
		return fmt.Errorf("source: %w\n%s", err, b)
	}
	fmt.Printf("\n(d) scale-out: %s s %s source generated in %s; pieces of %.0f s\n", dur, o.scaleSize, time.Since(t0).Round(time.Second), o.pieceSeconds)

	var cores [2]transcode.Config
	for i := range cores {
		cfg := transcode.DefaultConfig()
		for _, tool := range []string{"ffmpeg", "ffprobe"} {
			wrapper := filepath.Join(dir, fmt.Sprintf("%s-core%d", tool, i))
			script := fmt.Sprintf("#!/bin/sh\nexec taskset -c %d %s \"$@\"\n", i, tool)
			if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
				return err
			}
			if tool == "ffmpeg" {
				cfg.FFmpeg = wrapper
			} else {
				cfg.FFprobe = wrapper
			}
		}
		cores[i] = cfg
	}

	one := func() (float64, error) {
		out := filepath.Join(dir, "one")
		os.RemoveAll(out)
		os.RemoveAll(out + ".stage2")
		start := time.Now()
		_, _, _, err := oursPipeline(ctx, cores[0], src, out)
		return time.Since(start).Seconds(), err
	}
	two := func() (float64, int, error) {
		out := filepath.Join(dir, "two")
		os.RemoveAll(out)
		cut := filepath.Join(dir, "cut")
		os.RemoveAll(cut)
		if err := os.MkdirAll(cut, 0o755); err != nil {
			return 0, 0, err
		}
		start := time.Now()
		cfg := cores[0]
		p, err := transcode.ProbeFile(ctx, cfg, src)
		if err != nil {
			return 0, 0, err
		}
		pieces, err := transcode.SplitSource(ctx, cfg, src, p, cut, o.pieceSeconds)
		if err != nil {
			return 0, 0, err
		}
		queue := make(chan int, len(pieces))
		for i := range pieces {
			queue <- i
		}
		close(queue)
		chunks := make([]string, len(pieces))
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for w := range cores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if w == 0 {
					// The cutting origin's job goes on with the audio and
					// the pictures while the other takes chunks.
					if err := transcode.EncodeAudio(ctx, cfg, src, p, cut); err != nil {
						errs[w] = err
						return
					}
					img := filepath.Join(cut, "img")
					if err := os.MkdirAll(img, 0o755); err != nil {
						errs[w] = err
						return
					}
					if _, err := transcode.Images(ctx, cfg, src, p, img); err != nil {
						errs[w] = err
						return
					}
				}
				for i := range queue {
					chunks[i] = filepath.Join(cut, fmt.Sprintf("out-%04d.mp4", i))
					if err := transcode.TranscodeChunk(ctx, cores[w], filepath.Join(cut, pieces[i].File), pieces[i].DurationS, p, chunks[i], nil); err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return 0, 0, err
			}
		}
		if _, err := transcode.JoinChunks(ctx, cfg, p, chunks, filepath.Join(cut, transcode.AudioFile), out); err != nil {
			return 0, 0, err
		}
		return time.Since(start).Seconds(), len(pieces), nil
	}

	var ones, twos []float64
	for round := 1; round <= max(1, o.scaleRounds); round++ {
		order := []string{"one", "two"}
		if round%2 == 0 {
			order = []string{"two", "one"}
		}
		for _, arm := range order {
			if arm == "one" {
				s, err := one()
				if err != nil {
					return fmt.Errorf("one origin: %w", err)
				}
				ones = append(ones, s)
				fmt.Printf("round %d  one origin, one core          %8.2f s  load %s\n", round, s, loadAvg())
			} else {
				s, n, err := two()
				if err != nil {
					return fmt.Errorf("two origins: %w", err)
				}
				twos = append(twos, s)
				fmt.Printf("round %d  two origins, one core each    %8.2f s  (%d chunks)  load %s\n", round, s, n, loadAvg())
			}
		}
	}
	r := median(twos) / median(ones)
	goal := "goal ≤ 0.60 met"
	if r > 0.6 {
		goal = "goal ≤ 0.60 NOT met"
	}
	fmt.Printf("(d) two origins/one origin = %.3f (%s)\n", r, goal)
	return nil
}
