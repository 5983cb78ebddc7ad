package transcode

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Config holds everything that decides how a file is probed and encoded.
// Start from DefaultConfig and change fields; Validate (called by ProbeFile
// and Transcode) says what is wrong instead of panicking.
type Config struct {
	// FFmpeg and FFprobe are the binaries to run (a name looked up in PATH,
	// or a path).
	FFmpeg, FFprobe string

	// ProbeTimeout bounds one ffprobe run. A sane file is probed in well
	// under a second; a file that keeps ffprobe busy longer is treated as
	// hostile and refused with an *InputError.
	ProbeTimeout time.Duration

	// Rungs is the ladder, any order. A rung is made when its Height is not
	// above the source's shorter displayed side (never upscale).
	Rungs []Rung

	// SegmentSeconds is the CMAF segment length. Keyframes are placed every
	// GOPSeconds so segments can be cut on any multiple of it.
	SegmentSeconds int

	// Preset is the x264 preset (ultrafast .. veryslow). Tests use
	// ultrafast; production wants veryfast or slower.
	Preset string

	// CRF is x264's constant rate factor; each rung is capped by its
	// VideoKbps (maxrate) with a VBV buffer of twice that ("capped CRF"), so
	// easy content costs fewer bits than the cap and hard content never
	// exceeds it.
	CRF int

	// AudioKbps is the AAC bit rate of the single audio rendition that every
	// video rung shares.
	AudioKbps int

	// MaxFPS caps the output frame rate (a 240 fps slow-motion phone clip is
	// delivered at MaxFPS). It applies to every rung alike: all rungs share
	// one frame timeline so that their keyframes line up.
	MaxFPS float64

	// GOPSeconds is the keyframe interval. SegmentSeconds must be a multiple.
	GOPSeconds int

	// TimeoutBase + TimeoutPerSecond × duration bounds the ffmpeg run
	// (wall clock). The whole process group is killed when it expires.
	TimeoutBase      time.Duration
	TimeoutPerSecond float64

	// FirstPlay is how a video becomes watchable before its whole ladder
	// is done, when the caller asks for first play (TranscodeStaged):
	//
	//   - FirstPlayGrowing ("" too): one ffmpeg run encodes the whole
	//     ladder, and what it has finished is published as HLS EVENT
	//     playlists from its second segment on (growing.go). It costs
	//     nothing: no second decode.
	//   - FirstPlayStaged: the rungs up to FirstPlayMaxHeight are encoded
	//     and published complete first, then the rest (a second decode).
	//   - FirstPlayOff: nothing is published before the end.
	FirstPlay string

	// FirstPlayMaxHeight splits the ladder for staged first play: when the
	// caller asks for a staged run, the rungs no taller than this (at least
	// the smallest) are encoded first, with the audio and the poster, and
	// published while a second ffmpeg run encodes the rest. Splitting the
	// encoders over two runs costs one more decode of the source but eases
	// the cache contention of five x264 encoders in one process: measured
	// here on a 20 s phone-like 1080p source, 58 CPU s for 360p+240p then
	// 1080p/720p/480p against 56 CPU s in one run, the first stage done at
	// 17% of the wall time. 0 turns staging off.
	FirstPlayMaxHeight int

	// PosterMaxWidth bounds the poster's width; it is never upscaled.
	PosterMaxWidth int

	// ThumbnailWidths are the widths of the thumbnails Images writes (any
	// order; the UI offers them as a srcset). A width above the source's
	// is not upscaled: it yields the source width, once.
	ThumbnailWidths []int

	// MemoryLimit is the address-space limit (RLIMIT_AS), in bytes, of
	// every ffmpeg and ffprobe run; 0 means none. A hostile file can make a
	// decoder allocate what it likes (a 16000x16000 frame is 400 MB before
	// any filter); with the limit the run fails with ENOMEM instead of
	// pushing the node into swap or the OOM killer. It counts mappings, not
	// resident memory: shared libraries and thread stacks take a few
	// hundred MB of it before a frame is decoded.
	MemoryLimit int64

	// Nice is the scheduling niceness (0..19) of every ffmpeg and ffprobe
	// run, so that a long encode yields the CPU to Raft, the HTTP server
	// and uploads on the same node.
	Nice int

	// IsolateNetwork starts every ffmpeg and ffprobe run in a new, empty
	// network namespace (loopback only, and down), so that no input,
	// whatever demuxer or protocol it reaches, can make a request: the
	// -protocol_whitelist is the first guard, this is the second. It needs
	// CAP_SYS_ADMIN (root); without it the run goes ahead un-isolated and
	// one warning is logged.
	IsolateNetwork bool

	// OnExec, if set, is told every tool run (binary and arguments) before
	// it starts; make bench-transcode replays them to time the bare
	// commands against the pipeline around them.
	OnExec func(bin string, args []string)

	// ExtraCodecs adds renditions in other codecs beside the H.264 ladder:
	// CodecAV1 ("av1", SVT-AV1) and CodecHEVC ("hevc", x265); none by
	// default. They are encoded in the same run from the same scaled frames
	// and signalled per codec so players take what they can decode (see
	// codecs.go). AV1 at DefaultAV1 on every rung costs more than the
	// H.264 ladder itself: the default ladder from a 60 s 1080p30
	// phone-like source took 156 CPU s here, 388 CPU s with AV1 (+149%;
	// wall 147 s → 311 s on 2 shared cores), for AV1 rungs of 34-45% fewer
	// bits. TestAV1Cost measures it.
	ExtraCodecs []string

	// AV1 and HEVC configure the extra codecs (DefaultAV1, DefaultHEVC).
	AV1, HEVC CodecSettings

	// Logger receives the command lines run (Debug) and notable events.
	// Nil discards.
	Logger *slog.Logger
}

