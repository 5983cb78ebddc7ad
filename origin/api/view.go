package api

import (
	"time"

	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/model"
)

// Video is the API's view of a video: the record, with the media paths
// turned into URLs and internal fields left out.
type Video struct {
	ID    string `json:"id"`
	Owner string `json:"owner,omitempty"`
	// OwnerName and OwnerDisplayName are the owner's account names (the
	// list and the video's own answer say them; search hits do not).
	OwnerName        string           `json:"owner_name,omitempty"`
	OwnerDisplayName string           `json:"owner_display_name,omitempty"`
	Title            string           `json:"title"`
	Description      string           `json:"description"`
	Tags             []string         `json:"tags"`
	Status           model.Status     `json:"status"`
	Visibility       model.Visibility `json:"visibility"`
	Progress         float64          `json:"progress"`
	Error            string           `json:"error,omitempty"`
	DurationS        float64          `json:"duration_s"`
	Width            int              `json:"width,omitempty"`
	Height           int              `json:"height,omitempty"`
	SizeBytes        int64            `json:"size_bytes"`
	// Language is the spoken language's BCP 47 tag, as the file declares
	// it; absent when it declares none.
	Language string `json:"language,omitempty"`
	// DerivedTags are what the record implies (hd, 4k, portrait, short,
	// audio-only…), the very tags the tag filter and the derived facet
	// of search match.
	DerivedTags []string `json:"derived_tags"`
	// Renditions are the rungs that play now; while a video is still
	// processing but Playable (fast first play), RenditionsPending names
	// the larger rungs still being encoded.
	Renditions        []model.Rendition `json:"renditions"`
	RenditionsPending []string          `json:"renditions_pending"`
	Playable          bool              `json:"playable"`
	// HLS and DASH are the manifests: absolute URLs on the edge chosen
	// for this viewer (Edge), or paths on this node when no edge covers
	// the viewer.
	HLS  string `json:"hls"`
	DASH string `json:"dash"`
	// Edge is the ID of the edge chosen for this viewer, absent when the
	// origin serves the viewer; Edges are the edges the viewer may use,
	// best first (the content steering order).
	Edge      string     `json:"edge,omitempty"`
	Edges     []EdgeRef  `json:"edges,omitempty"`
	Thumbnail string     `json:"thumbnail"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	ReadyAt   *time.Time `json:"ready_at,omitempty"`
	// Thumbnails are the poster at several sizes, largest first;
	// Storyboard is a WebVTT thumbnails track for scrubbing previews.
	Thumbnails []Thumbnail `json:"thumbnails"`
	Storyboard string      `json:"storyboard,omitempty"`
	// Captions are the subtitle tracks; the manifests list them too.
	Captions []Caption `json:"captions"`
	// MediaToken opens a private video's media (?token=); only its owner
	// and admins get one.
	MediaToken string `json:"media_token,omitempty"`
	// Views counts plays since the video was created (0 is written, so
	// the watch page can say "No views yet" rather than guess).
	Views int64 `json:"views"`
	// Score is set on search hits.
	Score *float64 `json:"score,omitempty"`
}

// EdgeRef is an edge as a viewer's answer names it.
type EdgeRef struct {
	ID     string `json:"id"`
	Region string `json:"region,omitempty"`
	URL    string `json:"url"`
	// Covers says the edge's coverage holds the viewer's address.
	Covers bool `json:"covers"`
}

// MediaURL is the URL of a file of a video's media.
func MediaURL(id, file string) string {
	if file == "" {
		return ""
	}
	return "/media/" + id + "/" + file
}

// Thumbnail is one size of a video's picture.
type Thumbnail struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

func view(v *model.Video) Video {
	out := Video{
		ID: v.ID, Owner: v.Owner, Title: v.Title, Description: v.Description, Tags: v.Tags,
		Status: v.Status, Visibility: v.Visibility, Progress: v.Progress, Error: v.Error,
		DurationS: v.DurationS, Width: v.Width, Height: v.Height, SizeBytes: v.SizeBytes,
		Renditions: v.Renditions, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		RenditionsPending: v.Pending, Playable: v.Playable(),
		Language: v.Language, DerivedTags: index.DerivedTags(v), Views: v.Views,
		Captions:   captionViews(v),
		Thumbnails: []Thumbnail{},
	}
	if out.RenditionsPending == nil {
		out.RenditionsPending = []string{}
	}
	if out.DerivedTags == nil {
		out.DerivedTags = []string{}
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if out.Renditions == nil {
		out.Renditions = []model.Rendition{}
	}
	if v.Playable() {
		out.HLS = MediaURL(v.ID, v.Master)
		out.DASH = MediaURL(v.ID, v.DASH)
		out.Thumbnail = MediaURL(v.ID, v.Poster)
		for _, im := range v.Thumbnails {
			out.Thumbnails = append(out.Thumbnails, Thumbnail{URL: MediaURL(v.ID, im.File), Width: im.Width, Height: im.Height})
		}
		if v.Storyboard != nil {
			out.Storyboard = MediaURL(v.ID, v.Storyboard.VTT)
		}
		if !v.ReadyAt.IsZero() {
			t := v.ReadyAt
			out.ReadyAt = &t
		}
	}
	return out
}
