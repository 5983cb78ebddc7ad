package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// maxDimension bounds width and height. Larger frames are refused: they
// are not real uploads, and decoding them costs memory an attacker chooses.
const maxDimension = 8192

// allowedDemuxers maps the first name of every accepted ffprobe
// format_name to itself. Only real single-file audio/video containers are
// here; image pipes, playlists (hls, dash), lists (concat), and anything
// that opens other files or devices are not, so a hostile upload can never
// make ffmpeg read a second file. The same list is passed to ffprobe and
// ffmpeg as -format_whitelist, which refuses other demuxers before they
// read a header.
var allowedDemuxers = []string{
	"mov", "mp4", "m4a", "3gp", "3g2", "mj2", // ISO BMFF: ffprobe says "mov,mp4,m4a,3gp,3g2,mj2"
	"matroska", "webm",
	"avi",
	"mpegts",
	"flv",
	"ogg",
	"wav",
	"mp3",
	"aac",
	"flac",
	"mpeg", // MPEG program stream (.mpg, .vob)
	"asf",  // .wmv, .wma
}

// formatWhitelist is the -format_whitelist argument.
var formatWhitelist = strings.Join(allowedDemuxers, ",")

// Probe is what ffprobe says about an upload, reduced to what the encoder
// needs. Width and Height are the displayed size: after the sample aspect
// ratio and after rotation, as ffmpeg's autorotate will present the frames.
type Probe struct {
	FormatName string  `json:"format_name"` // ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	Demuxer    string  `json:"demuxer"`     // the name passed to ffmpeg as -f, e.g. "mov"
	DurationS  float64 `json:"duration_s"`
	SizeBytes  int64   `json:"size_bytes"`
	BitRate    int64   `json:"bit_rate"`

	HasVideo    bool    `json:"has_video"`
	VideoStream int     `json:"video_stream"` // absolute stream index, for -map 0:N
	VideoCodec  string  `json:"video_codec"`
	Width       int     `json:"width"`  // displayed
	Height      int     `json:"height"` // displayed
	CodedWidth  int     `json:"coded_width"`
	CodedHeight int     `json:"coded_height"`
	Rotation    int     `json:"rotation"` // degrees, 0/90/180/270, from the display matrix
	FPS         float64 `json:"fps"`
	FrameRate   string  `json:"frame_rate"` // the same as a rational, e.g. "30000/1001"
	PixFmt      string  `json:"pix_fmt"`    // e.g. "yuv420p10le"

	// Colour as the stream signals it, in ffprobe's names ("bt2020",
	// "smpte2084", "bt2020nc", "tv"); empty when unspecified.
	ColorPrimaries string `json:"color_primaries,omitempty"`
	ColorTransfer  string `json:"color_transfer,omitempty"`
	ColorSpace     string `json:"color_space,omitempty"`
	ColorRange     string `json:"color_range,omitempty"`
	// HDR is HDRPQ or HDRHLG for high-dynamic-range video, which is
	// tone-mapped to SDR (hdr.go), and "" otherwise.
	HDR string `json:"hdr,omitempty"`

	HasAudio        bool   `json:"has_audio"`
	AudioStream     int    `json:"audio_stream"`
	AudioCodec      string `json:"audio_codec"`
	AudioChannels   int    `json:"audio_channels"`
	AudioSampleRate int    `json:"audio_sample_rate"`
	// Language is the BCP 47 tag of the chosen audio stream's language
	// tag ("fr" for ffprobe's "fra"), "" when undeclared (streamLanguage).
	Language string `json:"language,omitempty"`
}

// ffprobe's JSON, only the fields we read.
type ffprobeOutput struct {
	Streams []ffprobeStream `json:"streams"`
	Format  struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		Size       string `json:"size"`
		BitRate    string `json:"bit_rate"`
	} `json:"format"`
}

