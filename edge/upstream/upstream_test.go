package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestServeStreams: the response is returned when the handler writes its
// header, and the body arrives while the handler is still writing.
func TestServeStreams(t *testing.T) {
	release := make(chan struct{})
	h := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Length", "10")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("01234"))
		<-release
		w.Write([]byte("56789"))
		return nil
	})
	resp, err := Serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.ContentLength != 10 {
		t.Fatalf("%d, length %d", resp.StatusCode, resp.ContentLength)
	}
	first := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "01234" {
		t.Fatalf("first bytes %q, %v", first, err)
	}
	close(release)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "56789" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

func TestServeErrors(t *testing.T) {
	boom := caddyhttp.Error(http.StatusBadGateway, errors.New("no upstream"))
	_, err := Serve(caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return boom }),
		httptest.NewRequest(http.MethodGet, "/x", nil))
	if StatusOf(err) != http.StatusBadGateway {
		t.Fatalf("err %v, status %d", err, StatusOf(err))
	}
	// A handler that panics with ErrAbortHandler (reverse_proxy when its
	// reader goes away) does not take the process down.
	resp, err := Serve(caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(200)
		w.Write([]byte("x"))
		panic(http.ErrAbortHandler)
	}), httptest.NewRequest(http.MethodGet, "/x", nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, http.ErrAbortHandler) {
		t.Fatalf("body error %v", err)
	}
	// A request whose context ends before the header gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	block := make(chan struct{})
	defer close(block)
	_, err = Serve(caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { <-block; return nil }),
		httptest.NewRequest(http.MethodGet, "/x", nil).WithContext(ctx))
	if StatusOf(err) != http.StatusGatewayTimeout {
		t.Fatalf("timeout: %v", err)
	}
}

func TestChainFallsThrough(t *testing.T) {
	answer := func(status int, body string) Fetcher {
		return Handler{caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.WriteHeader(status)
			_, err := io.WriteString(w, body)
			return err
		})}
	}
	fail := Handler{caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		return caddyhttp.Error(http.StatusBadGateway, errors.New("down"))
	})}
	for name, tc := range map[string]struct {
		chain Chain
		want  string
	}{
		"first answers":        {Chain{answer(200, "parent"), answer(200, "origin")}, "200 parent"},
		"first fails":          {Chain{fail, answer(200, "origin")}, "200 origin"},
		"first 5xx":            {Chain{answer(503, "busy"), answer(200, "origin")}, "200 origin"},
		"404 is an answer":     {Chain{answer(404, "none"), answer(200, "origin")}, "404 none"},
		"last 5xx is returned": {Chain{fail, answer(500, "broken")}, "500 broken"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := tc.chain.Fetch(httptest.NewRequest(http.MethodGet, "/x", nil))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if got := fmt.Sprintf("%d %s", resp.StatusCode, body); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := (Chain{fail, fail}).Fetch(httptest.NewRequest(http.MethodGet, "/x", nil)); err == nil {
		t.Fatal("all failing: no error")
	}
}
