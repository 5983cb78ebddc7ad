// Package steering chooses the edges that serve a viewer and writes what
// tells players about them: content steering (HLS pathways, DASH service
// locations) in the manifests, and the steering manifest players reload.
//
// The choice is a function of the edge registry (replicated: every origin
// holds the same), the edges' last reported health and load (asked of the
// nodes every few seconds, not replicated) and the viewer's address, so
// any node answers without asking another.
package steering

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/stratavideo/strata/cluster"
)

// Ranked is an edge in a viewer's order.
type Ranked struct {
	cluster.EdgeView
	// Pathway is the edge's HLS Pathway ID and DASH service location.
	Pathway string
	// Bits is the prefix length of the most specific coverage block that
	// holds the viewer, -1 when none does.
	Bits int
}

// Covers reports whether the edge's coverage holds the viewer.
func (r Ranked) Covers() bool { return r.Bits >= 0 }

// usable reports whether a viewer may be sent to the edge: it answered
// healthy, or has not been asked yet (a cluster just started should not
// send everybody to the origins for the first seconds).
func (r Ranked) usable() bool { return !r.Known || r.Healthy }

// Rank orders the edges for a viewer at client:
//
//  1. usable edges whose coverage holds the viewer, the most specific
//     block first (a /24 beats the /8 around it), then the least loaded;
//  2. the other usable edges, least loaded first: where a player goes
//     when the edges covering it fail;
//  3. edges that answered unhealthy or not at all, last.
//
// Load is bytes a second, then requests a second; equal loads go by ID, so
// every origin gives the same answer for the same state.
func Rank(edges []cluster.EdgeView, client netip.Addr) []Ranked {
	client = client.Unmap()
	out := make([]Ranked, 0, len(edges))
	for _, e := range edges {
		r := Ranked{EdgeView: e, Pathway: PathwayID(e.ID), Bits: -1}
		if client.IsValid() {
			for _, c := range e.Coverage {
				if p, err := netip.ParsePrefix(c); err == nil && p.Contains(client) && p.Bits() > r.Bits {
					r.Bits = p.Bits()
				}
			}
		}
		out = append(out, r)
	}
	class := func(r Ranked) int {
		switch {
		case !r.usable():
			return 2
		case r.Covers():
			return 0
		default:
			return 1
		}
	}
	slices.SortStableFunc(out, func(a, b Ranked) int {
		if c := cmp.Compare(class(a), class(b)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Bits, a.Bits); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Load.BytesPerSec, b.Load.BytesPerSec); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Load.RequestsPerSec, b.Load.RequestsPerSec); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Chosen is the edge a viewer should use, or nil when no usable edge
// covers the viewer: then the origin serves it.
func Chosen(ranked []Ranked) *Ranked {
	if len(ranked) > 0 && ranked[0].usable() && ranked[0].Covers() {
		return &ranked[0]
	}
	return nil
}

// Usable are the ranked edges a player may switch to.
func Usable(ranked []Ranked) []Ranked {
	i := slices.IndexFunc(ranked, func(r Ranked) bool { return !r.usable() })
	if i < 0 {
		return ranked
	}
	return ranked[:i]
}

// PathwayID makes a node ID a legal Pathway ID ([a-zA-Z0-9._-]; the same
// charset suits a DASH serviceLocation and an HLS GROUP-ID suffix).
func PathwayID(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
}
