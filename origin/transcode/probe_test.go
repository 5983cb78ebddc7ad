package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProbeFileAccepts(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	cfg := testConfig()
	tests := []struct {
		name  string
		opts  clipOpts
		check func(t *testing.T, p *Probe)
	}{
		{"mp4 with audio", clipOpts{w: 320, h: 180, seconds: 1, video: true, audio: true}, func(t *testing.T, p *Probe) {
			if !p.HasVideo || !p.HasAudio || p.Width != 320 || p.Height != 180 || p.Demuxer != "mov" || p.FPS != 30 {
				t.Errorf("probe = %+v", p)
			}
			if p.DurationS < 0.9 || p.DurationS > 1.2 {
				t.Errorf("duration %v", p.DurationS)
			}
		}},
		{"rotated phone video is portrait", clipOpts{w: 320, h: 180, seconds: 1, video: true, rotate: 90}, func(t *testing.T, p *Probe) {
			if p.Width != 180 || p.Height != 320 || (p.Rotation != 90 && p.Rotation != 270) {
				t.Errorf("probe = %+v, want displayed 180x320", p)
			}
		}},
		{"mkv", clipOpts{w: 160, h: 90, seconds: 1, video: true, audio: true, ext: "mkv"}, func(t *testing.T, p *Probe) {
			if p.Demuxer != "matroska" {
				t.Errorf("demuxer %q", p.Demuxer)
			}
		}},
		{"mp3 is audio only", clipOpts{seconds: 1, audio: true, ext: "mp3"}, func(t *testing.T, p *Probe) {
			if p.HasVideo || !p.HasAudio || p.Demuxer != "mp3" {
				t.Errorf("probe = %+v", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := makeClip(t, dir, strings.ReplaceAll(tt.name, " ", "_"), tt.opts)
			p, err := ProbeFile(context.Background(), cfg, path)
			if err != nil {
				t.Fatalf("ProbeFile: %v", err)
			}
			tt.check(t, p)
		})
	}
}

func TestProbeFileRefuses(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	cfg := testConfig()
	cfg.ProbeTimeout = 10 * time.Second

	good := makeClip(t, dir, "good", clipOpts{w: 320, h: 180, seconds: 2, video: true, audio: true})
	goodFast := makeClip(t, dir, "goodfast", clipOpts{w: 320, h: 180, seconds: 2, video: true, audio: true, faststart: true})
	// A FIFO nobody writes to: opening it for reading blocks forever, so a
	// refusal that arrives quickly proves nothing was read through a
	// playlist or list pointing at it.
	fifo := filepath.Join(dir, "trap.mp4")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	half := func(src, name string) string {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		return write(name, b[:len(b)/2])
	}

	tests := []struct {
		name   string
		path   string
		reason string // substring of InputError.Reason
	}{
		{"zero bytes", write("empty.mp4", nil), "the file is empty"},
		{"text renamed .mp4", write("notes.mp4", []byte("Dear diary,\nthis is not a video.\n")), "text file"},
		{"truncated mp4 (index at end)", half(good, "cut.mp4"), "truncated or corrupt"},
		{"truncated mp4 (index at front)", half(goodFast, "cutfast.mp4"), "truncated or corrupt"},
		{"png image", makeClip(t, dir, "still", clipOpts{w: 64, h: 64, seconds: 0.04, video: true, ext: "png",
			extra: []string{"-frames:v", "1", "-c:v", "png"}}), "still image"},
		{"png renamed .mp4", write("still.mp4", mustRead(t, filepath.Join(dir, "still.png"))), "still image"},
		{"single-frame mp4", makeClip(t, dir, "oneframe", clipOpts{w: 64, h: 64, seconds: 1, video: true,
			extra: []string{"-frames:v", "1"}}), "still image"},
		{"hls playlist", write("list.m3u8", []byte("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n"+fifo+"\n#EXT-X-ENDLIST\n")), "not a video file"},
		{"concat list", write("list.txt", []byte("ffconcat version 1.0\nfile '"+fifo+"'\n")), "not a video file"},
		{"too large", makeClip(t, dir, "wide", clipOpts{w: 8200, h: 16, seconds: 0.2, video: true}), "too large"},
		{"random bytes", write("noise.mp4", noise(64<<10)), "not a video file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			p, err := ProbeFile(context.Background(), cfg, tt.path)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("ProbeFile = %+v, %v; want *InputError", p, err)
			}
			t.Logf("reason: %s", ie.Reason)
			if !strings.Contains(ie.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", ie.Reason, tt.reason)
			}
			if strings.Contains(ie.Reason, dir) {
				t.Errorf("reason %q leaks a server path", ie.Reason)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("refusal took %v", el)
			}
		})
	}
}

