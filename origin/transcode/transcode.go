// Package transcode turns one uploaded audio/video file into adaptive
// streaming output: an H.264/AAC ladder in CMAF fMP4 segments that one HLS
// master playlist and one DASH MPD both reference, plus a poster image.
//
// It runs ffprobe to vet the upload (hostile files are expected) and then a
// single ffmpeg process that decodes the source once and encodes every rung
// from that one decode. It imports nothing from the rest of Strata; the
// caller uploads the output directory's files to the blob store.
package transcode

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Rendition is one variant of the HLS master, as published.
type Rendition struct {
	Name             string  `json:"name"` // "720p"; "audio" for audio-only output
	Width            int     `json:"width,omitempty"`
	Height           int     `json:"height,omitempty"`
	Bandwidth        int     `json:"bandwidth"`         // peak bit/s of a segment, audio included
	AverageBandwidth int     `json:"average_bandwidth"` // bit/s over the whole stream, audio included
	Codecs           string  `json:"codecs"`            // RFC 6381, e.g. "avc1.64001f,mp4a.40.2"
	FrameRate        float64 `json:"frame_rate,omitempty"`
	Playlist         string  `json:"playlist"` // its HLS media playlist, relative

	// Codec is the video codec: "h264", "av1" or "hevc" (Config.ExtraCodecs);
	// "" for audio-only output. Name repeats across codecs.
	Codec string `json:"codec,omitempty"`
}

// Result describes a finished transcode. File names are relative to the
// output directory, with forward slashes.
type Result struct {
	DurationS  float64     `json:"duration_s"` // of the encoded output
	Renditions []Rendition `json:"renditions"` // largest first
	HasVideo   bool        `json:"has_video"`
	HasAudio   bool        `json:"has_audio"`
	Master     string      `json:"master"` // "master.m3u8"
	DASH       string      `json:"dash"`   // "manifest.mpd"
	// Poster is "poster.jpg", or "" when there is none: audio-only input
	// has no picture to show.
	Poster string   `json:"poster"`
	Files  []string `json:"files"` // every file written, sorted

	// Storyboard is the one the run drew from its frames (see
	// runstoryboard.go); nil when it drew none, and for growing snapshots.
	// ImagesFor keeps it and makes only the thumbnails.
	Storyboard *Storyboard `json:"storyboard,omitempty"`

	// Growing marks a snapshot of a run still encoding (growing first
	// play): its media playlists are HLS EVENT playlists that later
	// snapshots and the final Result extend, it has no DASH MPD yet, and
	// its files are in Dir rather than the output directory.
	Growing bool   `json:"growing,omitempty"`
	Dir     string `json:"-"`
}

// Transcode encodes input into outDir, which must be empty or absent. p is
// the input's probe; when nil, Transcode probes the file itself.
//
// progress, if not nil, is called from another goroutine with the percent
// done (0..100): at most every 500 ms unless the value moved by at least one
// point, never decreasing, and 100 only once everything is written and
// checked.
//
// Refusals of the input are *InputError. Other errors (ffmpeg failing, the
// time limit, cancellation, a full disk) are wrapped ordinary errors worth a
// retry. After an error outDir may hold partial output; the caller removes
// it.
func Transcode(ctx context.Context, cfg Config, input string, p *Probe, outDir string, progress func(percent float64)) (*Result, error) {
	return TranscodeStaged(ctx, cfg, input, p, outDir, progress, nil)
}

