package store

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// Bounds on one AddQoE entry, so a bad proposer cannot fill the store or
// overflow a row in a few entries.
const (
	maxQoERows    = 10000
	maxQoEEdgeLen = 255
	maxQoEValue   = 1 << 50
)

// qoeKey is a row's key: day, video, edge, so a day's rows are one prefix.
func qoeKey(day, video, edge string) string { return day + "\x00" + video + "\x00" + edge }

// validQoE reports what is wrong with a row of sums, or "".
func validQoE(r *model.QoE) string {
	if _, err := time.Parse(time.DateOnly, r.Day); err != nil {
		return "day is not a date (2006-01-02)"
	}
	if r.Video == "" || len(r.Video) > 128 || bytes.IndexByte([]byte(r.Video), 0) >= 0 {
		return "bad video ID"
	}
	if len(r.Edge) > maxQoEEdgeLen || bytes.IndexByte([]byte(r.Edge), 0) >= 0 {
		return "bad edge"
	}
	for _, v := range []int64{r.Sessions, r.StartupMsSum, r.StartupCount, r.Rebuffers, r.RebufferMs, r.WatchedMs, r.Kilobits, r.BitrateMs, r.Errors} {
		if v < 0 || v > maxQoEValue {
			return "a figure is negative or too large"
		}
	}
	return ""
}

// AddQoE adds each row to the stored sums of its (day, video, edge). Rows
// of videos that are gone are skipped, as AddViews skips them. The result
// is the number of rows added.
func (t *Tx) AddQoE(c *command.AddQoE) (int, error) {
	if len(c.Rows) > maxQoERows {
		return 0, fmt.Errorf("%d QoE rows in one entry: %w", len(c.Rows), ErrInvalid)
	}
	for i := range c.Rows {
		if msg := validQoE(&c.Rows[i]); msg != "" {
			return 0, fmt.Errorf("QoE row %d: %s: %w", i, msg, ErrInvalid)
		}
	}
	b := t.tx.Bucket(bucketQoE)
	added := 0
	for i := range c.Rows {
		r := &c.Rows[i]
		if r.Empty() {
			continue
		}
		if _, err := t.video(r.Video); err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return added, err
		}
		k := qoeKey(r.Day, r.Video, r.Edge)
		cur := model.QoE{Day: r.Day, Video: r.Video, Edge: r.Edge}
		if _, err := getJSON(b, k, &cur); err != nil {
			return added, err
		}
		cur.Add(r)
		if err := putJSON(b, k, &cur); err != nil {
			return added, err
		}
		added++
	}
	return added, nil
}

// QoE returns the stored playback-quality rows of day (all days when
// empty) and video (all videos when empty), by day, video and edge.
func (s *Store) QoE(day, video string) ([]*model.QoE, error) {
	var out []*model.QoE
	err := s.view(func(tx *bbolt.Tx) error {
		cur := tx.Bucket(bucketQoE).Cursor()
		var prefix []byte
		if day != "" {
			prefix = []byte(day + "\x00")
			if video != "" {
				prefix = []byte(qoeKey(day, video, ""))
			}
		}
		k, v := cur.First()
		if len(prefix) > 0 {
			k, v = cur.Seek(prefix)
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
			var q model.QoE
			if err := json.Unmarshal(v, &q); err != nil {
				return fmt.Errorf("decode qoe %q: %w", k, err)
			}
			if video != "" && q.Video != video {
				continue
			}
			out = append(out, &q)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		if a.Video != b.Video {
			return a.Video < b.Video
		}
		return a.Edge < b.Edge
	})
	return out, err
}
