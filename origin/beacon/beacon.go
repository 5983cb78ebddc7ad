// Package beacon takes the players' beacons (POST /api/v1/beacons): it
// counts views and adds up playback quality, in memory on the node that
// receives them, and writes both to the replicated store in batches.
//
// A beacon carries its session's running totals (watched seconds,
// rebuffers, errors so far), so a lost or repeated beacon does no harm:
// the collector keeps the last totals of each (session, video) and counts
// only what grew. A view counts once per (session, video), once at least
// ViewAfter has been watched. Sessions are remembered for SessionTTL after
// their last beacon, at most MaxSessions of them (the least recently seen
// go first), on the node that received them: a player whose beacons reach
// two nodes may be counted on each.
//
// Every FlushEvery, Run proposes one AddViews entry with every view
// counted since the last flush and one AddQoE entry with every quality
// sum, not one Raft write per beacon.
package beacon

import (
	"container/list"
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

// Beacon is one event from the player.
type Beacon struct {
	// Session is a random ID the player makes for one playback.
	Session string `json:"session"`
	Video   string `json:"video"`
	// WatchedS is the time played so far in this session.
	WatchedS float64 `json:"watched_s"`
	// StartupMs is the time from pressing play to the first frame.
	StartupMs float64 `json:"startup_ms"`
	// Rebuffers and RebufferMs are the stalls so far and their time.
	Rebuffers  int64   `json:"rebuffers"`
	RebufferMs float64 `json:"rebuffer_ms"`
	// BitrateKbps is the bitrate playing now (0: unknown).
	BitrateKbps float64 `json:"bitrate_kbps"`
	// Errors is the number of errors so far.
	Errors int64 `json:"errors"`
	// Edge is the edge node ID or host serving the media ("" when an
	// origin serves it).
	Edge string `json:"edge"`
}

// Applier is what the collector needs of the cluster node.
type Applier interface {
	Apply(ctx context.Context, c command.Command) (any, error)
	Video(id string) (*model.Video, error)
}

// Config tunes a Collector.
type Config struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// ViewAfter is how much of a session must be watched to count a view.
	ViewAfter time.Duration
	// SessionTTL is how long a session is remembered after its last beacon.
	SessionTTL time.Duration
	// MaxSessions bounds the sessions remembered.
	MaxSessions int
	// MaxPendingRows bounds the quality rows waiting for a flush (a
	// cluster that cannot take them for long drops the newest).
	MaxPendingRows int
	// FlushEvery is the interval between writes to the store.
	FlushEvery time.Duration
	// RateEvery and RateBurst limit beacons per client IP.
	RateEvery time.Duration
	RateBurst int
	// Log gets flush failures (discarded when nil).
	Log *slog.Logger
}

// DefaultConfig is what a node uses.
func DefaultConfig() Config {
	return Config{
		Now:            time.Now,
		ViewAfter:      10 * time.Second,
		SessionTTL:     6 * time.Hour,
		MaxSessions:    200_000,
		MaxPendingRows: 50_000,
		FlushEvery:     time.Second,
		RateEvery:      50 * time.Millisecond, // 20 a second,
		RateBurst:      100,                   // many players behind one NAT
	}
}

// session is what the collector remembers of one (session, video).
type session struct {
	key       string
	seen      time.Time
	counted   bool // the view is counted
	startup   bool // the startup time is counted
	watched   float64
	rebuffers int64
	rebufMs   float64
	errors    int64
	edges     []string // the edges the session was counted on
}

// maxEdgesPerSession bounds the edges remembered per session; a session
// moving among more counts again on each.
const maxEdgesPerSession = 8

// Collector counts views and adds up quality from beacons.
type Collector struct {
	node  Applier
	cfg   Config
	log   *slog.Logger
	limit *ipLimiter

	mu       sync.Mutex
	sessions map[string]*list.Element // of *session
	lru      *list.List               // least recently seen first
	views    map[string]int64         // video ID → views since the last flush
	qoe      map[string]*model.QoE    // day, video, edge → sums since the last flush

	flushMu sync.Mutex // one flush at a time
}