// TranscodeStaged is Transcode with fast first play, as cfg.FirstPlay says,
// when firstPlay is not nil.
//
// Growing (the default): one run encodes everything, and firstPlay is
// called with snapshots of what it has finished (Result.Growing, files in
// Result.Dir: EVENT media playlists, our master, segments, the poster; no
// MPD): first when two segments of every stream are done, then after every
// new segment. Only an error from the first
// call stops the run; later ones are logged and the next snapshot carries
// the files again.
//
// Staged: when the ladder has rungs above cfg.FirstPlayMaxHeight, the low
// rungs, the audio and the poster are encoded first and firstPlay is
// called once with their Result (a complete, playable output in outDir:
// master, MPD, media playlists) before the other rungs are encoded. An
// error from firstPlay stops the run.
//
// Either way the final Result covers every file and its master (and the
// playlists of a growing run) replace what firstPlay saw.
func TranscodeStaged(ctx context.Context, cfg Config, input string, p *Probe, outDir string, progress func(percent float64), firstPlay func(*Result) error) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if p == nil {
		var err error
		if p, err = ProbeFile(ctx, cfg, input); err != nil {
			return nil, err
		}
	}
	if !p.HasVideo && !p.HasAudio {
		return nil, inputErrorf("not a video file: it has no audio or video stream")
	}
	in, err := filepath.Abs(input)
	if err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	out, err := prepareOutDir(outDir)
	if err != nil {
		return nil, err
	}

	full := newEncodePlan(cfg, p, in, out)
	full.addStoryboard(cfg)
	defer full.removeTiles()
	if err := full.prepareTiles(); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	mode := cfg.FirstPlay
	if firstPlay == nil {
		mode = FirstPlayOff
	}
	stages := []*encodePlan{full}
	if mode == FirstPlayStaged {
		stages = splitStages(cfg, full)
	}
	if len(stages) == 1 {
		grown := false
		run := func(ctx context.Context) error { return encode(ctx, cfg, full, progress) }
		if mode == "" || mode == FirstPlayGrowing {
			g := &growth{cfg: cfg, ep: full, dir: out + ".growing", now: time.Now, linked: map[string]bool{}}
			g.publish = func(r *Result) error { grown = true; return firstPlay(r) }
			if g.dir, err = prepareOutDir(g.dir); err != nil {
				return nil, err
			}
			defer os.RemoveAll(g.dir)
			encodeRun := run
			run = func(ctx context.Context) error {
				g.start = g.now()
				return watchGrowth(ctx, g, encodeRun)
			}
		}
		if err := run(ctx); err != nil {
			return nil, err
		}
		res, err := finish(ctx, cfg, full, grown)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(100)
		}
		return res, nil
	}

	first, second := stages[0], stages[1]
	split := stageShare(first, second)
	if err := encode(ctx, cfg, first, scaleProgress(progress, 0, split)); err != nil {
		return nil, err
	}
	res1, err := finish(ctx, cfg, first, false)
	if err != nil {
		return nil, err
	}
	if err := firstPlay(res1); err != nil {
		return nil, fmt.Errorf("transcode: first play: %w", err)
	}
	if second.outDir, err = prepareOutDir(out + ".stage2"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(second.outDir)
	if err := encode(ctx, cfg, second, scaleProgress(progress, split, 100)); err != nil {
		return nil, err
	}
	res, err := joinStages(cfg, first, second)
	if err != nil {
		return nil, err
	}
	res.Storyboard = res1.Storyboard
	if progress != nil {
		progress(100)
	}
	return res, nil
}

