package upload

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/origin/blobstore"
)

// Limits on what uploaders may say about their video.
const (
	maxTitle       = 200
	maxDescription = 5000
	maxTags        = 30
	maxTag         = 50
)

// idAlphabet is Crockford's base32 in lower case: no vowels that spell
// words by accident, nothing a URL must escape.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// idLen gives 60 random bits: short enough to read aloud, and collisions
// stay unlikely far past any community's catalogue (CreateVideo refuses a
// duplicate anyway).
const idLen = 12

// NewID returns a fresh video ID.
func NewID() string {
	var b [idLen]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b[:])
}

// RawKey is where an upload's bytes live in the raw store.
func RawKey(videoID string) string { return videoID + "/source" }

// JobID is the ID of a video's transcode job.
func JobID(videoID string) string { return videoID + "-transcode" }

// meta is the metadata an upload carries, checked.
type meta struct {
	title, description, filename string
	tags                         []string
}

func parseMeta(md tusd.MetaData) (meta, error) {
	m := meta{
		title:       strings.TrimSpace(md["title"]),
		description: strings.TrimSpace(md["description"]),
		filename:    path.Base(strings.ReplaceAll(strings.TrimSpace(md["filename"]), "\\", "/")),
	}
	if m.filename == "." || m.filename == "/" {
		m.filename = ""
	}
	if m.title == "" {
		m.title = strings.TrimSpace(strings.TrimSuffix(m.filename, path.Ext(m.filename)))
	}
	if m.title == "" {
		m.title = "Untitled video"
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"title", m.title, maxTitle}, {"description", m.description, maxDescription}} {
		if !utf8.ValidString(f.v) {
			return m, fmt.Errorf("the %s is not valid UTF-8", f.name)
		}
		if n := utf8.RuneCountInString(f.v); n > f.max {
			return m, fmt.Errorf("the %s has %d characters; at most %d are allowed", f.name, n, f.max)
		}
	}
	tags, err := ParseTags(md["tags"])
	if err != nil {
		return m, err
	}
	m.tags = tags
	return m, nil
}

// ParseTags splits a comma-separated tag list, trims it and drops duplicates
// (ignoring case), keeping the first spelling.
func ParseTags(s string) ([]string, error) {
	return NormalizeTags(strings.Split(s, ","))
}

// NormalizeTags applies the tag rules to a list.
func NormalizeTags(in []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.Join(strings.Fields(t), " ")
		if t == "" {
			continue
		}
		if !utf8.ValidString(t) || utf8.RuneCountInString(t) > maxTag {
			return nil, fmt.Errorf("the tag %.20q… is longer than %d characters", t, maxTag)
		}
		k := strings.ToLower(t)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, fmt.Errorf("%d tags given; at most %d are allowed", len(out), maxTags)
	}
	return out, nil
}

// preCreate checks the metadata and the API's grant (quotas), records the
// owner, and gives the upload a short ID, which becomes the video's ID.
func (h *Handler) preCreate(ev tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	if _, err := parseMeta(ev.Upload.MetaData); err != nil {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, tusError(http.StatusBadRequest, "invalid_metadata", err.Error())
	}
	md, err := applyGrant(ev)
	if err != nil {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, err
	}
	return tusd.HTTPResponse{}, tusd.FileInfoChanges{ID: NewID(), MetaData: md}, nil
}

// preFinish runs when the last byte has arrived, before the client is told:
// the file goes to the raw store, then the video and its job to the cluster.
// Each step is idempotent, so a retry after a failure here is safe.
func (h *Handler) preFinish(ev tusd.HookEvent) (tusd.HTTPResponse, error) {
	info := ev.Upload
	id := info.ID
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ev.Context), 10*time.Minute)
	defer cancel()
	m, err := parseMeta(info.MetaData)
	if err != nil {
		return tusd.HTTPResponse{}, tusError(http.StatusBadRequest, "invalid_metadata", err.Error())
	}
	src := info.Storage[filestore.StorageKeyPath]
	if src == "" {
		return tusd.HTTPResponse{}, fmt.Errorf("upload %s: staged file unknown", id)
	}
	if err := blobstore.PutFile(ctx, h.cfg.Raw, RawKey(id), src); err != nil {
		return tusd.HTTPResponse{}, fmt.Errorf("upload %s: store raw file: %w", id, err)
	}
	now := h.cfg.Now().UTC()
	_, err = h.cfg.Cluster.Apply(ctx, &command.CreateVideo{Stamp: command.Stamp{At: now}, Video: model.Video{
		ID: id, Owner: info.MetaData[ownerKey], Title: m.title, Description: m.description, Tags: m.tags,
		Filename: m.filename, SizeBytes: info.Size, Visibility: model.Public,
		RawHolders: holders(h.cfg.Self),
	}})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return tusd.HTTPResponse{}, fmt.Errorf("upload %s: create video: %w", id, err)
	}
	_, err = h.cfg.Cluster.Apply(ctx, &command.EnqueueJob{Stamp: command.Stamp{At: now},
		ID: JobID(id), Kind: model.KindTranscode, VideoID: id, MaxAttempts: h.cfg.MaxAttempts})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return tusd.HTTPResponse{}, fmt.Errorf("upload %s: enqueue transcode: %w", id, err)
	}
	h.log.Info("upload finished", "video_id", id, "bytes", info.Size, "title", m.title)
	if h.cfg.OnFinish != nil {
		h.cfg.OnFinish(info.Size)
	}
	return tusd.HTTPResponse{Header: tusd.HTTPHeader{"Strata-Video-Id": id}}, nil
}

func holders(self string) []string {
	if self == "" {
		return nil
	}
	return []string{self}
}