// New makes a collector writing through node.
func New(node Applier, cfg Config) *Collector {
	def := DefaultConfig()
	if cfg.Now == nil {
		cfg.Now = def.Now
	}
	if cfg.ViewAfter <= 0 {
		cfg.ViewAfter = def.ViewAfter
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = def.SessionTTL
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = def.MaxSessions
	}
	if cfg.MaxPendingRows <= 0 {
		cfg.MaxPendingRows = def.MaxPendingRows
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = def.FlushEvery
	}
	if cfg.RateEvery <= 0 || cfg.RateBurst <= 0 {
		cfg.RateEvery, cfg.RateBurst = def.RateEvery, def.RateBurst
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{
		node: node, cfg: cfg, log: log,
		limit:    newIPLimiter(cfg.RateEvery, cfg.RateBurst, cfg.Now),
		sessions: map[string]*list.Element{},
		lru:      list.New(),
		views:    map[string]int64{},
		qoe:      map[string]*model.QoE{},
	}
}

// Record adds one beacon, already checked (see check), received now.
func (c *Collector) Record(b *Beacon) {
	now := c.cfg.Now()
	edge := b.Edge
	if edge == "" {
		edge = "origin"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	st := c.session(b.Session+"\x00"+b.Video, now)

	if !st.counted && b.WatchedS >= c.cfg.ViewAfter.Seconds() {
		st.counted = true
		c.views[b.Video]++
	}
	day := now.UTC().Format(time.DateOnly)
	k := day + "\x00" + b.Video + "\x00" + edge
	row := c.qoe[k]
	if row == nil {
		if len(c.qoe) >= c.cfg.MaxPendingRows {
			// The store has not taken rows for a long while: drop this
			// beacon's quality, but keep the session's totals so that
			// nothing is counted twice later.
			c.advance(st, b)
			return
		}
		row = &model.QoE{Day: day, Video: b.Video, Edge: edge}
		c.qoe[k] = row
	}
	newEdge := true
	for _, e := range st.edges {
		if e == edge {
			newEdge = false
		}
	}
	if newEdge && len(st.edges) < maxEdgesPerSession {
		st.edges = append(st.edges, edge)
		row.Sessions++
	}
	if !st.startup && b.StartupMs > 0 {
		st.startup = true
		row.StartupMsSum += int64(math.Round(b.StartupMs))
		row.StartupCount++
	}
	if d := b.Rebuffers - st.rebuffers; d > 0 {
		row.Rebuffers += d
	}
	if d := b.RebufferMs - st.rebufMs; d > 0 {
		row.RebufferMs += int64(math.Round(d))
	}
	if d := b.Errors - st.errors; d > 0 {
		row.Errors += d
	}
	if d := b.WatchedS - st.watched; d > 0 {
		ms := int64(math.Round(d * 1000))
		row.WatchedMs += ms
		if b.BitrateKbps > 0 {
			row.BitrateMs += ms
			row.Kilobits += int64(math.Round(b.BitrateKbps * d))
		}
	}
	c.advance(st, b)
}

// advance keeps the session's highest totals.
func (c *Collector) advance(st *session, b *Beacon) {
	st.watched = max(st.watched, b.WatchedS)
	st.rebuffers = max(st.rebuffers, b.Rebuffers)
	st.rebufMs = max(st.rebufMs, b.RebufferMs)
	st.errors = max(st.errors, b.Errors)
}

// session finds or makes the state of key, marking it seen now. c.mu held.
func (c *Collector) session(key string, now time.Time) *session {
	if el, ok := c.sessions[key]; ok {
		st := el.Value.(*session)
		st.seen = now
		c.lru.MoveToBack(el)
		return st
	}
	for c.lru.Len() >= c.cfg.MaxSessions {
		c.drop(c.lru.Front())
	}
	st := &session{key: key, seen: now}
	c.sessions[key] = c.lru.PushBack(st)
	return st
}

// expire forgets sessions unseen for SessionTTL. c.mu held.
func (c *Collector) expire(now time.Time) {
	for el := c.lru.Front(); el != nil && now.Sub(el.Value.(*session).seen) > c.cfg.SessionTTL; el = c.lru.Front() {
		c.drop(el)
	}
}

func (c *Collector) drop(el *list.Element) {
	delete(c.sessions, el.Value.(*session).key)
	c.lru.Remove(el)
}

// Sessions is the number of sessions remembered.
func (c *Collector) Sessions() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(c.cfg.Now())
	return c.lru.Len()
}

// Run flushes every FlushEvery until ctx ends, then once more.
func (c *Collector) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// Briefly: the node may be closing too.
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := c.Flush(fctx); err != nil {
				c.log.Warn("beacons: the last flush failed; those views and quality figures are lost", "error", err)
			}
			cancel()
			return
		case <-t.C:
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := c.Flush(fctx); err != nil {
				c.log.Warn("beacons: flush failed", "error", err)
			}
			cancel()
		}
	}
}

