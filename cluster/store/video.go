package store

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// Tx is one write transaction of the FSM. It remembers which videos changed
// so the search index can follow the same batch.
type Tx struct {
	tx      *bbolt.Tx
	changed map[string]*change
	// w holds a clone of each cached record as written (nil: deleted),
	// for the store's caches once the transaction commits.
	w     written
	cache caches
	// lazy are the videos written whose bytes wait for the commit.
	lazy []string
}

// change is what the index must do for one video after the transaction.
type change struct {
	video   *model.Video // nil when deleted
	reindex bool         // false for changes the index does not hold (progress)
}

// Changes calls fn for every video the transaction changed in a way the
// search index cares about; v is nil when the video was deleted.
func (t *Tx) Changes(fn func(id string, v *model.Video)) {
	for id, c := range t.changed {
		if c.reindex {
			fn(id, c.video)
		}
	}
}

func (t *Tx) markChanged(v *model.Video, reindex bool) {
	prev := t.changed[v.ID]
	t.changed[v.ID] = &change{video: v, reindex: reindex || (prev != nil && prev.reindex)}
}

func (t *Tx) markDeleted(id string) {
	t.changed[id] = &change{reindex: true}
	t.w.videos[id] = nil
}

func timeKey(at time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano()))
	return append(k, id...)
}

func (t *Tx) video(id string) (*model.Video, error) {
	return txRead(t, t.cache.videos, t.w.videos, bucketVideos, id, "video")
}

// putVideo writes v. A new video's bytes are written at once (CreateVideo
// checks presence in the bucket); a stored one's are written when the
// held transaction commits (see Store.Update): until then every read of
// it inside and outside the transaction finds it pinned in the cache, and
// a video rewritten many times in 20 ms (progress, a busy editor) is
// encoded once.
func (t *Tx) putVideo(v *model.Video, reindex bool) error {
	b := t.tx.Bucket(bucketVideos)
	if b.Get([]byte(v.ID)) != nil {
		t.lazy = append(t.lazy, v.ID)
	} else if err := putJSON(b, v.ID, v); err != nil {
		return fmt.Errorf("put video %s: %w", v.ID, err)
	}
	t.markChanged(v, reindex)
	t.w.videos[v.ID] = v.Clone()
	return nil
}

