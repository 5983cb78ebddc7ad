package transcode

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// File names in the output directory. Media playlists are named by ffmpeg
// (media_N.m3u8, N = representation id); segments carry a signature of the
// encoding settings so that a re-encode with different settings never
// reuses a name a cache may hold as immutable.
const (
	masterName   = MasterName
	manifestName = ManifestName
	posterName   = "poster.jpg"
)

// MasterName and ManifestName are the HLS master and the DASH MPD: the
// two files a staged run writes twice (first play, then the whole ladder).
const (
	MasterName   = "master.m3u8"
	ManifestName = "manifest.mpd"
)

// encodePlan is everything the ffmpeg command and the manifest rewrite
// share, computed once.
type encodePlan struct {
	input  string // absolute path
	outDir string // absolute path
	probe  *Probe
	rungs  []rungPlan // this run's rungs, largest first
	// top is the ladder's largest rung: every run scales the source to it
	// once and its other rungs from that frame, so a rung comes out the
	// same whichever stage encodes it.
	top      rungPlan
	audio    bool   // this run encodes the audio
	fps      string // output frame rate as given to the fps filter
	fpsValue float64
	gop      int     // keyframe interval in frames
	posterAt float64 // seconds; <0 when no poster is made
	posterW  int
	posterH  int
	sig      string // settings signature used in segment names

	codecs []extraCodec // extra codecs beside H.264, for every rung or some

	sb      *storyboardPlan // the storyboard this run draws (runstoryboard.go), or nil
	tileLog string          // where the metadata filter writes the tiles' times
}

func newEncodePlan(cfg Config, p *Probe, input, outDir string) *encodePlan {
	ep := &encodePlan{input: input, outDir: outDir, probe: p, posterAt: -1, audio: p.HasAudio}
	if p.HasVideo {
		ep.rungs = planRungs(cfg, p)
		ep.top = ep.rungs[0]
		ep.fps, ep.fpsValue = p.FrameRate, p.FPS
		ep.gop = gopFrames(cfg, p.FPS)
		// The poster is taken ~10% in, but no later than 1 s: late enough
		// to skip a fade from black, early enough to be cheap (frames before
		// it are dropped, not scaled).
		ep.posterAt = math.Min(p.DurationS*0.1, 1)
		// The poster is scaled from the top rung's frame: never wider than
		// that (no upscaling), nor than PosterMaxWidth.
		ep.posterW = min(cfg.PosterMaxWidth, ep.rungs[0].Width)
		ep.posterH = evenRound(float64(ep.posterW) * float64(p.Height) / float64(p.Width))
		ep.codecs = planExtraCodecs(cfg)
	}
	ep.sig = settingsSignature(cfg, ep)
	return ep
}

// settingsSignature hashes what decides a segment's bytes: the encoder
// settings, the planned rungs and the identity of the input (format, size,
// duration). The same upload encoded with the same settings gets the same
// names, so a retry overwrites files with equal content; a re-encode with
// new settings gets new names, so no cache serves an old segment under a
// name that now means a different one. The two stages of a staged run
// encode different rungs and so get different names. Bump "v2" whenever buildArgs
// changes what ffmpeg writes.
func settingsSignature(cfg Config, ep *encodePlan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v2|%s|%d|%d|%d|%d|%s|%dx%d|", cfg.Preset, cfg.CRF, cfg.SegmentSeconds, cfg.GOPSeconds, cfg.AudioKbps, ep.fps, ep.top.Width, ep.top.Height)
	for _, r := range ep.rungs {
		fmt.Fprintf(&b, "%dx%d@%d|", r.Width, r.Height, r.VideoKbps)
	}
	b.WriteString(ep.codecSignature())
	fmt.Fprintf(&b, "%t|%t|%s|%d|%d", ep.audio, ep.posterAt >= 0, ep.probe.FormatName, ep.probe.SizeBytes, int64(ep.probe.DurationS*1000))
	if ep.probe.HasVideo {
		// The filters decide the pixels (tone mapping, for one): any
		// change to them makes new names without a version bump.
		fmt.Fprintf(&b, "|%s|%q", ep.filterGraph(), colourArgs(ep.probe))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:4])
}

// initName and mediaTemplate are the dash muxer's file name templates.
func (ep *encodePlan) initName() string {
	return "init-" + ep.sig + "-$RepresentationID$.m4s"
}

func (ep *encodePlan) mediaTemplate() string {
	return "chunk-" + ep.sig + "-$RepresentationID$-$Number%05d$.m4s"
}

