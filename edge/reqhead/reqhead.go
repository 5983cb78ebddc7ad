// Package reqhead reads the head of an HTTP/1.1 request (request line and
// header fields) from bytes already received, without allocating, for the
// edge's fast path (edge/fast.go).
//
// It is deliberately strict: it understands the narrow shape of a plain
// media GET or HEAD and says ErrDoubt for anything else — another
// version, obs-fold, bare LF, a control character, an over-long head,
// fields outside RFC 9110's token and visible-character sets. The caller
// then hands the connection and the bytes to net/http, which answers
// whatever it is (a 400 included). So this parser never has to be right
// about an unusual request, only never wrong about one it accepts: its
// fuzz test checks every head it accepts against net/http's own reader.
package reqhead

import "errors"

// Errors of Parse.
var (
	// ErrIncomplete: the bytes are a prefix of a head that may still turn
	// out plain; read more and parse again.
	ErrIncomplete = errors.New("reqhead: incomplete request head")
	// ErrDoubt: not a head this package vouches for; hand it to net/http.
	ErrDoubt = errors.New("reqhead: request head not understood")
)

// MaxFields bounds the header fields of a head Parse accepts.
const MaxFields = 64

// Head is what Parse found. Slices point into the parsed bytes and are
// valid only as long as they are.
type Head struct {
	Method []byte // GET or HEAD
	Target []byte // the request-target as sent (origin-form: starts with /)
	// Host, Range, RequestID and Connection are the first value of each
	// field, trimmed of surrounding spaces and tabs; the counts are how
	// many times each field appeared.
	Host, Range, RequestID, Connection     []byte
	NHost, NRange, NRequestID, NConnection int
	// IfNoneMatch is the first If-None-Match value, trimmed; the counts
	// are how many If-None-Match and If-Modified-Since fields appeared
	// (RFC 9110 §13.2.2: the latter is ignored when the former is there).
	IfNoneMatch                    []byte
	NIfNoneMatch, NIfModifiedSince int
	// Refused is set when a field appeared that a cached plain answer
	// cannot honour: a body (Content-Length, Transfer-Encoding), Expect,
	// Upgrade, HTTP2-Settings, TE, Trailer, or any other precondition
	// (If-Match, If-Unmodified-Since, If-Range).
	Refused bool
	// MoreThanHead is set when a field says the request may go on past
	// its head on the connection or change what the connection carries:
	// Content-Length, Transfer-Encoding, Expect, Upgrade, HTTP2-Settings,
	// TE, Trailer. Such a request also sets Refused.
	MoreThanHead bool
}

// Parse reads one request head from the start of b into h. It returns the
// head's length (up to and including the empty line) when the head is
// complete and understood, ErrIncomplete when b may be the beginning of
// one, and ErrDoubt otherwise.
func Parse(b []byte, h *Head) (int, error) {
	*h = Head{}
	// Request line: method SP target SP HTTP/1.1 CRLF.
	i := 0
	for i < len(b) && b[i] >= 'A' && b[i] <= 'Z' {
		i++
	}
	if i == len(b) {
		return 0, incompleteIf(i <= 7 && isPrefixOfMethod(b))
	}
	if b[i] != ' ' {
		return 0, ErrDoubt
	}
	h.Method = b[:i]
	if string(h.Method) != "GET" && string(h.Method) != "HEAD" {
		return 0, ErrDoubt
	}
	i++
	start := i
	for i < len(b) && isTargetChar(b[i]) {
		i++
	}
	if i == len(b) {
		return 0, incompleteIf(true)
	}
	if b[i] != ' ' || i == start || b[start] != '/' {
		return 0, ErrDoubt
	}
	h.Target = b[start:i]
	i++
	const proto = "HTTP/1.1\r\n"
	for k := 0; k < len(proto); k++ {
		if i+k == len(b) {
			return 0, ErrIncomplete
		}
		if b[i+k] != proto[k] {
			return 0, ErrDoubt
		}
	}
	i += len(proto)
	// Header fields: name ":" OWS value OWS CRLF, then CRLF.
	for fields := 0; ; fields++ {
		if i == len(b) {
			return 0, ErrIncomplete
		}
		if b[i] == '\r' {
			if i+1 == len(b) {
				return 0, ErrIncomplete
			}
			if b[i+1] != '\n' {
				return 0, ErrDoubt
			}
			return i + 2, nil
		}
		if fields == MaxFields {
			return 0, ErrDoubt
		}
		ns := i
		for i < len(b) && isTchar(b[i]) {
			i++
		}
		if i == len(b) {
			return 0, ErrIncomplete
		}
		if b[i] != ':' || i == ns {
			return 0, ErrDoubt
		}
		name := b[ns:i]
		i++
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		vs := i
		for i < len(b) && (b[i] >= ' ' && b[i] < 0x7f || b[i] == '\t') {
			i++
		}
		if i == len(b) {
			return 0, ErrIncomplete
		}
		if b[i] != '\r' {
			return 0, ErrDoubt
		}
		if i+1 == len(b) {
			return 0, ErrIncomplete
		}
		if b[i+1] != '\n' {
			return 0, ErrDoubt
		}
		ve := i
		for ve > vs && (b[ve-1] == ' ' || b[ve-1] == '\t') {
			ve--
		}
		h.field(name, b[vs:ve])
		i += 2
	}
}

// field records one header field.
func (h *Head) field(name, value []byte) {
	switch {
	case equalFold(name, "host"):
		if h.NHost == 0 {
			h.Host = value
		}
		h.NHost++
	case equalFold(name, "range"):
		if h.NRange == 0 {
			h.Range = value
		}
		h.NRange++
	case equalFold(name, "x-request-id"):
		if h.NRequestID == 0 {
			h.RequestID = value
		}
		h.NRequestID++
	case equalFold(name, "connection"):
		if h.NConnection == 0 {
			h.Connection = value
		}
		h.NConnection++
	case equalFold(name, "content-length"), equalFold(name, "transfer-encoding"),
		equalFold(name, "expect"), equalFold(name, "upgrade"), equalFold(name, "http2-settings"),
		equalFold(name, "te"), equalFold(name, "trailer"):
		h.Refused, h.MoreThanHead = true, true
	case equalFold(name, "if-none-match"):
		if h.NIfNoneMatch == 0 {
			h.IfNoneMatch = value
		}
		h.NIfNoneMatch++
	case equalFold(name, "if-modified-since"):
		h.NIfModifiedSince++
	case len(name) >= 3 && equalFold(name[:3], "if-"):
		h.Refused = true
	}
}

func incompleteIf(ok bool) error {
	if ok {
		return ErrIncomplete
	}
	return ErrDoubt
}

// isPrefixOfMethod reports whether b (upper-case letters only) can still
// become "GET " or "HEAD ".
func isPrefixOfMethod(b []byte) bool {
	return len(b) <= 3 && string(b) == "GET"[:len(b)] || len(b) <= 4 && string(b) == "HEAD"[:len(b)]
}

// equalFold compares an ASCII field name with a lower-case constant.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// isTargetChar reports whether c may appear in a request-target Parse
// accepts: RFC 3986's unreserved and sub-delims, ':', '@', '/' and '?'.
// Not '%': an escape is net/http's to decode (or refuse).
func isTargetChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/', '?':
		return true
	}
	return false
}

// isTchar reports whether c may appear in a field name (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
