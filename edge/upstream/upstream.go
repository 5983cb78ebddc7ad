// Package upstream fetches objects for the edge's cache fills from Caddy
// HTTP handlers: a reverse_proxy to origins or parent edges (Caddy's own,
// with its health checks, selection policies and retries), or the next
// handler of the route, which on an all-in-one node is the origin's media
// handler in the same process.
//
// A handler writes to a ResponseWriter; a fill wants a response it can
// read as it arrives. Serve turns the one into the other through a pipe.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Fetcher gets one object.
type Fetcher interface {
	Fetch(r *http.Request) (*http.Response, error)
}

// FetcherFunc adapts a function to Fetcher.
type FetcherFunc func(r *http.Request) (*http.Response, error)

// Fetch implements Fetcher.
func (f FetcherFunc) Fetch(r *http.Request) (*http.Response, error) { return f(r) }

// Handler fetches by running a Caddy handler.
type Handler struct{ caddyhttp.Handler }

// Fetch implements Fetcher.
func (h Handler) Fetch(r *http.Request) (*http.Response, error) { return Serve(h.Handler, r) }

// Middleware adapts a middleware (reverse_proxy) that does not call its
// next handler.
func Middleware(m caddyhttp.MiddlewareHandler) caddyhttp.Handler {
	return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return m.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
			return caddyhttp.Error(http.StatusBadGateway, errors.New("the upstream handler has no next handler"))
		}))
	})
}

// Serve runs h on r in its own goroutine and returns its response as soon
// as the status is known; the body streams through a pipe while h writes
// it. An error h returns before writing anything is returned here; one
// after is the body's read error. Cancelling r's context stops h's writes.
func Serve(h caddyhttp.Handler, r *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, pw: pw, head: make(chan struct{}), req: r}
	failed := make(chan error, 1)
	go func() {
		err := serveRecovering(h, w, r)
		w.mu.Lock()
		wrote := w.wroteHeader
		w.mu.Unlock()
		if !wrote {
			if err != nil {
				failed <- err
				pw.CloseWithError(err)
				return
			}
			w.WriteHeader(http.StatusOK) // wrote nothing: an empty 200
		}
		pw.CloseWithError(err) // nil: the reader sees io.EOF
	}()
	select {
	case <-w.head:
		w.resp.Body = pr
		return w.resp, nil
	case err := <-failed:
		return nil, err
	case <-r.Context().Done():
		pr.CloseWithError(r.Context().Err())
		return nil, r.Context().Err()
	}
}

// serveRecovering runs h, turning the http.ErrAbortHandler panic that
// reverse_proxy raises when its writes fail (the reader went away) into an
// error, as net/http's server would.
func serveRecovering(h caddyhttp.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler { //nolint:errorlint // the sentinel is panicked as is
				panic(v)
			}
			err = fmt.Errorf("upstream handler aborted: %w", http.ErrAbortHandler)
		}
	}()
	return h.ServeHTTP(w, r)
}

// pipeWriter is the ResponseWriter Serve gives the handler.
type pipeWriter struct {
	header http.Header
	pw     *io.PipeWriter
	req    *http.Request

	mu          sync.Mutex
	wroteHeader bool
	head        chan struct{}
	resp        *http.Response
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(status int) {
	if status >= 100 && status < 200 {
		return // informational: not the response
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	hdr := w.header.Clone()
	size := int64(-1)
	if cl := hdr.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			size = n
		}
	}
	w.resp = &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr, ContentLength: size, Request: w.req,
	}
	close(w.head)
}

func (w *pipeWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(p)
}

// Flush is a no-op: every Write already reaches the reader.
func (w *pipeWriter) Flush() {}

// Prepare gives r the request state Caddy's handlers expect: a replacer,
// request variables and the server (srv, or an empty one). Each fetch
// attempt gets its own: a fetch outlives the request that started it,
// and reverse_proxy writes variables that its transport's dialer may
// still read, so no two attempts may share them.
func Prepare(r *http.Request, srv *caddyhttp.Server) *http.Request {
	if srv == nil {
		srv = new(caddyhttp.Server)
	}
	return caddyhttp.PrepareRequest(r, caddy.NewReplacer(), headerSink{}, srv)
}

// serverOf is the Caddy server of a prepared request, or nil.
func serverOf(r *http.Request) *caddyhttp.Server {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	return srv
}

// headerSink stands in for a response writer in a fetch's replacer, which
// reads response headers only for placeholders that name them.
type headerSink struct{}

func (headerSink) Header() http.Header         { return http.Header{} }
func (headerSink) Write(p []byte) (int, error) { return len(p), nil }
func (headerSink) WriteHeader(int)             {}

// Chain tries fetchers in order (parent edges, then origins) and moves to
// the next when one fails or answers with a server error. The last
// answer, good or bad, is returned.
type Chain []Fetcher

// Fetch implements Fetcher.
func (c Chain) Fetch(r *http.Request) (*http.Response, error) {
	var lastErr error
	srv := serverOf(r)
	for i, f := range c {
		resp, err := f.Fetch(Prepare(r.Clone(r.Context()), srv))
		if err == nil && (resp.StatusCode < 500 || i == len(c)-1) {
			return resp, nil
		}
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("upstream answered %d", resp.StatusCode)
		}
		lastErr = err
		if r.Context().Err() != nil {
			break
		}
	}
	if lastErr == nil {
		lastErr = errors.New("no upstream configured")
	}
	return nil, lastErr
}

// StatusOf is the HTTP status an upstream failure should be answered
// with: the handler's own when it gave one (502 from reverse_proxy for an
// unreachable origin), 504 for a timeout, 502 otherwise.
func StatusOf(err error) int {
	var he caddyhttp.HandlerError
	switch {
	case errors.As(err, &he) && he.StatusCode >= 400:
		return he.StatusCode
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadGateway
	}
}

// Interface guards
var (
	_ http.ResponseWriter = (*pipeWriter)(nil)
	_ http.Flusher        = (*pipeWriter)(nil)
	_ Fetcher             = Chain(nil)
	_ Fetcher             = Handler{}
)
