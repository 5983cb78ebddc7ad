package edge

import (
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/fsm"
	"github.com/stratavideo/strata/cluster/model"
)

// onEvent keeps the cache and the access gate true to the cluster log. It
// runs on the apply path, after the store holds the change, so a request
// that reads the store after the purge sees the new state; the purge only
// touches maps and leaves file removal to a goroutine.
//
//   - DeleteVideo: the video is gone; purge it.
//   - UpdateVideo making a video private: purge it, so no cached copy can
//     reach a request without a token (the gate refuses new ones).
//   - VideoReady: a new ladder may reuse manifest names; purge it.
//   - CreateVideo, VideoFailed, any UpdateVideo: what the gate remembers
//     of the video is out of date.
//   - SetCaption, DeleteCaption: the manifests list the captions, and the
//     caption's own files changed; purge those, not the segments.
func (r *running) onEvent(e fsm.Event) {
	switch c := e.Command.(type) {
	case *command.DeleteVideo:
		r.gate.Invalidate(c.ID)
		r.cache.PurgeVideo(c.ID)
	case *command.UpdateVideo:
		r.gate.Invalidate(c.ID)
		if c.Visibility != nil && *c.Visibility == model.Private {
			r.cache.PurgeVideo(c.ID)
		}
	case *command.VideoReady:
		r.gate.Invalidate(c.ID)
		r.cache.PurgeVideo(c.ID)
	case *command.VideoPlayable:
		r.gate.Invalidate(c.ID)
		r.cache.PurgeVideo(c.ID)
	case *command.CreateVideo:
		r.gate.Invalidate(c.Video.ID)
	case *command.VideoFailed:
		r.gate.Invalidate(c.ID)
	case *command.SetCaption:
		r.purgeCaptioned(e.Value, c.Lang)
	case *command.DeleteCaption:
		r.purgeCaptioned(e.Value, c.Lang)
	}
}

// purgeCaptioned drops what a caption change makes stale: the video's
// master playlist and MPD (rewritten with the caption list on the way out)
// and the caption's files. v is the apply result, nil when the command was
// refused and nothing changed.
func (r *running) purgeCaptioned(v any, lang string) {
	video, ok := v.(*model.Video)
	if !ok || video == nil {
		return
	}
	base := "/media/" + video.ID + "/"
	for _, f := range []string{video.Master, video.DASH} {
		if f != "" {
			r.cache.PurgeKey(video.ID, base+f)
		}
	}
	r.cache.PurgeKey(video.ID, base+"captions/"+lang+".vtt")
	r.cache.PurgeKey(video.ID, base+"captions/"+lang+".m3u8")
}
