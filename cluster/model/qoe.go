package model

// QoE is what viewers got from one edge for one video on one day (UTC):
// the sums player beacons add up. Averages are the sums divided by their
// counts (see the admin API); sums are kept so that batches from many
// nodes add up exactly.
type QoE struct {
	Day   string `json:"day"`   // 2006-01-02, UTC
	Video string `json:"video"` // video ID
	Edge  string `json:"edge"`  // the edge's node ID or host; "origin" when played straight from an origin

	// Sessions is the number of player sessions that played the video
	// from this edge.
	Sessions int64 `json:"sessions"`
	// StartupMsSum / StartupCount is the average startup time.
	StartupMsSum int64 `json:"startup_ms_sum"`
	StartupCount int64 `json:"startup_count"`
	// Rebuffers and RebufferMs are stalls and their total time.
	Rebuffers  int64 `json:"rebuffers"`
	RebufferMs int64 `json:"rebuffer_ms"`
	// WatchedMs is the time played.
	WatchedMs int64 `json:"watched_ms"`
	// Kilobits / BitrateMs × 1000 is the average bitrate in kbit/s,
	// weighted by play time; BitrateMs is the play time with a known
	// bitrate.
	Kilobits  int64 `json:"kilobits"`
	BitrateMs int64 `json:"bitrate_ms"`
	// Errors the players reported.
	Errors int64 `json:"errors"`
}

// Add adds o's sums to q, saturating instead of overflowing.
func (q *QoE) Add(o *QoE) {
	add := func(a *int64, b int64) {
		if s := *a + b; s >= *a {
			*a = s
		} else {
			*a = 1<<63 - 1
		}
	}
	add(&q.Sessions, o.Sessions)
	add(&q.StartupMsSum, o.StartupMsSum)
	add(&q.StartupCount, o.StartupCount)
	add(&q.Rebuffers, o.Rebuffers)
	add(&q.RebufferMs, o.RebufferMs)
	add(&q.WatchedMs, o.WatchedMs)
	add(&q.Kilobits, o.Kilobits)
	add(&q.BitrateMs, o.BitrateMs)
	add(&q.Errors, o.Errors)
}

// Empty reports whether q adds nothing.
func (q *QoE) Empty() bool {
	return q.Sessions == 0 && q.StartupMsSum == 0 && q.StartupCount == 0 && q.Rebuffers == 0 && q.RebufferMs == 0 &&
		q.WatchedMs == 0 && q.Kilobits == 0 && q.BitrateMs == 0 && q.Errors == 0
}