// Rung is one step of the ladder.
type Rung struct {
	// Name labels the rendition, e.g. "720p".
	Name string
	// Height is the rung's shorter side in pixels: a portrait 1080x1920
	// video gets the "1080p" rung at 1080x1920.
	Height int
	// VideoKbps is the rung's x264 maxrate in kbit/s.
	VideoKbps int
}

// DefaultConfig is the production ladder: 1080/720/480/360/240 with
// maxrates close to common practice for H.264 at 30 fps, x264 veryfast,
// 4 s segments, AAC 128 kbit/s.
func DefaultConfig() Config {
	return Config{
		FFmpeg:       "ffmpeg",
		FFprobe:      "ffprobe",
		ProbeTimeout: 30 * time.Second,
		Rungs: []Rung{
			{Name: "1080p", Height: 1080, VideoKbps: 5000},
			{Name: "720p", Height: 720, VideoKbps: 2800},
			{Name: "480p", Height: 480, VideoKbps: 1400},
			{Name: "360p", Height: 360, VideoKbps: 800},
			{Name: "240p", Height: 240, VideoKbps: 400},
		},
		SegmentSeconds:   4,
		GOPSeconds:       2,
		Preset:           "veryfast",
		CRF:              23,
		AudioKbps:        128,
		MaxFPS:           60,
		TimeoutBase:      60 * time.Second,
		TimeoutPerSecond: 10,
		PosterMaxWidth:   1280,
		ThumbnailWidths:  []int{1280, 640, 320},

		FirstPlay:          FirstPlayGrowing,
		FirstPlayMaxHeight: 360,

		// A 1080p five-rung x264 veryfast run needs between 1 and 1.5 GiB
		// of address space (measured with prlimit); 4 GiB leaves room for
		// x265, SVT-AV1 and 4K sources.
		MemoryLimit:    4 << 30,
		Nice:           10,
		IsolateNetwork: true,

		AV1:  DefaultAV1(),
		HEVC: DefaultHEVC(),
	}
}

// The FirstPlay modes.
const (
	FirstPlayGrowing = "growing"
	FirstPlayStaged  = "staged"
	FirstPlayOff     = "off"
)

var x264Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.FFmpeg == "" || c.FFprobe == "" {
		bad("FFmpeg and FFprobe must be set")
	}
	if c.ProbeTimeout <= 0 {
		bad("ProbeTimeout must be positive")
	}
	if len(c.Rungs) == 0 {
		bad("at least one rung is needed")
	}
	seen := map[int]bool{}
	for _, r := range c.Rungs {
		switch {
		case r.Name == "":
			bad("rung %d has no name", r.Height)
		case r.Height < 16 || r.Height > maxDimension || r.Height%2 != 0:
			bad("rung %q: height %d must be even and in 16..%d", r.Name, r.Height, maxDimension)
		case r.VideoKbps <= 0:
			bad("rung %q: VideoKbps must be positive", r.Name)
		case seen[r.Height]:
			bad("rung %q: height %d appears twice", r.Name, r.Height)
		}
		seen[r.Height] = true
	}
	if c.GOPSeconds <= 0 {
		bad("GOPSeconds must be positive")
	} else if c.SegmentSeconds <= 0 || c.SegmentSeconds > 60 || c.SegmentSeconds%c.GOPSeconds != 0 {
		bad("SegmentSeconds must be in 1..60 and a multiple of GOPSeconds")
	}
	if !slices.Contains(x264Presets, c.Preset) {
		bad("Preset %q is not an x264 preset", c.Preset)
	}
	if c.CRF < 0 || c.CRF > 51 {
		bad("CRF must be in 0..51")
	}
	if c.AudioKbps < 16 || c.AudioKbps > 512 {
		bad("AudioKbps must be in 16..512")
	}
	if c.MaxFPS < 1 || c.MaxFPS > 240 {
		bad("MaxFPS must be in 1..240")
	}
	if c.TimeoutBase <= 0 || c.TimeoutPerSecond < 0 {
		bad("TimeoutBase must be positive and TimeoutPerSecond not negative")
	}
	switch c.FirstPlay {
	case "", FirstPlayGrowing, FirstPlayStaged, FirstPlayOff:
	default:
		bad("FirstPlay must be %q, %q or %q", FirstPlayGrowing, FirstPlayStaged, FirstPlayOff)
	}
	if c.FirstPlayMaxHeight < 0 {
		bad("FirstPlayMaxHeight must not be negative")
	}
	if c.PosterMaxWidth < 16 {
		bad("PosterMaxWidth must be at least 16")
	}
	if len(c.ThumbnailWidths) == 0 {
		bad("at least one thumbnail width is needed")
	}
	for _, w := range c.ThumbnailWidths {
		if w < 16 || w > maxDimension || w%2 != 0 {
			bad("thumbnail width %d must be even and in 16..%d", w, maxDimension)
		}
	}
	if c.MemoryLimit != 0 && c.MemoryLimit < minMemoryLimit {
		bad("MemoryLimit must be 0 (none) or at least %d MiB", minMemoryLimit>>20)
	}
	if c.Nice < 0 || c.Nice > 19 {
		bad("Nice must be in 0..19")
	}
	errs = append(errs, c.validateExtraCodecs()...)
	if len(errs) > 0 {
		return fmt.Errorf("transcode: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// logger never returns nil so call sites need no checks.
func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}