type ffprobeStream struct {
	Index        int    `json:"index"`
	CodecName    string `json:"codec_name"`
	CodecType    string `json:"codec_type"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	SAR          string `json:"sample_aspect_ratio"`
	RFrameRate   string `json:"r_frame_rate"`
	AvgFrameRate string `json:"avg_frame_rate"`
	Duration     string `json:"duration"`
	NbFrames     string `json:"nb_frames"`
	BitRate      string `json:"bit_rate"`
	Channels     int    `json:"channels"`
	SampleRate   string `json:"sample_rate"`
	PixFmt       string `json:"pix_fmt"`
	ColorRange   string `json:"color_range"`
	ColorSpace   string `json:"color_space"`
	ColorTrans   string `json:"color_transfer"`
	ColorPrim    string `json:"color_primaries"`
	Disposition  struct {
		Default     int `json:"default"`
		AttachedPic int `json:"attached_pic"`
	} `json:"disposition"`
	Tags         map[string]string `json:"tags"`
	SideDataList []struct {
		SideDataType string  `json:"side_data_type"`
		Rotation     float64 `json:"rotation"`
	} `json:"side_data_list"`
}

// maxProbeOutput bounds ffprobe's JSON; a file with thousands of streams is
// refused rather than buffered.
const maxProbeOutput = 4 << 20

// ProbeFile inspects path with ffprobe and refuses, with an *InputError,
// anything that is not one playable audio/video file. Context cancellation
// and a missing ffprobe binary are ordinary errors.
func ProbeFile(ctx context.Context, cfg Config, path string) (*Probe, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("transcode: probe: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("transcode: probe: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, inputErrorf("not a video file: it is not a regular file")
	}
	if st.Size() == 0 {
		return nil, inputErrorf("the file is empty")
	}
	head, err := readHead(abs, 4096)
	if err != nil {
		return nil, fmt.Errorf("transcode: probe: %w", err)
	}
	// Text is refused before ffprobe sees it: playlists (.m3u8), concat
	// lists, SDP and subtitle files are all text, and each is a way to make
	// a demuxer open other files. -format_whitelist below is the real
	// guard; this gives the clearer message.
	if looksLikeText(head) {
		return nil, inputErrorf("not a video file: it is a text file")
	}
	if k := sniff(head); k == kindImage {
		return nil, inputErrorf("not a video file: it is a still image")
	}

	args := []string{
		"-hide_banner", "-v", "error",
		"-protocol_whitelist", "file",
		"-format_whitelist", formatWhitelist,
		"-show_format", "-show_streams", "-of", "json",
		"file:" + abs,
	}
	res, err := runCapture(ctx, cfg, cfg.FFprobe, args, cfg.ProbeTimeout, maxProbeOutput)
	if err != nil {
		switch {
		case errors.Is(err, errDeadline), errors.Is(err, errCPULimit):
			return nil, inputErrorf("the file could not be analysed in time: it may be corrupt or hostile")
		case errors.Is(err, errMemoryLimit):
			return nil, inputErrorf("the file needs more memory to analyse than is allowed: it may be corrupt or hostile")
		}
		if res == nil || res.exitErr == nil {
			return nil, fmt.Errorf("transcode: ffprobe: %w", err)
		}
		return nil, probeFailure(head, res.stderrTail)
	}
	var out ffprobeOutput
	if err := json.Unmarshal(res.stdout, &out); err != nil {
		return nil, fmt.Errorf("transcode: ffprobe output: %w", err)
	}
	return interpretProbe(cfg, &out, st.Size())
}

var notWhitelistedRE = regexp.MustCompile(`\[([a-z0-9_,]+) @ 0x[0-9a-f]+\] Format not on whitelist`)

// probeFailure turns a failed ffprobe run into the refusal a user can act on.
func probeFailure(head []byte, stderr []string) error {
	all := strings.Join(stderr, "\n")
	if m := notWhitelistedRE.FindStringSubmatch(all); m != nil {
		return refuseDemuxer(m[1])
	}
	if sniff(head) == kindContainer {
		detail := lastMeaningfulLine(stderr)
		if strings.Contains(detail, "moov atom not found") {
			return inputErrorf("the file is truncated or corrupt: its index (moov atom) is missing, was the upload cut short?")
		}
		if detail == "" {
			return inputErrorf("the file is truncated or corrupt")
		}
		return inputErrorf("the file is truncated or corrupt: %s", detail)
	}
	return inputErrorf("not a video file: the container format is not recognised")
}

// refuseDemuxer explains why a demuxer ffprobe recognised is not accepted.
func refuseDemuxer(name string) error {
	switch {
	case strings.HasSuffix(name, "_pipe") || name == "image2" || name == "gif" || name == "webp":
		return inputErrorf("not a video file: it is a still image")
	case name == "hls" || name == "dash" || name == "concat" || name == "ffconcat":
		return inputErrorf("not a video file: playlists and file lists are not accepted")
	default:
		return inputErrorf("not a video file: the %s format is not accepted", strings.SplitN(name, ",", 2)[0])
	}
}

// ffprobe prefixes errors with "file:/abs/path: " or "[demuxer @ 0x…] ";
// the user sees neither.
var logPrefixRE = regexp.MustCompile(`^(\[[^\]]*\] |file:[^:]*: )`)

func lastMeaningfulLine(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(logPrefixRE.ReplaceAllString(lines[i], ""))
		if l == "" || strings.HasPrefix(l, "Invalid data found") {
			continue
		}
		if strings.Contains(l, "/") {
			return "" // may name a server path; the generic reason will do
		}
		if len(l) > 120 {
			l = l[:120]
		}
		return l
	}
	return ""
}

// interpretProbe checks ffprobe's answer and derives Probe. It is separate
// from ProbeFile so its rules can be unit-tested on canned JSON.
func interpretProbe(cfg Config, out *ffprobeOutput, size int64) (*Probe, error) {
	demuxer := allowedName(out.Format.FormatName)
	if demuxer == "" {
		return nil, refuseDemuxer(out.Format.FormatName)
	}
	p := &Probe{
		FormatName: out.Format.FormatName,
		Demuxer:    demuxer,
		SizeBytes:  size,
		DurationS:  parseFloat(out.Format.Duration),
		BitRate:    int64(parseFloat(out.Format.BitRate)),
	}

	// With several video streams we take the first one flagged default (the
	// one players show), else the first; cover art (attached_pic) is not
	// video. Same for audio. Other streams are ignored.
	v := pickStream(out.Streams, "video")
	a := pickStream(out.Streams, "audio")
	if v == nil && a == nil {
		return nil, inputErrorf("not a video file: it has no audio or video stream")
	}
	if v != nil {
		if err := p.setVideo(cfg, v); err != nil {
			return nil, err
		}
	}
	if a != nil && a.CodecName != "" && a.Channels > 0 {
		p.HasAudio = true
		p.AudioStream = a.Index
		p.AudioCodec = a.CodecName
		p.AudioChannels = a.Channels
		p.AudioSampleRate = int(parseFloat(a.SampleRate))
		p.Language = streamLanguage(a.Tags)
	}
	if !p.HasVideo && !p.HasAudio {
		return nil, inputErrorf("not a video file: its streams cannot be decoded")
	}

	if p.DurationS <= 0 || math.IsNaN(p.DurationS) || math.IsInf(p.DurationS, 0) {
		if p.HasVideo && !p.HasAudio {
			return nil, inputErrorf("not a video file: it is a still image")
		}
		return nil, inputErrorf("the file has no duration: it may be truncated or corrupt")
	}
	if p.HasVideo && !p.HasAudio && parseFloat(v.NbFrames) == 1 {
		return nil, inputErrorf("not a video file: it is a single still image")
	}
	// A declared stream size larger than the file means the data was cut
	// off (typically an MP4 whose index is at the front, truncated in
	// transfer). Stream bit rates come from the index, not the data.
	if declared := declaredBytes(out.Streams, p.DurationS); declared > 0 && float64(size) < 0.9*declared-65536 {
		return nil, inputErrorf("the file is truncated or corrupt: it holds %d%% of the data its index describes",
			int(100*float64(size)/declared))
	}
	return p, nil
}

// setVideo fills the video fields and refuses unusable video streams.
func (p *Probe) setVideo(cfg Config, v *ffprobeStream) error {
	if v.CodecName == "" || v.Width <= 0 || v.Height <= 0 {
		return inputErrorf("the video stream cannot be decoded")
	}
	if v.Width > maxDimension || v.Height > maxDimension {
		return inputErrorf("the video is too large: %dx%d is above the %d pixel limit", v.Width, v.Height, maxDimension)
	}
	p.HasVideo = true
	p.VideoStream = v.Index
	p.VideoCodec = v.CodecName
	p.CodedWidth, p.CodedHeight = v.Width, v.Height

	// Displayed width applies a non-square sample aspect ratio (anamorphic
	// DV, some broadcast captures).
	w, h := float64(v.Width), float64(v.Height)
	if num, den, ok := parseRatio(v.SAR, ":"); ok && num > 0 && den > 0 && num != den {
		w = w * float64(num) / float64(den)
	}
	p.Rotation = rotationOf(v)
	if p.Rotation == 90 || p.Rotation == 270 {
		w, h = h, w
	}
	// Down to even, not to the nearest: 853x479 is shown as 852x478, so
	// a rung at the source's size never upscales by a pixel.
	p.Width, p.Height = evenFloor(w), evenFloor(h)
	if p.Width > maxDimension || p.Height > maxDimension {
		return inputErrorf("the video is too large: %dx%d is above the %d pixel limit", p.Width, p.Height, maxDimension)
	}
	p.FrameRate, p.FPS = chooseFrameRate(v, cfg.MaxFPS)
	p.PixFmt = v.PixFmt
	p.ColorPrimaries, p.ColorTransfer = knownColour(v.ColorPrim), knownColour(v.ColorTrans)
	p.ColorSpace, p.ColorRange = knownColour(v.ColorSpace), knownColour(v.ColorRange)
	p.HDR = hdrKind(p.ColorTransfer)
	return nil
}

// knownColour drops ffprobe's placeholders for an unspecified property.
func knownColour(s string) string {
	if s == "unknown" || s == "unspecified" || s == "reserved" {
		return ""
	}
	return s
}

func pickStream(streams []ffprobeStream, kind string) *ffprobeStream {
	var first *ffprobeStream
	for i := range streams {
		s := &streams[i]
		if s.CodecType != kind || s.Disposition.AttachedPic == 1 {
			continue
		}
		if s.Disposition.Default == 1 {
			return s
		}
		if first == nil {
			first = s
		}
	}
	return first
}

// allowedName returns the first of ffprobe's comma-separated demuxer names
// that is on the allow-list, or "". Any of the names selects the same
// demuxer with -f.
func allowedName(formatName string) string {
	for _, n := range strings.Split(formatName, ",") {
		if slices.Contains(allowedDemuxers, n) {
			return n
		}
	}
	return ""
}

// rotationOf returns the display rotation normalised to 0/90/180/270. ffmpeg
// 5.x reports it as display-matrix side data; older muxers left a "rotate"
// tag. Odd angles are rounded to the nearest quarter turn, which is what
// autorotate does too (it only transposes or flips).
func rotationOf(s *ffprobeStream) int {
	var deg float64
	found := false
	for _, sd := range s.SideDataList {
		if sd.SideDataType == "Display Matrix" {
			deg, found = sd.Rotation, true
			break
		}
	}
	if !found {
		if r, ok := s.Tags["rotate"]; ok {
			deg = parseFloat(r)
		}
	}
	q := int(math.Round(deg/90)) % 4
	if q < 0 {
		q += 4
	}
	return q * 90
}

// standardRates are snapped to when a measured average is within 0.5%:
// phones record variable frame rate whose average is e.g. 29.87, and a
// clean 30 gives exact 2 s keyframe intervals.
var standardRates = []struct {
	r string
	f float64
}{
	{"24000/1001", 24000.0 / 1001}, {"24/1", 24}, {"25/1", 25}, {"30000/1001", 30000.0 / 1001},
	{"30/1", 30}, {"48/1", 48}, {"50/1", 50}, {"60000/1001", 60000.0 / 1001}, {"60/1", 60},
}

// chooseFrameRate picks the output frame rate: the source's average
// (falling back to r_frame_rate, then 30), snapped to a standard rate,
// capped at maxFPS.
func chooseFrameRate(v *ffprobeStream, maxFPS float64) (string, float64) {
	rate, f := "", 0.0
	for _, cand := range []string{v.AvgFrameRate, v.RFrameRate} {
		if n, d, ok := parseRatio(cand, "/"); ok && n > 0 && d > 0 {
			if x := float64(n) / float64(d); x >= 1 && x <= 1000 {
				rate, f = cand, x
				break
			}
		}
	}
	if rate == "" {
		rate, f = "30/1", 30
	}
	best := 0.005 // snap only within 0.5%, to the nearest standard rate
	for _, s := range standardRates {
		if d := math.Abs(f-s.f) / s.f; d < best {
			best, rate, f = d, s.r, s.f
		}
	}
	if f > maxFPS {
		f = maxFPS
		rate = strconv.FormatFloat(maxFPS, 'f', -1, 64)
	}
	return rate, f
}

// declaredBytes estimates the media size the container's index promises,
// from per-stream bit rates; 0 when any rate is unknown.
func declaredBytes(streams []ffprobeStream, duration float64) float64 {
	var bps float64
	for _, s := range streams {
		if s.CodecType != "video" && s.CodecType != "audio" {
			continue
		}
		if s.Disposition.AttachedPic == 1 {
			continue
		}
		br := parseFloat(s.BitRate)
		if br <= 0 {
			return 0
		}
		d := parseFloat(s.Duration)
		if d <= 0 {
			d = duration
		}
		bps += br * d / 8
	}
	return bps
}

func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func parseRatio(s, sep string) (int64, int64, bool) {
	a, b, ok := strings.Cut(s, sep)
	if !ok {
		return 0, 0, false
	}
	n, err1 := strconv.ParseInt(a, 10, 64)
	d, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return n, d, true
}

// evenFloor rounds down to an even integer ≥ 2, allowing for float error
// (1023.9999 is 1024).
func evenFloor(x float64) int {
	return max(2, int(math.Floor(x/2+1e-6))*2)
}

// evenRound rounds to the nearest even integer ≥ 2: H.264 4:2:0 needs even
// dimensions.
func evenRound(x float64) int {
	n := int(math.Round(x/2)) * 2
	if n < 2 {
		n = 2
	}
	return n
}
