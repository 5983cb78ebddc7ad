package beacon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeNode records the commands applied and knows the videos given.
type fakeNode struct {
	mu     sync.Mutex
	videos map[string]bool
	cmds   []command.Command
	fail   error
}

func (f *fakeNode) Apply(_ context.Context, c command.Command) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.cmds = append(f.cmds, c)
	return 1, nil
}

func (f *fakeNode) Video(id string) (*model.Video, error) {
	if f.videos[id] {
		return &model.Video{ID: id}, nil
	}
	return nil, fmt.Errorf("video %q: %w", id, store.ErrNotFound)
}

// views adds up the AddViews applied, by video, and counts the entries.
func (f *fakeNode) views() (map[string]int64, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out, n := map[string]int64{}, 0
	for _, c := range f.cmds {
		if av, ok := c.(*command.AddViews); ok {
			n++
			for _, v := range av.Views {
				out[v.ID] += v.N
			}
		}
	}
	return out, n
}

func newTestCollector(videos ...string) (*Collector, *fakeNode, *clock) {
	fn := &fakeNode{videos: map[string]bool{}}
	for _, v := range videos {
		fn.videos[v] = true
	}
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := DefaultConfig()
	cfg.Now = clk.now
	cfg.RateBurst = 1 << 20 // the limit has a test of its own
	return New(fn, cfg), fn, clk
}

// post sends one beacon and returns the status.
func post(t *testing.T, c *Collector, body string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/beacons", strings.NewReader(body))
	r.RemoteAddr = "192.0.2.7:5000"
	c.ServeHTTP(rec, r)
	if rec.Code != http.StatusNoContent && rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("HTTP %d without a JSON error: %s", rec.Code, rec.Body)
	}
	return rec.Code
}

func beaconJSON(session, video string, watched float64) string {
	b, _ := json.Marshal(Beacon{Session: session, Video: video, WatchedS: watched, StartupMs: 500, BitrateKbps: 1000, Edge: "e1"})
	return string(b)
}

