package command

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	vis := model.Unlisted
	title := "New title"
	cases := []Command{
		&CreateVideo{Stamp{at}, model.Video{ID: "abc", Title: "t", Tags: []string{"x"}}},
		&UpdateVideo{Stamp: Stamp{at}, ID: "abc", Title: &title, Visibility: &vis},
		&VideoReady{Stamp: Stamp{at}, ID: "abc", Renditions: []model.Rendition{{Name: "720p", Height: 720}}},
		&ClaimJob{Stamp: Stamp{at}, Worker: "w", LeaseUntil: at.Add(time.Minute)},
		&FailJob{Stamp: Stamp{at}, JobID: "j", Worker: "w", Reason: "r", Permanent: true},
		&SetCaption{Stamp: Stamp{at}, VideoID: "abc", Lang: "en", Label: "English", VTT: []byte("WEBVTT\n\n00:00.000 --> 00:01.000\n<v Ann>Hi & bye</v>\n")},
		&DeleteCaption{Stamp: Stamp{at}, VideoID: "abc", Lang: "en"},
		&SetEdge{Stamp: Stamp{at}, Edge: model.Edge{ID: "e1", PublicURL: "https://e1.example", Region: "eu", Coverage: []string{"10.0.0.0/8"}}},
		&RemoveEdge{Stamp: Stamp{at}, ID: "e1"},
	}
	for _, c := range cases {
		t.Run(reflect.TypeOf(c).Elem().Name(), func(t *testing.T) {
			raw, err := Encode(c)
			if err != nil {
				t.Fatal(err)
			}
			if Type(raw[0]) != c.CommandType() || raw[1] != c.CommandVersion() {
				t.Fatalf("header = %v", raw[:2])
			}
			got, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c) {
				t.Fatalf("decoded %#v, want %#v", got, c)
			}
		})
	}
}

func TestDecodeRefusesUnknown(t *testing.T) {
	for name, raw := range map[string][]byte{
		"empty":           nil,
		"unknown type":    {200, 1, '{', '}'},
		"unknown version": {byte(TypeCreateVideo), 99, '{', '}'},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(raw); !errors.Is(err, ErrUnknown) {
				t.Fatalf("err = %v, want ErrUnknown", err)
			}
		})
	}
	if _, err := Decode([]byte{byte(TypeCreateVideo), 1, '{'}); err == nil {
		t.Fatal("truncated JSON decoded")
	}
}

// TestCaptionLevel: captions are level 4, so no node proposes them while
// a member of an older build could not decode them.
func TestCaptionLevel(t *testing.T) {
	for _, typ := range []Type{TypeSetCaption, TypeDeleteCaption} {
		if got := LevelOf(typ); got != 4 || got > Level {
			t.Errorf("LevelOf(%d) = %d, want 4 (and at most Level %d)", typ, got, Level)
		}
	}
	if got := LevelOf(TypeAddQoE); got != 3 {
		t.Errorf("LevelOf(AddQoE) = %d, want 3", got)
	}
}

// TestEdgeLevel: the edge registry is level 5, the current level.
func TestEdgeLevel(t *testing.T) {
	for _, typ := range []Type{TypeSetEdge, TypeRemoveEdge} {
		if got := LevelOf(typ); got != 5 || got > Level {
			t.Errorf("LevelOf(%d) = %d, want 5 (and at most Level %d)", typ, got, Level)
		}
	}
}
