package transcode

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A source cut into pieces, each encoded on its own, joins into output
// that plays whole: the duration of the source, every rung's segments on
// the same instants, the rungs and codecs a one-pass run makes, and a
// portrait phone video still portrait after its pieces went through MOV.
func TestChunkedTranscode(t *testing.T) {
	requireFFmpeg(t)
	for _, tc := range []struct {
		name  string
		opts  clipOpts
		wantW int
		wantH int
	}{
		{"landscape with audio", clipOpts{w: 854, h: 480, seconds: 21, video: true, audio: true,
			extra: []string{"-g", "30"}}, 854, 480},
		{"rotated phone video, no audio", clipOpts{w: 480, h: 270, seconds: 13, video: true, rotate: 90,
			extra: []string{"-g", "15"}}, 240, 426},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := makeClip(t, dir, "src", tc.opts)
			cfg := testConfig()
			ctx := context.Background()
			p, err := ProbeFile(ctx, cfg, src)
			if err != nil {
				t.Fatal(err)
			}
			split := filepath.Join(dir, "split")
			mkdir(t, split)
			pieces, err := SplitSource(ctx, cfg, src, p, split, 6)
			if err != nil {
				t.Fatal(err)
			}
			if len(pieces) < 2 {
				t.Fatalf("%d pieces from %.1f s in 6 s cuts", len(pieces), p.DurationS)
			}
			total := 0.0
			for _, pc := range pieces {
				total += pc.DurationS
			}
			if math.Abs(total-p.DurationS) > 0.2 {
				t.Errorf("pieces last %.3f s, the source %.3f s", total, p.DurationS)
			}
			audio := ""
			if p.HasAudio {
				if err := EncodeAudio(ctx, cfg, src, p, split); err != nil {
					t.Fatal(err)
				}
				audio = filepath.Join(split, AudioFile)
			}
			var chunks []string
			for i, pc := range pieces {
				out := filepath.Join(dir, fmt.Sprintf("chunk-%d.mp4", i))
				var prog progressLog
				if err := TranscodeChunk(ctx, cfg, filepath.Join(split, pc.File), pc.DurationS, p, out, prog.add); err != nil {
					t.Fatalf("chunk %d: %v", i, err)
				}
				chunks = append(chunks, out)
			}
			out := filepath.Join(dir, "out")
			res, err := JoinChunks(ctx, cfg, p, chunks, audio, out)
			if err != nil {
				t.Fatal(err)
			}
			checkOutputs(t, out, res, p.DurationS)
			if res.Renditions[0].Width != tc.wantW || res.Renditions[0].Height != tc.wantH {
				t.Errorf("top rung %dx%d, want %dx%d", res.Renditions[0].Width, res.Renditions[0].Height, tc.wantW, tc.wantH)
			}
			if res.HasAudio != p.HasAudio {
				t.Errorf("HasAudio = %v", res.HasAudio)
			}
			// Segments line up across rungs.
			var first []string
			for _, r := range res.Renditions {
				var durs []string
				for _, line := range strings.Split(string(mustRead(t, filepath.Join(out, r.Playlist))), "\n") {
					if strings.HasPrefix(line, "#EXTINF:") {
						durs = append(durs, line)
					}
				}
				if first == nil {
					first = durs
				} else if !slices.Equal(first, durs) {
					t.Errorf("rung %s segments %v differ from the top rung's %v", r.Name, durs, first)
				}
			}
			// The same ladder as one pass.
			one, err := Transcode(ctx, cfg, src, p, filepath.Join(dir, "one"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(one.Renditions) != len(res.Renditions) {
				t.Fatalf("one pass %d rungs, chunked %d", len(one.Renditions), len(res.Renditions))
			}
			for i, r := range one.Renditions {
				c := res.Renditions[i]
				if r.Name != c.Name || r.Width != c.Width || r.Height != c.Height || r.Codecs != c.Codecs {
					t.Errorf("rung %d: one pass %+v, chunked %+v", i, r, c)
				}
			}
			for _, f := range res.Files {
				if slices.Contains(one.Files, f) && strings.HasSuffix(f, ".m4s") {
					t.Errorf("chunked output reuses the one-pass segment name %s", f)
				}
			}
		})
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
