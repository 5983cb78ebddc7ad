package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// Chunked transcoding: a transcode job that cut its source queues one
// chunk job per piece (EnqueueChunks) and goes on to encode the audio and
// the pictures while the chunks run; a chunk's worker records where its
// output is (ChunkOutput) and completes the job. Whichever completion comes
// last, the parent's or a chunk's, queues the join job in the same
// transaction, so exactly one join is ever queued however they interleave.

// ChunkJobID names chunk i of parent, and JoinJobID its join.
func ChunkJobID(parent string, i int) string { return fmt.Sprintf("%s-c%03d", parent, i) }

// JoinJobID is the ID of the join job of parent's chunks.
func JoinJobID(parent string) string { return parent + "-join" }

// maxChunks bounds a cut: a 10-hour source in 60 s pieces is 600.
const maxChunks = 2000

// EnqueueChunks queues the chunk jobs of a cut source. It returns the
// first chunk job.
func (t *Tx) EnqueueChunks(c *command.EnqueueChunks) (*model.Job, error) {
	if c.ParentID == "" || c.Holder == "" || c.Count < 1 || c.Count > maxChunks {
		return nil, fmt.Errorf("chunks of %q: need a parent, a holder and 1..%d pieces: %w", c.ParentID, maxChunks, ErrInvalid)
	}
	// A retried parent cuts again and asks again: its chunks stand.
	if j, err := t.job(ChunkJobID(c.ParentID, 0)); err == nil {
		return j, nil
	}
	var first *model.Job
	for i := 0; i < c.Count; i++ {
		j, err := t.EnqueueJob(&command.EnqueueJob{Stamp: c.Stamp, ID: ChunkJobID(c.ParentID, i),
			Kind: model.KindChunk, VideoID: c.VideoID, MaxAttempts: c.MaxAttempts})
		if err != nil {
			return nil, err
		}
		j.Chunk = &model.ChunkSpec{Index: i, Count: c.Count, Holder: c.Holder, Plan: c.Plan}
		if err := t.putJob(j); err != nil {
			return nil, err
		}
		if first == nil {
			first = j
		}
	}
	return first, nil
}

// ChunkOutput records the node holding a held chunk job's output.
func (t *Tx) ChunkOutput(c *command.ChunkOutput) (*model.Job, error) {
	j, err := t.heldJob(c.JobID, c.Worker, c.At)
	if err != nil {
		return nil, err
	}
	if j.Kind != model.KindChunk || j.Chunk == nil || c.Node == "" {
		return nil, fmt.Errorf("job %s is not a chunk job or the node is missing: %w", c.JobID, ErrInvalid)
	}
	j.Chunk.Output = c.Node
	j.UpdatedAt = c.At
	return j, t.putJob(j)
}

// chunkDone runs when chunk job j completes: it moves the video's progress
// and queues the join if everything else is done.
func (t *Tx) chunkDone(j *model.Job, at time.Time) error {
	return t.maybeJoin(j.ID[:strings.LastIndex(j.ID, "-c")], at)
}

// parentDone runs when a transcode job completes: if it cut its source,
// the join may be waiting for it (it encodes the audio and the pictures
// while the chunks run).
func (t *Tx) parentDone(j *model.Job, at time.Time) error {
	if _, err := t.job(ChunkJobID(j.ID, 0)); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil // not cut
		}
		return err
	}
	return t.maybeJoin(j.ID, at)
}

// maybeJoin queues the join of parent's chunks once the parent and every
// chunk are done, and moves the video's progress with the chunks.
func (t *Tx) maybeJoin(parent string, at time.Time) error {
	first, err := t.job(ChunkJobID(parent, 0))
	if err != nil {
		return fmt.Errorf("chunks of %s: %w", parent, err)
	}
	spec := first.Chunk
	if spec == nil {
		return fmt.Errorf("chunk job %s without spec: %w", first.ID, ErrInvalid)
	}
	outputs := make([]string, spec.Count)
	done := 0
	for i := 0; i < spec.Count; i++ {
		s, err := t.job(ChunkJobID(parent, i))
		if err != nil {
			return fmt.Errorf("chunk %d of %s: %w", i, parent, err)
		}
		if s.State == model.JobDone {
			done++
			if s.Chunk != nil {
				outputs[i] = s.Chunk.Output
			}
		}
	}
	if v, err := t.video(first.VideoID); err == nil && v.Status == model.StatusProcessing {
		// Cutting is the first 5%, joining the last 5%.
		v.Progress = 5 + 90*float64(done)/float64(spec.Count)
		v.UpdatedAt = at
		if err := t.putVideo(v, false); err != nil {
			return err
		}
	}
	if done < spec.Count {
		return nil
	}
	if p, err := t.job(parent); err != nil || p.State != model.JobDone {
		return nil // the parent still encodes the audio and pictures (or is gone)
	}
	if _, err := t.job(JoinJobID(parent)); err == nil {
		return nil // already queued
	}
	join, err := t.EnqueueJob(&command.EnqueueJob{Stamp: command.Stamp{At: at}, ID: JoinJobID(parent),
		Kind: model.KindJoin, VideoID: first.VideoID, MaxAttempts: first.MaxAttempts})
	if err != nil {
		return err
	}
	join.Chunk = &model.ChunkSpec{Count: spec.Count, Holder: spec.Holder, Outputs: outputs, Plan: spec.Plan}
	return t.putJob(join)
}
