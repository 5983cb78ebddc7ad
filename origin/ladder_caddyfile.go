package origin

import (
	"slices"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/stratavideo/strata/origin/transcode"
)

// unmarshalLadder reads one ladder option of the origin block (see
// UnmarshalCaddyfile); handled is false for any other option.
func (o *Origin) unmarshalLadder(d *caddyfile.Dispenser, opt string, args []string) (handled bool, err error) {
	l := &o.Ladder
	// check applies one value to the default config and validates it, so
	// that a value out of the transcoder's range is refused on its line,
	// with the option and the value named.
	check := func(val string, set func(*transcode.Config)) error {
		tc := transcode.DefaultConfig()
		set(&tc)
		if err := tc.Validate(); err != nil {
			return d.Errf("%s %s: %v", opt, val, err)
		}
		return nil
	}
	one := func() (string, error) {
		if len(args) != 1 {
			return "", d.ArgErr()
		}
		return args[0], nil
	}
	whole := func(val string) (int, error) {
		n, err := strconv.Atoi(val)
		if err != nil {
			return 0, d.Errf("%s: want a whole number, got %q", opt, val)
		}
		return n, nil
	}
	switch opt {
	case "rung":
		if len(args) != 3 {
			return true, d.Errf("rung: want <name> <height> <kbps>, got %d values", len(args))
		}
		h, err := whole(args[1])
		if err != nil {
			return true, err
		}
		kbps, err := whole(args[2])
		if err != nil {
			return true, err
		}
		r := Rung{Name: args[0], Height: h, VideoKbps: kbps}
		if slices.ContainsFunc(l.Rungs, func(x Rung) bool { return x.Name == r.Name || x.Height == r.Height }) {
			return true, d.Errf("rung %s %d: a rung with that name or height is already set", r.Name, r.Height)
		}
		l.Rungs = append(l.Rungs, r)
		return true, check(args[0]+" "+args[1]+" "+args[2], func(tc *transcode.Config) {
			tc.Rungs = []transcode.Rung{{Name: r.Name, Height: r.Height, VideoKbps: r.VideoKbps}}
		})
	case "max_fps":
		val, err := one()
		if err != nil {
			return true, err
		}
		f, perr := strconv.ParseFloat(val, 64)
		if perr != nil || f <= 0 {
			return true, d.Errf("max_fps: want a positive number, got %q", val)
		}
		l.MaxFPS = f
		return true, check(val, func(tc *transcode.Config) { tc.MaxFPS = f })
	case "crf", "audio_kbps", "first_play_height":
		val, err := one()
		if err != nil {
			return true, err
		}
		n, err := whole(val)
		if err != nil {
			return true, err
		}
		switch opt {
		case "crf":
			l.CRF = &n
			return true, check(val, func(tc *transcode.Config) { tc.CRF = n })
		case "audio_kbps":
			l.AudioKbps = n
			return true, check(val, func(tc *transcode.Config) { tc.AudioKbps = n })
		default:
			l.FirstPlayHeight = &n
			return true, check(val, func(tc *transcode.Config) { tc.FirstPlayMaxHeight = n })
		}
	case "first_play":
		val, err := one()
		if err != nil {
			return true, err
		}
		if !slices.Contains([]string{transcode.FirstPlayGrowing, transcode.FirstPlayStaged, transcode.FirstPlayOff}, val) {
			return true, d.Errf("first_play: want growing, staged or off, got %q", val)
		}
		l.FirstPlay = val
		return true, nil
	case "gop":
		val, err := one()
		if err != nil {
			return true, err
		}
		dur, perr := caddy.ParseDuration(val)
		if perr != nil || dur < time.Second || dur%time.Second != 0 {
			return true, d.Errf("gop: want whole seconds like 2s, got %q", val)
		}
		n := int(dur / time.Second)
		l.GOPSeconds = n
		// Alone, against a segment of its own length: whether the
		// configured segment is a multiple is checked with the whole block.
		return true, check(val, func(tc *transcode.Config) { tc.GOPSeconds, tc.SegmentSeconds = n, n })
	case "thumbnail_widths":
		if len(args) == 0 {
			return true, d.ArgErr()
		}
		l.ThumbnailWidths = nil
		for _, a := range args {
			w, err := whole(a)
			if err != nil {
				return true, err
			}
			if err := check(a, func(tc *transcode.Config) { tc.ThumbnailWidths = []int{w} }); err != nil {
				return true, err
			}
			l.ThumbnailWidths = append(l.ThumbnailWidths, w)
		}
		return true, nil
	case "codecs":
		if len(args) == 0 || args[0] != "h264" {
			return true, d.Errf("codecs: h264 comes first (every ladder has it, for the players that play nothing else), got %q", args)
		}
		l.ExtraCodecs = nil
		for _, c := range args[1:] {
			if !slices.Contains(extraCodecs, c) || slices.Contains(l.ExtraCodecs, c) {
				return true, d.Errf("codecs: %q is not one of %v, or is listed twice", c, extraCodecs)
			}
			l.ExtraCodecs = append(l.ExtraCodecs, c)
		}
		return true, nil
	}
	return false, nil
}
