package e2e

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tusUpload is a tus 1.0.0 client that can also misbehave on purpose.
type tusUpload struct {
	t        *testing.T
	base     string
	location string // absolute URL of the upload
	data     []byte
}

func tusMetadata(md map[string]string) string {
	var parts []string
	for k, v := range md {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	return strings.Join(parts, ",")
}

// tusCreate POSTs a new upload of len(data) bytes.
func tusCreate(t *testing.T, base string, data []byte, md map[string]string) *tusUpload {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/uploads/", nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(len(data)))
	req.Header.Set("Upload-Metadata", tusMetadata(md))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("tus create: %d %s", resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("tus create: no Location: %v", err)
	}
	if resp.Header.Get("Upload-Expires") == "" {
		t.Errorf("tus create: no Upload-Expires header (expiration extension)")
	}
	return &tusUpload{t: t, base: base, location: loc.String(), data: data}
}

// id is the upload's ID: the last path segment of its Location.
func (u *tusUpload) id() string {
	p, _ := url.Parse(u.location)
	parts := strings.Split(strings.TrimSuffix(p.Path, "/"), "/")
	return parts[len(parts)-1]
}

// offset asks the server with HEAD.
func (u *tusUpload) offset() int {
	u.t.Helper()
	req, _ := http.NewRequest(http.MethodHead, u.location, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		u.t.Fatalf("tus HEAD: %d", resp.StatusCode)
	}
	n, err := strconv.Atoi(resp.Header.Get("Upload-Offset"))
	if err != nil {
		u.t.Fatalf("tus HEAD: Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return n
}

// patch sends data[from:to] and returns the response.
func (u *tusUpload) patch(from, to int, hdr map[string]string) *http.Response {
	u.t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, u.location, strings.NewReader(string(u.data[from:to])))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", strconv.Itoa(from))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// patchOK sends data[from:to] and expects the new offset back.
func (u *tusUpload) patchOK(from, to int) {
	u.t.Helper()
	resp := u.patch(from, to, nil)
	if resp.StatusCode != http.StatusNoContent {
		u.t.Fatalf("tus PATCH %d-%d: %d", from, to, resp.StatusCode)
	}
	if got := resp.Header.Get("Upload-Offset"); got != strconv.Itoa(to) {
		u.t.Fatalf("tus PATCH %d-%d: Upload-Offset %s", from, to, got)
	}
}

// resume sends the rest of the upload up to `to` from wherever the server
// says it is, as a tus client does after a broken connection: a 409 means
// the broken request was still being written when the offset was read, so
// it asks again. It returns the offset it resumed from.
func (u *tusUpload) resume(to int) int {
	u.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		from := u.offset()
		resp := u.patch(from, to, nil)
		switch {
		case resp.StatusCode == http.StatusNoContent:
			if got := resp.Header.Get("Upload-Offset"); got != strconv.Itoa(to) {
				u.t.Fatalf("tus PATCH %d-%d: Upload-Offset %s", from, to, got)
			}
			return from
		case resp.StatusCode == http.StatusConflict && time.Now().Before(deadline):
			time.Sleep(50 * time.Millisecond) // poll interval
		default:
			u.t.Fatalf("tus PATCH %d-%d: %d", from, to, resp.StatusCode)
		}
	}
}

// patchBroken announces data[from:to] but sends only part of it, then drops
// the connection, as a phone losing its network does.
func (u *tusUpload) patchBroken(from, to, sent int) {
	u.t.Helper()
	p, _ := url.Parse(u.location)
	conn, err := net.DialTimeout("tcp", p.Host, 5*time.Second)
	if err != nil {
		u.t.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "PATCH %s HTTP/1.1\r\nHost: %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: %d\r\n"+
		"Content-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n", p.Path, p.Host, from, to-from)
	w.Write(u.data[from : from+sent])
	if err := w.Flush(); err != nil {
		u.t.Fatal(err)
	}
	// Close with a reset, not a polite FIN, so the server sees a broken body.
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
}
