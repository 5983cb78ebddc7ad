package transcode

import (
	"fmt"
	"math"
	"strings"
)

// The storyboard track is the de-facto "thumbnails" WebVTT that Video.js
// (videojs-vtt-thumbnails), Shaka (a thumbnails track), Plyr
// (previewThumbnails) and JW Player read: one cue per tile, its payload the
// sprite's URL relative to the VTT with a media fragment naming the tile,
//
//	00:00:03.000 --> 00:00:06.000
//	sprite-1a2b3c4d-1.jpg#xywh=160,0,160,90
//
// Cues are contiguous from 0 to the duration, so every point of the
// timeline shows a tile.

// vttCue is one storyboard cue; times are whole milliseconds so that one
// cue's end is exactly the next one's start once formatted.
type vttCue struct {
	startMS, endMS int64
	sprite         string
	x, y, w, h     int
}

// storyboardCues turns the times of the tiles (seconds, in tile order) into
// contiguous cues covering [0, durationS]. Tile i sits in sprite
// i / (cols*rows), row-major. A tile whose time, rounded to milliseconds, is
// not after the previous kept tile's, or not before the end, gets no cue
// (it would be empty); its place in the sprite is simply unused. The first
// cue starts at 0 whatever the first tile's time: that tile is the best
// picture there is for the opening.
func storyboardCues(times []float64, durationS float64, sprites []string, sb *storyboardPlan) []vttCue {
	endMS := int64(math.Round(durationS * 1000))
	perSheet := sb.cols * sb.rows
	var cues []vttCue
	for i, t := range times {
		sheet := i / perSheet
		if sheet >= len(sprites) {
			break
		}
		ms := int64(math.Round(t * 1000))
		if math.IsNaN(t) {
			ms = int64(i) * int64(sb.intervalS*1000) // no pts: assume the grid
		}
		if len(cues) == 0 {
			ms = 0
		} else if ms <= cues[len(cues)-1].startMS {
			continue
		}
		if ms >= endMS && len(cues) > 0 {
			break
		}
		pos := i % perSheet
		cues = append(cues, vttCue{
			startMS: ms,
			sprite:  sprites[sheet],
			x:       (pos % sb.cols) * sb.tileW,
			y:       (pos / sb.cols) * sb.tileH,
			w:       sb.tileW,
			h:       sb.tileH,
		})
	}
	for i := range cues {
		if i+1 < len(cues) {
			cues[i].endMS = cues[i+1].startMS
		} else {
			cues[i].endMS = max(endMS, cues[i].startMS+1)
		}
	}
	return cues
}

// formatVTTTime writes milliseconds as WebVTT's hh:mm:ss.ttt (hours always
// present: some parsers insist on them).
func formatVTTTime(ms int64) string {
	h := ms / 3_600_000
	ms -= h * 3_600_000
	m := ms / 60_000
	ms -= m * 60_000
	s := ms / 1000
	return fmt.Sprintf("%02d:%02d:%02d.%03d", h, m, s, ms-s*1000)
}

// renderVTT is the storyboard file's text.
func renderVTT(cues []vttCue) string {
	var b strings.Builder
	b.WriteString("WEBVTT\n")
	for _, c := range cues {
		fmt.Fprintf(&b, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n",
			formatVTTTime(c.startMS), formatVTTTime(c.endMS), c.sprite, c.x, c.y, c.w, c.h)
	}
	return b.String()
}
