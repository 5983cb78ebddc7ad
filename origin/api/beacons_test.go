package api

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/fsm"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/account"
	"github.com/stratavideo/strata/origin/beacon"
)

// beaconClock is the collector's settable clock.
type beaconClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *beaconClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *beaconClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// beaconRig is a node with videos v1 and v2, a collector on it, and the
// beacon and QoE endpoints routed as Provision routes them.
type beaconRig struct {
	n     *cluster.Node
	c     *beacon.Collector
	clock *beaconClock
	mux   *http.ServeMux
	// addViews and addQoE count the entries applied.
	addViews, addQoE atomic.Int64
}

func newBeaconRig(t *testing.T) *beaconRig {
	t.Helper()
	n := openNode(t, t.TempDir())
	t.Cleanup(func() { n.Close() })
	at := command.Stamp{At: time.Now().UTC()}
	applyOnly(t, n,
		&command.CreateVideo{Stamp: at, Video: model.Video{ID: "v1", Title: "One"}},
		&command.CreateVideo{Stamp: at, Video: model.Video{ID: "v2", Title: "Two"}})
	rig := &beaconRig{n: n, clock: &beaconClock{t: time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)}}
	cancel := n.Listen(func(e fsm.Event) {
		switch e.Command.(type) {
		case *command.AddViews:
			rig.addViews.Add(1)
		case *command.AddQoE:
			rig.addQoE.Add(1)
		}
	})
	t.Cleanup(cancel)
	cfg := beacon.DefaultConfig()
	cfg.Now = rig.clock.now
	cfg.RateBurst = 1 << 20
	rig.c = beacon.New(n, cfg)
	h := handler()
	h.beaconCollector = rig.c
	rig.mux = http.NewServeMux()
	rig.mux.HandleFunc("POST /api/v1/beacons", h.beacons)
	rig.mux.HandleFunc("GET /api/v1/admin/qoe", func(w http.ResponseWriter, r *http.Request) { h.runAdminQoE(w, r, n) })
	return rig
}

// send posts one beacon and returns the status.
func (rig *beaconRig) send(t *testing.T, body string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/beacons", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	rig.mux.ServeHTTP(rec, r)
	return rec.Code
}

func (rig *beaconRig) beacon(t *testing.T, b beacon.Beacon) {
	t.Helper()
	raw, _ := json.Marshal(b)
	if code := rig.send(t, string(raw)); code != http.StatusNoContent {
		t.Fatalf("beacon %+v: HTTP %d", b, code)
	}
}

func (rig *beaconRig) flush(t *testing.T) {
	t.Helper()
	if err := rig.c.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func (rig *beaconRig) views(t *testing.T, id string) int64 {
	t.Helper()
	v, err := rig.n.Video(id)
	if err != nil {
		t.Fatal(err)
	}
	return v.Views
}

// qoe asks GET /api/v1/admin/qoe as p.
func (rig *beaconRig) qoe(t *testing.T, p *account.Principal, query string, out any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/api/v1/admin/qoe"+query, nil)
	if p != nil {
		r = r.WithContext(account.WithPrincipal(r.Context(), p))
	}
	rig.mux.ServeHTTP(rec, r)
	if out != nil && rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("qoe: %v\n%s", err, rec.Body)
		}
	}
	return rec.Code
}

