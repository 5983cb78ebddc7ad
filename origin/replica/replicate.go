package replica

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/blobstore"
)

func (s *Set) loop() {
	defer s.done.Done()
	t := time.NewTicker(s.cfg.Every)
	defer t.Stop()
	for {
		if err := s.Round(context.Background()); err != nil {
			s.log.Warn("replication round", "error", err)
		}
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// Round makes the copies this origin is chosen to hold and does not, and
// reports the first error after trying them all.
func (s *Set) Round(ctx context.Context) error {
	members, err := s.cluster.Members()
	if err != nil {
		return err
	}
	var origins []string
	for _, m := range members {
		if m.HasRole("origin") {
			origins = append(origins, m.ID)
		}
	}
	self := s.cluster.ID()
	if len(origins) < 2 || !slices.Contains(origins, self) {
		return nil
	}
	r := min(s.cfg.Replicas, len(origins))
	var firstErr error
	cursor := ""
	for {
		vs, next, err := s.cluster.ListVideos(cursor, 200, nil)
		if err != nil {
			return err
		}
		for _, v := range vs {
			for _, kind := range []string{model.KindRaw, model.KindMedia} {
				if kind == model.KindMedia && v.Status != model.StatusReady {
					continue
				}
				if !chosen(v, kind, self, origins, r) {
					continue
				}
				if err := s.copyHere(ctx, v, kind); err != nil {
					s.log.Warn("copy blobs", "video_id", v.ID, "kind", kind, "error", err)
					if firstErr == nil {
						firstErr = err
					}
				}
			}
		}
		if next == "" {
			return firstErr
		}
		cursor = next
	}
}

// chosen reports whether self should fetch a copy: the blob has live
// holders but fewer than r, self is not one, and self ranks among the first
// non-holders by rendezvous hashing, so origins agree on who copies
// without talking to each other.
func chosen(v *model.Video, kind, self string, origins []string, r int) bool {
	var live []string
	for _, h := range v.Holders(kind) {
		if slices.Contains(origins, h) {
			live = append(live, h)
		}
	}
	if len(live) == 0 || len(live) >= r || slices.Contains(live, self) {
		return false
	}
	var candidates []string
	for _, o := range origins {
		if !slices.Contains(live, o) {
			candidates = append(candidates, o)
		}
	}
	sort.Slice(candidates, func(i, j int) bool {
		return score(v.ID, kind, candidates[i]) > score(v.ID, kind, candidates[j])
	})
	need := r - len(live)
	return slices.Contains(candidates[:min(need, len(candidates))], self)
}

func score(videoID, kind, node string) uint64 {
	h := sha256.Sum256([]byte(videoID + "\x00" + kind + "\x00" + node))
	return binary.BigEndian.Uint64(h[:8])
}

// copyHere fetches every blob of kind from a holder into the local bucket
// and records the copy.
func (s *Set) copyHere(ctx context.Context, v *model.Video, kind string) error {
	files := []string{""}
	if kind == model.KindMedia {
		files = v.Files
	}
	tmp, err := os.MkdirTemp("", "strata-replica-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bucket := s.cfg.Buckets[kind]
	for i, f := range files {
		local := filepath.Join(tmp, fmt.Sprint(i))
		if err := s.Fetch(ctx, kind, v.ID, f, local); err != nil {
			return err
		}
		if err := blobstore.PutFile(ctx, bucket, Key(kind, v.ID, f), local); err != nil {
			return err
		}
		os.Remove(local)
	}
	if err := s.Recorded(ctx, kind, v.ID); err != nil {
		return fmt.Errorf("record copy: %w", err)
	}
	s.log.Info("copied blobs to this origin", "video_id", v.ID, "kind", kind, "files", len(files))
	return nil
}
