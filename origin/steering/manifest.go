package steering

import (
	"net/url"
	"time"
)

// DefaultTTL is how long a player keeps a steering manifest before it
// asks again. Failover does not wait for it (a player moves off a pathway
// that fails at once); it bounds how long a player stays on a worse edge
// after a better one comes back, or a loaded one sheds load.
const DefaultTTL = 30 * time.Second

// Path is where the steering server answers for a video, on every node
// that serves the API.
func Path(videoID string) string { return "/api/v1/steering/" + url.PathEscape(videoID) }

// Manifest is a steering manifest: HLS content steering (RFC 8216bis
// 4.4.6.6 and 7.2) names pathways, DASH-IF content steering the same
// list as service locations.
type Manifest struct {
	Version   int    `json:"VERSION"`
	TTL       int    `json:"TTL"`
	ReloadURI string `json:"RELOAD-URI,omitempty"`
	// PathwayPriority (HLS) or ServiceLocationPriority (DASH): the
	// viewer's edges, best first.
	PathwayPriority         []string `json:"PATHWAY-PRIORITY,omitempty"`
	ServiceLocationPriority []string `json:"SERVICE-LOCATION-PRIORITY,omitempty"`
}

// NewManifest is the steering manifest for a viewer whose edges are
// ranked. The priority lists the usable edges (all of them when none is:
// the list may not be empty, and a player keeps away from pathways that
// fail for it anyway). The reload goes to the first usable edge's own
// steering server, so the manifest keeps coming when the edge that
// served the playlist is the one that failed. ok is false when there are
// no edges at all.
func NewManifest(ranked []Ranked, videoID string, dash bool, ttl time.Duration) (m Manifest, ok bool) {
	if len(ranked) == 0 {
		return Manifest{}, false
	}
	pick := Usable(ranked)
	if len(pick) == 0 {
		pick = ranked
	}
	ids := make([]string, len(pick))
	for i, r := range pick {
		ids[i] = r.Pathway
	}
	m = Manifest{Version: 1, TTL: max(1, int(ttl/time.Second))}
	if dash {
		m.ServiceLocationPriority = ids
	} else {
		m.PathwayPriority = ids
	}
	m.ReloadURI = pick[0].PublicURL + Path(videoID)
	if dash {
		m.ReloadURI += "?dash=1"
	}
	return m, true
}

// Pathway is one edge as the manifests name it: its ID and the URL of the
// video's media folder on it.
type Pathway struct {
	ID   string
	Base string // absolute, ending in "/"
}

// Pathways are the ranked edges as pathways for videoID, in their order.
func Pathways(ranked []Ranked, videoID string) []Pathway {
	out := make([]Pathway, len(ranked))
	for i, r := range ranked {
		out[i] = Pathway{ID: r.Pathway, Base: r.PublicURL + "/media/" + url.PathEscape(videoID) + "/"}
	}
	return out
}
