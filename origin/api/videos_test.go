package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/account"
)

// listAnswer is GET /api/v1/videos's answer as the tests read it.
type listAnswer struct {
	Videos []struct {
		ID               string `json:"id"`
		Owner            string `json:"owner"`
		OwnerName        string `json:"owner_name"`
		OwnerDisplayName string `json:"owner_display_name"`
	} `json:"videos"`
	NextCursor string `json:"next_cursor"`
	Owner      *Owner `json:"owner"`
	Error      struct {
		Code string `json:"code"`
	} `json:"error"`
}

func (a listAnswer) ids() []string {
	out := []string{}
	for _, v := range a.Videos {
		out = append(out, v.ID)
	}
	return out
}

// TestListVideosByOwner: ?owner= lists one account's videos, newest
// first, page by page, with the account's names; others see only the
// public, ready ones, the owner and admins all of them; an unknown
// owner is a 404 with a JSON error.
func TestListVideosByOwner(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	at := func(d int) command.Stamp { return command.Stamp{At: now.Add(-time.Duration(d) * time.Hour)} }
	applyOnly(t, n,
		&command.CreateUser{Stamp: at(100), User: model.User{ID: "uana", Name: "ana", DisplayName: "Ana Lima"}},
		&command.CreateUser{Stamp: at(100), User: model.User{ID: "ubo", Name: "bo", DisplayName: "Bo"}},
	)
	mk := func(id, owner string, vis model.Visibility, d int, ready bool) {
		applyOnly(t, n, &command.CreateVideo{Stamp: at(d), Video: model.Video{ID: id, Title: id, Visibility: vis, Owner: owner}})
		if ready {
			applyOnly(t, n, &command.VideoReady{Stamp: at(d), ID: id, DurationS: 10, Width: 640, Height: 360,
				Renditions: []model.Rendition{{Name: "360p", Height: 360, Width: 640}}, Master: "master.m3u8"})
		}
	}
	mk("a1", "uana", model.Public, 5, true)
	mk("b1", "ubo", model.Public, 4, true)
	mk("a2", "uana", model.Public, 3, true)
	mk("a3", "uana", model.Unlisted, 2, true)
	mk("a4", "uana", model.Private, 1, false) // private, still processing
	mk("a5", "uana", model.Public, 0, false)  // public, still processing

	list := func(p *account.Principal, target string) (int, listAnswer) {
		t.Helper()
		h := handler()
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if p != nil {
			r = r.WithContext(account.WithPrincipal(r.Context(), p))
		}
		h.runListVideos(rec, r, n)
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s: Content-Type %q", target, ct)
		}
		var a listAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s: %v\n%s", target, err, rec.Body)
		}
		return rec.Code, a
	}
	ana := &account.Principal{User: &model.User{ID: "uana", Name: "ana", Role: model.RoleUser}}
	bo := &account.Principal{User: &model.User{ID: "ubo", Name: "bo", Role: model.RoleUser}}
	admin := &account.Principal{User: &model.User{ID: "uadm", Name: "root", Role: model.RoleAdmin}}
	cases := []struct {
		who  string
		p    *account.Principal
		want []string
	}{
		{"anonymous", nil, []string{"a2", "a1"}},
		{"another user", bo, []string{"a2", "a1"}},
		{"the owner", ana, []string{"a5", "a4", "a3", "a2", "a1"}},
		{"an admin", admin, []string{"a5", "a4", "a3", "a2", "a1"}},
	}
	for _, c := range cases {
		t.Run(c.who, func(t *testing.T) {
			code, a := list(c.p, "/api/v1/videos?owner=ana")
			if code != http.StatusOK {
				t.Fatalf("HTTP %d", code)
			}
			if got := a.ids(); !slices.Equal(got, c.want) {
				t.Errorf("videos %v, want %v", got, c.want)
			}
			if a.Owner == nil || a.Owner.Name != "ana" || a.Owner.DisplayName != "Ana Lima" {
				t.Errorf("owner %+v, want ana, Ana Lima", a.Owner)
			}
			for _, v := range a.Videos {
				if v.Owner != "uana" || v.OwnerName != "ana" || v.OwnerDisplayName != "Ana Lima" {
					t.Errorf("video %s: owner %q %q %q", v.ID, v.Owner, v.OwnerName, v.OwnerDisplayName)
				}
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var got []string
		target := "/api/v1/videos?owner=ana&limit=2"
		for range 5 {
			_, a := list(ana, target)
			got = append(got, a.ids()...)
			if a.NextCursor == "" {
				break
			}
			target = "/api/v1/videos?owner=ana&limit=2&cursor=" + a.NextCursor
		}
		if want := cases[2].want; !slices.Equal(got, want) {
			t.Errorf("pages gave %v, want %v", got, want)
		}
	})

	t.Run("without owner", func(t *testing.T) {
		_, a := list(ana, "/api/v1/videos")
		if got, want := a.ids(), []string{"a2", "b1", "a1"}; !slices.Equal(got, want) {
			t.Errorf("videos %v, want %v", got, want)
		}
		if a.Owner != nil {
			t.Errorf("owner %+v in an unfiltered list", a.Owner)
		}
		if a.Videos[1].OwnerName != "bo" {
			t.Errorf("b1's owner name %q, want bo", a.Videos[1].OwnerName)
		}
	})

	t.Run("unknown owner", func(t *testing.T) {
		code, a := list(admin, "/api/v1/videos?owner=nobody")
		if code != http.StatusNotFound || a.Error.Code == "" {
			t.Errorf("HTTP %d, error code %q; want 404 with an error code", code, a.Error.Code)
		}
	})
}

// TestViewCarriesViews: a video's own answer says its view count (the
// watch page shows it), zero included, and a search hit says it once
// (rankedVideo used to add a second "views" of its own).
func TestViewCarriesViews(t *testing.T) {
	for _, want := range []int64{0, 1234} {
		b, err := json.Marshal(view(&model.Video{ID: "v", Views: want}))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if got, ok := m["views"].(float64); !ok || int64(got) != want {
			t.Errorf("views %v in %s, want %d", m["views"], b, want)
		}
	}
	hit, err := json.Marshal(searchHit{rankedVideo: rankedVideo{Video: view(&model.Video{ID: "v", Views: 7})}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(hit, &m); err != nil {
		t.Fatal(err)
	}
	if m["views"] != float64(7) {
		t.Errorf("search hit views %v, want 7: %s", m["views"], hit)
	}
}
