package command

import (
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

// EnqueueJob adds a job to the queue.
type EnqueueJob struct {
	Stamp
	ID          string        `json:"id"`
	Kind        model.JobKind `json:"kind"`
	VideoID     string        `json:"video_id"`
	MaxAttempts int           `json:"max_attempts"`
}

// ClaimJob asks for the oldest runnable job of the given kinds: a queued job
// past its back-off, or a running one whose lease has expired. The result is
// the claimed job, or nil when there is none.
type ClaimJob struct {
	Stamp
	Worker     string          `json:"worker"`
	Kinds      []model.JobKind `json:"kinds"`
	LeaseUntil time.Time       `json:"lease_until"`
}

// RenewLease extends a held lease. It fails with ErrLeaseLost when the worker
// no longer holds the job, which tells the worker to stop.
type RenewLease struct {
	Stamp
	JobID      string    `json:"job_id"`
	Worker     string    `json:"worker"`
	LeaseUntil time.Time `json:"lease_until"`
}

// CompleteJob marks a held job done.
type CompleteJob struct {
	Stamp
	JobID  string `json:"job_id"`
	Worker string `json:"worker"`
}

// FailJob gives a held job back. A permanent failure, or one that used the
// last attempt, ends in the dead state; otherwise the job is queued again,
// not before RetryAt. An interrupted job (its worker is shutting down) is
// queued again at once and its attempt is given back.
type FailJob struct {
	Stamp
	JobID       string    `json:"job_id"`
	Worker      string    `json:"worker"`
	Reason      string    `json:"reason"`
	Permanent   bool      `json:"permanent,omitempty"`
	Interrupted bool      `json:"interrupted,omitempty"`
	RetryAt     time.Time `json:"retry_at,omitzero"`
}

// RetryJob puts a dead job back in the queue with a fresh set of attempts.
type RetryJob struct {
	Stamp
	JobID string `json:"job_id"`
}

// EnqueueChunks queues one chunk job per piece of a cut source. The jobs
// are named ParentID-c000, -c001 ...; when the last is done the store
// queues ParentID-join.
type EnqueueChunks struct {
	Stamp
	ParentID    string `json:"parent_id"`
	VideoID     string `json:"video_id"`
	Count       int    `json:"count"`
	Holder      string `json:"holder"`
	Plan        []byte `json:"plan,omitempty"`
	MaxAttempts int    `json:"max_attempts"`
}

// ChunkOutput records which origin holds a chunk job's output. The worker
// applies it just before it completes the job.
type ChunkOutput struct {
	Stamp
	JobID  string `json:"job_id"`
	Worker string `json:"worker"`
	Node   string `json:"node"`
}

// CommandType implements Command.
func (EnqueueChunks) CommandType() Type { return TypeEnqueueChunks }

// CommandType implements Command.
func (ChunkOutput) CommandType() Type { return TypeChunkOutput }

// CommandVersion implements Command.
func (EnqueueChunks) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (ChunkOutput) CommandVersion() uint8 { return 1 }

// CommandType implements Command.
func (EnqueueJob) CommandType() Type { return TypeEnqueueJob }

// CommandType implements Command.
func (ClaimJob) CommandType() Type { return TypeClaimJob }

// CommandType implements Command.
func (RenewLease) CommandType() Type { return TypeRenewLease }

// CommandType implements Command.
func (CompleteJob) CommandType() Type { return TypeCompleteJob }

// CommandType implements Command.
func (FailJob) CommandType() Type { return TypeFailJob }

// CommandType implements Command.
func (RetryJob) CommandType() Type { return TypeRetryJob }

// CommandVersion implements Command.
func (EnqueueJob) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (ClaimJob) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (RenewLease) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (CompleteJob) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (FailJob) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (RetryJob) CommandVersion() uint8 { return 1 }
