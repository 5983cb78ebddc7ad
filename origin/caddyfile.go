package origin

import (
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/dustin/go-humanize"
)

// UnmarshalCaddyfile reads the origin role's block inside the strata
// global option:
//
//	origin {
//	    workers        <n>          # 0: take uploads, leave transcoding to other origins
//	    max_upload     <size>       # e.g. 8GiB
//	    raw_store      <bucket-url> # file:///…, s3://bucket?…
//	    media_store    <bucket-url>
//	    ffmpeg         <path>
//	    ffprobe        <path>
//	    preset         <x264-preset>
//	    segment        <duration>   # CMAF segment length, whole seconds
//	    max_attempts   <n>
//	    lease          <duration>
//	    replicas       <n>          # copies of each video on local-disk origins
//
//	    # the ladder policy; every option defaults to the transcoder's
//	    rung              <name> <height> <kbps>  # repeatable; any replaces the default ladder
//	    max_fps           <n>          # frame rate cap, default 60
//	    crf               <n>          # x264 CRF under each rung's cap, default 23
//	    audio_kbps        <n>          # AAC bit rate, default 128
//	    gop               <duration>   # keyframe interval, whole seconds, default 2s
//	    first_play growing|staged|off  # growing: one run published as it encodes (default)
//	    first_play_height <n>          # staged: rungs published first; 0 turns staging off
//	    thumbnail_widths  <w>...       # default 1280 640 320
//	    codecs            h264 [av1|hevc]...
//	}
//
// Each value is checked against the transcoder's own ranges
// (transcode.Config.Validate) where it is read, so `strata validate` names
// its line; how values combine (a segment a multiple of the GOP, rung
// heights unique) is checked at the end of the block.
func (o *Origin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the role name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		opt := d.Val()
		args := d.RemainingArgs()
		if handled, err := o.unmarshalLadder(d, opt, args); handled || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		if len(args) != 1 {
			return d.ArgErr()
		}
		val := args[0]
		switch opt {
		case "workers", "max_attempts", "replicas":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || (n == 0 && opt != "workers") {
				return d.Errf("%s: want a positive whole number, got %q", opt, val)
			}
			switch opt {
			case "workers":
				o.Workers = &n
			case "max_attempts":
				o.MaxAttempts = n
			default:
				o.Replicas = n
			}
		case "max_upload":
			n, err := humanize.ParseBytes(val)
			if err != nil || n == 0 {
				return d.Errf("max_upload: want a size like 8GiB, got %q", val)
			}
			o.MaxUploadBytes = int64(n)
		case "raw_store":
			o.RawStore = val
		case "media_store":
			o.MediaStore = val
		case "ffmpeg":
			o.FFmpeg = val
		case "ffprobe":
			o.FFprobe = val
		case "preset":
			o.Preset = val
		case "segment":
			dur, err := caddy.ParseDuration(val)
			if err != nil || dur < time.Second || dur%time.Second != 0 {
				return d.Errf("segment: want whole seconds like 4s, got %q", val)
			}
			o.SegmentSeconds = int(dur / time.Second)
		case "chunk", "chunk_min":
			if val == "off" && opt == "chunk" {
				o.ChunkSeconds = -1
				continue
			}
			dur, err := caddy.ParseDuration(val)
			if err != nil || dur < time.Second {
				return d.Errf("%s: want a duration of 1s or more like 60s (or off), got %q", opt, val)
			}
			if opt == "chunk" {
				o.ChunkSeconds = dur.Seconds()
			} else {
				o.ChunkMinSeconds = dur.Seconds()
			}
		case "lease":
			dur, err := caddy.ParseDuration(val)
			if err != nil {
				return d.Errf("lease: %v", err)
			}
			o.Lease = caddy.Duration(dur)
		default:
			return d.Errf("unknown origin option %q", opt)
		}
	}
	if err := o.Ladder.validate(); err != nil {
		return d.Errf("%v", err)
	}
	if err := o.TranscodeConfig().Validate(); err != nil {
		return d.Errf("origin: %v", err)
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Origin)(nil)
