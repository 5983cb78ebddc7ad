package store

import (
	"errors"
	"fmt"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// RecentViewHours is how many hours of per-hour view counts a video keeps.
// Trending looks at most this far back; older hours are dropped when new
// views arrive, so a record never holds more than this many buckets.
const RecentViewHours = 72

// maxViewsPerEntry bounds one count, so a bad proposer cannot overflow a
// video's total in a few entries.
const maxViewsPerEntry = 1 << 40

// AddViews adds each count to its video's total and to the bucket of the
// hour of c.At. A video that is gone (deleted after it was watched) is
// skipped: its views no longer matter, and the rest of the batch still
// does. The result is the number of videos counted.
func (t *Tx) AddViews(c *command.AddViews) (int, error) {
	// Check every count before changing anything: a business error must
	// leave the transaction as it found it.
	for _, vv := range c.Views {
		if vv.ID == "" || vv.N <= 0 || vv.N > maxViewsPerEntry {
			return 0, fmt.Errorf("views %+v: %w", vv, ErrInvalid)
		}
	}
	if c.At.Unix() < 0 {
		return 0, fmt.Errorf("views at %s: %w", c.At, ErrInvalid)
	}
	hour := c.At.Unix() / 3600
	counted := 0
	for _, vv := range c.Views {
		v, err := t.video(vv.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return counted, err
		}
		v.Views += vv.N
		v.RecentViews = addHourViews(v.RecentViews, hour, vv.N)
		// Views are not an edit: UpdatedAt stays.
		if err := t.putVideo(v, true); err != nil {
			return counted, err
		}
		counted++
	}
	return counted, nil
}

// addHourViews adds n to the bucket of hour and drops buckets that fell out
// of the window. Buckets stay sorted by hour; a late entry for an earlier
// hour still within the window goes to its own bucket.
func addHourViews(recent []model.HourViews, hour, n int64) []model.HourViews {
	oldest := hour - RecentViewHours + 1
	if len(recent) > 0 && recent[len(recent)-1].Hour > hour {
		// The newest bucket is later than this entry (a proposer with a
		// slower clock): the window ends at the newest bucket instead.
		oldest = recent[len(recent)-1].Hour - RecentViewHours + 1
	}
	out := make([]model.HourViews, 0, len(recent)+1)
	added := hour < oldest // too old to count as recent: only the total grows
	for _, b := range recent {
		if b.Hour < oldest {
			continue
		}
		if !added && b.Hour == hour {
			b.N += n
			added = true
		} else if !added && b.Hour > hour {
			out = append(out, model.HourViews{Hour: hour, N: n})
			added = true
		}
		out = append(out, b)
	}
	if !added {
		out = append(out, model.HourViews{Hour: hour, N: n})
	}
	return out
}