// Flush writes what was counted since the last flush: one AddViews entry
// and one AddQoE entry (none when there is nothing). What the cluster
// certainly did not take (no leader, an upgrade in progress) stays for the
// next flush; after any other failure it is dropped, since it may have
// been applied.
func (c *Collector) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	views, rows := c.views, c.qoe
	c.views, c.qoe = map[string]int64{}, map[string]*model.QoE{}
	c.mu.Unlock()

	at := command.Stamp{At: c.cfg.Now().UTC()}
	var errs []error
	if len(views) > 0 {
		cmd := &command.AddViews{Stamp: at, Views: make([]command.VideoViews, 0, len(views))}
		for id, n := range views {
			cmd.Views = append(cmd.Views, command.VideoViews{ID: id, N: n})
		}
		if _, err := c.node.Apply(ctx, cmd); err != nil {
			errs = append(errs, err)
			if retryable(err) {
				c.mu.Lock()
				for id, n := range views {
					c.views[id] += n
				}
				c.mu.Unlock()
			}
		}
	}
	if len(rows) > 0 {
		cmd := &command.AddQoE{Stamp: at, Rows: make([]model.QoE, 0, len(rows))}
		for _, r := range rows {
			cmd.Rows = append(cmd.Rows, *r)
		}
		if _, err := c.node.Apply(ctx, cmd); err != nil {
			errs = append(errs, err)
			if retryable(err) {
				c.mu.Lock()
				for k, r := range rows {
					if cur := c.qoe[k]; cur != nil {
						cur.Add(r)
					} else if len(c.qoe) < c.cfg.MaxPendingRows {
						c.qoe[k] = r
					}
				}
				c.mu.Unlock()
			}
		}
	}
	return errors.Join(errs...)
}

// retryable reports whether a failed write certainly was not applied and
// may be tried again.
func retryable(err error) bool {
	return errors.Is(err, cluster.ErrNotLeader) || errors.Is(err, cluster.ErrUpgradeInProgress)
}

// ErrUnknownVideo is check's answer for a video the store does not hold.
var ErrUnknownVideo = errors.New("no such video")

// check says what is wrong with b, if anything: a checkError for a
// malformed beacon, ErrUnknownVideo for a video that does not exist, or
// the store's failure.
func (c *Collector) check(b *Beacon) error {
	switch {
	case b.Session == "" || len(b.Session) > 128 || !printable(b.Session):
		return bad("session is a random ID of 1 to 128 printable characters")
	case b.Video == "" || len(b.Video) > 128 || !printable(b.Video):
		return bad("video is a video ID")
	case len(b.Edge) > 255 || !printable(b.Edge):
		return bad("edge is a node ID or host of at most 255 printable characters")
	case !inRange(b.WatchedS, 7*24*3600):
		return bad("watched_s is a number of seconds from 0 to a week")
	case !inRange(b.StartupMs, 10*60*1000):
		return bad("startup_ms is a number of milliseconds from 0 to 10 minutes")
	case b.Rebuffers < 0 || b.Rebuffers > 1_000_000:
		return bad("rebuffers is a count from 0 to 1000000")
	case !inRange(b.RebufferMs, 7*24*3600*1000):
		return bad("rebuffer_ms is a number of milliseconds from 0 to a week")
	case !inRange(b.BitrateKbps, 1_000_000):
		return bad("bitrate_kbps is a number from 0 to 1000000")
	case b.Errors < 0 || b.Errors > 1_000_000:
		return bad("errors is a count from 0 to 1000000")
	}
	if _, err := c.node.Video(b.Video); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrUnknownVideo
		}
		return err
	}
	return nil
}

// bad is a problem with the beacon itself.
func bad(msg string) error { return checkError{errors.New(msg)} }

func inRange(v, hi float64) bool { return !math.IsNaN(v) && v >= 0 && v <= hi }

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
