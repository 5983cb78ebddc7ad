package origin

import (
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/stratavideo/strata/origin/transcode"
)

func parseOrigin(t *testing.T, body string) (*Origin, error) {
	t.Helper()
	o := new(Origin)
	err := o.UnmarshalCaddyfile(caddyfile.NewTestDispenser("origin {\n" + body + "\n}"))
	return o, err
}

func TestCaddyfileLadder(t *testing.T) {
	o, err := parseOrigin(t, `
		rung 1440p 1440 9000
		rung 720p 720 3000
		rung 360p 360 700
		max_fps 30
		crf 21
		audio_kbps 96
		gop 3s
		segment 6s
		first_play staged
		first_play_height 0
		thumbnail_widths 960 480
		codecs h264 av1 hevc`)
	if err != nil {
		t.Fatal(err)
	}
	tc := o.TranscodeConfig()
	wantRungs := []transcode.Rung{
		{Name: "1440p", Height: 1440, VideoKbps: 9000},
		{Name: "720p", Height: 720, VideoKbps: 3000},
		{Name: "360p", Height: 360, VideoKbps: 700},
	}
	if !slices.Equal(tc.Rungs, wantRungs) {
		t.Errorf("rungs %v, want %v", tc.Rungs, wantRungs)
	}
	if tc.MaxFPS != 30 || tc.CRF != 21 || tc.AudioKbps != 96 || tc.GOPSeconds != 3 || tc.SegmentSeconds != 6 ||
		tc.FirstPlay != transcode.FirstPlayStaged || tc.FirstPlayMaxHeight != 0 || !slices.Equal(tc.ThumbnailWidths, []int{960, 480}) {
		t.Errorf("config %+v", tc)
	}
	if !slices.Equal(o.ExtraCodecs, []string{"av1", "hevc"}) {
		t.Errorf("extra codecs %v", o.ExtraCodecs)
	}
	if err := tc.Validate(); err != nil {
		t.Error(err)
	}
}

// TestCaddyfileLadderDefaults: an origin block without ladder options runs
// the transcoder's defaults, fast first play included.
func TestCaddyfileLadderDefaults(t *testing.T) {
	o, err := parseOrigin(t, "workers 2")
	if err != nil {
		t.Fatal(err)
	}
	got, want := o.TranscodeConfig(), transcode.DefaultConfig()
	if !slices.Equal(got.Rungs, want.Rungs) || got.FirstPlayMaxHeight != want.FirstPlayMaxHeight || got.CRF != want.CRF ||
		got.MaxFPS != want.MaxFPS || !slices.Equal(got.ThumbnailWidths, want.ThumbnailWidths) || len(o.ExtraCodecs) != 0 {
		t.Fatalf("config %+v, want the defaults", got)
	}
}

// TestCaddyfileLadderRefuses: each refusal names the option and the value.
func TestCaddyfileLadderRefuses(t *testing.T) {
	for body, want := range map[string]string{
		"rung 720p 720":                        "rung: want <name> <height> <kbps>",
		"rung 720p tall 3000":                  `rung: want a whole number, got "tall"`,
		"rung 721p 721 3000":                   "rung 721p 721 3000: ",
		"rung 720p 720 0":                      "rung 720p 720 0: ",
		"rung 720p 720 3000\nrung hd 720 2000": "rung hd 720: a rung with that name or height is already set",
		"max_fps 500":                          "max_fps 500: ",
		"max_fps fast":                         `max_fps: want a positive number, got "fast"`,
		"crf 60":                               "crf 60: ",
		"audio_kbps 8":                         "audio_kbps 8: ",
		"gop 1500ms":                           `gop: want whole seconds like 2s, got "1500ms"`,
		"gop 3s":                               "SegmentSeconds must be in 1..60 and a multiple of GOPSeconds",
		"first_play_height -1":                 "first_play_height -1: ",
		"first_play soon":                      `first_play: want growing, staged or off, got "soon"`,
		"thumbnail_widths 640 abc":             `thumbnail_widths: want a whole number, got "abc"`,
		"thumbnail_widths 641":                 "thumbnail_widths 641: ",
		"thumbnail_widths":                     "wrong argument count",
		"codecs av1":                           "codecs: h264 comes first",
		"codecs h264 vp9":                      `codecs: "vp9" is not one of`,
		"codecs h264 av1 av1":                  `codecs: "av1" is not one of [av1 hevc], or is listed twice`,
		"preset warp":                          `Preset "warp" is not an x264 preset`,
	} {
		t.Run(strings.ReplaceAll(body, "\n", "; "), func(t *testing.T) {
			_, err := parseOrigin(t, body)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want one containing %q", err, want)
			}
		})
	}
}

// TestValidateLadderJSON: a JSON config is held to the same ranges as the
// Caddyfile, by Validate.
func TestValidateLadderJSON(t *testing.T) {
	o := &Origin{Lease: 30e9, Ladder: Ladder{Rungs: []Rung{{Name: "odd", Height: 721, VideoKbps: 100}}}}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "721") {
		t.Errorf("odd rung height: %v", err)
	}
	o = &Origin{Lease: 30e9, Ladder: Ladder{ExtraCodecs: []string{"vp9"}}}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "vp9") {
		t.Errorf("unknown codec: %v", err)
	}
	o = &Origin{Lease: 30e9, Ladder: Ladder{MaxFPS: 24, GOPSeconds: 2}}
	if err := o.Validate(); err != nil {
		t.Errorf("a good ladder: %v", err)
	}
}
