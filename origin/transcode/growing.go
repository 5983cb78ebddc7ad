package transcode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Growing first play publishes one ffmpeg run while it encodes (the
// default first play: see readyToPublish for when). The dash
// muxer finishes a segment (writing name.tmp, then renaming it) before it
// rewrites the media playlists that list it, so at any moment the
// playlists on disk describe complete segments. A watcher turns them into
// HLS EVENT playlists in a snapshot directory beside the output (segments
// hard-linked, our own master) and hands each snapshot to the caller to
// publish. Viewers watch from the start while the run goes on; the final
// playlists only append to what was published, and end it.
//
// Unlike staged first play, nothing is decoded twice: on a 2-core machine
// the staged run cost about 12% more CPU for a 1080p ladder.

// growPoll is how often the watcher looks at the run's playlists.
const growPoll = time.Second

// growth watches one run and publishes snapshots of it.
type growth struct {
	cfg     Config
	ep      *encodePlan
	dir     string // the snapshot directory
	publish func(*Result) error
	now     func() time.Time
	start   time.Time // when ffmpeg started

	published bool
	segments  int             // segments in the last snapshot published
	linked    map[string]bool // files already linked into dir
}

// readyToPublish decides the first publication: two segments of every
// stream done (8 s of video by default, enough for a player to start and
// switch quality), and the end not as near as that. It does not wait for
// the encoder to run ahead of real time: on a machine slower than that
// (a 1080p ladder on 2 cores runs at about 0.7× real time) a viewer who
// starts at once and watches straight through catches up with it, and the
// player then waits at the edge of the growing playlist like at a live
// stream's, while the page says the video is still processing. Waiting
// until no viewer could catch up would delay first play to 1-speed of the
// run (about 0.3 of it there), longer than encoding the low rungs first.
func readyToPublish(done, total, segment float64) bool {
	return total > 0 && done >= 2*segment && done < total-segment
}

// watchGrowth runs the encode while g publishes snapshots. A failed first
// publication stops the encode and is returned; later ones are retried at
// the next look (the caller stores what it has not stored yet).
func watchGrowth(ctx context.Context, g *growth, encode func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		stopOnce sync.Once
		stop     = make(chan struct{})
		pubErr   error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(growPoll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if err := g.look(); err != nil {
				pubErr = err
				cancel()
				return
			}
		}
	}()
	err := encode(ctx)
	stopOnce.Do(func() { close(stop) })
	wg.Wait()
	if pubErr != nil {
		return fmt.Errorf("transcode: first play: %w", pubErr)
	}
	return err
}

// look publishes a new snapshot when the run has finished segments since
// the last one (and, before the first, when readyToPublish says so).
func (g *growth) look() error {
	st, err := describe(g.ep, g.ep.outDir, nil)
	if err != nil {
		return nil // nothing to read yet (no master, no segment): look again
	}
	n := 0
	for _, mi := range st.video {
		n += len(mi.segments)
	}
	if st.audio != nil {
		n += len(st.audio.segments)
	}
	if n == g.segments {
		return nil
	}
	if !g.published && !readyToPublish(st.shortest, g.ep.probe.DurationS, float64(g.cfg.SegmentSeconds)) {
		return nil
	}
	res, err := g.snapshot(st)
	if errors.Is(err, errRunEnded) {
		return nil // ffmpeg wrote its final playlists: the final Result follows
	}
	if err != nil {
		if g.published {
			g.cfg.logger().Warn("transcode: growing snapshot failed; trying again", "error", err)
			return nil
		}
		return err
	}
	if err := g.publish(res); err != nil {
		if g.published {
			g.cfg.logger().Warn("transcode: publishing a growing snapshot failed; trying again", "error", err)
			return nil
		}
		return err
	}
	if !g.published {
		g.cfg.logger().Info("transcode: playable while encoding", "done_s", st.shortest,
			"total_s", g.ep.probe.DurationS, "elapsed", g.now().Sub(g.start).Round(time.Millisecond))
	}
	g.published, g.segments = true, n
	return nil
}

