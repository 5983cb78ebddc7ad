package store

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

func TestAddHourViews(t *testing.T) {
	h := func(pairs ...int64) []model.HourViews {
		var out []model.HourViews
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, model.HourViews{Hour: pairs[i], N: pairs[i+1]})
		}
		return out
	}
	const w = RecentViewHours
	cases := []struct {
		name   string
		recent []model.HourViews
		hour   int64
		n      int64
		want   []model.HourViews
	}{
		{"first view", nil, 1000, 3, h(1000, 3)},
		{"same hour adds up", h(1000, 3), 1000, 2, h(1000, 5)},
		{"next hour appends", h(1000, 3), 1001, 1, h(1000, 3, 1001, 1)},
		{"late entry goes to its hour", h(1000, 3, 1002, 1), 1001, 4, h(1000, 3, 1001, 4, 1002, 1)},
		{"late entry into an existing hour", h(1000, 3, 1002, 1), 1000, 4, h(1000, 7, 1002, 1)},
		{"old hours fall out", h(1000, 3, 1001, 1), 1000 + w, 2, h(1001, 1, 1000+w, 2)},
		{"everything old is dropped", h(1000, 3), 1000 + 10*w, 2, h(1000+10*w, 2)},
		{"an entry older than the window only counts in the total", h(2000, 1), 2000 - w, 5, h(2000, 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := addHourViews(c.recent, c.hour, c.n); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestAddViews(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NoSync = true
	s, err := Open(filepath.Join(t.TempDir(), "fsm.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	apply := func(i uint64, fn func(*Tx) error) *Tx {
		t.Helper()
		tx, err := s.Update(i, fn)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	apply(1, func(tx *Tx) error {
		_, err := tx.CreateVideo(&command.CreateVideo{Stamp: command.Stamp{At: at}, Video: model.Video{ID: "a", Title: "A"}})
		return err
	})

	var counted int
	tx := apply(2, func(tx *Tx) error {
		var err error
		counted, err = tx.AddViews(&command.AddViews{Stamp: command.Stamp{At: at}, Views: []command.VideoViews{{ID: "a", N: 5}, {ID: "gone", N: 2}}})
		return err
	})
	if counted != 1 {
		t.Fatalf("counted %d videos, want 1 (the missing one skipped)", counted)
	}
	reindexed := map[string]bool{}
	tx.Changes(func(id string, v *model.Video) { reindexed[id] = v != nil })
	if !reindexed["a"] {
		t.Fatalf("views did not mark the video for the index: %v", reindexed)
	}
	v, err := s.Video("a")
	if err != nil {
		t.Fatal(err)
	}
	want := []model.HourViews{{Hour: at.Unix() / 3600, N: 5}}
	if v.Views != 5 || !reflect.DeepEqual(v.RecentViews, want) || !v.UpdatedAt.Equal(at) {
		t.Fatalf("video after views: views %d recent %v updated %s", v.Views, v.RecentViews, v.UpdatedAt)
	}

	for name, bad := range map[string][]command.VideoViews{
		"zero":               {{ID: "a", N: 0}},
		"negative":           {{ID: "a", N: -1}},
		"no id":              {{N: 1}},
		"huge":               {{ID: "a", N: maxViewsPerEntry + 1}},
		"one bad among good": {{ID: "a", N: 1}, {ID: "a", N: -5}},
	} {
		t.Run(name, func(t *testing.T) {
			apply(3, func(tx *Tx) error {
				_, err := tx.AddViews(&command.AddViews{Stamp: command.Stamp{At: at}, Views: bad})
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return nil
			})
			if v, _ := s.Video("a"); v.Views != 5 {
				t.Fatalf("a refused entry changed the count to %d", v.Views)
			}
		})
	}
}
