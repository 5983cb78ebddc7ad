package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// originOnlyCaddyfile serves /media straight from the origin's handler, so
// the origin's own token check is what answers.
const originOnlyCaddyfile = `{
	admin {$STRATA_ADMIN}
	persist_config off
	storage file_system {$STRATA_DATA}/caddy
	strata {
		data {$STRATA_DATA}
		origin
	}
}

http://:{$STRATA_LISTEN_PORT} {
	bind tcp/{$STRATA_LISTEN_HOST}
	handle /api/* {
		strata_api
	}
	handle /media/* {
		strata_media
	}
	handle /readyz {
		strata_health ready
	}
}
`

// client sends requests as one caller: tok "" is anonymous.
type client struct {
	t    *testing.T
	base string
	tok  string
}

// plain is a client that never gets the e2e admin token added.
var plain = &http.Client{Transport: baseTransport}

func (c client) do(method, path, body string, hdr map[string]string) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.tok != "" {
		req.Header.Set("Authorization", "Bearer "+c.tok)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := plain.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func (c client) json(method, path, body string, want int, out any) {
	c.t.Helper()
	code, raw := c.do(method, path, body, nil)
	if code != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, code, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func errorCode(raw []byte) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	return e.Error.Code
}

// upload sends a whole file in the creation request (creation-with-upload).
func (c client) upload(data []byte, title string) (int, []byte, string) {
	c.t.Helper()
	code, raw := c.do(http.MethodPost, "/api/v1/uploads/", string(data), map[string]string{
		"Tus-Resumable": "1.0.0", "Upload-Length": strconv.Itoa(len(data)),
		"Content-Type":    "application/offset+octet-stream",
		"Upload-Metadata": tusMetadata(map[string]string{"filename": "clip.mp4", "title": title}),
	})
	return code, raw, ""
}

func (c client) uploadID(data []byte, title string) string {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/v1/uploads/", strings.NewReader(string(data)))
	req.Header.Set("Authorization", "Bearer "+c.tok)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(len(data)))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Metadata", tusMetadata(map[string]string{"filename": "clip.mp4", "title": title}))
	resp, err := plain.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		raw, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("upload: %d offset %s %s", resp.StatusCode, resp.Header.Get("Upload-Offset"), raw)
	}
	loc, _ := resp.Location()
	return filepath.Base(loc.Path)
}

// user makes an account NAME with role user and returns a client with its
// token (admin scope: everything a user may do) and its ID.
func user(t *testing.T, n *node, admin client, name string) (client, string) {
	c := client{t: t, base: n.base, tok: adminToken(t, n, name)}
	var me struct {
		User struct{ ID string } `json:"user"`
	}
	c.json(http.MethodGet, "/api/v1/account/me", "", http.StatusOK, &me)
	admin.json(http.MethodPatch, "/api/v1/admin/users/"+me.User.ID, `{"role":"user"}`, http.StatusOK, nil)
	return c, me.User.ID
}

// TestAuthOwnershipPrivacyAndMediaTokens runs twice: with /media served by
// the origin's handler alone, and on the default node, where the edge
// checks the token in front of it and fills its cache through it.
func TestAuthOwnershipPrivacyAndMediaTokens(t *testing.T) {
	t.Run("origin", func(t *testing.T) {
		work := t.TempDir()
		cfg := filepath.Join(work, "Caddyfile")
		if err := os.WriteFile(cfg, []byte(originOnlyCaddyfile), 0o600); err != nil {
			t.Fatal(err)
		}
		authOwnershipPrivacyAndMediaTokens(t, work, startNodeConfig(t, filepath.Join(work, "data"), cfg, freePort(t)))
	})
	t.Run("through the edge", func(t *testing.T) {
		work := t.TempDir()
		authOwnershipPrivacyAndMediaTokens(t, work, startNode(t, filepath.Join(work, "data")))
	})
}