// snapshot links the finished segments into g.dir, writes EVENT copies of
// the media playlists and our master there, and describes it.
func (g *growth) snapshot(st *runOutput) (*Result, error) {
	media := slices.Clone(st.video)
	if st.audio != nil && g.ep.audio {
		media = append(media, st.audio)
	}
	for _, mi := range media {
		for _, f := range append([]string{mi.init}, mi.segments...) {
			if err := g.link(f); err != nil {
				return nil, err
			}
		}
		data, err := os.ReadFile(filepath.Join(g.ep.outDir, mi.uri))
		if err != nil {
			return nil, err
		}
		if bytes.Contains(data, []byte("\n#EXT-X-ENDLIST")) {
			return nil, errRunEnded
		}
		ev, err := eventPlaylist(data, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mi.uri, err)
		}
		if err := writeFileAtomic(filepath.Join(g.dir, mi.uri), ev); err != nil {
			return nil, err
		}
	}
	if err := writeMaster(g.dir, st.renditions, st.video, st.audio); err != nil {
		return nil, fmt.Errorf("write master: %w", err)
	}
	res := &Result{
		DurationS:  st.shortest,
		Renditions: st.renditions,
		HasVideo:   g.ep.probe.HasVideo,
		HasAudio:   g.ep.probe.HasAudio,
		Master:     masterName,
		Growing:    true,
		Dir:        g.dir,
	}
	if g.ep.posterAt >= 0 && completeJPEG(filepath.Join(g.ep.outDir, posterName)) {
		if err := g.link(posterName); err != nil {
			return nil, err
		}
		res.Poster = posterName
	}
	var err error
	if res.Files, err = listFiles(g.dir); err != nil {
		return nil, err
	}
	return res, nil
}

// errRunEnded says ffmpeg has ended its playlists: the run is as good as
// done, and the caller's final store publishes it.
var errRunEnded = errors.New("the run has ended its playlists")

// link hard-links a finished file of the run into the snapshot directory
// (copying when the file system cannot link).
func (g *growth) link(name string) error {
	if g.linked[name] {
		return nil
	}
	src, dst := filepath.Join(g.ep.outDir, name), filepath.Join(g.dir, name)
	if err := os.Link(src, dst); err != nil && !errors.Is(err, fs.ErrExist) {
		data, rerr := os.ReadFile(src)
		if rerr != nil {
			return rerr
		}
		if werr := writeFileAtomic(dst, data); werr != nil {
			return werr
		}
	}
	g.linked[name] = true
	return nil
}

// completeJPEG reports whether file ends with the JPEG end-of-image
// marker: ffmpeg writes the poster in place, so a reader can see half of it.
func completeJPEG(file string) bool {
	data, err := os.ReadFile(file)
	return err == nil && len(data) > 4 && bytes.HasSuffix(data, []byte{0xff, 0xd9})
}

// eventPlaylist turns a media playlist from ffmpeg into an EVENT playlist:
// the type says players may start at the beginning and that the playlist
// only ever grows, and the wall-clock stamps of the encode are dropped.
// final keeps the end tag; a growing snapshot has none yet.
func eventPlaylist(data []byte, final bool) ([]byte, error) {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	typed, ended := false, false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#EXT-X-PROGRAM-DATE-TIME"), strings.HasPrefix(line, "#EXT-X-PLAYLIST-TYPE"):
			continue
		case line == "#EXT-X-ENDLIST":
			ended = true
		}
		out.WriteString(line)
		out.WriteByte('\n')
		if !typed && strings.HasPrefix(line, "#EXT-X-TARGETDURATION") {
			out.WriteString("#EXT-X-PLAYLIST-TYPE:EVENT\n")
			typed = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !typed {
		return nil, errors.New("media playlist has no EXT-X-TARGETDURATION")
	}
	if ended != final {
		return nil, fmt.Errorf("media playlist end tag: got %t, want %t", ended, final)
	}
	return out.Bytes(), nil
}

// endGrowth rewrites the final media playlists of a run that was published
// while growing as EVENT playlists too, so that they extend what players
// already loaded (RFC 8216 6.2.1: an EVENT playlist is only appended to).
func endGrowth(outDir string, st *runOutput) error {
	media := slices.Clone(st.video)
	if st.audio != nil {
		media = append(media, st.audio)
	}
	for _, mi := range media {
		file := filepath.Join(outDir, mi.uri)
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("transcode: %w", err)
		}
		ev, err := eventPlaylist(data, true)
		if err != nil {
			return fmt.Errorf("transcode: %s: %w", mi.uri, err)
		}
		if err := writeFileAtomic(file, ev); err != nil {
			return fmt.Errorf("transcode: %w", err)
		}
	}
	return nil
}
