package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// Bounds on captions, so a bad proposer cannot grow a video record or the
// store without limit.
const (
	maxCaptions     = 50
	maxCaptionLang  = 35 // RFC 5646 advises room for 35 characters
	maxCaptionLabel = 100
)

// captionKey is the key of a caption's text: video ID, "/", language, so a
// video's captions are one prefix (video IDs hold no "/").
func captionKey(videoID, lang string) []byte { return []byte(videoID + "/" + lang) }

// validLang reports whether lang could be a canonical BCP 47 tag. The API
// parses and canonicalises tags; the store checks only what keeps keys and
// media file names safe, so a replica never depends on a tag table that a
// newer x/text could change.
func validLang(lang string) bool {
	if lang == "" || len(lang) > maxCaptionLang || lang[0] == '-' {
		return false
	}
	for i := 0; i < len(lang); i++ {
		c := lang[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// SetCaption adds or replaces the caption of one language. The result is
// the video with its new caption list.
func (t *Tx) SetCaption(c *command.SetCaption) (*model.Video, error) {
	switch {
	case !validLang(c.Lang):
		return nil, fmt.Errorf("caption language %q: %w", c.Lang, ErrInvalid)
	case len(c.VTT) > command.MaxCaptionBytes:
		return nil, fmt.Errorf("caption of %d bytes (at most %d): %w", len(c.VTT), command.MaxCaptionBytes, ErrInvalid)
	case !bytes.HasPrefix(bytes.TrimPrefix(c.VTT, []byte("\uFEFF")), []byte("WEBVTT")):
		return nil, fmt.Errorf("caption is not WebVTT: %w", ErrInvalid)
	case utf8.RuneCountInString(c.Label) > maxCaptionLabel || strings.TrimSpace(c.Label) == "" ||
		strings.ContainsFunc(c.Label, func(r rune) bool { return r == '"' || unicode.IsControl(r) }):
		// The label is a quoted string in HLS playlists.
		return nil, fmt.Errorf("caption label must have 1 to %d characters, no quotes or control characters: %w", maxCaptionLabel, ErrInvalid)
	}
	v, err := t.video(c.VideoID)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(c.VTT)
	cp := model.Caption{Lang: c.Lang, Label: c.Label, SHA256: hex.EncodeToString(sum[:]),
		SizeBytes: int64(len(c.VTT)), UpdatedAt: c.At}
	caps := slices.Clone(v.Captions)
	if i := slices.IndexFunc(caps, func(x model.Caption) bool { return x.Lang == c.Lang }); i >= 0 {
		caps[i] = cp
	} else {
		if len(caps) >= maxCaptions {
			return nil, fmt.Errorf("a video has at most %d captions: %w", maxCaptions, ErrInvalid)
		}
		caps = append(caps, cp)
		slices.SortFunc(caps, func(a, b model.Caption) int { return strings.Compare(a.Lang, b.Lang) })
	}
	v.Captions = caps
	v.UpdatedAt = c.At
	if err := t.tx.Bucket(bucketCaptions).Put(captionKey(v.ID, c.Lang), c.VTT); err != nil {
		return nil, fmt.Errorf("put caption %s/%s: %w", v.ID, c.Lang, err)
	}
	return v, t.putVideo(v, false)
}

// DeleteCaption removes the caption of one language; a language the
// video has no caption in is ErrNotFound.
func (t *Tx) DeleteCaption(c *command.DeleteCaption) (*model.Video, error) {
	v, err := t.video(c.VideoID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(v.Captions, func(x model.Caption) bool { return x.Lang == c.Lang })
	if i < 0 {
		return nil, fmt.Errorf("caption %q of video %q: %w", c.Lang, c.VideoID, ErrNotFound)
	}
	v.Captions = slices.Delete(slices.Clone(v.Captions), i, i+1)
	v.UpdatedAt = c.At
	if err := t.tx.Bucket(bucketCaptions).Delete(captionKey(v.ID, c.Lang)); err != nil {
		return nil, fmt.Errorf("delete caption %s/%s: %w", v.ID, c.Lang, err)
	}
	return v, t.putVideo(v, false)
}

// deleteCaptionsOf removes the text of every caption of a video.
func (t *Tx) deleteCaptionsOf(videoID string) error {
	b := t.tx.Bucket(bucketCaptions)
	prefix := []byte(videoID + "/")
	var keys [][]byte
	cur := b.Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		keys = append(keys, slices.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("delete caption %s: %w", k, err)
		}
	}
	return nil
}

// CaptionText returns the WebVTT text of a video's caption in lang.
func (s *Store) CaptionText(videoID, lang string) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketCaptions).Get(captionKey(videoID, lang))
		if raw == nil {
			return fmt.Errorf("caption %q of video %q: %w", lang, videoID, ErrNotFound)
		}
		out = slices.Clone(raw) // bbolt's slice is valid only in the transaction
		return nil
	})
	return out, err
}
