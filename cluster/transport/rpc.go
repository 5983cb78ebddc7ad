package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ErrDial marks a failure to open a stream: nothing of the request was
// sent, so retrying it elsewhere cannot apply it twice.
var ErrDial = errors.New("cluster dial failed")

// HTTPClient returns a client whose requests to http://PEER-CLUSTER-ADDR/…
// travel over the cluster port as RPC streams. Connections are kept alive
// and reused, so a forwarded write costs one round trip.
func (m *Mux) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				c, err := m.Dial(ctx, addr, KindRPC)
				if err != nil {
					return nil, fmt.Errorf("%w: %w", ErrDial, err)
				}
				return c, nil
			},
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   false,
		},
	}
}

// ServeRPC serves h on the RPC streams until the mux closes.
func (m *Mux) ServeRPC(h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = srv.Serve(m.Listener(KindRPC)) }()
	return srv
}
