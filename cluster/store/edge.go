package store

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"

	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// Bounds on an edge entry, so one proposer cannot grow every replica
// without limit.
const (
	maxEdgeCoverage = 1000
	maxEdgeRegion   = 64
	maxEdgeURL      = 512
)

// SetEdge records or replaces an edge's delivery entry. The entry is
// checked here as well as by the proposer, with nothing but the standard
// library, so every replica decides alike: an absolute http(s) URL
// without query or fragment, canonical CIDR blocks.
func (t *Tx) SetEdge(c *command.SetEdge) (*model.Edge, error) {
	e := c.Edge
	if err := CheckEdge(&e); err != nil {
		return nil, err
	}
	e.UpdatedAt = c.At
	if err := putJSON(t.tx.Bucket(bucketEdges), e.ID, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// RemoveEdge drops an edge's entry; removing an unknown edge is a no-op.
func (t *Tx) RemoveEdge(c *command.RemoveEdge) (*model.Edge, error) {
	var e model.Edge
	ok, err := getJSON(t.tx.Bucket(bucketEdges), c.ID, &e)
	if err != nil || !ok {
		return nil, err
	}
	return &e, t.tx.Bucket(bucketEdges).Delete([]byte(c.ID))
}

// CheckEdge validates e and puts its URL and coverage in canonical form
// (no trailing slash; blocks masked, sorted, without duplicates).
func CheckEdge(e *model.Edge) error {
	if e.ID == "" {
		return fmt.Errorf("edge without id: %w", ErrInvalid)
	}
	u, err := url.Parse(e.PublicURL)
	if err != nil || len(e.PublicURL) > maxEdgeURL || (u.Scheme != "http" && u.Scheme != "https") ||
		u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(e.PublicURL, "\"' \t\r\n,") {
		return fmt.Errorf("edge %s: public URL %q: want http(s)://host[:port][/prefix]: %w", e.ID, e.PublicURL, ErrInvalid)
	}
	e.PublicURL = strings.TrimRight(e.PublicURL, "/")
	if utf8.RuneCountInString(e.Region) > maxEdgeRegion {
		return fmt.Errorf("edge %s: region longer than %d characters: %w", e.ID, maxEdgeRegion, ErrInvalid)
	}
	if len(e.Coverage) > maxEdgeCoverage {
		return fmt.Errorf("edge %s: %d coverage blocks (at most %d): %w", e.ID, len(e.Coverage), maxEdgeCoverage, ErrInvalid)
	}
	cov := make([]string, 0, len(e.Coverage))
	for _, s := range e.Coverage {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("edge %s: coverage %q: %w", e.ID, s, ErrInvalid)
		}
		cov = append(cov, p.Masked().String())
	}
	slices.Sort(cov)
	e.Coverage = slices.Compact(cov)
	if len(e.Coverage) == 0 {
		e.Coverage = nil
	}
	return nil
}

// Edges lists the edge registry, sorted by ID.
func (s *Store) Edges() ([]*model.Edge, error) {
	var out []*model.Edge
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketEdges).ForEach(func(k, raw []byte) error {
			var e model.Edge
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("decode edge %s: %w", k, err)
			}
			out = append(out, &e)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}