// filterGraph builds the -filter_complex graph. Decoded frames are
// normalised once (frame rate, the top rung's size, HDR tone-mapped to
// SDR (hdr.go), yuv420p) and split;
// every other rung is scaled from that frame, and the poster branch keeps
// one frame:
//
//	[0:v] fps, scale(top), format ─┬─ v0 (top rung)
//	                                ├─ scale ─ v1
//	                                ├─ scale ─ v2 …
//	                                └─ trim, scale ─ poster (one frame)
//
// Scaling each rung from the next larger one ("cascade") would save about
// 7% of the CPU but measurably softens grainy video (SSIM −0.0002 to
// −0.0005 on the 360p and 240p rungs against an independent reference;
// deploy/bench/transcode/README.md), so rungs are scaled from the source
// frame: the same pixels a separate ffmpeg per rung would encode.
func (ep *encodePlan) filterGraph() string {
	var b strings.Builder
	// node writes "[in]filters" followed by a split into outs (no split
	// for a single output).
	node := func(in, filters string, outs ...string) {
		fmt.Fprintf(&b, "[%s]%s", in, filters)
		if len(outs) > 1 {
			fmt.Fprintf(&b, ",split=%d", len(outs))
		}
		for _, o := range outs {
			fmt.Fprintf(&b, "[%s]", o)
		}
		b.WriteString(";")
	}
	top := ep.top
	// A rung of the top's size takes the normalised frame as it is; the
	// others are scaled from it.
	var outs []string
	for i, r := range ep.rungs {
		if r.Width == top.Width && r.Height == top.Height {
			outs = append(outs, ep.rungLabel(i))
		} else {
			outs = append(outs, fmt.Sprintf("s%d", i))
		}
	}
	if ep.posterAt >= 0 {
		outs = append(outs, "p")
	}
	if ep.sb != nil {
		outs = append(outs, "sbin")
	}
	node(fmt.Sprintf("0:%d", ep.probe.VideoStream),
		fmt.Sprintf("fps=%s,scale=%d:%d,%s", ep.fps, top.Width, top.Height, pixelFilters(ep.probe)), outs...)
	for i, r := range ep.rungs {
		if outs[i][0] == 's' {
			node(outs[i], fmt.Sprintf("scale=%d:%d", r.Width, r.Height), ep.rungLabel(i))
		}
	}
	b.WriteString(ep.codecSplits())
	if ep.posterAt >= 0 {
		// trim twice: first drop frames before posterAt, then keep exactly
		// one frame, after which this branch reports EOF and split stops
		// feeding it.
		node("p", fmt.Sprintf("trim=start=%s,setpts=PTS-STARTPTS,trim=end_frame=1,scale=%d:%d,setsar=1",
			strconv.FormatFloat(ep.posterAt, 'f', 3, 64), ep.posterW, ep.posterH), "poster")
	}
	if ep.sb != nil {
		b.WriteString(ep.storyboardBranch("sbin") + ";")
	}
	return strings.TrimSuffix(b.String(), ";")
}

// buildArgs returns ffmpeg's arguments for one decode → ladder + audio +
// poster run.
func buildArgs(cfg Config, ep *encodePlan) []string {
	p := ep.probe
	args := []string{
		"-nostdin", "-hide_banner", "-v", "warning", "-nostats",
		"-progress", "pipe:1",
		"-n",
		// Input hardening: only the file protocol, only listed demuxers,
		// and the demuxer ffprobe found forced so nothing is re-sniffed.
		"-protocol_whitelist", "file",
		"-format_whitelist", formatWhitelist,
		"-f", p.Demuxer,
		"-i", "file:" + ep.input,
		// Phone videos carry GPS positions and device names in metadata;
		// none of it is copied to what we publish.
		"-map_metadata", "-1", "-map_chapters", "-1",
	}
	var adaptation []string
	if len(ep.rungs) > 0 {
		args = append(args, "-filter_complex", strings.Replace(ep.filterGraph(), tileLogMark, ":file="+ep.tileLog+",", 1))
		for i := range ep.rungs {
			args = append(args, "-map", fmt.Sprintf("[v%d]", i))
		}
		adaptation = append(adaptation, ep.h264Adaptation())
	}
	if ep.audio {
		args = append(args, "-map", fmt.Sprintf("0:%d", p.AudioStream))
		adaptation = append(adaptation, fmt.Sprintf("id=%d,streams=a", len(adaptation)))
	}
	args, adaptation = ep.appendExtraMaps(args, adaptation)
	if len(ep.rungs) > 0 {
		args = append(args,
			"-c:v", "libx264", "-preset", cfg.Preset, "-profile:v", "high",
			"-crf", strconv.Itoa(cfg.CRF),
			// Same keyframe grid in every rung: fixed GOP, no scene-cut
			// keyframes, so a player can switch rungs at any segment.
			"-g", strconv.Itoa(ep.gop), "-keyint_min", strconv.Itoa(ep.gop), "-sc_threshold", "0",
		)
		args = append(args, colourArgs(p)...)
		for i, r := range ep.rungs {
			s := strconv.Itoa(i)
			args = append(args,
				"-maxrate:v:"+s, fmt.Sprintf("%dk", r.VideoKbps),
				"-bufsize:v:"+s, fmt.Sprintf("%dk", 2*r.VideoKbps),
			)
		}
		args = append(args, ep.extraEncoderArgs()...)
	}
	if ep.audio {
		args = append(args, "-c:a", "aac", "-b:a", fmt.Sprintf("%dk", cfg.AudioKbps))
		if p.AudioChannels > 2 {
			args = append(args, "-ac", "2")
		}
		if p.AudioSampleRate != 44100 && p.AudioSampleRate != 48000 {
			args = append(args, "-ar", "48000")
		}
	}
	args = append(args,
		"-f", "dash",
		"-seg_duration", strconv.Itoa(cfg.SegmentSeconds),
		"-use_template", "1", "-use_timeline", "1",
		"-hls_playlist", "1",
		"-adaptation_sets", strings.Join(adaptation, " "),
		"-init_seg_name", ep.initName(),
		"-media_seg_name", ep.mediaTemplate(),
		"file:"+filepath.Join(ep.outDir, manifestName),
	)
	if ep.posterAt >= 0 {
		args = append(args,
			"-map", "[poster]", "-frames:v", "1",
			"-c:v", "mjpeg", "-q:v", "3",
			"-f", "image2", "-update", "1",
			"file:"+filepath.Join(ep.outDir, posterName),
		)
	}
	if ep.sb != nil {
		args = append(args, ep.storyboardArgs()...)
	}
	return args
}

// ffmpegTimeout is the wall-clock budget for encoding p.
func ffmpegTimeout(cfg Config, p *Probe) (d float64) {
	return cfg.TimeoutBase.Seconds() + cfg.TimeoutPerSecond*p.DurationS
}
