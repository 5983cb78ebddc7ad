package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// TestAddQoE: rows add up per (day, video, edge), rows of a missing video
// are skipped, a bad row refuses the whole entry, and QoE filters by day
// and video.
func TestAddQoE(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NoSync = true
	s, err := Open(filepath.Join(t.TempDir(), "fsm.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := command.Stamp{At: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	idx := uint64(0)
	apply := func(c *command.AddQoE) (int, error) {
		t.Helper()
		idx++
		var n int
		var aerr error
		if _, err := s.Update(idx, func(tx *Tx) error {
			n, aerr = tx.AddQoE(c)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n, aerr
	}
	idx++
	if _, err := s.Update(idx, func(tx *Tx) error {
		_, err := tx.CreateVideo(&command.CreateVideo{Stamp: at, Video: model.Video{ID: "a", Title: "A"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	row := func(day, edge string, sessions, startup int64) model.QoE {
		return model.QoE{Day: day, Video: "a", Edge: edge, Sessions: sessions, StartupMsSum: startup, StartupCount: sessions}
	}
	n, err := apply(&command.AddQoE{Stamp: at, Rows: []model.QoE{row("2026-03-01", "e1", 1, 500), row("2026-03-01", "e2", 2, 900),
		{Day: "2026-03-01", Video: "gone", Edge: "e1", Sessions: 1}}})
	if err != nil || n != 2 {
		t.Fatalf("added %d rows (%v), want 2", n, err)
	}
	if n, err := apply(&command.AddQoE{Stamp: at, Rows: []model.QoE{row("2026-03-01", "e1", 3, 1500), row("2026-03-02", "e1", 1, 100)}}); err != nil || n != 2 {
		t.Fatalf("added %d rows (%v), want 2", n, err)
	}
	for _, bad := range []model.QoE{row("March 1st", "e1", 1, 1), row("2026-03-01", "e1", -1, 1), {Day: "2026-03-01", Edge: "e1"}} {
		if _, err := apply(&command.AddQoE{Stamp: at, Rows: []model.QoE{row("2026-03-01", "e1", 1, 1), bad}}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("row %+v: %v, want ErrInvalid", bad, err)
		}
	}
	rows, err := s.QoE("2026-03-01", "a")
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %v (%v)", rows, err)
	}
	if r := rows[0]; r.Edge != "e1" || r.Sessions != 4 || r.StartupMsSum != 2000 || r.StartupCount != 4 {
		t.Fatalf("e1 row %+v: the refused entries must not count", r)
	}
	if all, _ := s.QoE("", "a"); len(all) != 3 {
		t.Fatalf("every day of a: %d rows, want 3", len(all))
	}
	if none, _ := s.QoE("2026-03-01", "b"); len(none) != 0 {
		t.Fatalf("video b: %v", none)
	}
	if all, _ := s.QoE("", ""); len(all) != 3 {
		t.Fatalf("everything: %d rows, want 3", len(all))
	}
}
