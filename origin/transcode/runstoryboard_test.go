package transcode

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The ladder's run draws the storyboard from every frame, on the exact
// interval grid, even from a source with a keyframe only at its start
// (where Images alone would decode the whole file a second time); then
// ImagesFor keeps it and runs one small ffmpeg for the thumbnails.
func TestTranscodeDrawsStoryboard(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	// x264's default GOP (250 frames) is longer than the clip: one keyframe.
	src := makeClip(t, dir, "src", clipOpts{w: 640, h: 360, seconds: 12, video: true, audio: true})
	cfg := testConfig()
	var runs []string
	cfg.OnExec = func(bin string, args []string) {
		if bin == cfg.FFmpeg {
			runs = append(runs, strings.Join(args, " "))
		}
	}
	ctx := context.Background()
	p, err := ProbeFile(ctx, cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	res, err := Transcode(ctx, cfg, src, p, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	sb := res.Storyboard
	if sb == nil {
		t.Fatal("the run drew no storyboard")
	}
	if sb.KeyframesOnly || sb.IntervalS != 1 || sb.Tiles != 12 {
		t.Errorf("storyboard %+v: want 12 tiles a second apart from a full decode", sb)
	}
	for _, f := range storyboardFiles(sb) {
		if !slices.Contains(res.Files, f) {
			t.Errorf("%s is not in the result's files", f)
		}
	}
	cues := parseVTT(t, filepath.Join(out, sb.VTT))
	if len(cues) != 12 {
		t.Fatalf("%d cues, want 12", len(cues))
	}
	for i, c := range cues {
		if math.Abs(c.start-float64(i)) > 0.05 {
			t.Errorf("cue %d starts at %.3f s, want %d s (a frame on the grid, not a keyframe)", i, c.start, i)
		}
	}
	if _, err := os.Stat(out + ".tiles"); !os.IsNotExist(err) {
		t.Errorf("the tile log is left behind: %v", err)
	}
	checkOutputs(t, out, res, p.DurationS)

	before := len(runs)
	set, err := ImagesFor(ctx, cfg, src, p, out, res)
	if err != nil {
		t.Fatal(err)
	}
	if set.Storyboard != sb {
		t.Errorf("ImagesFor made another storyboard: %+v", set.Storyboard)
	}
	if n := len(runs) - before; n != 1 || strings.Contains(runs[before], "select=") {
		t.Errorf("ImagesFor ran %d ffmpeg (want one, for the thumbnails only): %q", n, runs[before:])
	}
	for _, th := range set.Thumbnails {
		if st, err := os.Stat(filepath.Join(out, th.Name)); err != nil || st.Size() == 0 {
			t.Errorf("thumbnail %s: %v", th.Name, err)
		}
		if !slices.Contains(set.Files, th.Name) {
			t.Errorf("thumbnail %s not in the set's files", th.Name)
		}
	}
	for _, f := range storyboardFiles(sb) {
		if !slices.Contains(set.Files, f) {
			t.Errorf("storyboard file %s not in the set's files", f)
		}
	}
}
