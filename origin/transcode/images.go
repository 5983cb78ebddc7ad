package transcode

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ImageSet describes the pictures Images wrote. Names are relative to the
// output directory and carry a signature of the input and the settings
// (like the segment names), so a re-run with other settings never reuses a
// name that a cache may still hold.
type ImageSet struct {
	// Source says where the thumbnails come from: "frame" (a frame of
	// the video), "cover" (an audio file's embedded cover art) or
	// "waveform" (a picture of an audio file's waveform).
	Source string `json:"source"`
	// Thumbnails are the same picture at each planned size, largest
	// first. The largest is the poster.
	Thumbnails []Thumbnail `json:"thumbnails"`
	// Storyboard is nil for audio-only input.
	Storyboard *Storyboard `json:"storyboard,omitempty"`
	// Files lists every file written, sorted.
	Files []string `json:"files"`
}

// Thumbnail is one JPEG.
type Thumbnail struct {
	Name   string `json:"name"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Storyboard is the scrubbing preview: tiles in sprite sheets and a WebVTT
// track whose cues point at them (see vtt.go for the format).
type Storyboard struct {
	VTT        string   `json:"vtt"`     // e.g. "storyboard-1a2b3c4d.vtt"
	Sprites    []string `json:"sprites"` // in order: sprite N holds tiles N*Columns*Rows…
	TileWidth  int      `json:"tile_width"`
	TileHeight int      `json:"tile_height"`
	Columns    int      `json:"columns"` // tiles per sprite row
	Rows       int      `json:"rows"`    // rows per sprite (the last sprite may be partly empty)
	IntervalS  float64  `json:"interval_s"`
	Tiles      int      `json:"tiles"` // cues in the VTT
	// KeyframesOnly says the tiles are the source's keyframes (the cheap
	// path) rather than frames picked from a full decode.
	KeyframesOnly bool `json:"keyframes_only"`
}

// Storyboard geometry. About 160 px is what players show in the preview
// bubble; 200 tiles keep the sprites of a long video to two sheets while
// an hour still gets a tile every 18 s.
const (
	tileWidth       = 160
	tileMaxHeight   = 360 // a very tall source gets narrower tiles instead
	storyboardMax   = 200 // tiles, at most (plus one for timestamp jitter)
	storyboardCols  = 10
	storyboardRows  = 10
	minIntervalS    = 1
	thumbCandidates = 12 // frames the thumbnail filter chooses among…
	thumbWindowS    = 4  // …sampled evenly from a window this long
)

// Images writes the thumbnails and, for video, the storyboard of input into
// outDir (created if absent; it may already hold a transcode's output,
// files of an earlier Images run with the same signature are replaced). p
// is the input's probe; when nil, Images probes the file itself.
//
// For video, one ffmpeg run reads the file twice over two inputs: the
// storyboard input decodes keyframes only (-skip_frame nokey), the
// thumbnail input seeks and decodes a few seconds. Measured with
// images_cost_test.go on a 60 s 1920x1080 30 fps x264 veryfast source, on
// the shared 2-core build machine (CPU = user seconds, three runs each):
//
//	ffmpeg -i src -f null - (decode every frame)     10.1 – 12.3 s, wall 6 – 18 s
//	Images, GOP 2 s: keyframe storyboard, 30 tiles    1.1 – 1.7 s, wall 1.2 – 2.2 s
//	  of which the storyboard input alone             ≈ 0.2 s
//	Images, GOP 250 frames: full-decode storyboard   12.2 – 14.9 s, wall 11 – 18 s
//
// so with a usual GOP the storyboard costs about 2% of a decode and all of
// Images 10 to 15% (mostly the thumbnail window: the seek to 10% in decodes
// from the keyframe before it). The tiles then sit on the source's
// keyframes, not on an exact grid: each interval cell gets the first
// keyframe in it, and the cue times are that keyframe's real timestamp,
// printed by the metadata filter. When keyframes are too sparse for the
// interval (tiles for fewer than 40% of the cells, e.g. x264's default
// 250-frame GOP on a one-minute clip) the storyboard alone is made again
// from a full decode, costing about one decode more. Input seeking per
// tile was rejected: each seek decodes from the keyframe before the tile,
// so on a sparse-GOP source 60 tiles cost more than one full decode, and
// on a dense one each seek still decodes up to a GOP of frames where the
// keyframe path decodes one.
//
// For audio-only input the thumbnails are the embedded cover art (an
// attached picture, as MP3 and M4A carry) or else a waveform picture; there
// is no storyboard.
//
// Refusals of the input are *InputError; other errors are wrapped and worth
// a retry. After an error outDir may hold some of this run's files (their
// names carry its signature); a retry into the same directory replaces
// them and touches nothing else.
func Images(ctx context.Context, cfg Config, input string, p *Probe, outDir string) (*ImageSet, error) {
	return images(ctx, cfg, input, p, outDir, nil)
}

// ImagesFor is Images after res's transcode into the same outDir: when the
// transcode's run drew the storyboard (res.Storyboard), it is kept and only
// the thumbnails are made, from a few seconds of the source.
func ImagesFor(ctx context.Context, cfg Config, input string, p *Probe, outDir string, res *Result) (*ImageSet, error) {
	var have *Storyboard
	if res != nil {
		have = res.Storyboard
	}
	return images(ctx, cfg, input, p, outDir, have)
}

func images(ctx context.Context, cfg Config, input string, p *Probe, outDir string, have *Storyboard) (*ImageSet, error) {
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
		return nil, fmt.Errorf("transcode: images: %w", err)
	}
	out, err := filepath.Abs(outDir)
	if err != nil {
		return nil, fmt.Errorf("transcode: images: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("transcode: images: %w", err)
	}

	ip := &imagePlan{input: in, outDir: out, probe: p}
	switch {
	case p.HasVideo:
		ip.source = "frame"
		ip.srcW, ip.srcH = p.Width, p.Height
		if have == nil {
			ip.sb = planStoryboard(p, true)
		}
		ip.planThumbWindow()
	default:
		if ip.coverStream, ip.srcW, ip.srcH, err = findCover(ctx, cfg, in); err != nil {
			return nil, err
		}
		if ip.coverStream >= 0 {
			ip.source = "cover"
		} else {
			// A 16:9 picture like a video's, so pages lay out alike.
			ip.source = "waveform"
			ip.srcW = slices.Max(cfg.ThumbnailWidths)
			ip.srcH = evenRound(float64(ip.srcW) * 9 / 16)
		}
	}
	ip.thumbs = planThumbnails(cfg.ThumbnailWidths, ip.srcW, ip.srcH)
	ip.sig = imageSignature(cfg, ip)

	start := time.Now()
	times, err := ip.runFFmpeg(ctx, cfg, true, ip.sb != nil)
	if err != nil {
		return nil, err
	}
	// At most one more run, for what the first could not do well.
	redoThumbs := !ip.thumbsWritten()
	if redoThumbs {
		if ip.source != "frame" || ip.thumbAt == 0 {
			return nil, inputErrorf("no picture could be decoded from the file")
		}
		// The video stream ends before the window (the audio, which
		// the probe's duration includes, runs on): look at its start.
		ip.thumbAt, ip.thumbLen = 0, math.Min(thumbWindowS, p.DurationS)
	}
	redoStoryboard := ip.sb != nil && ip.sb.keyOnly && len(times)*5 < ip.sb.cells*2
	if redoStoryboard {
		cfg.logger().Info("transcode: keyframes too sparse for the storyboard, decoding every frame",
			"tiles", len(times), "cells", ip.sb.cells)
		if err := ip.removeOwn(ip.sb.prefix()); err != nil {
			return nil, err
		}
		ip.sb = planStoryboard(p, false)
	}
	if redoThumbs || redoStoryboard {
		t, err := ip.runFFmpeg(ctx, cfg, redoThumbs, redoStoryboard)
		if err != nil {
			return nil, err
		}
		if redoStoryboard {
			times = t
		}
		if !ip.thumbsWritten() {
			return nil, inputErrorf("no picture could be decoded from the file")
		}
	}
	set := &ImageSet{Source: ip.source, Thumbnails: ip.thumbs, Storyboard: have}
	written := append(ip.thumbNames(), storyboardFiles(have)...)
	if ip.sb != nil {
		sb, names, err := ip.finishStoryboard(times)
		if err != nil {
			return nil, err
		}
		set.Storyboard = sb
		written = append(written, names...)
	}
	slices.Sort(written)
	set.Files = written
	cfg.logger().Info("transcode: images done", "source", set.Source, "thumbnails", len(set.Thumbnails),
		"storyboard", set.Storyboard != nil, "elapsed", time.Since(start).Round(time.Millisecond))
	return set, nil
}

// imagePlan is everything the ffmpeg command and the result share.
type imagePlan struct {
	input, outDir string
	probe         *Probe
	source        string // "frame", "cover", "waveform"
	srcW, srcH    int    // displayed size of the picture source
	coverStream   int    // absolute stream index of the attached picture
	thumbs        []Thumbnail
	thumbAt       float64 // start of the thumbnail window, seconds
	thumbLen      float64 // its length
	sb            *storyboardPlan
	sig           string
}

// storyboardPlan is the storyboard's geometry and decoding mode.
type storyboardPlan struct {
	intervalS    float64
	cells        int // intervals in the duration: at most one tile each
	tileW, tileH int
	cols, rows   int
	maxSheets    int
	keyOnly      bool
	sig          string
}

// prefix is what every sprite name of this plan starts with.
func (sb *storyboardPlan) prefix() string { return "sprite-" + sb.sig + "-" }

func (sb *storyboardPlan) vttName() string { return "storyboard-" + sb.sig + ".vtt" }

// planStoryboard picks the interval (whole seconds, at least 1, at most
// storyboardMax tiles) and the tile and sheet sizes. A short video gets a
// sheet no larger than its tiles need.
func planStoryboard(p *Probe, keyOnly bool) *storyboardPlan {
	interval := math.Max(minIntervalS, math.Ceil(p.DurationS/storyboardMax))
	cells := max(1, int(math.Ceil(p.DurationS/interval)))
	tw := min(tileWidth, p.Width)
	th := evenRound(float64(tw) * float64(p.Height) / float64(p.Width))
	if th > tileMaxHeight {
		th = tileMaxHeight
		tw = evenRound(float64(th) * float64(p.Width) / float64(p.Height))
	}
	cols := min(storyboardCols, cells)
	rows := min(storyboardRows, (cells+cols-1)/cols)
	return &storyboardPlan{
		intervalS: interval,
		cells:     cells,
		tileW:     tw, tileH: th,
		cols: cols, rows: rows,
		// One spare tile: timestamps may run a little past the duration.
		maxSheets: (cells + 1 + cols*rows - 1) / (cols * rows),
		keyOnly:   keyOnly,
	}
}

// planThumbWindow places the window the thumbnail filter looks at: from
// 10% in, but no later than 10 s (past a fade-in or a cold open's first
// shot, and the seek to it costs at most one GOP of decoding), for
// thumbWindowS or what remains.
func (ip *imagePlan) planThumbWindow() {
	d := ip.probe.DurationS
	if d >= 2 {
		ip.thumbAt = math.Min(d*0.1, 10)
	}
	ip.thumbLen = math.Min(thumbWindowS, d-ip.thumbAt)
}

// planThumbnails maps each configured width to a size: never wider than
// the source, even, with the source's aspect; widths that collapse onto
// the same size appear once. Largest first.
func planThumbnails(widths []int, srcW, srcH int) []Thumbnail {
	var out []Thumbnail
	ws := slices.Clone(widths)
	slices.Sort(ws)
	slices.Reverse(ws)
	for _, w := range ws {
		w = min(w, srcW)
		if w%2 != 0 {
			w--
		}
		w = max(w, 2)
		h := evenRound(float64(w) * float64(srcH) / float64(srcW))
		if len(out) > 0 && out[len(out)-1].Width == w {
			continue
		}
		out = append(out, Thumbnail{Width: w, Height: h})
	}
	return out
}

// imageSignature hashes what decides the pictures' bytes, like
// settingsSignature does for segments. Bump "img1" whenever the filter
// graph changes what it draws.
func imageSignature(cfg Config, ip *imagePlan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "img1|%s|%d|%d|", ip.source, ip.srcW, ip.srcH)
	for _, t := range ip.thumbs {
		fmt.Fprintf(&b, "%dx%d|", t.Width, t.Height)
	}
	p := ip.probe
	fmt.Fprintf(&b, "%s|%d|%d|%d", p.FormatName, p.SizeBytes, int64(p.DurationS*1000), p.VideoStream)
	sum := sha256.Sum256([]byte(b.String()))
	sig := hex.EncodeToString(sum[:4])
	for i, t := range ip.thumbs {
		ip.thumbs[i].Name = fmt.Sprintf("thumb-%s-%dx%d.jpg", sig, t.Width, t.Height)
	}
	return sig
}

// storyboardSig extends the image signature with the storyboard's own
// settings: a keyframe storyboard and a full-decode one have different
// tiles, so they get different names.
func (ip *imagePlan) storyboardSig() string {
	sb := ip.sb
	s := fmt.Sprintf("%s|%g|%dx%d|%dx%d|%t", ip.sig, sb.intervalS, sb.tileW, sb.tileH, sb.cols, sb.rows, sb.keyOnly)
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

func (ip *imagePlan) thumbNames() []string {
	var names []string
	for _, t := range ip.thumbs {
		names = append(names, t.Name)
	}
	return names
}

// removeOwn deletes files in outDir whose names start with prefix: the
// leftovers of an earlier run with the same signature, which ffmpeg (run
// with -n) would refuse to overwrite. Nothing else is touched.
func (ip *imagePlan) removeOwn(prefix string) error {
	entries, err := os.ReadDir(ip.outDir)
	if err != nil {
		return fmt.Errorf("transcode: images: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			if err := os.Remove(filepath.Join(ip.outDir, e.Name())); err != nil {
				return fmt.Errorf("transcode: images: %w", err)
			}
		}
	}
	return nil
}

// maxTileLog bounds the metadata filter's output we keep: a line pair per
// tile, a few hundred tiles.
const maxTileLog = 1 << 20

// runFFmpeg runs one ffmpeg for the thumbnails, the storyboard or both,
// and returns the tiles' times.
func (ip *imagePlan) runFFmpeg(ctx context.Context, cfg Config, thumbs, storyboard bool) ([]float64, error) {
	if storyboard {
		ip.sb.sig = ip.storyboardSig()
		if err := ip.removeOwn(ip.sb.prefix()); err != nil {
			return nil, err
		}
	}
	if thumbs {
		if err := ip.removeOwn("thumb-" + ip.sig + "-"); err != nil {
			return nil, err
		}
	}
	args := ip.buildArgs(thumbs, storyboard)
	timeout := time.Duration(ffmpegTimeout(cfg, ip.probe) * float64(time.Second))
	log := &limitedBuffer{max: maxTileLog}
	res, err := run(ctx, cfg, cfg.FFmpeg, args, timeout, log)
	if err != nil {
		if res != nil && res.exitErr != nil && inputFault(res.stderrTail) {
			return nil, inputErrorf("the file is truncated or corrupt: %s", lastMeaningfulLine(res.stderrTail))
		}
		return nil, fmt.Errorf("transcode: images: %w", err)
	}
	if !storyboard {
		return nil, nil
	}
	return parseTileTimes(log.Bytes()), nil
}

// thumbsWritten reports whether every planned thumbnail is on disk.
func (ip *imagePlan) thumbsWritten() bool {
	for _, t := range ip.thumbs {
		if st, err := os.Stat(filepath.Join(ip.outDir, t.Name)); err != nil || st.Size() == 0 {
			return false
		}
	}
	return true
}

// inputArgs opens the input hardened exactly as the transcode does: only
// the file protocol, only listed demuxers, the probed demuxer forced.
func (ip *imagePlan) inputArgs(opts ...string) []string {
	args := []string{
		"-protocol_whitelist", "file",
		"-format_whitelist", formatWhitelist,
		"-f", ip.probe.Demuxer,
	}
	args = append(args, opts...)
	return append(args, "-i", "file:"+ip.input)
}

// jpegArgs encodes one output as JPEG. The mjpeg encoder is given full
// range yuv420p (with -strict unofficial) rather than the deprecated yuvj
// formats, which would make swscale flood stderr with warnings and push
// real errors out of the kept tail.
func jpegArgs(label string, quality int) []string {
	return []string{"-map", "[" + label + "]", "-c:v", "mjpeg", "-strict", "unofficial",
		"-q:v", strconv.Itoa(quality), "-color_range", "pc", "-f", "image2"}
}

// toJPEG ends a filter chain with what jpegArgs expects.
const toJPEG = ":out_range=full,setsar=1,format=yuv420p"

// buildArgs is the ffmpeg command line. Each part gets its own input (the
// same file opened again, hardened alike), so that each can be decoded
// only as far as it needs: the storyboard's keyframes, the thumbnails'
// window.
func (ip *imagePlan) buildArgs(thumbs, storyboard bool) []string {
	p := ip.probe
	args := []string{"-nostdin", "-hide_banner", "-v", "warning", "-nostats", "-n"}
	var graph []string
	inputs := 0
	if storyboard {
		// With keyOnly the decoder skips every frame but keyframes
		// (demuxing still reads the file, which is cheap next to decoding).
		var opts []string
		if ip.sb.keyOnly {
			opts = append(opts, "-skip_frame", "nokey")
		}
		args = append(args, ip.inputArgs(opts...)...)
		graph = append(graph, ip.storyboardGraph(fmt.Sprintf("%d:%d", inputs, p.VideoStream)))
		inputs++
	}
	thumbIn := ""
	switch {
	case !thumbs:
	case ip.source == "frame":
		// A seek, then a short window.
		args = append(args, ip.inputArgs(
			"-ss", strconv.FormatFloat(ip.thumbAt, 'f', 3, 64),
			"-t", strconv.FormatFloat(ip.thumbLen, 'f', 3, 64))...)
		// fps thins the candidates before the (RGB) thumbnail filter,
		// which holds all n frames: at 1280x720 that is 2.7 MB each.
		// A clip with fewer frames than that is not thinned.
		thin, n := "", thumbCandidates
		if frames := int(math.Ceil(ip.thumbLen * p.FPS)); frames <= thumbCandidates {
			n = max(2, frames) // the filter wants n ≥ 2 and flushes at EOF
		} else {
			thin = fmt.Sprintf("fps=%d,", int(math.Ceil(thumbCandidates/ip.thumbLen)))
		}
		thumbIn = fmt.Sprintf("[%d:%d]%sscale=%d:%d,setsar=1,thumbnail=n=%d",
			inputs, p.VideoStream, thin, ip.thumbs[0].Width, ip.thumbs[0].Height, n)
	case ip.source == "cover":
		args = append(args, ip.inputArgs()...)
		thumbIn = fmt.Sprintf("[%d:%d]null", inputs, ip.coverStream)
	default:
		args = append(args, ip.inputArgs()...)
		// showwavespic draws once the whole stream is read; mono so that
		// a stereo file gives one waveform, not two thin ones.
		thumbIn = fmt.Sprintf("[%d:%d]aformat=channel_layouts=mono,showwavespic=s=%dx%d:colors=0x9cc3ff:draw=full",
			inputs, p.AudioStream, ip.srcW, ip.srcH)
	}
	if thumbs {
		var b strings.Builder
		b.WriteString(thumbIn)
		if len(ip.thumbs) > 1 {
			fmt.Fprintf(&b, ",split=%d", len(ip.thumbs))
		}
		for i := range ip.thumbs {
			fmt.Fprintf(&b, "[ts%d]", i)
		}
		graph = append(graph, b.String())
		for i, t := range ip.thumbs {
			graph = append(graph, fmt.Sprintf("[ts%d]scale=%d:%d%s[t%d]", i, t.Width, t.Height, toJPEG, i))
		}
	}
	args = append(args, "-filter_complex", strings.Join(graph, ";"))
	if storyboard {
		// image2 expands %d in the name; a '%' in the directory is doubled.
		pattern := strings.ReplaceAll(ip.outDir, "%", "%%") + "/" + ip.sb.prefix() + "%d.jpg"
		args = append(args, jpegArgs("sb", 5)...)
		args = append(args, "-frames:v", strconv.Itoa(ip.sb.maxSheets), "-start_number", "1", "file:"+pattern)
	}
	if thumbs {
		for i, t := range ip.thumbs {
			args = append(args, jpegArgs(fmt.Sprintf("t%d", i), 3)...)
			args = append(args, "-frames:v", "1", "-update", "1", "file:"+filepath.Join(ip.outDir, t.Name))
		}
	}
	return args
}

// storyboardGraph picks at most one frame per interval cell (the first
// with a timestamp in it), stamps it so the metadata filter prints its
// time to stdout, and packs the scaled tiles into sheets. A frame after
// the duration is never picked: a hostile file with wild timestamps gets
// no more tiles than the duration allows (and -frames:v bounds the sheets).
func (ip *imagePlan) storyboardGraph(in string) string {
	sb := ip.sb
	iv := strconv.FormatFloat(sb.intervalS, 'f', -1, 64)
	// +1 interval of slack: a last frame may sit slightly past the stated
	// duration; the VTT drops its cue.
	end := strconv.FormatFloat(ip.probe.DurationS+sb.intervalS, 'f', 3, 64)
	sel := fmt.Sprintf("if(isnan(prev_selected_t),1,gte(floor(t/%s),floor(prev_selected_t/%s)+1)*lt(t,%s))", iv, iv, end)
	return fmt.Sprintf("[%s]select='%s',metadata=mode=add:key=strata.tile:value=1,"+
		"metadata=mode=print:key=strata.tile:file=-,scale=%d:%d%s,tile=%dx%d[sb]",
		in, sel, sb.tileW, sb.tileH, toJPEG, sb.cols, sb.rows)
}

// parseTileTimes reads the metadata filter's "frame:N pts:P pts_time:T"
// lines. A frame without a timestamp gets NaN (storyboardCues puts it on
// the grid).
func parseTileTimes(b []byte) []float64 {
	var times []float64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "frame:") {
			continue
		}
		t := math.NaN()
		if _, v, ok := strings.Cut(line, "pts_time:"); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && !math.IsInf(f, 0) {
				t = f
			}
		}
		times = append(times, t)
	}
	return times
}

// finishStoryboard checks the sprites ffmpeg wrote against the tiles it
// reported and writes the VTT.
func (ip *imagePlan) finishStoryboard(times []float64) (*Storyboard, []string, error) {
	sb := ip.sb
	if len(times) == 0 {
		return nil, nil, inputErrorf("no picture could be decoded from the video")
	}
	perSheet := sb.cols * sb.rows
	sheets := min((len(times)+perSheet-1)/perSheet, sb.maxSheets)
	var sprites []string
	for i := 1; i <= sheets; i++ {
		name := fmt.Sprintf("%s%d.jpg", sb.prefix(), i)
		if st, err := os.Stat(filepath.Join(ip.outDir, name)); err != nil || st.Size() == 0 {
			return nil, nil, fmt.Errorf("transcode: images: ffmpeg reported %d tiles but sprite %s is missing", len(times), name)
		}
		sprites = append(sprites, name)
	}
	cues := storyboardCues(times, ip.probe.DurationS, sprites, sb)
	vtt := sb.vttName()
	if err := writeFileAtomic(filepath.Join(ip.outDir, vtt), []byte(renderVTT(cues))); err != nil {
		return nil, nil, fmt.Errorf("transcode: images: write storyboard: %w", err)
	}
	return &Storyboard{
		VTT: vtt, Sprites: sprites,
		TileWidth: sb.tileW, TileHeight: sb.tileH, Columns: sb.cols, Rows: sb.rows,
		IntervalS: sb.intervalS, Tiles: len(cues), KeyframesOnly: sb.keyOnly,
	}, append(slices.Clone(sprites), vtt), nil
}

// findCover looks for an attached picture (cover art) in an audio file and
// returns its stream index and size, or -1. ProbeFile skips such streams
// (they are not video), so this asks ffprobe again, for the streams only;
// the same hardening applies.
func findCover(ctx context.Context, cfg Config, input string) (int, int, int, error) {
	args := []string{
		"-hide_banner", "-v", "error",
		"-protocol_whitelist", "file",
		"-format_whitelist", formatWhitelist,
		"-show_entries", "stream=index,codec_type,codec_name,width,height:stream_disposition=attached_pic",
		"-of", "json",
		"file:" + input,
	}
	res, err := runCapture(ctx, cfg, cfg.FFprobe, args, cfg.ProbeTimeout, maxProbeOutput)
	if err != nil {
		if errors.Is(err, errDeadline) {
			return -1, 0, 0, inputErrorf("the file could not be analysed in time: it may be corrupt or hostile")
		}
		return -1, 0, 0, fmt.Errorf("transcode: images: ffprobe: %w", err)
	}
	var out ffprobeOutput
	if err := json.Unmarshal(res.stdout, &out); err != nil {
		return -1, 0, 0, fmt.Errorf("transcode: images: ffprobe output: %w", err)
	}
	for _, s := range out.Streams {
		if s.CodecType == "video" && s.Disposition.AttachedPic == 1 && s.CodecName != "" &&
			s.Width >= 16 && s.Height >= 16 && s.Width <= maxDimension && s.Height <= maxDimension {
			// Rounded down to even: never upscaled, not even by a pixel.
			return s.Index, s.Width &^ 1, s.Height &^ 1, nil
		}
	}
	return -1, 0, 0, nil
}
