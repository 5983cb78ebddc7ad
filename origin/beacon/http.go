package beacon

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/stratavideo/strata/origin/httperr"
)

// MaxBody is the largest beacon taken.
const MaxBody = 8 << 10

// ServeHTTP is POST /api/v1/beacons: one beacon as JSON, from anyone.
// 204 when taken; 400 for a malformed one, 404 for an unknown video, 413
// for a body over MaxBody, 429 when the client's IP sends too many. A
// refused beacon counts nothing.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !c.limit.allow(clientIP(r)) {
		w.Header().Set("Retry-After", "1")
		httperr.Write(w, http.StatusTooManyRequests, "rate_limited", "too many beacons from this address; slow down")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httperr.Write(w, http.StatusRequestEntityTooLarge, "too_large", "a beacon is at most 8 KB")
			return
		}
		httperr.BadRequest(w, "could not read the beacon")
		return
	}
	var b Beacon
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&b); err != nil {
		httperr.BadRequest(w, "a beacon is a JSON object: "+err.Error())
		return
	}
	if dec.More() {
		httperr.BadRequest(w, "a beacon is one JSON object")
		return
	}
	switch err := c.check(&b); {
	case errors.Is(err, ErrUnknownVideo):
		httperr.NotFound(w, "video")
		return
	case err != nil && isStoreFailure(err):
		c.log.Error("beacon: reading the video failed", "error", err)
		httperr.Internal(w)
		return
	case err != nil:
		httperr.BadRequest(w, err.Error())
		return
	}
	c.Record(&b)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// checkError marks check's answers about the beacon itself.
type checkError struct{ error }

func isStoreFailure(err error) bool {
	var ce checkError
	return !errors.As(err, &ce)
}

// clientIP is the address limits count by: Caddy has already resolved
// trusted proxies into RemoteAddr's place when configured.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ipLimiter is a token bucket per IP, in memory; buckets full again are
// dropped now and then so the map stays small.
type ipLimiter struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu    sync.Mutex
	m     map[string]*rate.Limiter
	swept time.Time
}

func newIPLimiter(every time.Duration, burst int, now func() time.Time) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, now: now, m: map[string]*rate.Limiter{}}
}

func (l *ipLimiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) > time.Minute {
		for k, lim := range l.m {
			if lim.TokensAt(now) >= float64(l.burst) {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	lim := l.m[ip]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.m[ip] = lim
	}
	return lim.AllowN(now, 1)
}
