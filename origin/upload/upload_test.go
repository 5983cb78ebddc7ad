package upload

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/blobstore"
)

type env struct {
	t    *testing.T
	srv  *httptest.Server
	h    *Handler
	node *cluster.Node
	dir  string
	// now is the handler's clock; its sweep loop reads it from another
	// goroutine.
	now atomic.Pointer[time.Time]
}

func newEnv(t *testing.T, maxSize int64) *env {
	t.Helper()
	dir := t.TempDir()
	cfg := cluster.DefaultNodeConfig(filepath.Join(dir, "node"))
	cfg.NoSync = true
	n, err := cluster.OpenNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ := blobstore.FolderURL(filepath.Join(dir, "raw"))
	raw, err := blobstore.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	e := &env{t: t, node: n, dir: filepath.Join(dir, "uploads")}
	start := time.Now()
	e.now.Store(&start)
	e.h, err = New(Config{Dir: e.dir, MaxSize: maxSize, Raw: raw, Cluster: n, SweepEvery: time.Hour,
		Now: func() time.Time { return *e.now.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.h.Close)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) do(method, path string, body string, hdr map[string]string) *http.Response {
	e.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.srv.URL + path
	}
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Tus-Resumable", "1.0.0")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func (e *env) create(size int, md string) string {
	e.t.Helper()
	resp := e.do(http.MethodPost, "/api/v1/uploads/", "", map[string]string{"Upload-Length": strconv.Itoa(size), "Upload-Metadata": md})
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create: %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func TestFinishedUploadBecomesVideoAndJob(t *testing.T) {
	e := newEnv(t, 1<<20)
	body := "0123456789abcdefghij"
	loc := e.create(len(body), "filename "+b64("My Holiday.mov")+",tags "+b64(" beach, Beach ,sun "))
	id := loc[strings.LastIndex(loc, "/")+1:]
	if len(id) != idLen {
		t.Fatalf("upload id %q is not a short video id", id)
	}
	resp := e.do(http.MethodPatch, loc, body, map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Strata-Video-Id") != id {
		t.Fatalf("final patch: %d %v", resp.StatusCode, resp.Header)
	}
	v, err := e.node.Video(id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Title != "My Holiday" || strings.Join(v.Tags, ",") != "beach,sun" || v.SizeBytes != int64(len(body)) || v.Status != model.StatusUploaded {
		t.Fatalf("video = %+v", v)
	}
	jobs, _ := e.node.JobsOf(id)
	if len(jobs) != 1 || jobs[0].State != model.JobQueued {
		t.Fatalf("jobs = %+v", jobs)
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(e.dir), "raw", id, "source"))
	if err != nil || string(raw) != body {
		t.Fatalf("raw store holds %q, %v", raw, err)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, 100)
	cases := []struct {
		name   string
		hdr    map[string]string
		status int
		code   string
	}{
		{"too large", map[string]string{"Upload-Length": "101"}, 413, "too_large"},
		{"title too long", map[string]string{"Upload-Length": "10", "Upload-Metadata": "title " + b64(strings.Repeat("x", 201))}, 400, "invalid_metadata"},
		{"too many tags", map[string]string{"Upload-Length": "10", "Upload-Metadata": "tags " + b64(strings.Repeat("t,", 0)+tags(31))}, 400, "invalid_metadata"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do(http.MethodPost, "/api/v1/uploads/", "", c.hdr)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(body), `"code":"`+c.code+`"`) {
				t.Fatalf("%d %s, want %d with code %s", resp.StatusCode, body, c.status, c.code)
			}
		})
	}
	if entries, _ := os.ReadDir(e.dir); len(entries) != 0 {
		t.Fatalf("refused uploads left %d files", len(entries))
	}
}

func tags(n int) string {
	var out []string
	for i := range n {
		out = append(out, "tag"+strconv.Itoa(i))
	}
	return strings.Join(out, ",")
}

func TestChecksumExtension(t *testing.T) {
	e := newEnv(t, 1<<20)
	opts := e.do(http.MethodOptions, "/api/v1/uploads/", "", nil)
	opts.Body.Close()
	if ext := opts.Header.Get("Tus-Extension"); !strings.Contains(ext, "checksum") || !strings.Contains(ext, "expiration") {
		t.Fatalf("Tus-Extension = %q", ext)
	}
	if algos := opts.Header.Get("Tus-Checksum-Algorithm"); !strings.Contains(algos, "sha256") {
		t.Fatalf("Tus-Checksum-Algorithm = %q", algos)
	}
	loc := e.create(10, "")
	sum := sha256.Sum256([]byte("01234"))
	patch := func(offset int, data, digest string) *http.Response {
		resp := e.do(http.MethodPatch, loc, data, map[string]string{"Upload-Offset": strconv.Itoa(offset),
			"Content-Type": "application/offset+octet-stream", "Upload-Checksum": "sha256 " + digest})
		resp.Body.Close()
		return resp
	}
	if r := patch(0, "01234", base64.StdEncoding.EncodeToString(sum[:4])); r.StatusCode != statusChecksumMismatch {
		t.Fatalf("bad digest: %d", r.StatusCode)
	}
	head := e.do(http.MethodHead, loc, "", nil)
	head.Body.Close()
	if head.Header.Get("Upload-Offset") != "0" {
		t.Fatalf("offset after mismatch = %s", head.Header.Get("Upload-Offset"))
	}
	if r := patch(0, "01234", base64.StdEncoding.EncodeToString(sum[:])); r.StatusCode != http.StatusNoContent || r.Header.Get("Upload-Offset") != "5" {
		t.Fatalf("good digest: %d offset %s", r.StatusCode, r.Header.Get("Upload-Offset"))
	}
	if r := patch(5, "56789", "%%%"); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed checksum header: %d", r.StatusCode)
	}
}

// tusd's own errors come back as JSON too.
func TestTusErrorsAreJSON(t *testing.T) {
	e := newEnv(t, 1<<20)
	loc := e.create(10, "")
	resp := e.do(http.MethodPatch, loc, "01234", map[string]string{"Upload-Offset": "3", "Content-Type": "application/offset+octet-stream"})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("Content-Type") != "application/json" ||
		!strings.Contains(string(body), `"code":"mismatched_offset"`) {
		t.Fatalf("wrong offset: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestSweepRemovesExpiredUploads(t *testing.T) {
	e := newEnv(t, 1<<20)
	loc := e.create(10, "")
	id := loc[strings.LastIndex(loc, "/")+1:]
	if n := e.h.Sweep(); n != 0 {
		t.Fatalf("swept %d fresh uploads", n)
	}
	later := e.now.Load().Add(25 * time.Hour)
	e.now.Store(&later)
	if n := e.h.Sweep(); n != 1 {
		t.Fatalf("swept %d, want the expired upload", n)
	}
	resp := e.do(http.MethodHead, loc, "", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD of an expired upload: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(e.dir, id)); !os.IsNotExist(err) {
		t.Fatalf("expired upload file still there: %v", err)
	}
}

func TestParseTags(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"a, b ,a,A":             "a|b",
		"  multi   word , x ":   "multi word|x",
		"Ünïcode,ünïcode,emoji": "Ünïcode|emoji",
	} {
		got, err := ParseTags(in)
		if err != nil || strings.Join(got, "|") != want {
			t.Errorf("ParseTags(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseTags(strings.Repeat("x", 51)); err == nil {
		t.Error("a 51-character tag was accepted")
	}
}
