package media

import (
	"net/http"

	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin"
	"github.com/stratavideo/strata/origin/steering"
)

// Content steering. With edges registered, the master playlist and the MPD
// list every edge as a pathway (HLS) or service location (DASH), with the
// steering server (steering.Path, relative: every node that serves the API
// answers it, edges included) that tells each player its order. A player
// whose edge fails moves to the next pathway on its own, without waiting
// for the steering server. See steering.ForManifest for whose order a
// manifest carries.

// steer is the pathways a manifest request gets, best first, and whether
// the order is the viewer's own.
func (h *Handler) steer(r *http.Request, p origin.Parts, v *model.Video) ([]steering.Pathway, bool) {
	edges, err := p.Node.EdgeViews()
	if err != nil {
		h.log.Error("edge registry", "error", err)
		return nil, false
	}
	ranked, perViewer := steering.ForManifest(r, edges)
	if len(ranked) == 0 {
		return nil, false
	}
	return steering.Pathways(ranked, v.ID), perViewer
}

// addSteering adds the pathways to a manifest; one that cannot be steered
// is served as it is (it still plays, from wherever it was fetched).
func (h *Handler) addSteering(data []byte, master bool, videoID string, pathways []steering.Pathway, key string) []byte {
	if len(pathways) == 0 {
		return data
	}
	var out []byte
	var err error
	if master {
		out, err = steering.SteerMaster(data, pathways, steering.Path(videoID))
	} else {
		out, err = steering.SteerMPD(data, pathways, steering.Path(videoID)+"?dash=1")
	}
	if err != nil {
		h.log.Error("add content steering to manifest", "key", key, "error", err)
		return data
	}
	return out
}
