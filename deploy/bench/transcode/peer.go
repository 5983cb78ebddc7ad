package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/stratavideo/strata/origin/transcode"
)

// peerLadder makes the ladder PeerTube's way: one ffmpeg per rung, run one
// after another, each decoding the whole source itself. Every rung gets the
// encoder settings Transcode uses (codec, preset, profile, CRF, maxrate and
// VBV buffer, frame rate, GOP, no scene-cut keyframes) and the same CMAF
// output (dash muxer, HLS playlists, segment length). Threading is
// ffmpeg's default: no -threads anywhere. Audio is encoded once, with the
// largest rung, as Transcode does (PeerTube up to v6 muxed audio into
// every rung, which would cost the peer arm more), and the poster is one
// more small ffmpeg run, as PeerTube makes its thumbnails.
//
// This mirrors origin/transcode/ffmpeg.go by hand; checkSameEncoder
// verifies the result from the x264 settings in the streams.
func peerLadder(ctx context.Context, cfg transcode.Config, p *transcode.Probe, src, outDir string) error {
	gop := strconv.Itoa(int(math.Round(p.FPS * float64(cfg.GOPSeconds))))
	for i, r := range transcode.PlanLadder(cfg, p) {
		w, h := transcode.RungSize(p, r)
		dir := filepath.Join(outDir, strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		args := []string{"-nostdin", "-hide_banner", "-v", "warning", "-nostats", "-n",
			"-protocol_whitelist", "file", "-f", p.Demuxer, "-i", "file:" + src,
			"-map_metadata", "-1", "-map_chapters", "-1",
			"-filter_complex", fmt.Sprintf("[0:%d]fps=%s,scale=%d:%d,format=yuv420p[v]", p.VideoStream, p.FrameRate, w, h),
			"-map", "[v]",
		}
		sets := "id=0,streams=v"
		if i == 0 && p.HasAudio {
			args = append(args, "-map", fmt.Sprintf("0:%d", p.AudioStream))
			sets += " id=1,streams=a"
		}
		args = append(args,
			"-c:v", "libx264", "-preset", cfg.Preset, "-profile:v", "high", "-crf", strconv.Itoa(cfg.CRF),
			"-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
			"-maxrate", fmt.Sprintf("%dk", r.VideoKbps), "-bufsize", fmt.Sprintf("%dk", 2*r.VideoKbps),
		)
		if i == 0 && p.HasAudio {
			args = append(args, "-c:a", "aac", "-b:a", fmt.Sprintf("%dk", cfg.AudioKbps))
		}
		args = append(args,
			"-f", "dash", "-seg_duration", strconv.Itoa(cfg.SegmentSeconds),
			"-use_template", "1", "-use_timeline", "1", "-hls_playlist", "1",
			"-adaptation_sets", sets,
			"-init_seg_name", "init-$RepresentationID$.m4s",
			"-media_seg_name", "chunk-$RepresentationID$-$Number%05d$.m4s",
			"file:"+filepath.Join(dir, "manifest.mpd"))
		if err := ffmpeg(ctx, args); err != nil {
			return fmt.Errorf("rung %s: %w", r.Name, err)
		}
	}
	// Poster: seek, one frame, scaled like Transcode's.
	at := math.Min(p.DurationS*0.1, 1)
	pw := min(cfg.PosterMaxWidth, p.Width)
	ph := int(math.Round(float64(pw)*float64(p.Height)/float64(p.Width)/2)) * 2
	return ffmpeg(ctx, []string{"-nostdin", "-hide_banner", "-v", "warning", "-n",
		"-ss", strconv.FormatFloat(at, 'f', 3, 64), "-protocol_whitelist", "file", "-f", p.Demuxer, "-i", "file:" + src,
		"-map", fmt.Sprintf("0:%d", p.VideoStream), "-vf", fmt.Sprintf("scale=%d:%d,setsar=1", pw, ph),
		"-frames:v", "1", "-c:v", "mjpeg", "-q:v", "3", "-f", "image2", "-update", "1",
		"file:" + filepath.Join(outDir, "poster.jpg")})
}

func ffmpeg(ctx context.Context, args []string) error {
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg: %w\n%s", err, out)
	}
	return nil
}

var ssimRE = regexp.MustCompile(`All:([0-9.]+)`)

// compareQuality measures each rung of both arms against the source
// scaled by a third scaler (zimg's spline36, used by neither arm) over the
// first seconds, so any quality cost of our filter graph would show.
func compareQuality(ctx context.Context, p *transcode.Probe, rungs []transcode.Rung, res *transcode.Result, src, oursDir, peerDir string, seconds int) error {
	t := strconv.Itoa(seconds)
	fmt.Printf("quality (SSIM vs source scaled with zimg spline36, first %d s):\n", seconds)
	for i, r := range rungs {
		w, h := transcode.RungSize(p, r)
		var vals []string
		for _, pl := range []string{
			filepath.Join(oursDir, res.Renditions[i].Playlist),
			filepath.Join(peerDir, strconv.Itoa(i), "media_0.m3u8"),
		} {
			graph := fmt.Sprintf("[1:%d]fps=%s,zscale=w=%d:h=%d:filter=spline36,format=yuv420p[ref];[0:v]setsar=1[d];[d][ref]ssim",
				p.VideoStream, p.FrameRate, w, h)
			out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-protocol_whitelist", "file",
				"-t", t, "-i", pl, "-t", t, "-i", src, "-filter_complex", graph, "-f", "null", "-").CombinedOutput()
			m := ssimRE.FindSubmatch(out)
			if err != nil || m == nil {
				return fmt.Errorf("ssim %s: %v\n%s", pl, err, lastLines(string(out), 5))
			}
			vals = append(vals, string(m[1]))
		}
		fmt.Printf("  %-6s ours %s  peer %s\n", r.Name, vals[0], vals[1])
	}
	return nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
