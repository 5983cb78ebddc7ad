package reqhead

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     error
		check    func(*Head) bool
	}{
		{"plain GET", "GET /media/v/seg-1.m4s HTTP/1.1\r\nHost: a\r\n\r\n", nil,
			func(h *Head) bool {
				return string(h.Method) == "GET" && string(h.Target) == "/media/v/seg-1.m4s" && string(h.Host) == "a" && h.NHost == 1
			}},
		{"HEAD with fields", "HEAD /x HTTP/1.1\r\nhost:  b:80 \r\nRANGE: bytes=0-9\r\nx-request-id: abc\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n", nil,
			func(h *Head) bool {
				return string(h.Host) == "b:80" && string(h.Range) == "bytes=0-9" && string(h.RequestID) == "abc" && string(h.Connection) == "keep-alive" && !h.Refused
			}},
		{"two request IDs", "GET / HTTP/1.1\r\nHost: a\r\nX-Request-ID: 1\r\nX-Request-ID: 2\r\n\r\n", nil,
			func(h *Head) bool { return h.NRequestID == 2 && string(h.RequestID) == "1" }},
		{"if-none-match", "GET / HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: x\r\nif-none-match:  W/\"x\", \"y\" \r\n\r\n", nil, func(h *Head) bool {
			return !h.Refused && string(h.IfNoneMatch) == `W/"x", "y"` && h.NIfNoneMatch == 1 && h.NIfModifiedSince == 1
		}},
		{"if-match", "GET / HTTP/1.1\r\nHost: a\r\nIf-Match: \"x\"\r\n\r\n", nil, func(h *Head) bool { return h.Refused && !h.MoreThanHead }},
		{"if-range", "GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nIf-Range: \"x\"\r\n\r\n", nil, func(h *Head) bool { return h.Refused && !h.MoreThanHead }},
		{"body", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", nil, func(h *Head) bool { return h.Refused && h.MoreThanHead }},
		{"chunked", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", nil, func(h *Head) bool { return h.Refused && h.MoreThanHead }},
		{"expect", "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", nil, func(h *Head) bool { return h.Refused && h.MoreThanHead }},
		{"upgrade", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", nil, func(h *Head) bool { return h.MoreThanHead }},
		{"empty", "", ErrIncomplete, nil},
		{"half a method", "HE", ErrIncomplete, nil},
		{"half a line", "GET /media/v", ErrIncomplete, nil},
		{"half the version", "GET / HTTP/1.", ErrIncomplete, nil},
		{"half the fields", "GET / HTTP/1.1\r\nHost: a\r\nRan", ErrIncomplete, nil},
		{"no final CRLF yet", "GET / HTTP/1.1\r\nHost: a\r\n\r", ErrIncomplete, nil},
		{"POST", "POST / HTTP/1.1\r\nHost: a\r\n\r\n", ErrDoubt, nil},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ErrDoubt, nil},
		{"TLS hello", "\x16\x03\x01\x02\x00\x01", ErrDoubt, nil},
		{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", ErrDoubt, nil},
		{"absolute form", "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", ErrDoubt, nil},
		{"escape", "GET /a%20b HTTP/1.1\r\nHost: a\r\n\r\n", ErrDoubt, nil},
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", ErrDoubt, nil},
		{"bare LF in fields", "GET / HTTP/1.1\r\nHost: a\n\r\n", ErrDoubt, nil},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", ErrDoubt, nil},
		{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", ErrDoubt, nil},
		{"control in value", "GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", ErrDoubt, nil},
		{"leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", ErrDoubt, nil},
		{"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", ErrDoubt, nil},
		{"lower-case method", "get / HTTP/1.1\r\n\r\n", ErrDoubt, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h Head
			n, err := Parse([]byte(c.in), &h)
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if err == nil {
				if end := strings.Index(c.in, "\r\n\r\n") + 4; n != end {
					t.Errorf("n %d, want %d", n, end)
				}
				if !c.check(&h) {
					t.Errorf("head %+v", h)
				}
			}
		})
	}
}

func TestTooManyFields(t *testing.T) {
	in := "GET / HTTP/1.1\r\n" + strings.Repeat("A: b\r\n", MaxFields+1) + "\r\n"
	if _, err := Parse([]byte(in), new(Head)); !errors.Is(err, ErrDoubt) {
		t.Fatalf("err %v, want ErrDoubt", err)
	}
}

func TestParseAllocatesNothing(t *testing.T) {
	b := []byte("GET /media/v/seg-1.m4s HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9\r\nUser-Agent: wrk\r\n\r\n")
	var h Head
	if a := testing.AllocsPerRun(100, func() { _, _ = Parse(b, &h) }); a != 0 {
		t.Fatalf("Parse allocates %.1f times", a)
	}
}

// FuzzParse checks every head Parse accepts against net/http's reader,
// and that a prefix of an accepted head is never anything but
// incomplete. Its seed corpus runs with the normal tests.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"GET /media/v/seg-1.m4s HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD /x HTTP/1.1\r\nhost:  b:80 \r\nRANGE: bytes=0-9\r\nx-request-id: abc\r\nConnection: keep-alive\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX-Request-ID: 1\r\nX-Request-ID: 2\r\n\r\nGET / HTTP/1.1\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nIf-Range: \"x\"\r\nRange: bytes=1-\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost:\ta\t\r\nA:\r\n\r\n",
		"GET /a?b=c#d HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Head
		n, err := Parse(b, &h)
		if err != nil {
			return
		}
		for k := range n {
			if _, perr := Parse(b[:k], new(Head)); !errors.Is(perr, ErrIncomplete) {
				t.Fatalf("prefix %q of an accepted head: %v", b[:k], perr)
			}
		}
		if h.MoreThanHead {
			return // handed to net/http for good, whatever it is
		}
		rd := bytes.NewReader(b)
		br := bufio.NewReader(rd)
		req, rerr := http.ReadRequest(br)
		if rerr != nil {
			t.Fatalf("accepted %q, net/http says %v", b[:n], rerr)
		}
		if used := len(b) - rd.Len() - br.Buffered(); used != n {
			t.Fatalf("%q: head of %d bytes, net/http read %d", b, n, used)
		}
		if req.Method != string(h.Method) || req.RequestURI != string(h.Target) || req.Proto != "HTTP/1.1" {
			t.Fatalf("%q: %s %s %s, net/http %s %s %s", b, h.Method, h.Target, "HTTP/1.1", req.Method, req.RequestURI, req.Proto)
		}
		same := func(name string, first []byte, count int, vals []string) {
			if len(vals) != count || count > 0 && vals[0] != string(first) {
				t.Fatalf("%q: %s %q ×%d, net/http %q", b, name, first, count, vals)
			}
		}
		if h.NHost > 0 {
			same("Host", h.Host, h.NHost, []string{req.Host})
		}
		same("Range", h.Range, h.NRange, req.Header.Values("Range"))
		same("X-Request-ID", h.RequestID, h.NRequestID, req.Header.Values("X-Request-ID"))
		same("Connection", h.Connection, h.NConnection, req.Header.Values("Connection"))
		same("If-None-Match", h.IfNoneMatch, h.NIfNoneMatch, req.Header.Values("If-None-Match"))
		if n := len(req.Header.Values("If-Modified-Since")); n != h.NIfModifiedSince {
			t.Fatalf("%q: If-Modified-Since ×%d, net/http ×%d", b, h.NIfModifiedSince, n)
		}
		for k, vs := range req.Header {
			if !httpguts.ValidHeaderFieldName(k) {
				t.Fatalf("%q: accepted field name %q", b, k)
			}
			for _, v := range vs {
				if !httpguts.ValidHeaderFieldValue(v) {
					t.Fatalf("%q: accepted field value %q", b, v)
				}
			}
		}
		// The fast path gives a connection back after net/http answered a
		// head without MoreThanHead: net/http must have read the head and
		// nothing after it, and must not switch protocols.
		if req.ContentLength != 0 || len(req.TransferEncoding) > 0 || req.Header.Get("Expect") != "" || req.Body != http.NoBody ||
			req.Header.Get("Upgrade") != "" || req.Header.Get("HTTP2-Settings") != "" {
			t.Fatalf("%q: MoreThanHead unset, but net/http sees a body, Expect or Upgrade", b)
		}
		if h.Refused {
			return
		}
		for k := range req.Header {
			if strings.HasPrefix(k, "If-") && k != "If-None-Match" && k != "If-Modified-Since" {
				t.Fatalf("%q: not refused, but has %s", b, k)
			}
		}
	})
}
