package api

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/beacon"
	"github.com/stratavideo/strata/origin/httperr"
)

// Player beacons and what they add up to:
//
//	POST /api/v1/beacons               a player's beacon (anyone; see package beacon)
//	GET  /api/v1/admin/qoe?video=&day=&limit= admins: playback quality by video, edge and day

// maxQoERows bounds the rows GET /api/v1/admin/qoe lists (limit may ask
// for fewer, 0 for none); totals, by_edge and by_day still cover every row.
const maxQoERows = 5000

// QoEFigures is one row of sums with the averages made from them.
type QoEFigures struct {
	model.QoE
	// StartupMsAvg is the average startup time.
	StartupMsAvg float64 `json:"startup_ms_avg"`
	// BitrateKbpsAvg is the average bitrate, weighted by play time.
	BitrateKbpsAvg float64 `json:"bitrate_kbps_avg"`
	// RebufferRatio is the share of the session time spent stalled.
	RebufferRatio float64 `json:"rebuffer_ratio"`
}

func figures(q model.QoE) QoEFigures {
	f := QoEFigures{QoE: q}
	if q.StartupCount > 0 {
		f.StartupMsAvg = float64(q.StartupMsSum) / float64(q.StartupCount)
	}
	if q.BitrateMs > 0 {
		f.BitrateKbpsAvg = float64(q.Kilobits) * 1000 / float64(q.BitrateMs)
	}
	if t := q.WatchedMs + q.RebufferMs; t > 0 {
		f.RebufferRatio = float64(q.RebufferMs) / float64(t)
	}
	return f
}

// QoEView is GET /api/v1/admin/qoe's answer: the rows matching the
// filters (by day, video, edge), their totals, their sums by edge and
// their sums by day (oldest first; days without beacons are absent), the
// series the dashboard draws.
type QoEView struct {
	Day       string       `json:"day,omitempty"`
	Video     string       `json:"video,omitempty"`
	Totals    QoEFigures   `json:"totals"`
	ByEdge    []QoEFigures `json:"by_edge"`
	ByDay     []QoEFigures `json:"by_day"`
	Rows      []QoEFigures `json:"rows"`
	Truncated bool         `json:"truncated,omitempty"`
}

// collectors shares a node's beacon collector across config reloads:
// Caddy provisions the new config before it cleans up the old, and a
// fresh collector would forget the sessions it saw (counting their views
// again). The last config to let go stops it, after a last flush.
var collectors = caddy.NewUsagePool()

// runningCollector is a collector and its flusher.
type runningCollector struct {
	c      *beacon.Collector
	cancel context.CancelFunc
	done   chan struct{}
}

// Destruct stops the flusher, which flushes once more.
func (rc *runningCollector) Destruct() error {
	rc.cancel()
	<-rc.done
	return nil
}

// startBeacons takes (or starts) the node's collector.
func (h *Handler) startBeacons(n *cluster.Node) error {
	v, _, err := collectors.LoadOrNew(n, func() (caddy.Destructor, error) {
		cfg := beacon.DefaultConfig()
		cfg.Log = h.log
		ctx, cancel := context.WithCancel(context.Background())
		rc := &runningCollector{c: beacon.New(n, cfg), cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(rc.done)
			rc.c.Run(ctx)
		}()
		return rc, nil
	})
	if err != nil {
		return err
	}
	h.beaconCollector, h.beaconKey = v.(*runningCollector).c, n
	return nil
}

// Cleanup lets go of the beacon collector.
func (h *Handler) Cleanup() error {
	if h.beaconKey == nil {
		return nil
	}
	_, err := collectors.Delete(h.beaconKey)
	h.beaconKey = nil
	return err
}

var _ caddy.CleanerUpper = (*Handler)(nil)

func (h *Handler) beacons(w http.ResponseWriter, r *http.Request) {
	if h.beaconCollector == nil {
		httperr.Unavailable(w, "the node is starting; try again in a moment")
		return
	}
	h.beaconCollector.ServeHTTP(w, r)
}

func (h *Handler) adminQoE(w http.ResponseWriter, r *http.Request) {
	h.runAdminQoE(w, r, h.app.Node())
}

func (h *Handler) runAdminQoE(w http.ResponseWriter, r *http.Request, n *cluster.Node) {
	if !needAdmin(w, r) {
		return
	}
	q := r.URL.Query()
	day, video := q.Get("day"), q.Get("video")
	if day != "" {
		if _, err := time.Parse(time.DateOnly, day); err != nil {
			httperr.BadRequest(w, "day is a date, 2006-01-02 (UTC)")
			return
		}
	}
	limit, err := intParam(r, "limit", maxQoERows, 0, maxQoERows)
	if err != nil {
		httperr.BadRequest(w, err.Error())
		return
	}
	rows, err := n.QoE(day, video)
	if err != nil {
		h.writeStoreError(w, err, "qoe")
		return
	}
	out := QoEView{Day: day, Video: video, ByEdge: []QoEFigures{}, ByDay: []QoEFigures{}, Rows: make([]QoEFigures, 0, min(len(rows), limit))}
	var total model.QoE
	edges := map[string]*model.QoE{}
	days := map[string]*model.QoE{}
	for _, row := range rows {
		total.Add(row)
		e := edges[row.Edge]
		if e == nil {
			e = &model.QoE{Day: day, Video: video, Edge: row.Edge}
			edges[row.Edge] = e
		}
		e.Add(row)
		d := days[row.Day]
		if d == nil {
			d = &model.QoE{Day: row.Day, Video: video}
			days[row.Day] = d
		}
		d.Add(row)
		if len(out.Rows) < limit {
			out.Rows = append(out.Rows, figures(*row))
		} else {
			out.Truncated = true
		}
	}
	total.Day, total.Video = day, video
	out.Totals = figures(total)
	for _, e := range edges {
		out.ByEdge = append(out.ByEdge, figures(*e))
	}
	sort.Slice(out.ByEdge, func(i, j int) bool { return out.ByEdge[i].Edge < out.ByEdge[j].Edge })
	for _, d := range days {
		out.ByDay = append(out.ByDay, figures(*d))
	}
	sort.Slice(out.ByDay, func(i, j int) bool { return out.ByDay[i].Day < out.ByDay[j].Day })
	writeJSON(w, http.StatusOK, out)
}
