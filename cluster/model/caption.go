package model

import "time"

// Caption describes one subtitle track of a video, in one language. The
// WebVTT text itself is kept apart from the video record (in the store's
// captions bucket), so reading a video or a list of them never pays for
// the text, while every node still holds it through the Raft log and can
// serve it without a blob copy.
type Caption struct {
	// Lang is the BCP 47 tag, in canonical form (en, en-US, pt-BR).
	Lang string `json:"lang"`
	// Label is the track's name in players' menus.
	Label string `json:"label"`
	// SHA256 is the hex digest of the WebVTT text: it names the version,
	// so manifests that list the caption change their ETag with it.
	SHA256    string    `json:"sha256"`
	SizeBytes int64     `json:"size_bytes"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Caption returns the caption of lang, or nil.
func (v *Video) Caption(lang string) *Caption {
	for i := range v.Captions {
		if v.Captions[i].Lang == lang {
			return &v.Captions[i]
		}
	}
	return nil
}