func authOwnershipPrivacyAndMediaTokens(t *testing.T, work string, n *node) {
	tok, _ := nodeTokens.Load(strings.TrimPrefix(n.base, "http://"))
	admin := client{t: t, base: n.base, tok: tok.(string)}
	anon := client{t: t, base: n.base}
	alice, aliceID := user(t, n, admin, "alice")
	bob, _ := user(t, n, admin, "bob")
	data, err := os.ReadFile(makeVideo(t, work, "clip.mp4", 1, "160x120"))
	if err != nil {
		t.Fatal(err)
	}

	// Uploads need an account.
	if code, raw, _ := anon.upload(data, "nope"); code != http.StatusUnauthorized || errorCode(raw) != "unauthorized" {
		t.Fatalf("anonymous upload: %d %s", code, raw)
	}
	var readTok struct{ Token string }
	alice.json(http.MethodPost, "/api/v1/account/tokens", `{"name":"reader","scopes":["read"]}`, http.StatusCreated, &readTok)
	reader := client{t: t, base: n.base, tok: readTok.Token}
	if code, raw, _ := reader.upload(data, "nope"); code != http.StatusForbidden || errorCode(raw) != "insufficient_scope" {
		t.Fatalf("upload with a read token: %d %s", code, raw)
	}

	id := alice.uploadID(data, "Alice's clip")
	other := alice.uploadID(data, "Alice's other clip")
	v := n.waitVideo(id, 3*time.Minute)
	n.waitVideo(other, 3*time.Minute)
	var full struct {
		Owner string `json:"owner"`
	}
	anon.json(http.MethodGet, "/api/v1/videos/"+id, "", http.StatusOK, &full)
	if v.Status != "ready" || full.Owner != aliceID {
		t.Fatalf("video %+v owner %q, want ready and %q", v, full.Owner, aliceID)
	}

	// Someone else's video: 403 on edit and delete; nobody's: 401.
	for _, m := range []string{http.MethodPatch, http.MethodDelete} {
		if code, raw := bob.do(m, "/api/v1/videos/"+id, `{"title":"mine now"}`, nil); code != http.StatusForbidden || errorCode(raw) != "forbidden" {
			t.Errorf("bob %s alice's video: %d %s", m, code, raw)
		}
		if code, _ := anon.do(m, "/api/v1/videos/"+id, `{"title":"mine now"}`, nil); code != http.StatusUnauthorized {
			t.Errorf("anonymous %s: %d", m, code)
		}
		if code, raw := reader.do(m, "/api/v1/videos/"+id, `{"title":"mine now"}`, nil); code != http.StatusForbidden || errorCode(raw) != "insufficient_scope" {
			t.Errorf("read token %s: %d %s", m, code, raw)
		}
	}

	// Private: only the owner (and admins) see it, anywhere.
	alice.json(http.MethodPatch, "/api/v1/videos/"+id, `{"visibility":"private"}`, http.StatusOK, nil)
	alice.json(http.MethodPatch, "/api/v1/videos/"+other, `{"visibility":"private"}`, http.StatusOK, nil)
	for name, c := range map[string]client{"anonymous": anon, "bob": bob} {
		if code, _ := c.do(http.MethodGet, "/api/v1/videos/"+id, "", nil); code != http.StatusNotFound {
			t.Errorf("%s GET private video: %d", name, code)
		}
		for _, path := range []string{"/api/v1/videos", "/api/v1/search?q=clip", "/api/v1/account/videos"} {
			// The search index follows a write within about 50 ms.
			deadline := time.Now().Add(5 * time.Second)
			for {
				code, raw := c.do(http.MethodGet, path, "", nil)
				if code != http.StatusOK || !strings.Contains(string(raw), id) {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("%s sees the private video in %s: %.300s", name, path, raw)
					break
				}
				time.Sleep(50 * time.Millisecond) // poll interval
			}
		}
	}
	var mine struct {
		Videos []struct{ ID string } `json:"videos"`
	}
	alice.json(http.MethodGet, "/api/v1/account/videos", "", http.StatusOK, &mine)
	if !slices.ContainsFunc(mine.Videos, func(x struct{ ID string }) bool { return x.ID == id }) {
		t.Errorf("alice's videos lack her private video: %+v", mine)
	}
	var own, otherOwn struct {
		HLS        string `json:"hls"`
		MediaToken string `json:"media_token"`
	}
	alice.json(http.MethodGet, "/api/v1/videos/"+id, "", http.StatusOK, &own)
	alice.json(http.MethodGet, "/api/v1/videos/"+other, "", http.StatusOK, &otherOwn)
	if own.MediaToken == "" || !strings.HasSuffix(own.HLS, "?token="+own.MediaToken) {
		t.Fatalf("owner's view of a private video: %+v", own)
	}
	admin.json(http.MethodGet, "/api/v1/videos/"+id, "", http.StatusOK, nil)

	// Private media: the manifest and a segment, without a token, with
	// another video's, and with the video's own.
	manifest := "/media/" + id + "/" + strings.TrimPrefix(strings.SplitN(own.HLS, "?", 2)[0], "/media/"+id+"/")
	code, raw := anon.do(http.MethodGet, manifest+"?token="+own.MediaToken, "", nil)
	if code != http.StatusOK {
		t.Fatalf("manifest with its token: %d %s", code, raw)
	}
	segment := ""
	for _, l := range strings.Split(string(raw), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			segment = "/media/" + id + "/" + l
			break
		}
	}
	for _, path := range []string{manifest, segment} {
		for _, tc := range []struct {
			name, token string
			want        int
		}{
			{"no token", "", http.StatusForbidden},
			{"another video's token", otherOwn.MediaToken, http.StatusForbidden},
			{"a forged token", own.MediaToken[:len(own.MediaToken)-2] + "AA", http.StatusForbidden},
			{"its own token", own.MediaToken, http.StatusOK},
		} {
			q := ""
			if tc.token != "" {
				q = "?token=" + tc.token
			}
			if code, raw := anon.do(http.MethodGet, path+q, "", nil); code != tc.want {
				t.Errorf("%s with %s: %d %.200s, want %d", path, tc.name, code, raw, tc.want)
			}
		}
	}

	// Rotation: a new key signs new tokens, the old key's tokens play on
	// until it is removed, then they are refused.
	rotate := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(strataBin, append([]string{"admin"}, args...)...)
		cmd.Env = append(os.Environ(), "STRATA_ADMIN=unix/"+filepath.Join(n.dataDir, "admin.sock"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("strata admin %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	oldKey, _, _ := strings.Cut(own.MediaToken, ".")
	rotate("rotate-key")
	var fresh struct {
		MediaToken string `json:"media_token"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		alice.json(http.MethodGet, "/api/v1/videos/"+id, "", http.StatusOK, &fresh)
		if k, _, _ := strings.Cut(fresh.MediaToken, "."); k != oldKey {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a rotation the owner still gets tokens of key %s", oldKey)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
	for _, tok := range []string{own.MediaToken, fresh.MediaToken} {
		if code, raw := anon.do(http.MethodGet, manifest+"?token="+tok, "", nil); code != http.StatusOK {
			t.Fatalf("after a rotation, a token %.12s…: %d %s", tok, code, raw)
		}
	}
	rotate("remove-key", oldKey)
	deadline = time.Now().Add(5 * time.Second)
	for {
		code, _ := anon.do(http.MethodGet, segment+"?token="+own.MediaToken, "", nil)
		if code == http.StatusForbidden {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a removed key's token still gets %d", code)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
	if code, raw := anon.do(http.MethodGet, segment+"?token="+fresh.MediaToken, "", nil); code != http.StatusOK {
		t.Fatalf("the new key's token after the old one's removal: %d %s", code, raw)
	}

	// Quotas: an upload past the storage quota is refused before a byte.
	admin.json(http.MethodPatch, "/api/v1/admin/users/"+aliceID, `{"storage_quota":`+strconv.Itoa(len(data)*2+10)+`}`, http.StatusOK, nil)
	if code, raw, _ := alice.upload(data, "too much"); code != http.StatusRequestEntityTooLarge || errorCode(raw) != "quota_reached" {
		t.Fatalf("upload past the quota: %d %s", code, raw)
	}
	// A deferred length cannot slip past the quota.
	code, raw = alice.do(http.MethodPost, "/api/v1/uploads/", "", map[string]string{
		"Tus-Resumable": "1.0.0", "Upload-Defer-Length": "1",
		"Upload-Metadata": tusMetadata(map[string]string{"filename": "clip.mp4", "title": "unknown length"}),
	})
	if code != http.StatusLengthRequired || errorCode(raw) != "length_required" {
		t.Fatalf("upload of deferred length with a quota: %d %s", code, raw)
	}

	// The owner deletes: gone for everyone.
	if code, raw := alice.do(http.MethodDelete, "/api/v1/videos/"+id, "", nil); code != http.StatusNoContent {
		t.Fatalf("owner delete: %d %s", code, raw)
	}
	if code, _ := alice.do(http.MethodGet, "/api/v1/videos/"+id, "", nil); code != http.StatusNotFound {
		t.Fatalf("deleted video: %d", code)
	}
}
