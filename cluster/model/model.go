// Package model holds the records the cluster replicates: videos and jobs.
//
// They are plain data with JSON tags in snake_case, shared by the commands
// that change them, the bbolt store that keeps them and the API that shows
// them, so the three can never disagree on a field's name or meaning.
package model

import "time"

// Status is where a video is in its life: uploaded, processing, ready or failed.
type Status string

// Video statuses, in the order a healthy video passes through them.
const (
	StatusUploaded   Status = "uploaded"
	StatusProcessing Status = "processing"
	StatusReady      Status = "ready"
	StatusFailed     Status = "failed"
)

// Visibility says who may find and watch a video.
type Visibility string

// Visibilities. Unlisted videos are watchable by link but never listed or
// searchable; private ones only by their owner and admins.
const (
	Public   Visibility = "public"
	Unlisted Visibility = "unlisted"
	Private  Visibility = "private"
)

// Valid reports whether v is one of the known visibilities.
func (v Visibility) Valid() bool {
	return v == Public || v == Unlisted || v == Private
}

// Video is the metadata of one uploaded video. Its ID is the tus upload ID.
type Video struct {
	ID          string     `json:"id"`
	Owner       string     `json:"owner,omitempty"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Tags        []string   `json:"tags"`
	Status      Status     `json:"status"`
	Visibility  Visibility `json:"visibility"`
	// Progress of processing, 0-100; 100 once ready.
	Progress float64 `json:"progress"`
	Error    string  `json:"error,omitempty"`

	// Source facts, filled in as the worker learns them.
	Filename  string  `json:"filename,omitempty"`
	SizeBytes int64   `json:"size_bytes"`
	DurationS float64 `json:"duration_s"`
	Width     int     `json:"width,omitempty"`
	Height    int     `json:"height,omitempty"`
	HasAudio  bool    `json:"has_audio,omitempty"`

	// Outputs, set by VideoReady. Paths are relative to /media/{id}/.
	Renditions []Rendition `json:"renditions"`
	Master     string      `json:"master,omitempty"`
	DASH       string      `json:"dash_manifest,omitempty"`
	Poster     string      `json:"poster,omitempty"`
	// Files lists every object written under the video's media prefix, so a
	// delete can remove them all without listing the store.
	Files []string `json:"files,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ReadyAt   time.Time `json:"ready_at,omitzero"`
}

// Rendition is one rung of the ladder as players see it.
type Rendition struct {
	Name      string  `json:"name"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	Bandwidth int     `json:"bandwidth"`
	Codecs    string  `json:"codecs"`
	FrameRate float64 `json:"frame_rate,omitempty"`
}

// JobState is where a job is in the queue.
type JobState string

// Job states. Done and Dead are final; Dead jobs wait for an admin to retry.
const (
	JobQueued  JobState = "queued"
	JobRunning JobState = "running"
	JobDone    JobState = "done"
	JobDead    JobState = "dead"
)

// JobKind names the work a job asks for.
type JobKind string

// KindTranscode turns a raw upload into the ladder and its manifests.
const KindTranscode JobKind = "transcode"

// Job is a unit of work in the replicated queue. A worker holds it through a
// lease; a lease that is not renewed expires and the job can be claimed again.
type Job struct {
	ID          string   `json:"id"`
	Seq         uint64   `json:"seq"`
	Kind        JobKind  `json:"kind"`
	VideoID     string   `json:"video_id"`
	State       JobState `json:"state"`
	Attempts    int      `json:"attempts"`
	MaxAttempts int      `json:"max_attempts"`
	Worker      string   `json:"worker,omitempty"`
	// LeaseUntil is when the current claim expires.
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// NotBefore holds a retry back until then.
	NotBefore time.Time `json:"not_before,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}
