package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// defaultMaxAttempts bounds retries when a job does not say.
const defaultMaxAttempts = 3

func (t *Tx) job(id string) (*model.Job, error) {
	var j model.Job
	ok, err := getJSON(t.tx.Bucket(bucketJobs), id, &j)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("job %q: %w", id, ErrNotFound)
	}
	return &j, nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// putJob writes j and keeps the open-jobs index in step with its state.
func (t *Tx) putJob(j *model.Job) error {
	open := t.tx.Bucket(bucketJobsOpen)
	if j.State == model.JobQueued || j.State == model.JobRunning {
		if err := open.Put(seqKey(j.Seq), []byte(j.ID)); err != nil {
			return err
		}
	} else if err := open.Delete(seqKey(j.Seq)); err != nil {
		return err
	}
	return putJSON(t.tx.Bucket(bucketJobs), j.ID, j)
}

// EnqueueJob adds a queued job for an existing video.
func (t *Tx) EnqueueJob(c *command.EnqueueJob) (*model.Job, error) {
	if c.ID == "" || c.Kind == "" {
		return nil, fmt.Errorf("job without id or kind: %w", ErrInvalid)
	}
	if t.tx.Bucket(bucketJobs).Get([]byte(c.ID)) != nil {
		return nil, fmt.Errorf("job %q: %w", c.ID, ErrExists)
	}
	if _, err := t.video(c.VideoID); err != nil {
		return nil, err
	}
	meta := t.tx.Bucket(bucketMeta)
	seq := getUint(meta, keyJobSeq) + 1
	if err := putUint(meta, keyJobSeq, seq); err != nil {
		return nil, err
	}
	j := &model.Job{
		ID: c.ID, Seq: seq, Kind: c.Kind, VideoID: c.VideoID,
		State: model.JobQueued, MaxAttempts: c.MaxAttempts,
		CreatedAt: c.At, UpdatedAt: c.At,
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = defaultMaxAttempts
	}
	if err := t.tx.Bucket(bucketJobsVideo).Put([]byte(c.VideoID+"/"+c.ID), nil); err != nil {
		return nil, err
	}
	return j, t.putJob(j)
}

// ClaimJob leases the oldest runnable job of the asked kinds to c.Worker, or
// returns nil when nothing is runnable. A running job whose lease has expired
// is runnable again, unless it has used its attempts: then it is dead, and
// its video failed, in this same step.
func (t *Tx) ClaimJob(c *command.ClaimJob) (*model.Job, error) {
	if c.Worker == "" || !c.LeaseUntil.After(c.At) {
		return nil, fmt.Errorf("claim needs a worker and a lease in the future: %w", ErrInvalid)
	}
	// Collect first: bbolt cursors must not see writes to their own bucket.
	var ids []string
	cur := t.tx.Bucket(bucketJobsOpen).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		ids = append(ids, string(v))
	}
	for _, id := range ids {
		j, err := t.job(id)
		if err != nil {
			return nil, err
		}
		if len(c.Kinds) > 0 && !slices.Contains(c.Kinds, j.Kind) {
			continue
		}
		switch j.State {
		case model.JobQueued:
			if j.NotBefore.After(c.At) {
				continue
			}
		case model.JobRunning:
			if j.LeaseUntil.After(c.At) {
				continue
			}
			if j.Attempts >= j.MaxAttempts {
				reason := fmt.Sprintf("processing did not finish after %d attempts", j.Attempts)
				if j.LastError != "" {
					reason += ": " + j.LastError
				}
				if err := t.buryJob(j, reason, c.At); err != nil {
					return nil, err
				}
				continue
			}
			j.LastError = "lease expired on " + j.Worker
		default:
			continue
		}
		j.State = model.JobRunning
		j.Attempts++
		j.Worker = c.Worker
		j.LeaseUntil = c.LeaseUntil
		j.UpdatedAt = c.At
		if err := t.putJob(j); err != nil {
			return nil, err
		}
		if j.Kind == model.KindTranscode { // chunks and joins continue a started video
			if err := t.startVideo(j.VideoID, c.At); err != nil {
				return nil, err
			}
		}
		return j, nil
	}
	return nil, nil
}

// startVideo moves a job's video to processing.
func (t *Tx) startVideo(id string, at time.Time) error {
	v, err := t.video(id)
	if err != nil {
		return err
	}
	if v.Status == model.StatusReady {
		return nil
	}
	v.Status = model.StatusProcessing
	v.Progress = 0
	v.Error = ""
	v.UpdatedAt = at
	return t.putVideo(v, true)
}

