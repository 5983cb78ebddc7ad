package e2e

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// uploadWhole sends data in one PATCH and returns the video ID.
func uploadWhole(t *testing.T, n *node, data []byte, title string) string {
	t.Helper()
	up := tusCreate(t, n.base, data, map[string]string{"filename": title + ".mp4", "title": title})
	if len(data) > 0 {
		up.patchOK(0, len(data))
	}
	return up.id()
}

// TestBadInputsFailClearlyAndQueueGoesOn: hostile or broken files end as
// failed videos with a reason a person can read; an oversized upload is
// refused before any byte is stored; a good video after them still works.
func TestBadInputsFailClearlyAndQueueGoesOn(t *testing.T) {
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")
	n := startNode(t, dataDir)

	good := makeVideo(t, work, "good.mp4", 3, "320x240")
	goodData, _ := os.ReadFile(good)
	cases := []struct {
		name   string
		data   []byte
		reason string // a word the reason must contain
	}{
		{"text renamed .mp4", []byte(strings.Repeat("this is not a video, just some text\n", 200)), "not"},
		{"zero bytes", []byte{}, "empty"},
		{"truncated mp4", goodData[:len(goodData)/3], ""},
	}
	ids := map[string]string{}
	for _, c := range cases {
		ids[c.name] = uploadWhole(t, n, c.data, c.name)
	}
	goodID := uploadWhole(t, n, goodData, "good clip after bad ones")

	for _, c := range cases {
		v := n.waitVideo(ids[c.name], 2*time.Minute)
		if v.Status != "failed" {
			t.Errorf("%s: status %q, want failed", c.name, v.Status)
			continue
		}
		if v.Error == "" || strings.Contains(v.Error, "exit status") || strings.Contains(v.Error, "\n") {
			t.Errorf("%s: reason %q is not a readable sentence", c.name, v.Error)
		}
		if !strings.Contains(strings.ToLower(v.Error), c.reason) {
			t.Errorf("%s: reason %q does not mention %q", c.name, v.Error, c.reason)
		}
		t.Logf("%s: %s", c.name, v.Error)
	}
	if v := n.waitVideo(goodID, 3*time.Minute); v.Status != "ready" {
		t.Fatalf("the good video after the bad ones: %s %s", v.Status, v.Error)
	}

	// Over the limit (8 GiB): 413 with a JSON error, and nothing staged.
	before := countFiles(t, filepath.Join(dataDir, "uploads"))
	req, _ := http.NewRequest(http.MethodPost, n.base+"/api/v1/uploads/", strings.NewReader(""))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", "9000000000")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized upload: %d %s", resp.StatusCode, body)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("oversized upload: body %q is not a JSON error", body)
	}
	if after := countFiles(t, filepath.Join(dataDir, "uploads")); after != before {
		t.Fatalf("oversized upload left files: %d before, %d after", before, after)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(entries)
}

// TestAPIEditDeleteAndErrors: PATCH edits what search sees, DELETE removes
// the video and its files, a wrong checksum is refused, and errors are JSON.
func TestAPIEditDeleteAndErrors(t *testing.T) {
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")
	n := startNode(t, dataDir)
	src := makeVideo(t, work, "clip.mp4", 2, "320x240")
	data, _ := os.ReadFile(src)

	// Checksum extension: a wrong digest is refused with 460 and the
	// offset does not move; the right one is taken.
	up := tusCreate(t, n.base, data, map[string]string{"filename": "clip.mp4", "title": "Original title"})
	wrong := sha1.Sum([]byte("something else"))
	resp := up.patch(0, len(data), map[string]string{"Upload-Checksum": "sha1 " + base64.StdEncoding.EncodeToString(wrong[:])})
	if resp.StatusCode != 460 {
		t.Fatalf("wrong checksum: %d, want 460", resp.StatusCode)
	}
	if off := up.offset(); off != 0 {
		t.Fatalf("offset after a refused chunk = %d, want 0", off)
	}
	right := sha1.Sum(data)
	resp = up.patch(0, len(data), map[string]string{"Upload-Checksum": "sha1 " + base64.StdEncoding.EncodeToString(right[:])})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("right checksum: %d", resp.StatusCode)
	}
	id := up.id()
	if v := n.waitVideo(id, 2*time.Minute); v.Status != "ready" {
		t.Fatalf("video: %s %s", v.Status, v.Error)
	}

	// PATCH changes what the API and search show.
	patch := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPatch, n.base+"/api/v1/videos/"+id, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if status, out := patch(`{"title":"Renamed zeppelin","tags":["air","ship"]}`); status != 200 || out["title"] != "Renamed zeppelin" {
		t.Fatalf("patch: %d %v", status, out)
	}
	checkSearch(t, n, "zeppelin", id)
	if status, out := patch(`{"visibility":"sideways"}`); status != 400 || out["error"] == nil {
		t.Fatalf("bad visibility: %d %v", status, out)
	}
	if status, _ := patch(`{"unknown":1}`); status != 400 {
		t.Fatalf("unknown field: %d", status)
	}
	// Half a body, two bodies, a body over the limit: refused whole, and
	// nothing of them applied.
	for name, body := range map[string]string{
		"truncated":     `{"title":"Half`,
		"trailing data": `{"title":"First"} {"title":"Second"}`,
		"over 64 KB":    `{"description":"` + strings.Repeat("x", 70<<10) + `"}`,
	} {
		if status, out := patch(body); status != 400 || out["error"] == nil {
			t.Fatalf("%s: %d %v", name, status, out)
		}
	}
	if status, out := patch(`{}`); status != 200 || out["title"] != "Renamed zeppelin" {
		t.Fatalf("after refused bodies: %d %v", status, out)
	}
	// Unlisted: watchable by ID, gone from search and lists.
	if status, _ := patch(`{"visibility":"unlisted"}`); status != 200 {
		t.Fatalf("unlist: %d", status)
	}
	checkSearchEmpty(t, n, "zeppelin")
	var v video
	if status := n.getJSON("/api/v1/videos/"+id, &v); status != 200 {
		t.Fatalf("unlisted video by id: %d", status)
	}

	// DELETE removes the record, the search entry and the files.
	req, _ := http.NewRequest(http.MethodDelete, n.base+"/api/v1/videos/"+id, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	var e map[string]map[string]string
	if status := n.getJSON("/api/v1/videos/"+id, &e); status != 404 || e["error"]["code"] != "not_found" {
		t.Fatalf("deleted video: %d %v", status, e)
	}
	if r, _ := get(t, n.base+v.HLS, nil); r.StatusCode != 404 {
		t.Fatalf("media of a deleted video: %d", r.StatusCode)
	}
	// Files go off the apply path, soon after.
	for _, dir := range []string{"raw", "media"} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			left := countFiles(t, filepath.Join(dataDir, "blobs", dir, id))
			if left == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d %s files left 30 s after delete", left, dir)
			}
			time.Sleep(50 * time.Millisecond) // poll interval
		}
	}
	if status := n.getJSON("/api/v1/nope", &e); status != 404 || e["error"]["code"] == "" {
		t.Fatalf("unknown endpoint: %d %v", status, e)
	}
}
