package api

import (
	"net/http"
	"strings"

	json "github.com/go-json-experiment/json/v1"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/origin/httperr"
	"github.com/stratavideo/strata/origin/steering"
)

// chooseEdge points a playable video's manifests at the edge chosen for
// the viewer (steering.Rank: coverage, then health and load), and lists
// the edges the viewer may use. With no usable edge covering the viewer,
// the manifests stay paths on this node: the origin serves the viewer.
// Pictures stay on this node either way; they are small and the page
// already comes from here.
func (h *Handler) chooseEdge(r *http.Request, n *cluster.Node, out *Video) {
	if !out.Playable || out.HLS == "" && out.DASH == "" {
		return
	}
	edges, err := n.EdgeViews()
	if err != nil {
		h.log.Error("edge registry", "error", err)
		return
	}
	ranked := steering.Rank(edges, steering.ClientIP(r))
	chosen := steering.Chosen(ranked)
	if chosen == nil {
		return
	}
	for _, e := range steering.Usable(ranked) {
		out.Edges = append(out.Edges, EdgeRef{ID: e.ID, Region: e.Region, URL: e.PublicURL, Covers: e.Covers()})
	}
	out.Edge = chosen.ID
	for _, u := range []*string{&out.HLS, &out.DASH} {
		if strings.HasPrefix(*u, "/media/") {
			*u = chosen.PublicURL + *u
		}
	}
}

// steeringManifest answers GET /api/v1/steering/{id}: the content steering
// manifest of a playable video for this viewer (HLS pathways, or DASH
// service locations with ?dash=1 or _DASH_pathway). Players ask it again
// every TTL; the pathway and throughput they report (_HLS_pathway,
// _HLS_throughput) are not used: the order comes from coverage, health
// and load. It answers any page (CORS): players on a page of one node ask
// the edge their manifest came from.
func (h *Handler) steeringManifest(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	p, ok := h.parts(w)
	if !ok {
		return
	}
	v, err := p.Node.Video(r.PathValue("id"))
	if err == nil && !v.Playable() {
		err = store.ErrNotFound
	}
	if err != nil {
		h.writeStoreError(w, err, "video")
		return
	}
	edges, err := p.Node.EdgeViews()
	if err != nil {
		h.log.Error("edge registry", "error", err)
		httperr.Internal(w)
		return
	}
	q := r.URL.Query()
	dash := q.Has("dash") || q.Has("_DASH_pathway")
	m, ok := steering.NewManifest(steering.Rank(edges, steering.ClientIP(r)), v.ID, dash, steering.DefaultTTL)
	if !ok {
		httperr.NotFound(w, "steering manifest (no edges)")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// The order is this viewer's, and it changes with the edges' health.
	w.Header().Set("Cache-Control", "private, no-store")
	_ = json.NewEncoder(w).Encode(m)
}
