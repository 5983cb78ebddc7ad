package transport

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

const key = "correct horse battery staple"

func newMux(t *testing.T, k, id string) *Mux {
	t.Helper()
	ident, err := IdentityFromKey(k, id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m, err := Listen("127.0.0.1:0", "", ident, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func serveEcho(m *Mux) {
	m.ServeRPC(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.URL.Path)
	}))
}

func TestRPCBetweenNodesWithTheKey(t *testing.T) {
	a, b := newMux(t, key, "a"), newMux(t, key, "b")
	serveEcho(b)
	resp, err := a.HTTPClient(5 * time.Second).Get("http://" + b.Addr().String() + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello /ping" {
		t.Fatalf("body %q", body)
	}
}

func TestRaftStreams(t *testing.T) {
	a, b := newMux(t, key, "a"), newMux(t, key, "b")
	go func() {
		c, err := b.RaftLayer().Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := a.RaftLayer().Dial(raft.ServerAddress(b.Addr().String()), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "raft!")
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "raft!" {
		t.Fatalf("echo %q %v", buf, err)
	}
}

// A node with another key, and a client with no certificate at all, get
// nothing from the cluster port.
func TestWrongKeyGetsNothing(t *testing.T) {
	good := newMux(t, key, "good")
	serveEcho(good)
	evil := newMux(t, "some other key entirely", "evil")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := evil.Dial(ctx, good.Addr().String(), KindRPC); err == nil {
		t.Fatal("a node with the wrong key completed a handshake")
	}
	// Plain TLS without a client certificate: the handshake must fail
	// before any byte of HTTP.
	c, err := tls.Dial("tcp", good.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err == nil {
		c.Write([]byte{KindRPC})
		io.WriteString(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		got, _ := io.ReadAll(c)
		c.Close()
		if len(got) > 0 {
			t.Fatalf("a client without a certificate got %q", got)
		}
	}
	// Plain TCP gets nothing either.
	raw, err := net.Dial("tcp", good.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(raw, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
	raw.SetReadDeadline(time.Now().Add(6 * time.Second))
	got, _ := io.ReadAll(raw)
	raw.Close()
	if strings.Contains(string(got), "hello") {
		t.Fatalf("plain TCP got %q", got)
	}
}

func TestIsolateCutsBothWays(t *testing.T) {
	a, b := newMux(t, key, "a"), newMux(t, key, "b")
	serveEcho(a)
	serveEcho(b)
	client := a.HTTPClient(2 * time.Second)
	if _, err := client.Get("http://" + b.Addr().String() + "/x"); err != nil {
		t.Fatal(err)
	}
	b.Isolate()
	if _, err := client.Get("http://" + b.Addr().String() + "/x"); err == nil {
		t.Fatal("reached an isolated node")
	}
	if _, err := b.HTTPClient(2 * time.Second).Get("http://" + a.Addr().String() + "/x"); err == nil {
		t.Fatal("an isolated node reached out")
	}
	b.Rejoin()
	if _, err := client.Get("http://" + b.Addr().String() + "/x"); err != nil {
		t.Fatalf("after rejoin: %v", err)
	}
}

func TestShortKeyRefused(t *testing.T) {
	if _, err := IdentityFromKey("short", "a", time.Now()); err == nil {
		t.Fatal("a short key was accepted")
	}
}
