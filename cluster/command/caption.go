package command

// Caption commands (types 70-79, level 4). The WebVTT text travels in the
// log itself, so every node, edges included, holds and serves it without
// any blob replication. It is carried as []byte (base64 in JSON): a
// string would have every "<" and ">" escaped six bytes wide and a
// caption's worst-case entry size would be hard to bound.
const (
	TypeSetCaption    Type = 70
	TypeDeleteCaption Type = 71
)

// MaxCaptionBytes bounds one caption's WebVTT text. The API refuses
// larger bodies before proposing; the store refuses them too, so a log
// entry stays well under the forwarding limit.
const MaxCaptionBytes = 1 << 20

// SetCaption adds or replaces a video's caption in one language. VTT must
// already be WebVTT (the API converts SRT) and Lang a canonical BCP 47
// tag.
type SetCaption struct {
	Stamp
	VideoID string `json:"video_id"`
	Lang    string `json:"lang"`
	Label   string `json:"label"`
	VTT     []byte `json:"vtt"`
}

// DeleteCaption removes a video's caption in one language.
type DeleteCaption struct {
	Stamp
	VideoID string `json:"video_id"`
	Lang    string `json:"lang"`
}

// CommandType implements Command.
func (SetCaption) CommandType() Type { return TypeSetCaption }

// CommandVersion implements Command.
func (SetCaption) CommandVersion() uint8 { return 1 }

// CommandType implements Command.
func (DeleteCaption) CommandType() Type { return TypeDeleteCaption }

// CommandVersion implements Command.
func (DeleteCaption) CommandVersion() uint8 { return 1 }
