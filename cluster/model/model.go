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
	// Language is the BCP 47 tag of the spoken language the file's audio
	// stream declares ("" when it says nothing or "und").
	Language string `json:"language,omitempty"`

	// Outputs, set by VideoReady. Paths are relative to /media/{id}/.
	Renditions []Rendition `json:"renditions"`
	Master     string      `json:"master,omitempty"`
	DASH       string      `json:"dash_manifest,omitempty"`
	Poster     string      `json:"poster,omitempty"`
	// Thumbnails are the poster picture at several sizes, largest first,
	// and Storyboard the scrubbing previews (nil for audio).
	Thumbnails []Image     `json:"thumbnails,omitempty"`
	Storyboard *Storyboard `json:"storyboard,omitempty"`
	// Pending names the rungs still being encoded while a processing
	// video is already playable at its lower rungs (fast first play).
	Pending []string `json:"renditions_pending,omitempty"`
	// Files lists every object written under the video's media prefix, so a
	// delete can remove them all without listing the store.
	Files []string `json:"files,omitempty"`
	// RawHolders and MediaHolders are the origins holding a copy of the
	// upload and of the media, when origins keep blobs on their own disks.
	RawHolders   []string `json:"raw_holders,omitempty"`
	MediaHolders []string `json:"media_holders,omitempty"`
	// Captions are the subtitle tracks, by language; their text is in the
	// store's captions bucket.
	Captions []Caption `json:"captions,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ReadyAt   time.Time `json:"ready_at,omitzero"`

	// Views counts plays since the video was created. RecentViews holds
	// the latest of them per hour, which is what trending decays.
	Views       int64       `json:"views,omitempty"`
	RecentViews []HourViews `json:"recent_views,omitempty"`
}

// Image is one picture file of a video's media.
type Image struct {
	File   string `json:"file"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Storyboard is a WebVTT thumbnails track (cues pointing at rectangles of
// sprite sheets) that players show while the viewer scrubs.
type Storyboard struct {
	VTT        string   `json:"vtt"`
	Sprites    []string `json:"sprites"`
	TileWidth  int      `json:"tile_width"`
	TileHeight int      `json:"tile_height"`
	IntervalS  float64  `json:"interval_s"`
}

// Playable reports whether v's media can be watched: a ready video, or
// one still processing whose first rungs are published.
func (v *Video) Playable() bool {
	return v.Status == StatusReady || v.Status == StatusProcessing && v.Master != ""
}

// Blob kinds: a video's uploaded file, and its transcoded media.
const (
	KindRaw   = "raw"
	KindMedia = "media"
)

// Holders returns the holders of one kind of a video's blobs.
func (v *Video) Holders(kind string) []string {
	if kind == KindRaw {
		return v.RawHolders
	}
	return v.MediaHolders
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

// HourViews counts the views of one video in one UTC hour. Views are kept
// per hour, as integers, rather than as a decayed score: every replica then
// stores the same bytes whatever its floating-point unit, and the decay (its
// half-life) is a choice of the search index at query time, not a fact
// frozen into the log.
type HourViews struct {
	// Hour is the hour's start in hours since the Unix epoch.
	Hour int64 `json:"h"`
	N    int64 `json:"n"`
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

// Job kinds. A transcode job either makes the whole ladder itself or, for
// a long source, cuts it into pieces: one chunk job per piece, which any
// origin's worker may take, and a join job, queued when the last chunk is
// done, that puts the chunks together.
const (
	KindTranscode JobKind = "transcode"
	KindChunk     JobKind = "chunk"
	KindJoin      JobKind = "join"
)

// ChunkSpec is what a chunk or join job needs to know beyond its video.
type ChunkSpec struct {
	// Index is the piece a chunk job encodes (0-based); Count how many
	// pieces there are.
	Index int `json:"index"`
	Count int `json:"count"`
	// Holder is the origin that cut the source: it holds the pieces, the
	// audio and the pictures in its work area.
	Holder string `json:"holder"`
	// Output is the origin that holds a chunk job's output, once done.
	// A join job lists every chunk's in Outputs, by index.
	Output  string   `json:"output,omitempty"`
	Outputs []string `json:"outputs,omitempty"`
	// Plan is the cutting origin's description of the encode (opaque to
	// the store), so that every chunk makes the same rungs.
	Plan []byte `json:"plan,omitempty"`
}

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
	// Chunk is set on chunk and join jobs.
	Chunk     *ChunkSpec `json:"chunk,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Member is a node of the cluster as the replicated registry knows it: what
// it is for and where to reach it. Liveness is not replicated; it is asked
// of the node when needed.
type Member struct {
	ID    string   `json:"id"`
	Roles []string `json:"roles"`
	// ClusterAddr is the node's cluster port (Raft and RPC).
	ClusterAddr string `json:"cluster_addr"`
	// HTTPURL is where the node serves HTTP (API, media), for peers and
	// for choosing where viewers go.
	HTTPURL string `json:"http_url,omitempty"`
	// Voter says whether the node votes in Raft (origins) or only follows
	// the log (edges).
	Voter     bool      `json:"voter"`
	UpdatedAt time.Time `json:"updated_at"`
}

// HasRole reports whether m runs the named role.
func (m *Member) HasRole(role string) bool {
	for _, r := range m.Roles {
		if r == role {
			return true
		}
	}
	return false
}