// encode runs ffmpeg for one plan.
func encode(ctx context.Context, cfg Config, ep *encodePlan, progress func(float64)) error {
	p := ep.probe
	args := buildArgs(cfg, ep)
	timeout := time.Duration(ffmpegTimeout(cfg, p) * ep.timeoutScale() * float64(time.Second))
	pw := &progressWriter{durationS: p.DurationS, report: progress, now: time.Now}
	start := time.Now()
	res, err := run(ctx, cfg, cfg.FFmpeg, args, timeout, pw)
	if err != nil {
		if res != nil && res.exitErr != nil && inputFault(res.stderrTail) {
			return inputErrorf("the file is truncated or corrupt: %s", lastMeaningfulLine(res.stderrTail))
		}
		if errors.Is(err, errMemoryLimit) || errors.Is(err, errCPULimit) {
			// The same file would hit the same limit on every retry.
			return inputErrorf("the file needs more memory or processing time than this server allows")
		}
		return fmt.Errorf("transcode: %w", err)
	}
	cfg.logger().Info("transcode: ffmpeg done", "input_s", p.DurationS, "rungs", len(ep.rungs), "audio", ep.audio,
		"elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// prepareOutDir makes outDir and insists it is empty, so that Files lists
// exactly this run's output and no stale segment is published.
func prepareOutDir(outDir string) (string, error) {
	abs, err := filepath.Abs(outDir)
	if err != nil {
		return "", fmt.Errorf("transcode: output directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("transcode: output directory: %w", err)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return "", fmt.Errorf("transcode: output directory: %w", err)
	}
	if len(entries) > 0 {
		return "", fmt.Errorf("transcode: output directory %s is not empty", abs)
	}
	return abs, nil
}

// inputFault reports whether ffmpeg's last words blame the input rather
// than the machine.
func inputFault(stderr []string) bool {
	all := strings.Join(stderr, "\n")
	for _, s := range []string{"Invalid data found when processing input", "moov atom not found", "could not find codec parameters", "Error while opening decoder"} {
		if strings.Contains(all, s) {
			return true
		}
	}
	return false
}

// finish checks one run's output, writes our master playlist and lists the
// files. grown says the run was published while it encoded: its media
// playlists stay EVENT playlists.
func finish(ctx context.Context, cfg Config, ep *encodePlan, grown bool) (*Result, error) {
	st, err := collect(ep, nil)
	if err != nil {
		return nil, err
	}
	if grown {
		if err := endGrowth(ep.outDir, st); err != nil {
			return nil, err
		}
	}
	if err := writeMaster(ep.outDir, st.renditions, st.video, st.audio); err != nil {
		return nil, fmt.Errorf("transcode: write master: %w", err)
	}
	if err := fixMPDCodecs(ep.outDir); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	if err := checkManifest(ep.outDir); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	res := &Result{
		DurationS:  st.duration,
		Renditions: st.renditions,
		HasVideo:   ep.probe.HasVideo,
		HasAudio:   ep.probe.HasAudio,
		Master:     masterName,
		DASH:       manifestName,
	}
	if res.Storyboard, err = ep.finishStoryboard(ctx, cfg); err != nil {
		// Images draws one instead; this run's sheets go unpublished.
		cfg.logger().Warn("transcode: storyboard of the run", "error", err)
		res.Storyboard = nil
	}
	if ep.posterAt >= 0 {
		if st, err := os.Stat(filepath.Join(ep.outDir, posterName)); err == nil && st.Size() > 0 {
			res.Poster = posterName
		} else {
			cfg.logger().Warn("transcode: no poster was written", "dir", ep.outDir)
		}
	}
	if res.Files, err = listFiles(ep.outDir); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	return res, nil
}

// runOutput is what one ffmpeg run produced, checked.
type runOutput struct {
	video      []*mediaInfo // parallel to renditions when there is video
	audio      *mediaInfo
	renditions []Rendition
	duration   float64 // of the largest rung, or of the audio
	shortest   float64 // of the stream with the least done (growing runs)
}

// collect reads and checks the media playlists of one finished run,
// describes its renditions and strips what ffmpeg stamps for live use.
// audio is the shared audio track when this run did not encode it (the
// second stage), for the variants' bandwidth and codecs.
func collect(ep *encodePlan, audio *mediaInfo) (*runOutput, error) {
	out, err := describe(ep, ep.outDir, audio)
	if err != nil {
		return nil, err
	}
	var playlists []string
	if ep.audio {
		playlists = append(playlists, out.audio.uri)
	}
	for _, mi := range out.video {
		playlists = append(playlists, mi.uri)
	}
	for _, uri := range playlists {
		if err := stripProgramDateTime(filepath.Join(ep.outDir, uri)); err != nil {
			return nil, fmt.Errorf("transcode: %w", err)
		}
	}

	// The output must cover the input: ffmpeg keeps going over damaged
	// data and exits 0 with whatever it could decode. Only containers whose
	// header states the duration are checked; for MP3, MPEG-TS and the
	// like ffprobe estimates it from the bit rate, which can be far off.
	p := ep.probe
	statesDuration := p.Demuxer == "mov" || p.Demuxer == "matroska"
	if statesDuration && out.duration < 0.9*p.DurationS-1 {
		return nil, inputErrorf("the file is truncated or corrupt: only %.0f of its %.0f seconds could be decoded", out.duration, p.DurationS)
	}
	return out, nil
}

// describe reads the media playlists ffmpeg wrote into dir for ep and
// describes its renditions, changing nothing: it also reads a run still in
// progress (growing first play), whose playlists list the segments done so
// far.
func describe(ep *encodePlan, dir string, audio *mediaInfo) (*runOutput, error) {
	fm, err := readFFmpegMaster(dir)
	if err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	p := ep.probe
	outs := ep.videoOutputs()
	if len(fm.video) != len(outs) && (p.HasVideo || len(fm.video) != 1) {
		return nil, fmt.Errorf("transcode: ffmpeg's master lists %d video variants, expected %d", len(fm.video), len(outs))
	}
	if ep.audio {
		uri := fm.audio
		if !p.HasVideo && len(fm.video) == 1 {
			uri = fm.video[0] // an audio-only master lists the audio as its variant
		}
		if uri == "" {
			return nil, errors.New("transcode: ffmpeg's master has no audio playlist")
		}
		if audio, err = readMedia(dir, uri); err != nil {
			return nil, fmt.Errorf("transcode: %w", err)
		}
	}
	out := &runOutput{audio: audio}
	for i, o := range outs {
		r := ep.rungs[o.rung]
		mi, err := readMedia(dir, fm.video[i])
		if err != nil {
			return nil, fmt.Errorf("transcode: %w", err)
		}
		if mi.track.Width != r.Width || mi.track.Height != r.Height {
			return nil, fmt.Errorf("transcode: %s came out %dx%d, planned %dx%d", mi.uri, mi.track.Width, mi.track.Height, r.Width, r.Height)
		}
		if got := codecFamily(mi.track.Codec); got != o.codec {
			return nil, fmt.Errorf("transcode: %s came out as %s (%s), planned %s", mi.uri, got, mi.track.Codec, o.codec)
		}
		out.video = append(out.video, mi)
		rd := Rendition{
			Name: r.Name, Width: r.Width, Height: r.Height,
			Bandwidth:        int(math.Ceil(mi.peakBps)),
			AverageBandwidth: int(math.Ceil(mi.avgBps)),
			Codecs:           mi.track.Codec,
			Codec:            o.codec,
			FrameRate:        math.Round(ep.fpsValue*1000) / 1000,
			Playlist:         mi.uri,
		}
		if audio != nil {
			rd.Bandwidth += int(math.Ceil(audio.peakBps))
			rd.AverageBandwidth += int(math.Ceil(audio.avgBps))
			rd.Codecs += "," + audio.track.Codec
		}
		out.renditions = append(out.renditions, rd)
	}
	if !p.HasVideo {
		out.renditions = []Rendition{{
			Name: "audio", Bandwidth: int(math.Ceil(audio.peakBps)), AverageBandwidth: int(math.Ceil(audio.avgBps)),
			Codecs: audio.track.Codec, Playlist: audio.uri,
		}}
	}
	if len(out.video) > 0 {
		out.duration = out.video[0].duration
	} else {
		out.duration = audio.duration
	}
	out.shortest = out.duration
	for _, mi := range out.video {
		out.shortest = math.Min(out.shortest, mi.duration)
	}
	if ep.audio && len(out.video) > 0 {
		out.shortest = math.Min(out.shortest, audio.duration)
	}
	return out, nil
}

// listFiles returns every regular file under dir, relative and sorted,
// after removing leftovers of atomic writes (*.tmp) that a killed writer
// could leave behind.
func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".tmp") {
			return os.Remove(p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	slices.Sort(files)
	return files, err
}
