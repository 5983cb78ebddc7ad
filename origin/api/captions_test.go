package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/account"
)

// captionMux serves the caption and video endpoints against n, as
// Provision routes them, with p (nil: anonymous) as the principal.
func captionMux(n *cluster.Node, p *account.Principal) http.Handler {
	h := handler()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/videos/{id}/captions", func(w http.ResponseWriter, r *http.Request) { h.runListCaptions(w, r, n) })
	mux.HandleFunc("PUT /api/v1/videos/{id}/captions/{lang}", func(w http.ResponseWriter, r *http.Request) { h.runPutCaption(w, r, n) })
	mux.HandleFunc("DELETE /api/v1/videos/{id}/captions/{lang}", func(w http.ResponseWriter, r *http.Request) { h.runDeleteCaption(w, r, n) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p != nil {
			r = r.WithContext(account.WithPrincipal(r.Context(), p))
		}
		mux.ServeHTTP(w, r)
	})
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func captionCall(t *testing.T, hd http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	hd.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	if rec.Code != http.StatusNoContent {
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: HTTP %d, Content-Type %q: %s", method, target, rec.Code, ct, rec.Body)
		}
	}
	return rec
}

const (
	srtBody = "1\n00:00:00,500 --> 00:00:02,000\nBonjour\n"
	vttBody = "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHello\n"
)

// TestCaptionsAPI: the owner uploads SRT (converted) and WebVTT captions,
// replaces one and deletes one; the list and the stored text follow; the
// language is normalised and the label defaults to its name.
func TestCaptionsAPI(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	at := command.Stamp{At: time.Now().UTC()}
	applyOnly(t, n, &command.CreateVideo{Stamp: at, Video: model.Video{ID: "v1", Title: "One", Owner: "u1"}})
	owner := captionMux(n, &account.Principal{User: &model.User{ID: "u1", Role: model.RoleUser}})

	rec := captionCall(t, owner, http.MethodPut, "/api/v1/videos/v1/captions/fr-ca", srtBody)
	var c Caption
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil || rec.Code != http.StatusCreated {
		t.Fatalf("PUT SRT: HTTP %d %s", rec.Code, rec.Body)
	}
	if c.Lang != "fr-CA" || c.Label != "français canadien" || c.URL != "/media/v1/captions/fr-CA.vtt" {
		t.Fatalf("PUT SRT answered %+v", c)
	}
	text, err := n.CaptionText("v1", "fr-CA")
	if err != nil || !strings.HasPrefix(string(text), "WEBVTT") || !strings.Contains(string(text), "00:00:00.500 --> 00:00:02.000") {
		t.Fatalf("stored text %q (%v)", text, err)
	}
	if rec := captionCall(t, owner, http.MethodPut, "/api/v1/videos/v1/captions/en?label=English+(CC)", vttBody); rec.Code != http.StatusCreated {
		t.Fatalf("PUT VTT: HTTP %d %s", rec.Code, rec.Body)
	}
	if text, _ := n.CaptionText("v1", "en"); string(text) != vttBody {
		t.Fatalf("WebVTT was not kept as sent: %q", text)
	}
	if rec := captionCall(t, owner, http.MethodPut, "/api/v1/videos/v1/captions/EN", strings.Replace(vttBody, "Hello", "Hi", 1)); rec.Code != http.StatusOK {
		t.Fatalf("replacing: HTTP %d %s", rec.Code, rec.Body)
	}

	var list struct {
		Captions []Caption `json:"captions"`
	}
	rec = captionCall(t, captionMux(n, nil), http.MethodGet, "/api/v1/videos/v1/captions", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET: HTTP %d %s", rec.Code, rec.Body)
	}
	if len(list.Captions) != 2 || list.Captions[0].Lang != "en" || list.Captions[0].Label != "English" || list.Captions[1].Lang != "fr-CA" {
		t.Fatalf("list %+v: want en (label back to the default after a PUT without one) and fr-CA", list.Captions)
	}
	if v, _ := n.Video("v1"); len(view(v).Captions) != 2 {
		t.Fatalf("the video's JSON lists %d captions", len(view(v).Captions))
	}

	if rec := captionCall(t, owner, http.MethodDelete, "/api/v1/videos/v1/captions/fr-CA", ""); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE: HTTP %d %s", rec.Code, rec.Body)
	}
	var e apiError
	rec = captionCall(t, owner, http.MethodDelete, "/api/v1/videos/v1/captions/fr-CA", "")
	if json.Unmarshal(rec.Body.Bytes(), &e); rec.Code != http.StatusNotFound || e.Error.Code != "not_found" {
		t.Fatalf("second DELETE: HTTP %d %s", rec.Code, rec.Body)
	}
	if v, _ := n.Video("v1"); len(v.Captions) != 1 || v.Captions[0].Lang != "en" {
		t.Fatalf("after delete: %+v", v.Captions)
	}
}

