// Package reqid gives every request a Strata handler serves an ID, carried
// from the edge to the origin, so the lines both log about one request can
// be found together.
//
// The first Strata handler a request meets (the edge, or the origin's API
// or media handler) calls Ensure: it keeps a valid X-Request-ID the
// client or a proxy in front sent, or makes one; puts it on the response,
// and on the request (so the handler the request goes on to, and an edge
// fill, which copies it to its request to the origin, carry the same ID).
// Caddy's access log, when configured, logs both headers (request.headers
// and resp_headers); Strata's own log lines about a request add the field
// request_id. The ID is not added to Caddy's extra log fields: that costs
// every request an allocation, and a memory hit makes none.
package reqid

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
)

// Header carries the ID on requests and responses.
const Header = "X-Request-ID"

// MaxLen bounds an ID taken from a request.
const MaxLen = 128

// Valid reports whether s may be taken as an ID: 1 to MaxLen characters
// of letters, digits and ._:+/=@- (UUIDs, hex, base64, most tracing IDs).
// Anything else (spaces, quotes, control characters) would make the ID a
// way to write into other people's logs; it is replaced.
func Valid(s string) bool {
	if len(s) == 0 || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '_' || c == ':' || c == '+' || c == '/' || c == '=' || c == '@' || c == '-':
		default:
			return false
		}
	}
	return true
}

// key is Header as net/http keeps it in a header map: reading and
// writing the map directly spares the canonicalisation (an allocation).
var key = http.CanonicalHeaderKey(Header)

// batch is how many IDs are made at once: the edge gives a memory hit an
// ID too, and a hit allocates nothing (edge/hitpath_test.go), so IDs come
// from one random read, one string and one slice per batch, each handed
// out as a one-element header value of its own (capacity 1: an append
// copies, so no two requests share a writable slice).
const batch = 256

var ids struct {
	sync.Mutex
	vals []string
}

// next is a fresh ID as a header value.
func next() []string {
	ids.Lock()
	defer ids.Unlock()
	if len(ids.vals) == 0 {
		raw := make([]byte, batch*12)
		_, _ = rand.Read(raw) // never fails (crypto/rand, Go 1.24+)
		all := hex.EncodeToString(raw)
		ids.vals = make([]string, batch)
		for i := range ids.vals {
			ids.vals[i] = all[i*24 : (i+1)*24]
		}
	}
	v := ids.vals[:1:1]
	ids.vals = ids.vals[1:]
	return v
}

// New is a fresh ID: 96 random bits in hex.
func New() string { return next()[0] }

// Of is r's ID ("" when it has none, or an invalid one).
func Of(r *http.Request) string {
	if v := r.Header[key]; len(v) > 0 && Valid(v[0]) {
		return v[0]
	}
	return ""
}

// Ensure gives r its ID (see the package comment) and returns it.
func Ensure(w http.ResponseWriter, r *http.Request) string {
	v := r.Header[key]
	if len(v) != 1 || !Valid(v[0]) {
		v = next()
		r.Header[key] = v
	}
	w.Header()[key] = v
	return v[0]
}
