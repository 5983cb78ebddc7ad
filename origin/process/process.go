// Package process turns a transcode job into a ready video: it fetches the
// raw upload, probes it, runs the one-pass ladder, stores the outputs and
// records the result in the cluster.
package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/origin/blobstore"
	"github.com/stratavideo/strata/origin/transcode"
	"github.com/stratavideo/strata/origin/worker"
)

// Applier replicates commands.
type Applier interface {
	Apply(ctx context.Context, c command.Command) (any, error)
}

// Sources fetch a video's raw upload, from this origin or one that holds it.
type Sources interface {
	Fetch(ctx context.Context, kind, videoID, file, dst string) error
}

// Processor runs transcode jobs.
type Processor struct {
	// Self is this origin's node ID, recorded as the media's holder.
	Self      string
	Sources   Sources
	Media     *blob.Bucket
	Cluster   Applier
	Transcode transcode.Config
	// Scratch is a local folder for the source copy and ffmpeg's output.
	Scratch string
	// Work is this origin's bucket for chunked transcoding's work files
	// (the raw bucket: never served to viewers), Peers reads other
	// origins' work files, and Chunking says when to cut. With Work or
	// Peers nil every source is encoded whole.
	Work     *blob.Bucket
	Peers    Peers
	Chunking Chunking
	Now      func() time.Time
	Logger   *slog.Logger
}

// MediaPrefix is the key prefix of a video's media objects.
func MediaPrefix(videoID string) string { return videoID + "/" }

// Run implements worker.Processor.
func (p *Processor) Run(ctx context.Context, job *model.Job, progress func(float64)) error {
	id := job.VideoID
	dir, err := os.MkdirTemp(p.Scratch, id+"-")
	if err != nil {
		return fmt.Errorf("scratch dir: %w", err)
	}
	defer os.RemoveAll(dir)

	switch job.Kind {
	case model.KindChunk:
		return p.runChunk(ctx, job, dir)
	case model.KindJoin:
		return p.runJoin(ctx, job, dir)
	}
	src := filepath.Join(dir, "source")
	if err := p.Sources.Fetch(ctx, model.KindRaw, id, "", src); err != nil {
		if blobstore.IsNotFound(err) {
			return worker.Permanent(errors.New("the uploaded file is missing from storage"))
		}
		return fmt.Errorf("fetch source: %w", err)
	}
	probe, err := transcode.ProbeFile(ctx, p.Transcode, src)
	if err != nil {
		return classify(err)
	}
	if p.shouldChunk(probe) {
		err := p.split(ctx, job, src, probe, dir, progress)
		if !errors.Is(err, cluster.ErrUpgradeInProgress) {
			return err
		}
		p.log().Info("chunked transcoding waits for the rolling upgrade; encoding whole", "video_id", id)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o750); err != nil {
		return err
	}
	// What first play hands over is stored and published at once (a
	// staged run's low rungs, or snapshots of a growing run); the final
	// store adds the rest and replaces the playlists, master and MPD.
	stored := map[string]bool{}
	save := func(dir string, files []string) error {
		var todo []string
		for _, f := range files {
			if !stored[f] || rewritten(f) {
				todo = append(todo, f)
			}
		}
		if err := blobstore.PutDir(ctx, p.Media, MediaPrefix(id), dir, publishOrder(todo)); err != nil {
			return fmt.Errorf("store media: %w", err)
		}
		for _, f := range todo {
			stored[f] = true
		}
		return nil
	}
	// Remove whatever an earlier attempt left before storing this one.
	clear := func() error {
		if err := blobstore.DeletePrefix(ctx, p.Media, MediaPrefix(id)); err != nil {
			return fmt.Errorf("clear old media: %w", err)
		}
		return nil
	}
	cleared := false
	firstPlay := func(res *transcode.Result) error {
		dir := out
		if res.Dir != "" {
			dir = res.Dir
		}
		if cleared {
			return save(dir, res.Files) // a later snapshot of a growing run
		}
		if err := clear(); err != nil {
			return err
		}
		cleared = true
		if err := save(dir, res.Files); err != nil {
			return err
		}
		var pending []string
		for _, r := range transcode.PlanLadder(p.Transcode, probe) {
			if !slices.ContainsFunc(res.Renditions, func(x transcode.Rendition) bool { return x.Name == r.Name }) {
				pending = append(pending, r.Name)
			}
		}
		w, h := topSize(probe, p.Transcode)
		c := &command.VideoPlayable{VideoReady: p.ready(id, res, w, h), Pending: pending}
		if res.Growing {
			// The video's length, not the part encoded so far.
			c.DurationS = probe.DurationS
		}
		_, err := p.Cluster.Apply(ctx, c)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errDeleted
		case errors.Is(err, cluster.ErrUpgradeInProgress):
			// A node of the cluster cannot apply it yet: viewers wait for
			// the whole ladder, as before.
			p.log().Info("fast first play skipped during a rolling upgrade", "video_id", id)
		case err != nil:
			return fmt.Errorf("record playable video: %w", err)
		}
		return nil
	}
	res, err := transcode.TranscodeStaged(ctx, p.Transcode, src, probe, out, progress, firstPlay)
	if err == nil && !cleared {
		err = clear()
	}
	var files []string
	if err == nil {
		files, err = p.images(ctx, id, src, probe, out, res)
	}
	if err == nil {
		err = save(out, files)
	}
	if err == nil {
		w, h := topSize(probe, p.Transcode)
		ready := p.ready(id, res, w, h)
		ready.Files = files
		_, err = p.Cluster.Apply(ctx, &ready)
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, errDeleted) {
		// Deleted while it was being processed: take the files back out.
		_ = blobstore.DeletePrefix(context.WithoutCancel(ctx), p.Media, MediaPrefix(id))
		return nil
	}
	if err != nil {
		return classify(err)
	}
	return nil
}

