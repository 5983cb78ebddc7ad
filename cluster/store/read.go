package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	json "github.com/go-json-experiment/json/v1"

	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/model"
)

// Video returns one video.
func (s *Store) Video(id string) (*model.Video, error) {
	cached, gone, gen := s.cache.videos.get(id)
	switch {
	case cached != nil:
		return cached, nil
	case gone:
		return nil, fmt.Errorf("video %q: %w", id, ErrNotFound)
	}
	var v model.Video
	err := s.view(func(tx *bbolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketVideos), id, &v)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("video %q: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.cache.videos.fill(id, &v, gen)
	return &v, nil
}

// Videos returns the given videos in that order, skipping any that are
// gone. Each is as some commit left it; those not in the cache are read
// in one transaction.
func (s *Store) Videos(ids []string) ([]*model.Video, error) {
	found := make([]*model.Video, len(ids))
	gens := make([]uint64, len(ids))
	misses := 0
	gone := make([]bool, len(ids))
	for i, id := range ids {
		if found[i], gone[i], gens[i] = s.cache.videos.get(id); found[i] == nil && !gone[i] {
			misses++
		}
	}
	if misses > 0 {
		err := s.view(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketVideos)
			for i, id := range ids {
				if found[i] != nil || gone[i] {
					continue
				}
				var v model.Video
				ok, err := getJSON(b, id, &v)
				if err != nil {
					return err
				}
				if ok {
					found[i] = &v
					s.cache.videos.fill(id, &v, gens[i])
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]*model.Video, 0, len(ids))
	for _, v := range found {
		if v != nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// ListVideos pages through videos newest first. cursor is the opaque value a
// previous page returned ("" for the first page); keep says which videos to
// show. The returned cursor is "" after the last page.
func (s *Store) ListVideos(cursor string, limit int, keep func(*model.Video) bool) ([]*model.Video, string, error) {
	var start []byte
	if cursor != "" {
		var err error
		start, err = base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return nil, "", fmt.Errorf("cursor: %w", ErrInvalid)
		}
	}
	var out []*model.Video
	next := ""
	err := s.view(func(tx *bbolt.Tx) error {
		videos := tx.Bucket(bucketVideos)
		cur := tx.Bucket(bucketVideosTime).Cursor()
		var k []byte
		if start == nil {
			k, _ = cur.Last()
		} else {
			// The cursor is the last key served: continue just before it.
			k, _ = cur.Seek(start)
			if k == nil {
				k, _ = cur.Last()
			} else {
				k, _ = cur.Prev()
			}
		}
		for ; k != nil; k, _ = cur.Prev() {
			if len(out) == limit {
				next = base64.RawURLEncoding.EncodeToString(timeKeyOf(out[len(out)-1]))
				return nil
			}
			var v model.Video
			raw := videos.Get(k[8:])
			if raw == nil {
				continue
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("decode video %s: %w", k[8:], err)
			}
			if keep == nil || keep(&v) {
				out = append(out, &v)
			}
		}
		return nil
	})
	return out, next, err
}

func timeKeyOf(v *model.Video) []byte { return timeKey(v.CreatedAt, v.ID) }

// EachVideo calls fn for every video, in no particular order, inside one
// read transaction. It is how the search index is rebuilt.
func (s *Store) EachVideo(fn func(*model.Video) error) error {
	return s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketVideos).ForEach(func(k, raw []byte) error {
			var v model.Video
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("decode video %s: %w", k, err)
			}
			return fn(&v)
		})
	})
}

// Job returns one job.
func (s *Store) Job(id string) (*model.Job, error) {
	var j model.Job
	err := s.view(func(tx *bbolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketJobs), id, &j)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("job %q: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// Jobs returns every job, oldest first, that keep accepts.
func (s *Store) Jobs(keep func(*model.Job) bool) ([]*model.Job, error) {
	var out []*model.Job
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketJobs).ForEach(func(k, raw []byte) error {
			var j model.Job
			if err := json.Unmarshal(raw, &j); err != nil {
				return fmt.Errorf("decode job %s: %w", k, err)
			}
			if keep == nil || keep(&j) {
				out = append(out, &j)
			}
			return nil
		})
	})
	sortJobs(out)
	return out, err
}

// JobsOf returns the jobs of one video, oldest first.
func (s *Store) JobsOf(videoID string) ([]*model.Job, error) {
	var out []*model.Job
	err := s.view(func(tx *bbolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		prefix := []byte(videoID + "/")
		cur := tx.Bucket(bucketJobsVideo).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			var j model.Job
			ok, err := getJSON(jobs, string(k[len(prefix):]), &j)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, &j)
			}
		}
		return nil
	})
	sortJobs(out)
	return out, err
}

// OpenJobs counts queued and running jobs, reading only the open-jobs index.
func (s *Store) OpenJobs() (queued, running int, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		return tx.Bucket(bucketJobsOpen).ForEach(func(_, id []byte) error {
			var j model.Job
			ok, err := getJSON(jobs, string(id), &j)
			if err != nil || !ok {
				return err
			}
			if j.State == model.JobRunning {
				running++
			} else {
				queued++
			}
			return nil
		})
	})
	return queued, running, err
}

// Hash digests the replicated state (every bucket but the node-local meta),
// so tests and operators can check that replicas converged.
func (s *Store) Hash() (string, error) {
	h := sha256.New()
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			// An empty bucket holds no state: a build that made a bucket
			// another has not made yet (mid-upgrade) holds the same.
			if k, _ := b.Cursor().First(); bytes.Equal(name, bucketMeta) || k == nil {
				return nil
			}
			h.Write(name)
			h.Write([]byte{0})
			return b.ForEach(func(k, v []byte) error {
				h.Write(k)
				h.Write([]byte{0})
				h.Write(v)
				h.Write([]byte{0})
				return nil
			})
		})
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