// CreateVideo adds a video in the uploaded state.
func (t *Tx) CreateVideo(c *command.CreateVideo) (*model.Video, error) {
	v := c.Video
	if v.ID == "" {
		return nil, fmt.Errorf("video without id: %w", ErrInvalid)
	}
	if t.tx.Bucket(bucketVideos).Get([]byte(v.ID)) != nil {
		return nil, fmt.Errorf("video %q: %w", v.ID, ErrExists)
	}
	if v.Visibility == "" {
		v.Visibility = model.Public
	}
	if !v.Visibility.Valid() {
		return nil, fmt.Errorf("visibility %q: %w", v.Visibility, ErrInvalid)
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	v.Status = model.StatusUploaded
	v.Progress = 0
	v.CreatedAt = c.At
	v.UpdatedAt = c.At
	if err := t.tx.Bucket(bucketVideosTime).Put(timeKey(v.CreatedAt, v.ID), nil); err != nil {
		return nil, err
	}
	if err := t.addOwned(&v, c.At); err != nil {
		return nil, err
	}
	return &v, t.putVideo(&v, true)
}

// UpdateVideo changes the editable fields that c sets.
func (t *Tx) UpdateVideo(c *command.UpdateVideo) (*model.Video, error) {
	v, err := t.video(c.ID)
	if err != nil {
		return nil, err
	}
	if c.Visibility != nil && !c.Visibility.Valid() {
		return nil, fmt.Errorf("visibility %q: %w", *c.Visibility, ErrInvalid)
	}
	if c.Title != nil {
		if strings.TrimSpace(*c.Title) == "" {
			return nil, fmt.Errorf("empty title: %w", ErrInvalid)
		}
		v.Title = *c.Title
	}
	if c.Description != nil {
		v.Description = *c.Description
	}
	if c.Tags != nil {
		v.Tags = append([]string{}, (*c.Tags)...)
	}
	if c.Visibility != nil {
		v.Visibility = *c.Visibility
	}
	v.UpdatedAt = c.At
	return v, t.putVideo(v, true)
}

// UpdateProgress records processing progress. It never moves a finished
// video back, so a late progress entry after VideoReady changes nothing.
func (t *Tx) UpdateProgress(c *command.UpdateProgress) (*model.Video, error) {
	v, err := t.video(c.ID)
	if err != nil {
		return nil, err
	}
	if v.Status != model.StatusProcessing {
		return v, nil
	}
	v.Progress = clamp(c.Progress, 0, 99.9)
	v.UpdatedAt = c.At
	return v, t.putVideo(v, false)
}

// VideoReady records the finished outputs.
func (t *Tx) VideoReady(c *command.VideoReady) (*model.Video, error) {
	v, err := t.video(c.ID)
	if err != nil {
		return nil, err
	}
	v.Status = model.StatusReady
	v.Progress = 100
	v.Error = ""
	setOutputs(v, c)
	v.Pending = nil
	v.ReadyAt = c.At
	return v, t.putVideo(v, true)
}

// setOutputs copies what a transcode published (all of it, or the first
// rungs) onto v.
func setOutputs(v *model.Video, c *command.VideoReady) {
	v.DurationS = c.DurationS
	v.Width, v.Height = c.Width, c.Height
	v.HasAudio = c.HasAudio
	v.Renditions = c.Renditions
	v.Master, v.DASH, v.Poster = c.Master, c.DASH, c.Poster
	v.Files = c.Files
	if c.Holder != "" {
		v.MediaHolders = []string{c.Holder}
	}
	v.UpdatedAt = c.At
}

// VideoPlayable publishes a processing video's first rungs. A video that
// is no longer processing (ready, failed: a late entry) is left alone.
func (t *Tx) VideoPlayable(c *command.VideoPlayable) (*model.Video, error) {
	v, err := t.video(c.ID)
	if err != nil {
		return nil, err
	}
	if v.Status != model.StatusProcessing {
		return v, nil
	}
	setOutputs(v, &c.VideoReady)
	v.Pending = c.Pending
	return v, t.putVideo(v, true)
}

// SetMediaInfo records a video's pictures and language.
func (t *Tx) SetMediaInfo(c *command.SetMediaInfo) (*model.Video, error) {
	v, err := t.video(c.ID)
	if err != nil {
		return nil, err
	}
	v.Language = c.Language
	v.Thumbnails = c.Thumbnails
	v.Storyboard = c.Storyboard
	v.UpdatedAt = c.At
	return v, t.putVideo(v, true)
}

// RecordReplica adds or removes a holder of a video's raw or media blobs.
func (t *Tx) RecordReplica(c *command.RecordReplica) (*model.Video, error) {
	if c.Kind != model.KindRaw && c.Kind != model.KindMedia || c.NodeID == "" {
		return nil, fmt.Errorf("replica of kind %q by %q: %w", c.Kind, c.NodeID, ErrInvalid)
	}
	v, err := t.video(c.VideoID)
	if err != nil {
		return nil, err
	}
	holders := &v.RawHolders
	if c.Kind == model.KindMedia {
		holders = &v.MediaHolders
	}
	i := slices.Index(*holders, c.NodeID)
	switch {
	case c.Remove && i >= 0:
		*holders = slices.Delete(slices.Clone(*holders), i, i+1)
	case !c.Remove && i < 0:
		*holders = append(slices.Clone(*holders), c.NodeID)
	default:
		return v, nil
	}
	return v, t.putVideo(v, false)
}

// VideoFailed records a failure a user can read.
func (t *Tx) VideoFailed(c *command.VideoFailed) (*model.Video, error) {
	v, err := t.video(c.ID)
	if err != nil {
		return nil, err
	}
	return v, t.failVideo(v, c.Reason, c.At)
}

func (t *Tx) failVideo(v *model.Video, reason string, at time.Time) error {
	v.Status = model.StatusFailed
	v.Error = reason
	v.UpdatedAt = at
	return t.putVideo(v, true)
}

// DeleteVideo removes a video and every job of it.
func (t *Tx) DeleteVideo(c *command.DeleteVideo) (*model.Video, error) {
	v, err := t.video(c.ID)
	if err != nil {
		return nil, err
	}
	if err := t.tx.Bucket(bucketVideos).Delete([]byte(v.ID)); err != nil {
		return nil, err
	}
	if err := t.tx.Bucket(bucketVideosTime).Delete(timeKey(v.CreatedAt, v.ID)); err != nil {
		return nil, err
	}
	if err := t.deleteJobsOf(v.ID); err != nil {
		return nil, err
	}
	if err := t.removeOwned(v); err != nil {
		return nil, err
	}
	if err := t.deleteCaptionsOf(v.ID); err != nil {
		return nil, err
	}
	t.markDeleted(v.ID)
	return v, nil
}

func clamp(x, lo, hi float64) float64 {
	return max(lo, min(hi, x))
}
