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
	"time"

	"gocloud.dev/blob"

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
	Now     func() time.Time
	Logger  *slog.Logger
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
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o750); err != nil {
		return err
	}
	res, err := transcode.Transcode(ctx, p.Transcode, src, probe, out, progress)
	if err != nil {
		return classify(err)
	}
	// Remove whatever an earlier attempt left, then store this one.
	if err := blobstore.DeletePrefix(ctx, p.Media, MediaPrefix(id)); err != nil {
		return fmt.Errorf("clear old media: %w", err)
	}
	if err := blobstore.PutDir(ctx, p.Media, MediaPrefix(id), out, res.Files); err != nil {
		return fmt.Errorf("store media: %w", err)
	}
	renditions := make([]model.Rendition, 0, len(res.Renditions))
	width, height := 0, 0
	for _, r := range res.Renditions {
		renditions = append(renditions, model.Rendition{Name: r.Name, Width: r.Width, Height: r.Height,
			Bandwidth: r.Bandwidth, Codecs: r.Codecs, FrameRate: r.FrameRate})
		if r.Height*r.Width > width*height {
			width, height = r.Width, r.Height
		}
	}
	_, err = p.Cluster.Apply(ctx, &command.VideoReady{
		Stamp: command.Stamp{At: p.Now().UTC()}, ID: id,
		DurationS: res.DurationS, Width: width, Height: height, HasAudio: res.HasAudio,
		Renditions: renditions, Master: res.Master, DASH: res.DASH, Poster: res.Poster, Files: res.Files,
		Holder: p.Self,
	})
	if errors.Is(err, store.ErrNotFound) {
		// Deleted while it was being processed: take the files back out.
		_ = blobstore.DeletePrefix(context.WithoutCancel(ctx), p.Media, MediaPrefix(id))
		return nil
	}
	if err != nil {
		return fmt.Errorf("record ready video: %w", err)
	}
	return nil
}

// classify marks input problems as permanent, with the reason users see.
func classify(err error) error {
	var ie *transcode.InputError
	if errors.As(err, &ie) {
		return worker.Permanent(errors.New(ie.Reason))
	}
	return err
}