// heldJob returns the job if worker holds its lease now.
func (t *Tx) heldJob(id, worker string, at time.Time) (*model.Job, error) {
	j, err := t.job(id)
	if err != nil {
		return nil, err
	}
	if j.State != model.JobRunning || j.Worker != worker {
		return nil, fmt.Errorf("job %s is %s by %q: %w", id, j.State, j.Worker, ErrLeaseLost)
	}
	if !j.LeaseUntil.After(at) {
		return nil, fmt.Errorf("job %s lease expired at %s: %w", id, j.LeaseUntil.Format(time.RFC3339Nano), ErrLeaseLost)
	}
	return j, nil
}

// RenewLease extends the lease of a job the worker still holds.
func (t *Tx) RenewLease(c *command.RenewLease) (*model.Job, error) {
	j, err := t.heldJob(c.JobID, c.Worker, c.At)
	if err != nil {
		return nil, err
	}
	if c.LeaseUntil.After(j.LeaseUntil) {
		j.LeaseUntil = c.LeaseUntil
	}
	j.UpdatedAt = c.At
	return j, t.putJob(j)
}

// CompleteJob marks a held job done.
func (t *Tx) CompleteJob(c *command.CompleteJob) (*model.Job, error) {
	j, err := t.heldJob(c.JobID, c.Worker, c.At)
	if err != nil {
		return nil, err
	}
	j.State = model.JobDone
	j.LeaseUntil = time.Time{}
	j.LastError = ""
	j.UpdatedAt = c.At
	if err := t.putJob(j); err != nil {
		return nil, err
	}
	switch {
	case j.Kind == model.KindChunk && j.Chunk != nil:
		if err := t.chunkDone(j, c.At); err != nil {
			return nil, err
		}
	case j.Kind == model.KindTranscode:
		if err := t.parentDone(j, c.At); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// FailJob queues a held job again, or buries it when the failure is
// permanent or the attempts are used up.
func (t *Tx) FailJob(c *command.FailJob) (*model.Job, error) {
	j, err := t.heldJob(c.JobID, c.Worker, c.At)
	if err != nil {
		return nil, err
	}
	if c.Interrupted {
		j.Attempts = max(0, j.Attempts-1)
	} else if c.Permanent || j.Attempts >= j.MaxAttempts {
		reason := c.Reason
		if !c.Permanent {
			reason = fmt.Sprintf("processing failed after %d attempts: %s", j.Attempts, c.Reason)
		}
		return j, t.buryJob(j, reason, c.At)
	}
	j.State = model.JobQueued
	j.Worker = ""
	j.LeaseUntil = time.Time{}
	j.NotBefore = c.RetryAt
	j.LastError = c.Reason
	j.UpdatedAt = c.At
	return j, t.putJob(j)
}

// buryJob moves a job to the dead state and fails its video with reason.
func (t *Tx) buryJob(j *model.Job, reason string, at time.Time) error {
	j.State = model.JobDead
	j.LeaseUntil = time.Time{}
	j.LastError = reason
	j.UpdatedAt = at
	if err := t.putJob(j); err != nil {
		return err
	}
	v, err := t.video(j.VideoID)
	if err != nil {
		return err
	}
	if v.Status == model.StatusReady {
		return nil
	}
	return t.failVideo(v, reason, at)
}

// RetryJob gives a dead job a fresh set of attempts.
func (t *Tx) RetryJob(c *command.RetryJob) (*model.Job, error) {
	j, err := t.job(c.JobID)
	if err != nil {
		return nil, err
	}
	if j.State != model.JobDead {
		return nil, fmt.Errorf("job %s is %s, only dead jobs are retried: %w", j.ID, j.State, ErrInvalid)
	}
	j.State = model.JobQueued
	j.Attempts = 0
	j.Worker = ""
	j.NotBefore = time.Time{}
	j.UpdatedAt = c.At
	if err := t.putJob(j); err != nil {
		return nil, err
	}
	v, err := t.video(j.VideoID)
	if err != nil {
		return nil, err
	}
	v.Status = model.StatusUploaded
	v.Error = ""
	v.Progress = 0
	v.UpdatedAt = c.At
	return j, t.putVideo(v, true)
}

// deleteJobsOf removes every job of a video.
func (t *Tx) deleteJobsOf(videoID string) error {
	byVideo := t.tx.Bucket(bucketJobsVideo)
	prefix := []byte(videoID + "/")
	var keys [][]byte
	cur := byVideo.Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		id := string(k[len(prefix):])
		j, err := t.job(id)
		if err == nil {
			if err := t.tx.Bucket(bucketJobsOpen).Delete(seqKey(j.Seq)); err != nil {
				return err
			}
			if err := t.tx.Bucket(bucketJobs).Delete([]byte(id)); err != nil {
				return err
			}
		}
		if err := byVideo.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func sortJobs(js []*model.Job) {
	slices.SortFunc(js, func(a, b *model.Job) int { return cmp.Compare(a.Seq, b.Seq) })
}
