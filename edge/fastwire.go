package edge

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stratavideo/strata/cluster/reqid"
	"github.com/stratavideo/strata/edge/cache"
)

// The fast path (fast.go) answers a memory hit with header bytes made
// once per cached object. They are made by running the handler's own
// header code (reqid, cors, serveWhole, respond) on a recorder and
// serialising the result with net/http's own Header.WriteSubset, so they
// are the handler's headers in net/http's order and formatting; only the
// per-request values (request ID, a range's Content-Length and
// Content-Range, Date) are left as holes filled on each request.

// Placeholders for the holes: a control character and a letter, which
// no stored header value can contain (net/http's client refuses control
// characters in fields) and WriteSubset passes through unchanged.
const (
	holeRID = "\x01R"
	holeCL  = "\x01L"
	holeCR  = "\x01C"
)

// template is a header block with holes: lits[0] hole[0] lits[1] … lits[n].
type template struct {
	lits  [][]byte
	holes []byte // 'R', 'L' or 'C'
}

// wire is what the fast path keeps per object (cache.Object.SetWire).
// It is never changed once stored; a change makes a new one.
type wire struct {
	// fast is false for an object the fast path leaves to the handler.
	fast   bool
	full   template // 200, the whole object
	part   template // 206, one range; no lits for an empty object
	notMod template // 304, an If-None-Match that names the object

	// file holds the body at off (the disk tier's file, checked against
	// the object once): a body of sendfileMin or more goes to the
	// socket with sendfile, which on a 1.2 MB segment spares the copy
	// that is nearly all a writev costs. fd is file's descriptor; file
	// stays referenced so it stays open, and closes when the object is
	// collected. Without a file (no disk tier, not written yet), the
	// body is written from memory, and the file is looked for again
	// after retry.
	file  *os.File
	fd    int
	off   int64
	retry time.Time
}

// sendfileMin is the smallest body sent with sendfile. At 64 KB the copy
// writev makes already costs more than sendfile's second system call: a
// 64 KB object went from 19-44k to 27-45k req/s (9 of 12 alternating
// pairs) and a 64 KB range won 4 of 4. Each object at or above it keeps
// its disk file open while it is in the memory tier, so a 1 GiB tier
// holds at most 16k descriptors.
const sendfileMin = 64 << 10

var noWire = &wire{}

// wireOf is o's prepared wire, made on first use. Two requests may make
// it at once; both results are the same, either one stays.
func wireOf(c *cache.Cache, o *cache.Object, now time.Time) *wire {
	w, ok := o.Wire().(*wire)
	if !ok {
		w = prepareWire(o)
	} else if !w.fast || w.file != nil || o.Size() < sendfileMin || now.Before(w.retry) {
		return w
	}
	if w.fast && o.Size() >= sendfileMin {
		n := *w
		if f, off, err := c.OpenBody(o); err == nil {
			n.file, n.fd, n.off = f, int(f.Fd()), off
		} else {
			n.retry = now.Add(time.Second)
		}
		w = &n
	}
	o.SetWire(w)
	return w
}

// headRecorder keeps the header and status a handler writes; the body
// goes nowhere.
type headRecorder struct {
	h    http.Header
	code int
}

func (r *headRecorder) Header() http.Header         { return r.h }
func (r *headRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (r *headRecorder) WriteHeader(code int)        { r.code = code }

// prepareWire runs the handler's header code for a plain hit, a single
// range and a 304 on o.
func prepareWire(o *cache.Object) *wire {
	if !fastType(o.Header["Content-Type"]) {
		return noWire
	}
	w := &wire{fast: true}
	req := &http.Request{Method: http.MethodGet, Header: http.Header{}}
	req = req.WithContext(context.Background())

	rec := &headRecorder{h: baseHeader()}
	serveWhole(rec, req, o, hdrHitMem)
	if rec.code != http.StatusOK {
		return noWire
	}
	w.full = makeTemplate(rec.h)

	if o.Size() > 0 {
		rec = &headRecorder{h: baseHeader()}
		req.Header.Set("Range", "bytes=0-0")
		if respond(rec, req, objectEntity(o), xHitMem, 1) != nil || rec.code != http.StatusPartialContent {
			return noWire
		}
		rec.h["Content-Length"] = []string{holeCL}
		rec.h["Content-Range"] = []string{holeCR}
		w.part = makeTemplate(rec.h)
	}

	rec = &headRecorder{h: baseHeader()}
	req.Header = http.Header{"If-None-Match": {"*"}}
	if respond(rec, req, objectEntity(o), xHitMem, 1) != nil || rec.code != http.StatusNotModified {
		return noWire
	}
	// net/http sends no body fields with a 304.
	for _, k := range []string{"Content-Type", "Content-Length", "Transfer-Encoding"} {
		delete(rec.h, k)
	}
	w.notMod = makeTemplate(rec.h)
	return w
}

// baseHeader is what a response has before the edge's media code runs:
// Caddy's Server field, the request ID (reqid.Ensure) and CORS.
func baseHeader() http.Header {
	h := http.Header{"Server": {caddyhttp.ServerHeader}}
	h[http.CanonicalHeaderKey(reqid.Header)] = []string{holeRID}
	cors(h)
	return h
}

// makeTemplate serialises h as net/http would and cuts it at the holes.
func makeTemplate(h http.Header) template {
	var buf bytes.Buffer
	_ = h.WriteSubset(&buf, nil) // a bytes.Buffer does not fail
	b := buf.Bytes()
	var t template
	for {
		i := bytes.IndexByte(b, 0x01)
		if i < 0 || i+1 >= len(b) {
			t.lits = append(t.lits, b)
			return t
		}
		t.lits = append(t.lits, b[:i])
		t.holes = append(t.holes, b[i+1])
		b = b[i+2:]
	}
}

// appendTo appends t with its holes filled.
func (t *template) appendTo(out []byte, rid string, cl, cr []byte) []byte {
	for i, lit := range t.lits {
		out = append(out, lit...)
		if i < len(t.holes) {
			switch t.holes[i] {
			case 'R':
				out = append(out, rid...)
			case 'L':
				out = append(out, cl...)
			case 'C':
				out = append(out, cr...)
			}
		}
	}
	return out
}

// fastType reports whether the fast path may answer an object of this
// Content-Type. Media and images only: Caddy's encode handler (in front
// of /media/ in the example configs) compresses text and XML and adds
// Vary to them, which a response made outside Caddy's routes would miss;
// an object without a type would have net/http sniff one.
func fastType(v []string) bool {
	if len(v) != 1 {
		return false
	}
	mt, _, _ := strings.Cut(v[0], ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if strings.HasPrefix(mt, "video/") || strings.HasPrefix(mt, "audio/") {
		return true
	}
	switch mt {
	case "application/vnd.apple.mpegurl", "application/x-mpegurl", "application/dash+xml",
		"application/mp4", "application/octet-stream",
		"image/jpeg", "image/png", "image/webp", "image/avif":
		return true
	}
	return false
}

// dateCache is the Date value of the current second, per connection.
type dateCache struct {
	sec int64
	b   []byte
}

// appendDate appends now as net/http writes Date.
func (d *dateCache) appendDate(out []byte, now time.Time) []byte {
	if s := now.Unix(); s != d.sec || len(d.b) == 0 {
		d.sec = s
		d.b = now.UTC().AppendFormat(d.b[:0], http.TimeFormat)
	}
	return append(out, d.b...)
}
