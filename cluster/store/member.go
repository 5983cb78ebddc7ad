package store

import (
	"fmt"
	"sort"

	json "github.com/go-json-experiment/json/v1"

	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// RegisterMember records or replaces a node's registry entry.
func (t *Tx) RegisterMember(c *command.RegisterMember) (*model.Member, error) {
	m := c.Member
	if m.ID == "" || m.ClusterAddr == "" {
		return nil, fmt.Errorf("member without id or cluster address: %w", ErrInvalid)
	}
	m.UpdatedAt = c.At
	if err := putJSON(t.tx.Bucket(bucketMembers), m.ID, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// RemoveMember drops a node's entry, and its edge entry with it (a node
// that left serves no viewer); removing an unknown node is a no-op, so a
// retried removal succeeds. Builds from before the edge registry never
// hold an edge entry (SetEdge is level 5), so they agree on the result.
func (t *Tx) RemoveMember(c *command.RemoveMember) (*model.Member, error) {
	if err := t.tx.Bucket(bucketEdges).Delete([]byte(c.ID)); err != nil {
		return nil, err
	}
	var m model.Member
	ok, err := getJSON(t.tx.Bucket(bucketMembers), c.ID, &m)
	if err != nil || !ok {
		return nil, err
	}
	return &m, t.tx.Bucket(bucketMembers).Delete([]byte(c.ID))
}

// Members lists the registry, sorted by ID.
func (s *Store) Members() ([]*model.Member, error) {
	var out []*model.Member
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMembers).ForEach(func(k, raw []byte) error {
			var m model.Member
			if err := json.Unmarshal(raw, &m); err != nil {
				return fmt.Errorf("decode member %s: %w", k, err)
			}
			out = append(out, &m)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}
