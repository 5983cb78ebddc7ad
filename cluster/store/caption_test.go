package store

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

const testVTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n"

// TestCaptions: a caption is set, replaced and deleted; its text is kept
// apart from the record, counts in the state hash, and goes with its
// video; bad commands are refused without changing anything.
func TestCaptions(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NoSync = true
	s, err := Open(filepath.Join(t.TempDir(), "fsm.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := command.Stamp{At: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	idx := uint64(0)
	apply := func(fn func(*Tx) (*model.Video, error)) (*model.Video, error) {
		t.Helper()
		idx++
		var v *model.Video
		var aerr error
		if _, err := s.Update(idx, func(tx *Tx) error {
			v, aerr = fn(tx)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return v, aerr
	}
	set := func(c *command.SetCaption) (*model.Video, error) {
		return apply(func(tx *Tx) (*model.Video, error) { return tx.SetCaption(c) })
	}
	if _, err := apply(func(tx *Tx) (*model.Video, error) {
		return tx.CreateVideo(&command.CreateVideo{Stamp: at, Video: model.Video{ID: "a", Title: "A"}})
	}); err != nil {
		t.Fatal(err)
	}
	empty, _ := s.Hash()

	if _, err := set(&command.SetCaption{Stamp: at, VideoID: "nope", Lang: "en", Label: "English", VTT: []byte(testVTT)}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("caption of a missing video: %v", err)
	}
	for name, c := range map[string]command.SetCaption{
		"bad lang":  {Lang: "en/../x", Label: "x", VTT: []byte(testVTT)},
		"no lang":   {Label: "x", VTT: []byte(testVTT)},
		"not vtt":   {Lang: "en", Label: "x", VTT: []byte("1\n00:00:00,000 --> 00:00:01,000\nHi\n")},
		"no label":  {Lang: "en", Label: " ", VTT: []byte(testVTT)},
		"quote":     {Lang: "en", Label: `a"b`, VTT: []byte(testVTT)},
		"newline":   {Lang: "en", Label: "a\nb", VTT: []byte(testVTT)},
		"too large": {Lang: "en", Label: "x", VTT: append([]byte(testVTT), bytes.Repeat([]byte("a"), command.MaxCaptionBytes)...)},
	} {
		c.Stamp, c.VideoID = at, "a"
		if _, err := set(&c); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if h, _ := s.Hash(); h != empty {
		t.Fatal("refused captions changed the state")
	}

	v, err := set(&command.SetCaption{Stamp: at, VideoID: "a", Lang: "fr", Label: "Français", VTT: []byte(testVTT)})
	if err != nil {
		t.Fatal(err)
	}
	v, err = set(&command.SetCaption{Stamp: at, VideoID: "a", Lang: "en", Label: "English", VTT: []byte(testVTT)})
	if err != nil || len(v.Captions) != 2 || v.Captions[0].Lang != "en" || v.Captions[1].Lang != "fr" ||
		v.Captions[0].SizeBytes != int64(len(testVTT)) || len(v.Captions[0].SHA256) != 64 {
		t.Fatalf("after two captions: %+v (%v)", v, err)
	}
	first := v.Captions[0].SHA256
	withTwo, _ := s.Hash()
	replaced := strings.Replace(testVTT, "Hello", "Hi there", 1)
	v, err = set(&command.SetCaption{Stamp: at, VideoID: "a", Lang: "en", Label: "English (CC)", VTT: []byte(replaced)})
	if err != nil || len(v.Captions) != 2 || v.Captions[0].Label != "English (CC)" || v.Captions[0].SHA256 == first {
		t.Fatalf("after replacing: %+v (%v)", v, err)
	}
	if h, _ := s.Hash(); h == withTwo {
		t.Fatal("replacing a caption's text did not change the state hash")
	}
	if got, err := s.CaptionText("a", "en"); err != nil || string(got) != replaced {
		t.Fatalf("caption text %q (%v)", got, err)
	}
	if stored, _ := s.Video("a"); len(stored.Captions) != 2 {
		t.Fatalf("stored video has captions %+v", stored.Captions)
	}

	v, err = apply(func(tx *Tx) (*model.Video, error) {
		return tx.DeleteCaption(&command.DeleteCaption{Stamp: at, VideoID: "a", Lang: "fr"})
	})
	if err != nil || len(v.Captions) != 1 || v.Captions[0].Lang != "en" {
		t.Fatalf("after delete: %+v (%v)", v, err)
	}
	if _, err := s.CaptionText("a", "fr"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted caption's text: %v", err)
	}
	if _, err := apply(func(tx *Tx) (*model.Video, error) {
		return tx.DeleteCaption(&command.DeleteCaption{Stamp: at, VideoID: "a", Lang: "fr"})
	}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}

	if _, err := apply(func(tx *Tx) (*model.Video, error) {
		return tx.DeleteVideo(&command.DeleteVideo{Stamp: at, ID: "a"})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CaptionText("a", "en"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("caption of a deleted video: %v", err)
	}
}

// TestCaptionsSurviveRestartAndSnapshot: captions are in the file (a
// reopened store has them) and in a snapshot (a store restored from it
// has them, with the same state hash).
func TestCaptionsSurviveRestartAndSnapshot(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NoSync = true
	dir := t.TempDir()
	path := filepath.Join(dir, "fsm.db")
	s, err := Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := command.Stamp{At: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	if _, err := s.Update(1, func(tx *Tx) error {
		if _, err := tx.CreateVideo(&command.CreateVideo{Stamp: at, Video: model.Video{ID: "a", Title: "A"}}); err != nil {
			return err
		}
		_, err := tx.SetCaption(&command.SetCaption{Stamp: at, VideoID: "a", Lang: "de", Label: "Deutsch", VTT: []byte(testVTT)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want, _ := s.Hash()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, cfg); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(s *Store, when string) {
		t.Helper()
		if got, err := s.CaptionText("a", "de"); err != nil || string(got) != testVTT {
			t.Fatalf("%s: caption text %q (%v)", when, got, err)
		}
		if v, err := s.Video("a"); err != nil || len(v.Captions) != 1 || v.Captions[0].Label != "Deutsch" {
			t.Fatalf("%s: video %+v (%v)", when, v, err)
		}
		if h, _ := s.Hash(); h != want {
			t.Fatalf("%s: state hash differs", when)
		}
	}
	check(s, "after reopening")

	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	_, err = snap.WriteTo(&img)
	snap.Release()
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(filepath.Join(dir, "other.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Restore(&img); err != nil {
		t.Fatal(err)
	}
	check(other, "after restoring a snapshot")
}
