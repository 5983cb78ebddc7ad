package transcode

import (
	"fmt"
	"testing"
)

func TestPlanLadder(t *testing.T) {
	cfg := DefaultConfig()
	type rung struct {
		name string
		w, h int
	}
	tests := []struct {
		name string
		p    Probe
		want []rung
	}{
		{"1080p landscape gets all five", Probe{HasVideo: true, Width: 1920, Height: 1080},
			[]rung{{"1080p", 1920, 1080}, {"720p", 1280, 720}, {"480p", 854, 480}, {"360p", 640, 360}, {"240p", 426, 240}}},
		{"720p never upscaled", Probe{HasVideo: true, Width: 1280, Height: 720},
			[]rung{{"720p", 1280, 720}, {"480p", 854, 480}, {"360p", 640, 360}, {"240p", 426, 240}}},
		{"just under a rung loses it", Probe{HasVideo: true, Width: 1280, Height: 718},
			[]rung{{"480p", 856, 480}, {"360p", 642, 360}, {"240p", 428, 240}}},
		{"200p gets one rung at its own size", Probe{HasVideo: true, Width: 356, Height: 200},
			[]rung{{"200p", 356, 200}}},
		{"portrait 1080x1920 named by shorter side", Probe{HasVideo: true, Width: 1080, Height: 1920},
			[]rung{{"1080p", 1080, 1920}, {"720p", 720, 1280}, {"480p", 480, 854}, {"360p", 360, 640}, {"240p", 240, 426}}},
		{"portrait 360x640", Probe{HasVideo: true, Width: 360, Height: 640},
			[]rung{{"360p", 360, 640}, {"240p", 240, 426}}},
		{"4:3", Probe{HasVideo: true, Width: 1440, Height: 1080},
			[]rung{{"1080p", 1440, 1080}, {"720p", 960, 720}, {"480p", 640, 480}, {"360p", 480, 360}, {"240p", 320, 240}}},
		{"square", Probe{HasVideo: true, Width: 500, Height: 500},
			[]rung{{"480p", 480, 480}, {"360p", 360, 360}, {"240p", 240, 240}}},
		{"tiny portrait", Probe{HasVideo: true, Width: 120, Height: 214},
			[]rung{{"120p", 120, 214}}},
		{"audio only has no rungs", Probe{HasAudio: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanLadder(cfg, &tt.p)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d rungs %v, want %d", len(got), got, len(tt.want))
			}
			for i, r := range got {
				w, h := RungSize(&tt.p, r)
				g := rung{r.Name, w, h}
				if g != tt.want[i] {
					t.Errorf("rung %d = %+v, want %+v", i, g, tt.want[i])
				}
				if w%2 != 0 || h%2 != 0 {
					t.Errorf("rung %d has odd size %dx%d", i, w, h)
				}
				if r.VideoKbps <= 0 {
					t.Errorf("rung %d has no bit rate", i)
				}
			}
		})
	}
}

func TestPlanLadderKeepsConfigOrderIrrelevant(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rungs = []Rung{{"240p", 240, 400}, {"720p", 720, 2800}, {"480p", 480, 1400}}
	got := PlanLadder(cfg, &Probe{HasVideo: true, Width: 1920, Height: 1080})
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
	}
	if fmt.Sprint(names) != "[720p 480p 240p]" {
		t.Fatalf("got %v, want largest first", names)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	bad := []func(*Config){
		func(c *Config) { c.Rungs = nil },
		func(c *Config) { c.Rungs = []Rung{{"x", 721, 100}} },
		func(c *Config) { c.Preset = "-i /etc/passwd" },
		func(c *Config) { c.SegmentSeconds = 3 }, // not a multiple of the 2 s GOP
		func(c *Config) { c.ProbeTimeout = 0 },
		func(c *Config) { c.FFmpeg = "" },
	}
	for i, mut := range bad {
		c := DefaultConfig()
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("case %d: invalid config accepted", i)
		}
	}
}