// The text check refuses playlists before ffprobe runs; this checks the
// guard underneath it, ffprobe's -format_whitelist, on its own.
func TestFormatWhitelistStopsPlaylists(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "trap.ts")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	for name, body := range map[string]string{
		"x.m3u8":     "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n" + fifo + "\n#EXT-X-ENDLIST\n",
		"x.ffconcat": "ffconcat version 1.0\nfile '" + fifo + "'\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		args := []string{"-hide_banner", "-v", "error", "-protocol_whitelist", "file",
			"-format_whitelist", formatWhitelist, "-show_format", "-of", "json", "file:" + path}
		res, err := runCapture(ctx, cfg, cfg.FFprobe, args, 10*time.Second, maxProbeOutput)
		cancel()
		if err == nil || res == nil || res.exitErr == nil {
			t.Errorf("%s: ffprobe did not refuse it: %v", name, err)
		}
	}
}

func TestInterpretProbe(t *testing.T) {
	cfg := DefaultConfig()
	parse := func(s string) *ffprobeOutput {
		var o ffprobeOutput
		if err := json.Unmarshal([]byte(s), &o); err != nil {
			t.Fatal(err)
		}
		return &o
	}
	const mov = `"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"10.0","size":"1000"}`
	tests := []struct {
		name   string
		json   string
		reason string // "" means accepted
		check  func(*Probe) bool
	}{
		{"no streams", `{"streams":[],` + mov + `}`, "no audio or video", nil},
		{"no duration", `{"streams":[{"index":0,"codec_type":"audio","codec_name":"aac","channels":2}],"format":{"format_name":"mp3"}}`, "no duration", nil},
		{"lavfi is not a container we take", `{"streams":[],"format":{"format_name":"lavfi","duration":"1"}}`, "not accepted", nil},
		{"cover art is not video", `{"streams":[{"index":0,"codec_type":"audio","codec_name":"mp3","channels":2},
			{"index":1,"codec_type":"video","codec_name":"mjpeg","width":500,"height":500,"disposition":{"attached_pic":1}}],` + mov + `}`,
			"", func(p *Probe) bool { return !p.HasVideo && p.HasAudio }},
		{"second video stream flagged default wins", `{"streams":[
			{"index":0,"codec_type":"video","codec_name":"h264","width":320,"height":240,"avg_frame_rate":"25/1"},
			{"index":1,"codec_type":"video","codec_name":"h264","width":640,"height":480,"avg_frame_rate":"25/1","disposition":{"default":1}}],` + mov + `}`,
			"", func(p *Probe) bool { return p.VideoStream == 1 && p.Width == 640 }},
		{"display matrix rotation", `{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":1920,"height":1080,
			"avg_frame_rate":"30/1","side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]}],` + mov + `}`,
			"", func(p *Probe) bool { return p.Width == 1080 && p.Height == 1920 && p.Rotation == 270 }},
		{"anamorphic", `{"streams":[{"index":0,"codec_type":"video","codec_name":"dvvideo","width":720,"height":576,
			"sample_aspect_ratio":"64:45","avg_frame_rate":"25/1"}],` + mov + `}`,
			"", func(p *Probe) bool { return p.Width == 1024 && p.Height == 576 }},
		{"vfr average snaps to 30", `{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":64,"height":64,
			"avg_frame_rate":"3004/100"}],` + mov + `}`, "", func(p *Probe) bool { return p.FrameRate == "30/1" }},
		{"29.97 stays 29.97", `{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":64,"height":64,
			"avg_frame_rate":"2996/100"}],` + mov + `}`, "", func(p *Probe) bool { return p.FrameRate == "30000/1001" }},
		{"240 fps capped", `{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":64,"height":64,
			"avg_frame_rate":"240/1"}],` + mov + `}`, "", func(p *Probe) bool { return p.FPS == 60 && p.FrameRate == "60" }},
		{"huge", `{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":10000,"height":64}],` + mov + `}`, "too large", nil},
		{"undecodable video", `{"streams":[{"index":0,"codec_type":"video","width":0,"height":0}],` + mov + `}`, "cannot be decoded", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := interpretProbe(cfg, parse(tt.json), 1000)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !tt.check(p) {
					t.Fatalf("probe = %+v", p)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(ie.Reason, tt.reason) {
				t.Fatalf("got %v, want InputError containing %q", err, tt.reason)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	if !looksLikeText([]byte("#EXTM3U\nfoo.ts\n")) || looksLikeText([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p'}) {
		t.Fatal("looksLikeText misjudges")
	}
	if !looksLikeText([]byte("héllo wörld \xc3")) {
		t.Fatal("a UTF-8 rune cut by the read size is still text")
	}
	if sniff([]byte("\x89PNG\r\n\x1a\n")) != kindImage || sniff([]byte("\x00\x00\x00\x18ftypisom")) != kindContainer {
		t.Fatal("sniff misjudges")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noise is deterministic binary junk (a xorshift stream).
func noise(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