// TestCaptionsAPIRefuses: who may not (401, 403, 404 for a private video
// of someone else), what may not (a bad tag, a bad label, a malformed
// file: 400 with the reason; over 1 MiB: 413), each as a JSON error, and
// nothing is stored.
func TestCaptionsAPIRefuses(t *testing.T) {
	n := openNode(t, t.TempDir())
	defer n.Close()
	at := command.Stamp{At: time.Now().UTC()}
	applyOnly(t, n,
		&command.CreateVideo{Stamp: at, Video: model.Video{ID: "v1", Title: "One", Owner: "u1"}},
		&command.CreateVideo{Stamp: at, Video: model.Video{ID: "hidden", Title: "Private", Owner: "u1", Visibility: model.Private}})
	user := func(id string, role model.Role) *account.Principal {
		return &account.Principal{User: &model.User{ID: id, Role: role}}
	}
	readOnly := user("u1", model.RoleUser)
	readOnly.Token = &model.APIToken{Scopes: []model.Scope{model.ScopeRead}}
	huge := "WEBVTT\n\n00:00.000 --> 00:01.000\n" + strings.Repeat("a", 1<<20) + "\n"
	cases := []struct {
		name         string
		p            *account.Principal
		method, path string
		body         string
		status       int
		code, says   string
	}{
		{"anonymous", nil, http.MethodPut, "/api/v1/videos/v1/captions/en", vttBody, 401, "", ""},
		{"another user", user("u2", model.RoleUser), http.MethodPut, "/api/v1/videos/v1/captions/en", vttBody, 403, "forbidden", "owner"},
		{"another user deletes", user("u2", model.RoleUser), http.MethodDelete, "/api/v1/videos/v1/captions/en", "", 403, "forbidden", "owner"},
		{"read-only token", readOnly, http.MethodPut, "/api/v1/videos/v1/captions/en", vttBody, 403, "", ""},
		{"private video of another", user("u2", model.RoleUser), http.MethodPut, "/api/v1/videos/hidden/captions/en", vttBody, 404, "not_found", ""},
		{"private list of another", user("u2", model.RoleUser), http.MethodGet, "/api/v1/videos/hidden/captions", "", 404, "not_found", ""},
		{"no such video", user("u1", model.RoleUser), http.MethodPut, "/api/v1/videos/nope/captions/en", vttBody, 404, "not_found", ""},
		{"bad tag", user("u1", model.RoleUser), http.MethodPut, "/api/v1/videos/v1/captions/english!", vttBody, 400, "bad_request", "BCP 47"},
		{"und", user("u1", model.RoleUser), http.MethodPut, "/api/v1/videos/v1/captions/und", vttBody, 400, "bad_request", "undetermined"},
		{"quote in label", user("u1", model.RoleUser), http.MethodPut, `/api/v1/videos/v1/captions/en?label=a%22b`, vttBody, 400, "bad_request", "double quotes"},
		{"malformed timing", user("u1", model.RoleUser), http.MethodPut, "/api/v1/videos/v1/captions/en", "WEBVTT\n\n00:00.000 --> 00:0x.000\nHi\n", 400, "bad_request", "line 3"},
		{"truncated timing", user("u1", model.RoleUser), http.MethodPut, "/api/v1/videos/v1/captions/en", "1\n00:00:01,000 -->\nHi\n", 400, "bad_request", "incomplete"},
		{"backwards cue", user("u1", model.RoleUser), http.MethodPut, "/api/v1/videos/v1/captions/en", "1\n00:00:05,000 --> 00:00:01,000\nHi\n", 400, "bad_request", "cue 1 ends"},
		{"not captions", user("u1", model.RoleUser), http.MethodPut, "/api/v1/videos/v1/captions/en", "hello", 400, "bad_request", "neither WebVTT"},
		{"too large", user("u1", model.RoleUser), http.MethodPut, "/api/v1/videos/v1/captions/en", huge, 413, "too_large", "1 MiB"},
		{"no such caption", user("u1", model.RoleUser), http.MethodDelete, "/api/v1/videos/v1/captions/de", "", 404, "not_found", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := captionCall(t, captionMux(n, c.p), c.method, c.path, c.body)
			var e apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != c.status || e.Error.Code == "" ||
				c.code != "" && e.Error.Code != c.code || !strings.Contains(e.Error.Message, c.says) {
				t.Fatalf("HTTP %d %s; want %d %s saying %q", rec.Code, rec.Body, c.status, c.code, c.says)
			}
		})
	}
	// A body over the limit without a Content-Length is cut off as read.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPut, "/api/v1/videos/v1/captions/en", struct{ *bytes.Reader }{bytes.NewReader([]byte(huge))})
	req.ContentLength = -1
	captionMux(n, user("u1", model.RoleUser)).ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("streamed large body: HTTP %d %s", rec.Code, rec.Body)
	}
	for _, id := range []string{"v1", "hidden"} {
		if v, _ := n.Video(id); len(v.Captions) != 0 {
			t.Fatalf("%s has captions after refusals: %+v", id, v.Captions)
		}
	}
}
