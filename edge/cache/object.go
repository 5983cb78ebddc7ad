// Package cache is the edge's two-tier object store: a memory tier on
// ristretto bounded in bytes, and a disk tier bounded in bytes with its
// index rebuilt from the files at start-up. It knows nothing of HTTP
// beyond the response headers an object carries; fetching, coalescing and
// answering requests live in the edge package.
package cache

import (
	"hash/crc32"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// castagnoli is CRC-32C, computed by the CPU's own instruction on amd64 and
// arm64: a checksum per object costs microseconds, not a hash library.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the body checksum stored with every object.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Object is one cached response: a whole 200 body and the headers to send
// with it. An Object is never changed once stored; a revalidation makes a
// new one (Refreshed), so readers need no lock.
type Object struct {
	// Key is the request path, /media/{id}/{file}; the query (a signed
	// token) is never part of it.
	Key string
	// VideoID groups objects for purges.
	VideoID string
	// Header holds the end-to-end response headers to replay, without
	// Content-Length (set from Body) and without hop-by-hop fields.
	Header http.Header
	// ETag and LastModified answer conditional and If-Range requests.
	ETag         string
	LastModified time.Time
	Body         []byte
	// Sum is Checksum(Body), checked when the disk tier reads the object.
	Sum uint32
	// StoredAt is when the bytes (or their last revalidation) arrived;
	// Expires is when the object stops being fresh.
	StoredAt time.Time
	Expires  time.Time

	// contentLength is Body's length formatted once, and pairs the
	// headers as a slice, for the hit path.
	contentLength []string
	pairs         []HeaderPair
	// prefetched is set once the object's successors were prefetched, so
	// a hit does not look them up again.
	prefetched atomic.Bool
	// wire is what the edge's fast path prepared from the object once
	// (its response header blocks); opaque to the cache.
	wire atomic.Value
}

// New makes an object from a complete 200 response.
func New(key, videoID string, hdr http.Header, body []byte, storedAt, expires time.Time) *Object {
	o := &Object{Key: key, VideoID: videoID, Header: hdr, Body: body, Sum: Checksum(body),
		StoredAt: storedAt, Expires: expires}
	o.init()
	return o
}

// init fills the derived fields.
func (o *Object) init() {
	o.ETag = o.Header.Get("ETag")
	if lm := o.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			o.LastModified = t
		}
	}
	o.contentLength = []string{strconv.Itoa(len(o.Body))}
	o.pairs = make([]HeaderPair, 0, len(o.Header))
	for k, v := range o.Header {
		o.pairs = append(o.pairs, HeaderPair{k, v})
	}
}

// ContentLength is the formatted body length, shared by every response:
// callers must not change the slice.
func (o *Object) ContentLength() []string { return o.contentLength }

// Size is the body length.
func (o *Object) Size() int64 { return int64(len(o.Body)) }

// Fresh reports whether the object may be served at now without asking
// upstream.
func (o *Object) Fresh(now time.Time) bool { return now.Before(o.Expires) }

// Refreshed is a copy of o revalidated at now: fresh until expires, with
// the headers a 304 sent replacing the stored ones (RFC 9111 §4.3.4).
func (o *Object) Refreshed(notModified http.Header, now, expires time.Time) *Object {
	hdr := o.Header.Clone()
	for _, k := range []string{"Cache-Control", "Expires", "ETag", "Last-Modified"} {
		if v, ok := notModified[k]; ok {
			hdr[k] = v
		}
	}
	n := &Object{Key: o.Key, VideoID: o.VideoID, Header: hdr, Body: o.Body, Sum: o.Sum,
		StoredAt: now, Expires: expires}
	n.init()
	return n
}

// Prefetched reports whether MarkPrefetched was called.
func (o *Object) Prefetched() bool { return o.prefetched.Load() }

// Wire is what SetWire stored, or nil. The edge's fast path keeps the
// response header blocks it prepares per object here, so they live and
// die with the object.
func (o *Object) Wire() any { return o.wire.Load() }

// SetWire stores w for Wire; every call must store the same type.
func (o *Object) SetWire(w any) { o.wire.Store(w) }

// MarkPrefetched reports whether the object's successors still had to be
// prefetched, and marks them done.
func (o *Object) MarkPrefetched() bool { return o.prefetched.CompareAndSwap(false, true) }

// cost is what the object weighs in the memory tier: its body plus a
// rough figure for the struct, headers and key.
func (o *Object) cost() int64 { return int64(len(o.Body)) + 512 + int64(len(o.Key)) }

// HeaderPair is one stored header, kept in a slice so the hit path copies
// headers without iterating a map.
type HeaderPair struct {
	Key    string
	Values []string
}

// Pairs are the stored headers as a slice; callers must not change them.
func (o *Object) Pairs() []HeaderPair { return o.pairs }