// TestBeaconViewsCountedOncePerSessionInBatches: through the API and the
// replicated store, a session counts no view before 10 s watched, exactly
// one after however many beacons, two sessions count two, and the counts
// reach the store in one AddViews entry per flush, not one per beacon.
func TestBeaconViewsCountedOncePerSessionInBatches(t *testing.T) {
	rig := newBeaconRig(t)
	beacons := 0
	for w := 0.0; w < 10; w += 2.5 {
		rig.beacon(t, beacon.Beacon{Session: "sA", Video: "v1", WatchedS: w})
		beacons++
	}
	rig.flush(t)
	if got := rig.views(t, "v1"); got != 0 {
		t.Fatalf("%d views before 10 s watched", got)
	}
	for w := 10.0; w <= 120; w += 10 {
		rig.beacon(t, beacon.Beacon{Session: "sA", Video: "v1", WatchedS: w})
		rig.beacon(t, beacon.Beacon{Session: "sA", Video: "v1", WatchedS: w}) // a retried beacon
		beacons += 2
		rig.clock.add(10 * time.Second)
	}
	rig.flush(t)
	if got := rig.views(t, "v1"); got != 1 {
		t.Fatalf("one session counted %d views, want 1", got)
	}
	for _, s := range []string{"sB", "sC"} {
		for _, w := range []float64{5, 15, 25} {
			rig.beacon(t, beacon.Beacon{Session: s, Video: "v1", WatchedS: w})
			beacons++
		}
	}
	rig.beacon(t, beacon.Beacon{Session: "sA", Video: "v2", WatchedS: 11})
	beacons++
	rig.flush(t)
	if v1, v2 := rig.views(t, "v1"), rig.views(t, "v2"); v1 != 3 || v2 != 1 {
		t.Fatalf("views v1 %d, v2 %d; want 3 (sessions A, B, C) and 1", v1, v2)
	}
	if n := rig.addViews.Load(); n != 2 || n >= int64(beacons) {
		t.Fatalf("%d AddViews entries for %d beacons, want 2 (one per flush that had views)", n, beacons)
	}
}

