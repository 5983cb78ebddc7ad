package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/origin/blobstore"
	"github.com/stratavideo/strata/origin/transcode"
	"github.com/stratavideo/strata/origin/worker"
)

// Chunking spreads a long source over every origin's workers (see
// transcode/chunk.go for the media side). The transcode job cuts the
// source, encodes the audio and the pictures, leaves them in its origin's
// work area (the raw bucket, which is never served to viewers) and queues
// the chunk jobs; chunk jobs fetch their piece from that origin and keep
// their output in their own work area; the join job fetches everything,
// joins and publishes. Work files live under WorkPrefix(video) and every
// origin drops its own when the video is ready or deleted.

// Chunking decides when a source is cut.
type Chunking struct {
	// PieceSeconds is the length of a piece; 0 turns chunking off.
	PieceSeconds float64
	// MinSeconds is the shortest source that is cut.
	MinSeconds float64
	// Origins counts the origins whose workers could take chunks: with
	// one, cutting only adds work.
	Origins func() int
	// MaxAttempts of each chunk and of the join.
	MaxAttempts int
}

// WorkPrefix is where a video's work files live in the raw bucket.
func WorkPrefix(videoID string) string { return videoID + "/work/" }

// Peers fetch work files from the origin that holds them.
type Peers interface {
	FetchFrom(ctx context.Context, node, kind, key, dst string) error
}

// plan travels in the chunk and join jobs: what the cutting origin
// learnt, so that every chunk encodes the same ladder.
type plan struct {
	Probe  *transcode.Probe  `json:"probe"`
	Pieces []transcode.Piece `json:"pieces"`
	Audio  bool              `json:"audio"`
}

func (p *Processor) shouldChunk(probe *transcode.Probe) bool {
	c := p.Chunking
	// Chunks carry the H.264 ladder only: with extra codecs the source is
	// encoded whole.
	return c.PieceSeconds > 0 && len(p.Transcode.ExtraCodecs) == 0 && probe.HasVideo && probe.DurationS >= c.MinSeconds &&
		probe.DurationS >= 2*c.PieceSeconds && c.Origins != nil && c.Origins() > 1 && p.Peers != nil && p.Work != nil
}

func workKey(videoID, parent, name string) string {
	return WorkPrefix(videoID) + parent + "/" + name
}

// imagesFile lists, in the work area, the pictures the cutting origin made.
const imagesFile = "images.json"

// split cuts the source and queues its chunks, then encodes the audio and
// the pictures while other workers take the chunks; the join waits for
// this job to be done.
func (p *Processor) split(ctx context.Context, job *model.Job, src string, probe *transcode.Probe, dir string, progress func(float64)) error {
	id := job.VideoID
	cut := filepath.Join(dir, "cut")
	if err := os.Mkdir(cut, 0o750); err != nil {
		return err
	}
	pieces, err := transcode.SplitSource(ctx, p.Transcode, src, probe, cut, p.Chunking.PieceSeconds)
	if err != nil {
		return classify(err)
	}
	for _, pc := range pieces {
		if err := blobstore.PutFile(ctx, p.Work, workKey(id, job.ID, pc.File), filepath.Join(cut, pc.File)); err != nil {
			return fmt.Errorf("store piece: %w", err)
		}
	}
	planJSON, err := json.Marshal(plan{Probe: probe, Pieces: pieces, Audio: probe.HasAudio})
	if err != nil {
		return err
	}
	_, err = p.Cluster.Apply(ctx, &command.EnqueueChunks{Stamp: command.Stamp{At: p.Now().UTC()},
		ParentID: job.ID, VideoID: id, Count: len(pieces), Holder: p.Self, Plan: planJSON,
		MaxAttempts: p.Chunking.MaxAttempts})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil // deleted meanwhile
	case err != nil:
		return fmt.Errorf("queue chunks: %w", err)
	}
	p.log().Info("source cut for chunked transcoding", "video_id", id, "pieces", len(pieces))
	if progress != nil {
		progress(2)
	}

	if probe.HasAudio {
		if err := transcode.EncodeAudio(ctx, p.Transcode, src, probe, cut); err != nil {
			return classify(err)
		}
		if err := blobstore.PutFile(ctx, p.Work, workKey(id, job.ID, transcode.AudioFile), filepath.Join(cut, transcode.AudioFile)); err != nil {
			return fmt.Errorf("store audio: %w", err)
		}
	}
	img := filepath.Join(dir, "img")
	if err := os.Mkdir(img, 0o750); err != nil {
		return err
	}
	var pics pictures
	if set, err := transcode.Images(ctx, p.Transcode, src, probe, img); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.log().Warn("thumbnails and storyboard failed; publishing without them", "video_id", id, "error", err)
		if err := p.recordImages(ctx, id, probe, nil); err != nil {
			return err
		}
	} else {
		for _, f := range set.Files {
			if err := blobstore.PutFile(ctx, p.Work, workKey(id, job.ID, "img/"+f), filepath.Join(img, f)); err != nil {
				return fmt.Errorf("store picture: %w", err)
			}
		}
		pics.Files = set.Files
		if len(set.Thumbnails) > 0 {
			pics.Poster = set.Thumbnails[0].Name
		}
		if err := p.recordImages(ctx, id, probe, set); err != nil {
			return err
		}
	}
	list, err := json.Marshal(pics)
	if err != nil {
		return err
	}
	if err := p.Work.WriteAll(ctx, workKey(id, job.ID, imagesFile), list, nil); err != nil {
		return fmt.Errorf("store picture list: %w", err)
	}
	return nil
}

