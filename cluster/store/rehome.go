package store

import (
	"fmt"

	json "github.com/go-json-experiment/json/v1"

	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/model"
)

// Rehome prepares a store restored from a backup to be the whole state of
// a new, one-node cluster: it records applied as the last applied entry
// (the Raft snapshot the restore writes), forgets the old cluster's member
// registry, and, when holder is set (the backup brought the media with it),
// records that node as the only holder of every video's copies.
func (s *Store) Rehome(applied uint64, holder string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return fmt.Errorf("store is closed")
	}
	if err := s.commitHeldLocked(); err != nil {
		return err
	}
	defer s.cache.reset()
	return s.db.Update(func(tx *bbolt.Tx) error {
		members := tx.Bucket(bucketMembers)
		var ids [][]byte
		if err := members.ForEach(func(k, _ []byte) error {
			ids = append(ids, append([]byte(nil), k...))
			return nil
		}); err != nil {
			return err
		}
		for _, k := range ids {
			if err := members.Delete(k); err != nil {
				return err
			}
		}
		if holder != "" {
			videos := tx.Bucket(bucketVideos)
			c := videos.Cursor()
			type rec struct {
				k []byte
				v model.Video
			}
			var changed []rec
			for k, raw := c.First(); k != nil; k, raw = c.Next() {
				var v model.Video
				if err := json.Unmarshal(raw, &v); err != nil {
					return fmt.Errorf("decode video %s: %w", k, err)
				}
				if len(v.RawHolders) > 0 {
					v.RawHolders = []string{holder}
				}
				if len(v.MediaHolders) > 0 {
					v.MediaHolders = []string{holder}
				}
				changed = append(changed, rec{append([]byte(nil), k...), v})
			}
			for _, r := range changed {
				if err := putJSON(videos, string(r.k), &r.v); err != nil {
					return err
				}
			}
		}
		return putUint(tx.Bucket(bucketMeta), keyApplied, applied)
	})
}