// TestAdminQoEMatchesBeacons: the sums and averages GET /api/v1/admin/qoe
// returns are those of the beacons sent, per edge, per video and per day.
func TestAdminQoEMatchesBeacons(t *testing.T) {
	rig := newBeaconRig(t)
	day1 := rig.clock.now().Format(time.DateOnly)
	// Session 1 on edge A: startup 800 ms, 20 s at 2000 kbps, then 10 s
	// at 4000 kbps, one stall of 300 ms. Beacons carry running totals.
	rig.beacon(t, beacon.Beacon{Session: "s1", Video: "v1", Edge: "edge-a", WatchedS: 0, StartupMs: 800})
	rig.beacon(t, beacon.Beacon{Session: "s1", Video: "v1", Edge: "edge-a", WatchedS: 20, StartupMs: 800, BitrateKbps: 2000})
	rig.beacon(t, beacon.Beacon{Session: "s1", Video: "v1", Edge: "edge-a", WatchedS: 30, StartupMs: 800, BitrateKbps: 4000, Rebuffers: 1, RebufferMs: 300})
	rig.beacon(t, beacon.Beacon{Session: "s1", Video: "v1", Edge: "edge-a", WatchedS: 30, StartupMs: 800, BitrateKbps: 4000, Rebuffers: 1, RebufferMs: 300}) // repeated
	// Session 2 on edge A: startup 1200 ms, 10 s at 3000 kbps, two stalls
	// of 500 ms in all and an error.
	rig.beacon(t, beacon.Beacon{Session: "s2", Video: "v1", Edge: "edge-a", WatchedS: 10, StartupMs: 1200, BitrateKbps: 3000, Rebuffers: 2, RebufferMs: 500, Errors: 1})
	rig.flush(t) // QoE arrives over several flushes; it adds up
	// Session 3 on edge B, of v1 and v2.
	rig.beacon(t, beacon.Beacon{Session: "s3", Video: "v1", Edge: "edge-b", WatchedS: 5, StartupMs: 400, BitrateKbps: 1000})
	rig.beacon(t, beacon.Beacon{Session: "s3", Video: "v2", Edge: "edge-b", WatchedS: 40, StartupMs: 600, BitrateKbps: 5000, Errors: 2})
	rig.flush(t)
	// After midnight, s1 fails over to edge B: 10 s more at 1000 kbps.
	rig.clock.add(5 * time.Hour)
	day2 := rig.clock.now().Format(time.DateOnly)
	rig.beacon(t, beacon.Beacon{Session: "s1", Video: "v1", Edge: "edge-b", WatchedS: 40, StartupMs: 800, BitrateKbps: 1000, Rebuffers: 1, RebufferMs: 300})
	rig.flush(t)

	admin := &account.Principal{User: &model.User{ID: "admin1", Role: model.RoleAdmin}}
	var got QoEView
	if code := rig.qoe(t, admin, "?video=v1&day="+day1, &got); code != http.StatusOK {
		t.Fatalf("qoe: HTTP %d", code)
	}
	if len(got.Rows) != 2 || got.Rows[0].Edge != "edge-a" || got.Rows[1].Edge != "edge-b" {
		t.Fatalf("rows %+v, want edge-a and edge-b", got.Rows)
	}
	a := got.Rows[0]
	want := model.QoE{Day: day1, Video: "v1", Edge: "edge-a", Sessions: 2, StartupMsSum: 2000, StartupCount: 2,
		Rebuffers: 3, RebufferMs: 800, WatchedMs: 40000, Kilobits: 2000*20 + 4000*10 + 3000*10, BitrateMs: 40000, Errors: 1}
	if a.QoE != want {
		t.Fatalf("edge-a sums\n got %+v\nwant %+v", a.QoE, want)
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	near("edge-a startup_ms_avg", a.StartupMsAvg, 1000)
	near("edge-a bitrate_kbps_avg", a.BitrateKbpsAvg, 110000.0/40)
	near("edge-a rebuffer_ratio", a.RebufferRatio, 800.0/40800)
	tot := got.Totals
	if tot.Sessions != 3 || tot.StartupCount != 3 || tot.WatchedMs != 45000 || tot.Errors != 1 || tot.Rebuffers != 3 {
		t.Fatalf("v1 totals of %s: %+v", day1, tot.QoE)
	}
	near("v1 startup_ms_avg", tot.StartupMsAvg, 2400.0/3)
	near("v1 bitrate_kbps_avg", tot.BitrateKbpsAvg, 115000.0/45)

	// Day 2: only s1's minute on edge B, with no new startup or stall.
	if code := rig.qoe(t, admin, "?video=v1&day="+day2, &got); code != http.StatusOK {
		t.Fatalf("qoe day 2: HTTP %d", code)
	}
	want2 := model.QoE{Day: day2, Video: "v1", Edge: "edge-b", Sessions: 1, WatchedMs: 10000, Kilobits: 10000, BitrateMs: 10000}
	if len(got.Rows) != 1 || got.Rows[0].QoE != want2 {
		t.Fatalf("day 2 rows %+v, want %+v", got.Rows, want2)
	}

	// Every video on day 1, by edge.
	if code := rig.qoe(t, admin, "?day="+day1, &got); code != http.StatusOK {
		t.Fatalf("qoe all videos: HTTP %d", code)
	}
	if len(got.Rows) != 3 || len(got.ByEdge) != 2 || got.ByEdge[1].Edge != "edge-b" || got.ByEdge[1].Sessions != 2 ||
		got.ByEdge[1].Errors != 2 || got.Totals.Sessions != 4 {
		t.Fatalf("day 1 of all videos: %+v", got)
	}
	near("edge-b startup_ms_avg", got.ByEdge[1].StartupMsAvg, 500)
	// All days of v1: both days' rows.
	if code := rig.qoe(t, admin, "?video=v1", &got); code != http.StatusOK || len(got.Rows) != 3 || got.Totals.WatchedMs != 55000 {
		t.Fatalf("v1 on all days: HTTP %d %+v", code, got)
	}

	// By day, for the dashboard's charts: every video, both days, oldest
	// first; with limit=0 no rows but the same sums.
	if code := rig.qoe(t, admin, "?limit=0", &got); code != http.StatusOK {
		t.Fatalf("qoe by day: HTTP %d", code)
	}
	if len(got.Rows) != 0 || !got.Truncated || len(got.ByDay) != 2 {
		t.Fatalf("limit=0: %d rows (truncated %v), %d days; want 0, true, 2", len(got.Rows), got.Truncated, len(got.ByDay))
	}
	d1, d2 := got.ByDay[0], got.ByDay[1]
	if d1.Day != day1 || d1.Sessions != 4 || d1.StartupCount != 4 || d1.WatchedMs != 85000 || d1.RebufferMs != 800 {
		t.Errorf("by_day[0] = %+v, want %s with 4 sessions, 4 startups, 85 s watched, 800 ms stalled", d1.QoE, day1)
	}
	near("day 1 startup_ms_avg", d1.StartupMsAvg, 3000.0/4)
	near("day 1 rebuffer_ratio", d1.RebufferRatio, 800.0/85800)
	if d2.Day != day2 || d2.Sessions != 1 || d2.WatchedMs != 10000 || d2.RebufferRatio != 0 {
		t.Errorf("by_day[1] = %+v, want %s with 1 session, 10 s watched, no stall", d2.QoE, day2)
	}
	if got.Totals.Sessions != 5 {
		t.Errorf("totals with limit=0: %d sessions, want 5", got.Totals.Sessions)
	}
	if code := rig.qoe(t, admin, "?video=v1&limit=1", &got); code != http.StatusOK || len(got.Rows) != 1 || !got.Truncated || len(got.ByDay) != 2 {
		t.Errorf("limit=1: HTTP %d, %d rows, truncated %v, %d days", code, len(got.Rows), got.Truncated, len(got.ByDay))
	}
	if code := rig.qoe(t, admin, "?limit=-1", nil); code != http.StatusBadRequest {
		t.Errorf("limit=-1: HTTP %d, want 400", code)
	}

	// Admins only; a bad day is a 400.
	if code := rig.qoe(t, nil, "", nil); code != http.StatusUnauthorized {
		t.Errorf("anonymous: HTTP %d, want 401", code)
	}
	user := &account.Principal{User: &model.User{ID: "u1", Role: model.RoleUser}}
	if code := rig.qoe(t, user, "", nil); code != http.StatusForbidden {
		t.Errorf("user: HTTP %d, want 403", code)
	}
	if code := rig.qoe(t, admin, "?day=yesterday", nil); code != http.StatusBadRequest {
		t.Errorf("bad day: HTTP %d, want 400", code)
	}
	if rig.addQoE.Load() != 3 {
		t.Errorf("%d AddQoE entries for 3 flushes", rig.addQoE.Load())
	}
}

// TestBadBeaconsRefused: oversized, negative and malformed beacons get a
// 4xx with a JSON error, an unknown video a 404, and none counts a view
// or a quality figure.
func TestBadBeaconsRefused(t *testing.T) {
	rig := newBeaconRig(t)
	cases := []struct {
		name, body string
		want       int
	}{
		{"oversized", `{"session":"s1","video":"v1","watched_s":20,"edge":"` + strings.Repeat("e", 9000) + `"}`, http.StatusRequestEntityTooLarge},
		{"negative watched_s", `{"session":"s1","video":"v1","watched_s":-30}`, http.StatusBadRequest},
		{"negative startup_ms", `{"session":"s1","video":"v1","watched_s":30,"startup_ms":-1}`, http.StatusBadRequest},
		{"negative errors", `{"session":"s1","video":"v1","watched_s":30,"errors":-2}`, http.StatusBadRequest},
		{"not JSON", `watched=30`, http.StatusBadRequest},
		{"no video", `{"session":"s1","watched_s":30}`, http.StatusBadRequest},
		{"unknown video", `{"session":"s1","video":"nope","watched_s":30}`, http.StatusNotFound},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		rig.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/beacons", strings.NewReader(tc.body)))
		var body struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != tc.want || body.Error.Code == "" || body.Error.Message == "" {
			t.Errorf("%s: HTTP %d %s, want %d with an error code and message", tc.name, rec.Code, rec.Body, tc.want)
		}
	}
	rig.flush(t)
	if v := rig.views(t, "v1"); v != 0 {
		t.Fatalf("refused beacons counted %d views", v)
	}
	if rows, err := rig.n.QoE("", ""); err != nil || len(rows) != 0 {
		t.Fatalf("refused beacons stored quality %v (%v)", rows, err)
	}
	if n := rig.addViews.Load() + rig.addQoE.Load(); n != 0 {
		t.Fatalf("%d entries written for refused beacons", n)
	}
	// A good beacon afterwards still counts.
	rig.beacon(t, beacon.Beacon{Session: "s1", Video: "v1", WatchedS: 30})
	rig.flush(t)
	if v := rig.views(t, "v1"); v != 1 {
		t.Fatalf("views %d after a good beacon, want 1", v)
	}
}
