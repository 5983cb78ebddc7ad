package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// versitygwBin finds the S3-compatible server the S3 tests run against
// (installed by `make test`/.ci/run with go install into .cache/bin).
func versitygwBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("STRATA_VERSITYGW"); p != "" {
		return p
	}
	for _, p := range []string{"../../.cache/bin/versitygw"} {
		if _, err := os.Stat(p); err == nil {
			abs, _ := filepath.Abs(p)
			return abs
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	t.Fatal("versitygw is not installed: run `make test` (it installs it into .cache/bin) or " +
		"GOBIN=$PWD/.cache/bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
	return ""
}

const (
	s3Access = "strata-test-access"
	s3Secret = "strata-test-secret-key-0123456789"
)

// startS3 runs versitygw over a folder and returns its endpoint and the
// folder; buckets are subfolders, created here.
func startS3(t *testing.T, buckets ...string) (string, string) {
	t.Helper()
	bin := versitygwBin(t)
	root := t.TempDir()
	for _, b := range buckets {
		if err := os.MkdirAll(filepath.Join(root, b), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--port", fmt.Sprintf("127.0.0.1:%d", port), "posix", root)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s3Access, "ROOT_SECRET_KEY="+s3Secret)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("versitygw logs:\n%s", tail(logs.String(), 30))
		}
	})
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			return endpoint, root
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}

func s3URL(endpoint, bucket string) string {
	return fmt.Sprintf("s3://%s?endpoint=%s&region=us-east-1&use_path_style=true", bucket, endpoint)
}

// TestClusterOnObjectStorage: two origins share S3 buckets (a real
// S3-compatible server): an upload taken by one is transcoded by the other,
// both serve it, no copies are made, and a delete empties the buckets.
func TestClusterOnObjectStorage(t *testing.T) {
	endpoint, root := startS3(t, "raw", "media")
	t.Setenv("AWS_ACCESS_KEY_ID", s3Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3Secret)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	stores := fmt.Sprintf("raw_store %s\nmedia_store %s", s3URL(endpoint, "raw"), s3URL(endpoint, "media"))
	dir := t.TempDir()
	o1 := startMember(t, dir, member{name: "o1", origin: "workers 0\n" + stores})
	o2 := startMember(t, dir, member{name: "o2", origin: stores, join: o1.clusterAddr})
	waitCluster(t, o1.node, 30*time.Second, "two healthy nodes", allHealthyAndEqual("o1", "o2"))

	src := makeVideo(t, dir, "s3.mp4", 4, "320x240")
	data, _ := os.ReadFile(src)
	id := uploadWhole(t, o1.node, data, "Pelican on object storage")
	v := o1.waitVideo(id, 2*time.Minute)
	if v.Status != "ready" {
		t.Fatalf("video: %s %s", v.Status, v.Error)
	}
	for _, n := range []*clusterNode{o1, o2} {
		checkMedia(t, n.node, v, 4)
	}
	var rec struct {
		RawHolders   []string `json:"raw_holders"`
		MediaHolders []string `json:"media_holders"`
	}
	if _, err := o1.admin(http.MethodGet, "/strata/videos/"+id, nil, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.RawHolders) != 1 || len(rec.MediaHolders) != 1 {
		t.Fatalf("copies were made on shared storage: %+v", rec)
	}

	req, _ := http.NewRequest(http.MethodDelete, o2.base+"/api/v1/videos/"+id, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", err, resp)
	}
	resp.Body.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, _ := get(t, o1.base+v.HLS, nil)
		if r.StatusCode == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("media still served after delete: %d", r.StatusCode)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
	// Every origin deletes on the shared buckets; the objects are gone.
	for {
		var left []string
		for _, b := range []string{"raw", "media"} {
			filepath.Walk(filepath.Join(root, b, id), func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					left = append(left, p)
				}
				return nil
			})
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("objects left in the buckets after delete: %v", left)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}
