package edge

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// freshness turns an upstream response's Cache-Control into how long the
// edge may serve it without asking again.
//
// Origins mark segments immutable for a year and manifests no-cache. An
// edge that revalidated a manifest on every request would put every
// viewer's playlist poll on the origin, so no-cache (and max-age=0) get a
// short TTL instead, after which the edge revalidates with the ETag; edits
// and deletes do not wait for it, because the cluster log purges them.
type freshness struct {
	manifestTTL time.Duration // no-cache, max-age=0
	defaultTTL  time.Duration // no freshness information at all
	maxTTL      time.Duration // cap on max-age
}

// ttl is how long hdr's response stays fresh, and whether it may be cached
// at all (no-store and private may not).
func (f freshness) ttl(hdr http.Header) (time.Duration, bool) {
	cc := hdr.Values("Cache-Control")
	maxAge, sMaxAge := -1, -1
	noCache := false
	for _, line := range cc {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-store", "private":
				return 0, false
			case "no-cache":
				noCache = true
			case "max-age":
				maxAge = atoi(val)
			case "s-maxage":
				sMaxAge = atoi(val)
			}
		}
	}
	if sMaxAge >= 0 {
		maxAge = sMaxAge
	}
	switch {
	case noCache || maxAge == 0:
		return f.manifestTTL, true
	case maxAge > 0:
		return min(time.Duration(maxAge)*time.Second, f.maxTTL), true
	default:
		return f.defaultTTL, true
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.Trim(s, `"`))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// hopHeaders are not stored: they describe one connection or one response
// framing, not the object.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Proxy-Connection": true,
	"Content-Length": true, "Content-Range": true, "Accept-Ranges": true, "Date": true,
	"Set-Cookie": true, "Server": true, "X-Cache": true, "Age": true, "Alt-Svc": true,
	"X-Request-Id": true, // the fill's own request's, not the object's
}

// storedHeader is the part of an upstream response's header an object
// keeps.
func storedHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if !hopHeaders[k] {
			out[k] = append([]string(nil), v...)
		}
	}
	return out
}
