package transcode

import (
	"fmt"
	"math"
	"slices"
)

// PlanLadder returns the rungs to encode for p, largest first: every
// configured rung whose Height is not above the source's shorter displayed
// side (we never upscale). A source smaller than every rung gets one rung
// at its own size, with the smallest rung's bit rate. Audio-only input
// gets no rungs.
//
// Rungs are named by the shorter side so that portrait video is treated
// like landscape: a 1080x1920 phone video gets the "1080p" rung at
// 1080x1920, not a "1920p" one. Use RungSize for a rung's exact frame size.
func PlanLadder(cfg Config, p *Probe) []Rung {
	if p == nil || !p.HasVideo || p.Width <= 0 || p.Height <= 0 {
		return nil
	}
	short := min(p.Width, p.Height)
	rungs := slices.Clone(cfg.Rungs)
	slices.SortFunc(rungs, func(a, b Rung) int { return b.Height - a.Height })
	var out []Rung
	for _, r := range rungs {
		if r.Height <= short {
			out = append(out, r)
		}
	}
	if len(out) == 0 && len(rungs) > 0 {
		smallest := rungs[len(rungs)-1]
		h := short &^ 1
		out = []Rung{{Name: fmt.Sprintf("%dp", h), Height: h, VideoKbps: smallest.VideoKbps}}
	}
	return out
}

// RungSize is the frame size of rung r for source p: the shorter side is
// r.Height, the longer side keeps the source's displayed aspect ratio,
// rounded to an even number (H.264 4:2:0 needs even sizes). The aspect
// ratio differs from the source by under one pixel; ffmpeg's scale filter
// records that difference as a sample aspect ratio so that every rung has
// exactly the source's display aspect ratio, which the DASH muxer requires
// of representations in one adaptation set.
func RungSize(p *Probe, r Rung) (width, height int) {
	if p.Width <= 0 || p.Height <= 0 {
		return 0, 0
	}
	short := r.Height &^ 1
	if p.Width >= p.Height {
		if short >= p.Height {
			return p.Width, p.Height
		}
		return evenRound(float64(short) * float64(p.Width) / float64(p.Height)), short
	}
	if short >= p.Width {
		return p.Width, p.Height
	}
	return short, evenRound(float64(short) * float64(p.Height) / float64(p.Width))
}

// rungPlan is one rung with its resolved frame size, as the command
// builder and the manifest writer need it.
type rungPlan struct {
	Rung
	Width, Height int
}

func planRungs(cfg Config, p *Probe) []rungPlan {
	var out []rungPlan
	for _, r := range PlanLadder(cfg, p) {
		w, h := RungSize(p, r)
		out = append(out, rungPlan{Rung: r, Width: w, Height: h})
	}
	return out
}

// gopFrames is the keyframe interval in frames at the output rate.
func gopFrames(cfg Config, fps float64) int {
	return max(1, int(math.Round(fps*float64(cfg.GOPSeconds))))
}
