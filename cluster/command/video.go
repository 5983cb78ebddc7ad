package command

import "github.com/stratavideo/strata/cluster/model"

// CreateVideo records a finished upload. The video starts as uploaded.
type CreateVideo struct {
	Stamp
	Video model.Video `json:"video"`
}

// UpdateVideo changes the editable fields; nil fields are left alone.
type UpdateVideo struct {
	Stamp
	ID          string            `json:"id"`
	Title       *string           `json:"title,omitempty"`
	Description *string           `json:"description,omitempty"`
	Tags        *[]string         `json:"tags,omitempty"`
	Visibility  *model.Visibility `json:"visibility,omitempty"`
}

// UpdateProgress records processing progress (0-100). Workers throttle it.
type UpdateProgress struct {
	Stamp
	ID       string  `json:"id"`
	Progress float64 `json:"progress"`
}

// VideoReady records the finished ladder and its manifests.
type VideoReady struct {
	Stamp
	ID         string            `json:"id"`
	DurationS  float64           `json:"duration_s"`
	Width      int               `json:"width"`
	Height     int               `json:"height"`
	HasAudio   bool              `json:"has_audio"`
	Renditions []model.Rendition `json:"renditions"`
	Master     string            `json:"master"`
	DASH       string            `json:"dash"`
	Poster     string            `json:"poster"`
	Files      []string          `json:"files"`
	// Holder is the origin that wrote the media; it becomes the only
	// holder (copies of an earlier attempt's media are stale).
	Holder string `json:"holder,omitempty"`
}

// VideoPlayable publishes the first rungs of a video still processing
// (fast first play): the video stays processing, but its master and MPD
// now play at those rungs while Pending ones are encoded.
type VideoPlayable struct {
	VideoReady
	Pending []string `json:"pending"`
}

// CommandType implements Command.
func (VideoPlayable) CommandType() Type { return TypeVideoPlayable }

// CommandVersion implements Command.
func (VideoPlayable) CommandVersion() uint8 { return 1 }

// SetMediaInfo records what processing learnt beyond the ladder: the
// thumbnails and storyboard (their files are listed in the VideoReady that
// follows) and the spoken language the file declares.
type SetMediaInfo struct {
	Stamp
	ID         string            `json:"id"`
	Language   string            `json:"language,omitempty"`
	Thumbnails []model.Image     `json:"thumbnails"`
	Storyboard *model.Storyboard `json:"storyboard,omitempty"`
}

// CommandType implements Command.
func (SetMediaInfo) CommandType() Type { return TypeSetMediaInfo }

// CommandVersion implements Command.
func (SetMediaInfo) CommandVersion() uint8 { return 1 }

// RecordReplica records that an origin now holds (or no longer holds) a
// copy of one kind of a video's blobs.
type RecordReplica struct {
	Stamp
	VideoID string `json:"video_id"`
	Kind    string `json:"kind"`
	NodeID  string `json:"node_id"`
	Remove  bool   `json:"remove,omitempty"`
}

// CommandType implements Command.
func (RecordReplica) CommandType() Type { return TypeRecordReplica }

// CommandVersion implements Command.
func (RecordReplica) CommandVersion() uint8 { return 1 }

// VideoFailed records that a video cannot be processed, and why, in words a
// user can read.
type VideoFailed struct {
	Stamp
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// DeleteVideo removes a video, its jobs and its index entry.
type DeleteVideo struct {
	Stamp
	ID string `json:"id"`
}

// CommandType implements Command.
func (CreateVideo) CommandType() Type { return TypeCreateVideo }

// CommandType implements Command.
func (UpdateVideo) CommandType() Type { return TypeUpdateVideo }

// CommandType implements Command.
func (UpdateProgress) CommandType() Type { return TypeUpdateProgress }

// CommandType implements Command.
func (VideoReady) CommandType() Type { return TypeVideoReady }

// CommandType implements Command.
func (VideoFailed) CommandType() Type { return TypeVideoFailed }

// CommandType implements Command.
func (DeleteVideo) CommandType() Type { return TypeDeleteVideo }

// CommandVersion implements Command.
func (CreateVideo) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (UpdateVideo) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (UpdateProgress) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (VideoReady) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (VideoFailed) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (DeleteVideo) CommandVersion() uint8 { return 1 }
