package origin

import (
	"fmt"
	"slices"

	"github.com/stratavideo/strata/origin/transcode"
)

// Ladder is the origin's encoding policy, as the Caddyfile's `rung`,
// `max_fps`, `crf`, `audio_kbps`, `gop`, `first_play`, `first_play_height`,
// `thumbnail_widths` and `codecs` set it. It is embedded in Origin, so its
// fields are the origin's JSON fields. The transcoder never upscales (a
// rung taller than the source's shorter side is skipped) and caps the
// frame rate at MaxFPS whatever the ladder says.
type Ladder struct {
	// Rungs, when any is set, replace the default ladder.
	Rungs []Rung `json:"rungs,omitempty"`
	// MaxFPS caps the output frame rate.
	MaxFPS float64 `json:"max_fps,omitempty"`
	// CRF is x264's constant rate factor under each rung's cap; nil keeps
	// the default (0 is a valid CRF: lossless).
	CRF *int `json:"crf,omitempty"`
	// AudioKbps is the AAC bit rate of the one audio rendition.
	AudioKbps int `json:"audio_kbps,omitempty"`
	// GOPSeconds is the keyframe interval; the segment length must be a
	// multiple of it.
	GOPSeconds int `json:"gop_seconds,omitempty"`
	// FirstPlay is how a video becomes watchable before its ladder is
	// done: "growing" (the default: one run, published as it encodes),
	// "staged" (the low rungs first, at the cost of a second decode) or
	// "off".
	FirstPlay string `json:"first_play,omitempty"`
	// FirstPlayHeight is the tallest rung a staged first play publishes
	// first; 0 turns staging off, nil keeps the default.
	FirstPlayHeight *int `json:"first_play_height,omitempty"`
	// ThumbnailWidths are the widths of the poster's thumbnails.
	ThumbnailWidths []int `json:"thumbnail_widths,omitempty"`
	// ExtraCodecs are the codecs encoded beside H.264 ("av1", "hevc"),
	// which every ladder has for the players that play nothing else.
	// They go into transcode.Config.ExtraCodecs.
	ExtraCodecs []string `json:"extra_codecs,omitempty"`
}

// Rung is one step of a configured ladder.
type Rung struct {
	// Name labels the rendition, e.g. "720p".
	Name string `json:"name"`
	// Height is the shorter side in pixels (a portrait video's width).
	Height int `json:"height"`
	// VideoKbps caps the rung's bit rate in kbit/s.
	VideoKbps int `json:"video_kbps"`
}

// extraCodecs are the codecs `codecs` accepts after h264.
var extraCodecs = []string{"av1", "hevc"}

// apply writes the policy's set fields over tc.
func (l Ladder) apply(tc *transcode.Config) {
	if len(l.Rungs) > 0 {
		tc.Rungs = make([]transcode.Rung, len(l.Rungs))
		for i, r := range l.Rungs {
			tc.Rungs[i] = transcode.Rung{Name: r.Name, Height: r.Height, VideoKbps: r.VideoKbps}
		}
	}
	if l.MaxFPS > 0 {
		tc.MaxFPS = l.MaxFPS
	}
	if l.CRF != nil {
		tc.CRF = *l.CRF
	}
	if l.AudioKbps > 0 {
		tc.AudioKbps = l.AudioKbps
	}
	if l.GOPSeconds > 0 {
		tc.GOPSeconds = l.GOPSeconds
	}
	if l.FirstPlay != "" {
		tc.FirstPlay = l.FirstPlay
	}
	if l.FirstPlayHeight != nil {
		tc.FirstPlayMaxHeight = *l.FirstPlayHeight
	}
	if len(l.ThumbnailWidths) > 0 {
		tc.ThumbnailWidths = slices.Clone(l.ThumbnailWidths)
	}
	if len(l.ExtraCodecs) > 0 {
		tc.ExtraCodecs = slices.Clone(l.ExtraCodecs)
	}
}

// validate checks what the transcoder's Config.Validate does not know
// about: the codec names and rung names.
func (l Ladder) validate() error {
	for i, c := range l.ExtraCodecs {
		if !slices.Contains(extraCodecs, c) {
			return fmt.Errorf("extra_codecs: %q is not one of %v", c, extraCodecs)
		}
		if slices.Contains(l.ExtraCodecs[:i], c) {
			return fmt.Errorf("extra_codecs: %q appears twice", c)
		}
	}
	seen := map[string]bool{}
	for _, r := range l.Rungs {
		if seen[r.Name] {
			return fmt.Errorf("rungs: the name %q appears twice", r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}
