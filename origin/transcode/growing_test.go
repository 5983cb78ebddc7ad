package transcode

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grafov/m3u8"
)

// slowFFmpeg returns a config whose ffmpeg reads its input at the input's
// own frame rate (-re), so that a run takes about as long as the clip and
// a growing run has something to publish before it ends, on any machine.
func slowFFmpeg(t *testing.T, dir string) Config {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	wrapper := filepath.Join(dir, "ffmpeg-re")
	script := "#!/bin/sh\n# -re applies to the first -i that follows: the source.\nexec " + bin + " -re \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.FFmpeg = wrapper
	cfg.SegmentSeconds, cfg.GOPSeconds = 2, 1
	return cfg
}

// A growing run publishes EVENT playlists of what it has finished, more
// each time, before the run ends; every snapshot plays on its own, and
// the final playlists only append to what was published.
func TestTranscodeGrowingFirstPlay(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	src := makeClip(t, dir, "src", clipOpts{w: 640, h: 360, seconds: 12, video: true, audio: true})
	cfg := slowFFmpeg(t, dir)
	ctx := context.Background()
	p, err := ProbeFile(ctx, cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var prog progressLog
	var snaps []*Result
	saved := map[string][]byte{} // each snapshot's playlists, as published
	res, err := TranscodeStaged(ctx, cfg, src, p, out, prog.add, func(r *Result) error {
		if !r.Growing || r.Dir == "" || r.DASH != "" || r.Master != masterName {
			t.Errorf("snapshot %d: %+v is not a growing HLS-only snapshot", len(snaps), r)
		}
		if n := len(snaps); n > 0 && r.DurationS <= snaps[n-1].DurationS {
			t.Errorf("snapshot %d covers %.1f s, no more than the one before (%.1f s)", n, r.DurationS, snaps[n-1].DurationS)
		}
		checkSnapshot(t, r)
		if len(snaps) == 0 {
			// The first snapshot must play on its own: decode its lowest rung.
			low := r.Renditions[len(r.Renditions)-1]
			decodeAll(t, concatSegments(t, r.Dir, low.Playlist))
		}
		for _, f := range r.Files {
			if strings.HasSuffix(f, ".m3u8") && f != masterName {
				saved[f] = mustRead(t, filepath.Join(r.Dir, f))
			}
		}
		snaps = append(snaps, r)
		return nil
	})
	if err != nil {
		t.Fatalf("TranscodeStaged: %v", err)
	}
	prog.check(t)
	if len(snaps) < 2 {
		t.Fatalf("%d snapshots published, want at least 2 before the end", len(snaps))
	}
	if d := snaps[0].DurationS; d >= p.DurationS-float64(cfg.SegmentSeconds) || d < 2*float64(cfg.SegmentSeconds) {
		t.Errorf("first snapshot covers %.1f of %.1f s: not early, or less than two segments", d, p.DurationS)
	}
	checkOutputs(t, out, res, p.DurationS)
	// Every published playlist is a prefix of the final one (only appended
	// to), and the final one ends.
	for f, published := range saved {
		final := mustRead(t, filepath.Join(out, f))
		if !bytes.HasPrefix(final, published) || !bytes.HasSuffix(final, []byte("#EXT-X-ENDLIST\n")) {
			t.Errorf("final %s does not extend the published one:\npublished:\n%s\nfinal:\n%s", f, published, final)
		}
		pl, _, err := m3u8.Decode(*bytes.NewBuffer(final), true)
		if err != nil {
			t.Fatalf("final %s: %v", f, err)
		}
		if mp := pl.(*m3u8.MediaPlaylist); mp.MediaType != m3u8.EVENT || !mp.Closed {
			t.Errorf("final %s: type %v closed %v, want an ended EVENT playlist", f, mp.MediaType, mp.Closed)
		}
	}
	if _, err := os.Stat(out + ".growing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("snapshot directory left behind: %v", err)
	}
}

// checkSnapshot checks that a snapshot's media playlists are open EVENT
// playlists whose every file is in the snapshot directory, and that its
// master lists every rendition.
func checkSnapshot(t *testing.T, r *Result) {
	t.Helper()
	master := string(mustRead(t, filepath.Join(r.Dir, masterName)))
	for _, rd := range r.Renditions {
		if !strings.Contains(master, rd.Playlist) {
			t.Errorf("snapshot master does not list %s:\n%s", rd.Playlist, master)
		}
	}
	for _, f := range r.Files {
		if !strings.HasSuffix(f, ".m3u8") || f == masterName {
			continue
		}
		data := mustRead(t, filepath.Join(r.Dir, f))
		pl, _, err := m3u8.Decode(*bytes.NewBuffer(data), true)
		if err != nil {
			t.Fatalf("snapshot %s: %v", f, err)
		}
		mp := pl.(*m3u8.MediaPlaylist)
		if mp.MediaType != m3u8.EVENT || mp.Closed || bytes.Contains(data, []byte("PROGRAM-DATE-TIME")) {
			t.Errorf("snapshot %s is not an open EVENT playlist without wall-clock stamps:\n%s", f, data)
		}
		refs := []string{mp.Map.URI}
		for _, s := range mp.Segments {
			if s != nil {
				refs = append(refs, s.URI)
			}
		}
		for _, ref := range refs {
			if !slices.Contains(r.Files, ref) {
				t.Errorf("snapshot %s references %s, which is not in the snapshot", f, ref)
			}
		}
	}
}

// concatSegments joins a media playlist's init and segments into one file
// that ffmpeg can decode.
func concatSegments(t *testing.T, dir, playlist string) string {
	t.Helper()
	data := mustRead(t, filepath.Join(dir, playlist))
	pl, _, err := m3u8.Decode(*bytes.NewBuffer(data), true)
	if err != nil {
		t.Fatal(err)
	}
	mp := pl.(*m3u8.MediaPlaylist)
	joined := mustRead(t, filepath.Join(dir, mp.Map.URI))
	for _, s := range mp.Segments {
		if s != nil {
			joined = append(joined, mustRead(t, filepath.Join(dir, s.URI))...)
		}
	}
	file := filepath.Join(t.TempDir(), "joined.mp4")
	if err := os.WriteFile(file, joined, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// A failed first publication stops the run with its error; nothing is
// published of a clip too short to have two segments before its end.
func TestTranscodeGrowingFirstPlayError(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	src := makeClip(t, dir, "src", clipOpts{w: 426, h: 240, seconds: 10, video: true})
	cfg := slowFFmpeg(t, dir)
	boom := errors.New("store is down")
	_, err := TranscodeStaged(context.Background(), cfg, src, nil, filepath.Join(dir, "out"), nil, func(*Result) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the firstPlay error", err)
	}

	// A 2 s clip has no two segments to publish before its end.
	fast := testConfig()
	short := makeClip(t, dir, "short", clipOpts{w: 426, h: 240, seconds: 2, video: true})
	called := false
	res, err := TranscodeStaged(context.Background(), fast, short, nil, filepath.Join(dir, "out2"), nil, func(*Result) error { called = true; return nil })
	if err != nil || called {
		t.Fatalf("short clip: err %v, firstPlay called %v", err, called)
	}
	// Its playlists are plain VOD ones: nobody saw them grow.
	for _, rd := range res.Renditions {
		if data := mustRead(t, filepath.Join(dir, "out2", rd.Playlist)); bytes.Contains(data, []byte("EVENT")) {
			t.Errorf("%s of an unpublished run is an EVENT playlist:\n%s", rd.Playlist, data)
		}
	}
}

func TestReadyToPublish(t *testing.T) {
	for _, c := range []struct {
		done, total float64
		want        bool
	}{
		{done: 4, total: 60, want: false},  // one 4 s segment only
		{done: 8, total: 60, want: true},   // two
		{done: 56, total: 60, want: false}, // the end is as near
		{done: 8, total: 10, want: false},  // a short clip is done as soon
		{done: 8, total: 0, want: false},   // no duration to plan with
	} {
		if got := readyToPublish(c.done, c.total, 4); got != c.want {
			t.Errorf("readyToPublish(%v, %v) = %v, want %v", c.done, c.total, got, c.want)
		}
	}
}

func TestEventPlaylist(t *testing.T) {
	in := "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-0.mp4\"\n" +
		"#EXTINF:4.000000,\n#EXT-X-PROGRAM-DATE-TIME:2026-11-26T07:19:37.000+0000\nseg-0-00001.m4s\n"
	got, err := eventPlaylist([]byte(in), false)
	if err != nil {
		t.Fatal(err)
	}
	want := "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-0.mp4\"\n" +
		"#EXTINF:4.000000,\nseg-0-00001.m4s\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := eventPlaylist([]byte(in), true); err == nil {
		t.Error("an open playlist passed as final")
	}
	if _, err := eventPlaylist([]byte("#EXTM3U\nseg.m4s\n"), false); err == nil {
		t.Error("a playlist without a target duration was accepted")
	}
}