// pictures is the content of imagesFile.
type pictures struct {
	Files  []string `json:"files"`
	Poster string   `json:"poster,omitempty"`
}

func readPlan(job *model.Job) (*plan, error) {
	if job.Chunk == nil {
		return nil, worker.Permanent(fmt.Errorf("%s job %s has no chunk spec", job.Kind, job.ID))
	}
	var pl plan
	if err := json.Unmarshal(job.Chunk.Plan, &pl); err != nil || pl.Probe == nil {
		return nil, worker.Permanent(fmt.Errorf("%s job %s: unreadable plan: %v", job.Kind, job.ID, err))
	}
	return &pl, nil
}

// parentOf is the transcode job a chunk or join job comes from.
func parentOf(job *model.Job) string {
	if job.Kind == model.KindJoin {
		return job.ID[:len(job.ID)-len("-join")]
	}
	for i := len(job.ID) - 1; i >= 0; i-- {
		if job.ID[i] == '-' {
			return job.ID[:i]
		}
	}
	return job.ID
}

// runChunk encodes one piece and keeps the result in this origin's work
// area.
func (p *Processor) runChunk(ctx context.Context, job *model.Job, dir string) error {
	pl, err := readPlan(job)
	if err != nil {
		return err
	}
	i := job.Chunk.Index
	if i < 0 || i >= len(pl.Pieces) {
		return worker.Permanent(fmt.Errorf("chunk %d of %d pieces", i, len(pl.Pieces)))
	}
	parent := parentOf(job)
	piece := filepath.Join(dir, "piece.mov")
	if err := p.Peers.FetchFrom(ctx, job.Chunk.Holder, model.KindRaw, workKey(job.VideoID, parent, pl.Pieces[i].File), piece); err != nil {
		return fmt.Errorf("fetch piece %d: %w", i, err)
	}
	out := filepath.Join(dir, "chunk.mp4")
	if err := transcode.TranscodeChunk(ctx, p.Transcode, piece, pl.Pieces[i].DurationS, pl.Probe, out, nil); err != nil {
		return classify(err)
	}
	if err := blobstore.PutFile(ctx, p.Work, workKey(job.VideoID, parent, fmt.Sprintf("out-%04d.mp4", i)), out); err != nil {
		return fmt.Errorf("store chunk: %w", err)
	}
	_, err = p.Cluster.Apply(ctx, &command.ChunkOutput{Stamp: command.Stamp{At: p.Now().UTC()},
		JobID: job.ID, Worker: job.Worker, Node: p.Self})
	if err != nil {
		return fmt.Errorf("record chunk output: %w", err)
	}
	return nil
}