// TestViewsOncePerSessionAfterTenSeconds: a session counts no view before
// 10 s watched, exactly one however many beacons follow, and a second
// session (or another video in the same session) counts again.
func TestViewsOncePerSessionAfterTenSeconds(t *testing.T) {
	c, fn, clk := newTestCollector("v1", "v2")
	ctx := context.Background()
	for _, w := range []float64{0, 2.5, 5, 9.99} {
		if code := post(t, c, beaconJSON("s1", "v1", w)); code != http.StatusNoContent {
			t.Fatalf("beacon at %v s: HTTP %d", w, code)
		}
		clk.add(time.Second)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := fn.views(); v["v1"] != 0 {
		t.Fatalf("%d views before 10 s watched", v["v1"])
	}
	for w := 10.0; w < 100; w += 5 {
		post(t, c, beaconJSON("s1", "v1", w))
		clk.add(time.Second)
	}
	// A repeated, late or reordered beacon counts nothing more.
	post(t, c, beaconJSON("s1", "v1", 11))
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := fn.views(); v["v1"] != 1 {
		t.Fatalf("one session counted %d views, want 1", v["v1"])
	}
	post(t, c, beaconJSON("s2", "v1", 10))
	post(t, c, beaconJSON("s2", "v1", 20))
	post(t, c, beaconJSON("s1", "v2", 30))
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := fn.views(); v["v1"] != 2 || v["v2"] != 1 {
		t.Fatalf("views %v, want v1 2 (two sessions) and v2 1", v)
	}
}

// TestFlushBatches: many beacons make one AddViews and one AddQoE entry
// per flush, and an empty flush writes nothing.
func TestFlushBatches(t *testing.T) {
	c, fn, _ := newTestCollector("v1", "v2")
	for i := range 200 {
		post(t, c, beaconJSON(fmt.Sprintf("s%d", i), []string{"v1", "v2"}[i%2], 15))
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	v, entries := fn.views()
	if v["v1"] != 100 || v["v2"] != 100 || entries != 1 {
		t.Fatalf("views %v in %d AddViews entries, want 100 each in 1", v, entries)
	}
	if len(fn.cmds) != 2 {
		t.Fatalf("%d entries applied, want 2 (AddViews, AddQoE)", len(fn.cmds))
	}
	q := fn.cmds[1].(*command.AddQoE)
	var sessions int64
	for _, r := range q.Rows {
		sessions += r.Sessions
	}
	if len(q.Rows) != 2 || sessions != 200 {
		t.Fatalf("AddQoE rows %+v, want 2 rows of 200 sessions in all", q.Rows)
	}
}

// TestFlushKeepsWhatWasNotWritten: with no leader, the counts wait for the
// next flush; after another failure (maybe applied) they are dropped.
func TestFlushKeepsWhatWasNotWritten(t *testing.T) {
	c, fn, _ := newTestCollector("v1")
	post(t, c, beaconJSON("s1", "v1", 12))
	fn.fail = cluster.ErrNotLeader
	if err := c.Flush(context.Background()); err == nil {
		t.Fatal("flush without a leader did not fail")
	}
	fn.fail = nil
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, _ := fn.views(); v["v1"] != 1 {
		t.Fatalf("views %v after a retried flush, want 1", v)
	}
	post(t, c, beaconJSON("s2", "v1", 12))
	fn.fail = fmt.Errorf("outcome unknown")
	c.Flush(context.Background())
	fn.fail = nil
	c.Flush(context.Background())
	if v, _ := fn.views(); v["v1"] != 1 {
		t.Fatalf("views %v: a write of unknown outcome was retried", v)
	}
}

// TestSessionsExpireAndStayBounded: a session unseen for the TTL is
// forgotten, and the map never holds more than MaxSessions.
func TestSessionsExpireAndStayBounded(t *testing.T) {
	fn := &fakeNode{videos: map[string]bool{"v1": true}}
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := DefaultConfig()
	cfg.Now, cfg.MaxSessions, cfg.SessionTTL = clk.now, 10, time.Hour
	c := New(fn, cfg)
	for i := range 25 {
		post(t, c, beaconJSON(fmt.Sprintf("s%d", i), "v1", 1))
	}
	if n := c.Sessions(); n != 10 {
		t.Fatalf("%d sessions remembered, want the bound 10", n)
	}
	clk.add(30 * time.Minute)
	post(t, c, beaconJSON("s24", "v1", 2)) // still seen
	clk.add(31 * time.Minute)
	if n := c.Sessions(); n != 1 {
		t.Fatalf("%d sessions remembered after the TTL, want 1", n)
	}
}

// TestBadBeaconsCountNothing: malformed, negative, oversized, unknown-video
// and rate-limited beacons are refused with a clear status, and nothing
// is counted.
func TestBadBeaconsCountNothing(t *testing.T) {
	c, fn, _ := newTestCollector("v1")
	cases := []struct {
		name string
		body string
		want int
	}{
		{"not JSON", "hello", http.StatusBadRequest},
		{"two objects", beaconJSON("s1", "v1", 20) + beaconJSON("s1", "v1", 20), http.StatusBadRequest},
		{"no session", `{"video":"v1","watched_s":20}`, http.StatusBadRequest},
		{"negative watched", `{"session":"s1","video":"v1","watched_s":-20}`, http.StatusBadRequest},
		{"negative rebuffers", `{"session":"s1","video":"v1","watched_s":20,"rebuffers":-1}`, http.StatusBadRequest},
		{"negative bitrate", `{"session":"s1","video":"v1","watched_s":20,"bitrate_kbps":-5}`, http.StatusBadRequest},
		{"string number", `{"session":"s1","video":"v1","watched_s":"20"}`, http.StatusBadRequest},
		{"unknown video", `{"session":"s1","video":"nope","watched_s":20}`, http.StatusNotFound},
		{"oversized", `{"session":"s1","video":"v1","watched_s":20,"edge":"` + strings.Repeat("x", MaxBody) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		if code := post(t, c, tc.body); code != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, code, tc.want)
		}
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(fn.cmds) != 0 {
		t.Fatalf("refused beacons wrote %+v", fn.cmds)
	}
	// The limit: a burst, then 429.
	cfg := DefaultConfig()
	cfg.Now = (&clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}).now
	lc := New(fn, cfg)
	limited := 0
	for i := range 300 {
		if post(t, lc, beaconJSON(fmt.Sprintf("r%d", i), "v1", 1)) == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("300 beacons at once from one IP were all taken")
	}
}