// rewritten says whether a file changes between first play and the end
// and must be stored again: playlists, the master and the MPD. Segments
// and init segments are written once.
func rewritten(f string) bool {
	return strings.HasSuffix(f, ".m3u8") || strings.HasSuffix(f, ".mpd")
}

// publishOrder sorts files so that nothing is stored before what it
// references: media first, then the media playlists, then the master and
// the MPD. A player reading during the store never meets a missing file.
func publishOrder(files []string) []string {
	rank := func(f string) int {
		switch {
		case f == transcode.MasterName || f == transcode.ManifestName:
			return 2
		case rewritten(f):
			return 1
		}
		return 0
	}
	out := slices.Clone(files)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// errDeleted stops a run whose video was deleted meanwhile.
var errDeleted = errors.New("the video was deleted")

// images makes the thumbnails and the storyboard into out and records
// them, returning every file to publish. Pictures are a nicety: when they
// cannot be made the video is published without them (the transcode's own
// poster remains) rather than failed.
func (p *Processor) images(ctx context.Context, id, src string, probe *transcode.Probe, out string, res *transcode.Result) ([]string, error) {
	set, err := transcode.ImagesFor(ctx, p.Transcode, src, probe, out, res)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.log().Warn("thumbnails and storyboard failed; publishing without them", "video_id", id, "error", err)
		return res.Files, p.recordImages(ctx, id, probe, nil)
	}
	if err := p.recordImages(ctx, id, probe, set); err != nil {
		return nil, err
	}
	files := slices.Clone(res.Files)
	for _, f := range set.Files {
		if !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	return files, nil
}

// ready describes a transcode result for the store. width and height are
// the largest rung's, whether or not it is encoded yet.
func (p *Processor) ready(id string, res *transcode.Result, width, height int) command.VideoReady {
	renditions := make([]model.Rendition, 0, len(res.Renditions))
	for _, r := range res.Renditions {
		renditions = append(renditions, model.Rendition{Name: r.Name, Width: r.Width, Height: r.Height,
			Bandwidth: r.Bandwidth, Codecs: r.Codecs, FrameRate: r.FrameRate})
	}
	return command.VideoReady{
		Stamp: command.Stamp{At: p.Now().UTC()}, ID: id,
		DurationS: res.DurationS, Width: width, Height: height, HasAudio: res.HasAudio,
		Renditions: renditions, Master: res.Master, DASH: res.DASH, Poster: res.Poster, Files: res.Files,
		Holder: p.Self,
	}
}

// topSize is the frame size of the ladder's largest rung (0, 0 for audio).
func topSize(probe *transcode.Probe, cfg transcode.Config) (int, int) {
	rungs := transcode.PlanLadder(cfg, probe)
	if len(rungs) == 0 {
		return 0, 0
	}
	return transcode.RungSize(probe, rungs[0])
}

func (p *Processor) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// classify marks input problems as permanent, with the reason users see.
func classify(err error) error {
	var ie *transcode.InputError
	if errors.As(err, &ie) {
		return worker.Permanent(errors.New(ie.Reason))
	}
	return err
}