// runJoin fetches every chunk, the audio and the pictures, joins them and
// publishes the video.
func (p *Processor) runJoin(ctx context.Context, job *model.Job, dir string) error {
	pl, err := readPlan(job)
	if err != nil {
		return err
	}
	spec, id, parent := job.Chunk, job.VideoID, parentOf(job)
	if len(spec.Outputs) != len(pl.Pieces) {
		return worker.Permanent(fmt.Errorf("join of %d chunks has %d outputs", len(pl.Pieces), len(spec.Outputs)))
	}
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o750); err != nil {
		return err
	}
	var chunks []string
	for i, node := range spec.Outputs {
		name := fmt.Sprintf("out-%04d.mp4", i)
		dst := filepath.Join(in, name)
		if err := p.Peers.FetchFrom(ctx, node, model.KindRaw, workKey(id, parent, name), dst); err != nil {
			return fmt.Errorf("fetch chunk %d: %w", i, err)
		}
		chunks = append(chunks, dst)
	}
	audio := ""
	if pl.Audio {
		audio = filepath.Join(in, transcode.AudioFile)
		if err := p.Peers.FetchFrom(ctx, spec.Holder, model.KindRaw, workKey(id, parent, transcode.AudioFile), audio); err != nil {
			return fmt.Errorf("fetch audio: %w", err)
		}
	}
	out := filepath.Join(dir, "out")
	res, err := transcode.JoinChunks(ctx, p.Transcode, pl.Probe, chunks, audio, out)
	if err != nil {
		return classify(err)
	}
	listFile := filepath.Join(in, imagesFile)
	if err := p.Peers.FetchFrom(ctx, spec.Holder, model.KindRaw, workKey(id, parent, imagesFile), listFile); err != nil {
		return fmt.Errorf("fetch picture list: %w", err)
	}
	var pics pictures
	if data, err := os.ReadFile(listFile); err != nil || json.Unmarshal(data, &pics) != nil {
		return fmt.Errorf("read picture list: %v", err)
	}
	files := slices.Clone(res.Files)
	for _, f := range pics.Files {
		if err := p.Peers.FetchFrom(ctx, spec.Holder, model.KindRaw, workKey(id, parent, "img/"+f), filepath.Join(out, f)); err != nil {
			return fmt.Errorf("fetch picture %s: %w", f, err)
		}
		files = append(files, f)
	}
	slices.Sort(files)
	if err := blobstore.DeletePrefix(ctx, p.Media, MediaPrefix(id)); err != nil {
		return fmt.Errorf("clear old media: %w", err)
	}
	if err := blobstore.PutDir(ctx, p.Media, MediaPrefix(id), out, files); err != nil {
		return fmt.Errorf("store media: %w", err)
	}
	w, h := topSize(pl.Probe, p.Transcode)
	ready := p.ready(id, res, w, h)
	ready.Files = files
	if ready.Poster == "" {
		ready.Poster = pics.Poster
	}
	_, err = p.Cluster.Apply(ctx, &ready)
	if errors.Is(err, store.ErrNotFound) {
		_ = blobstore.DeletePrefix(context.WithoutCancel(ctx), p.Media, MediaPrefix(id))
		return nil
	}
	if err != nil {
		return fmt.Errorf("record ready video: %w", err)
	}
	return nil
}

// recordImages applies SetMediaInfo: the probe's language and the
// picture set, which is nil when no pictures could be made.
func (p *Processor) recordImages(ctx context.Context, id string, probe *transcode.Probe, set *transcode.ImageSet) error {
	c := &command.SetMediaInfo{Stamp: command.Stamp{At: p.Now().UTC()}, ID: id, Language: probe.Language}
	if set == nil {
		set = &transcode.ImageSet{}
	}
	for _, t := range set.Thumbnails {
		c.Thumbnails = append(c.Thumbnails, model.Image{File: t.Name, Width: t.Width, Height: t.Height})
	}
	if sb := set.Storyboard; sb != nil {
		c.Storyboard = &model.Storyboard{VTT: sb.VTT, Sprites: sb.Sprites, TileWidth: sb.TileWidth,
			TileHeight: sb.TileHeight, IntervalS: sb.IntervalS}
	}
	if _, err := p.Cluster.Apply(ctx, c); err != nil {
		if errors.Is(err, cluster.ErrUpgradeInProgress) {
			p.log().Info("thumbnails not recorded during a rolling upgrade", "video_id", id)
			return nil
		}
		return fmt.Errorf("record thumbnails: %w", err)
	}
	return nil
}
