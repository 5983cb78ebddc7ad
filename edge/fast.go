package edge

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"golang.org/x/net/http/httpguts"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/reqid"
	"github.com/stratavideo/strata/edge/cache"
	"github.com/stratavideo/strata/edge/ranges"
	"github.com/stratavideo/strata/edge/reqhead"
)

func init() {
	caddy.RegisterModule(new(FastListener))
}

// FastListener is the caddy.listeners.strata_edge_fast listener wrapper:
// the edge's fast path for memory hits.
//
// Why: a 64 KB hit costs the edge handler about 0.6 µs, and Caddy's and
// net/http's per-request work around it (request and context set-up, a
// replacer, route wrappers, the buffered response writer) about 50 µs of
// CPU, which kept the edge at 0.6-0.8× nginx, Varnish and ATS on hits
// (issue #4). The fast path reads HTTP/1.1 requests on the connections
// the listener accepts, before net/http sees them, and answers a plain
// GET or HEAD of a fresh, public object in the memory tier itself: one
// writev of header bytes prepared once per object (fastwire.go) and the
// body, the same bytes the handler would have sent (a test holds it to
// that), the same counters and request ID. Anything else — a miss, a
// stale, private or purged object, a query (tokens), preconditions, a
// body, an unusual or doubtful head, HTTP/2, TLS — goes to net/http on
// the same connection with the bytes already read replayed. After a plain
// request without a body, the connection comes back once net/http has
// answered (fastback.go); otherwise it stays with net/http.
//
// It serves outside Caddy's routes: it belongs on a server whose /media/
// goes to strata_edge, and other handlers on that route (headers, access
// logs) do not see its hits. Caddy's encode is safe: only media and
// image types are answered, which encode leaves alone.
type FastListener struct {
	// IdleTimeout closes a connection that sends no request for this
	// long. Default 5m, as Caddy's servers.
	IdleTimeout caddy.Duration `json:"idle_timeout,omitempty"`
	// ReadHeaderTimeout closes a connection whose request head takes
	// longer. Default 1m, as Caddy's servers.
	ReadHeaderTimeout caddy.Duration `json:"read_header_timeout,omitempty"`

	role *Role
	log  *slog.Logger
}

// Defaults of the fast path.
const (
	DefaultFastIdleTimeout       = 5 * time.Minute
	DefaultFastReadHeaderTimeout = time.Minute
	// fastBufSize bounds a request head the fast path reads; longer ones
	// go to net/http.
	fastBufSize = 8 << 10
)

// CaddyModule returns the Caddy module information.
func (*FastListener) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.listeners.strata_edge_fast",
		New: func() caddy.Module { return new(FastListener) },
	}
}

// Provision finds the node's edge role, and hooks the server's connection
// states so that handed-off connections can come back (fastback.go).
func (f *FastListener) Provision(ctx caddy.Context) error {
	f.log = cluster.NewLogger(ctx)
	if srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); ok {
		srv.RegisterConnState(fastConnState)
	}
	if f.role != nil {
		return nil
	}
	app, err := cluster.FromContext(ctx)
	if err != nil {
		return fmt.Errorf("strata_edge_fast: %w", err)
	}
	r, ok := app.Role("edge").(*Role)
	if !ok {
		return errors.New("strata_edge_fast: this node has no edge role: add `edge` to the strata global option")
	}
	f.role = r
	return nil
}

// UnmarshalCaddyfile reads the listener wrapper in the servers global
// option:
//
//	servers {
//	    listener_wrappers {
//	        strata_edge_fast {
//	            idle_timeout        <duration>   # default 5m
//	            read_header_timeout <duration>   # default 1m
//	        }
//	    }
//	}
func (f *FastListener) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the wrapper's name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		opt := d.Val()
		val, err := oneArg(d)
		if err != nil {
			return err
		}
		dur, err := caddy.ParseDuration(val)
		if err != nil || dur <= 0 {
			return d.Errf("%s: want a duration like 1m, got %q", opt, val)
		}
		switch opt {
		case "idle_timeout":
			f.IdleTimeout = caddy.Duration(dur)
		case "read_header_timeout":
			f.ReadHeaderTimeout = caddy.Duration(dur)
		default:
			return d.Errf("unknown strata_edge_fast option %q", opt)
		}
	}
	return nil
}

// WrapListener implements caddy.ListenerWrapper.
func (f *FastListener) WrapListener(ln net.Listener) net.Listener {
	return newFastListener(ln, f.role, f.log, durOr(f.IdleTimeout, DefaultFastIdleTimeout), durOr(f.ReadHeaderTimeout, DefaultFastReadHeaderTimeout))
}

// fastSettings is what the config's strata_edge handlers tell the fast
// path: their clock, and whether a hit may have to start a prefetch
// (then an object not yet prefetched goes to the handler, which does it).
type fastSettings struct {
	now      func() time.Time
	prefetch bool
}

// addHandler and removeHandler keep the role's fast settings in step
// with the config's handlers: without a handler, no fast path.
func (e *Role) addHandler(h *Handler) {
	e.fastMu.Lock()
	defer e.fastMu.Unlock()
	if e.fastFrom == nil {
		e.fastFrom = map[*Handler]struct{}{}
	}
	e.fastFrom[h] = struct{}{}
	e.updateFastLocked()
}

func (e *Role) removeHandler(h *Handler) {
	e.fastMu.Lock()
	defer e.fastMu.Unlock()
	delete(e.fastFrom, h)
	e.updateFastLocked()
}

func (e *Role) updateFastLocked() {
	if len(e.fastFrom) == 0 {
		e.fast.Store(nil)
		return
	}
	s := &fastSettings{}
	for h := range e.fastFrom {
		s.now = h.now
		s.prefetch = s.prefetch || h.prefetch > 0
	}
	e.fast.Store(s)
}

// fastListener hands net/http the connections the fast path gave up.
type fastListener struct {
	net.Listener
	role         *Role
	log          *slog.Logger
	idle, header time.Duration

	handoffs  chan net.Conn // unbuffered: a hand-off waits for Accept
	done      chan struct{}
	startOnce sync.Once
	doneOnce  sync.Once
	err       error // why Accept fails, set before done closes

	mu     sync.Mutex
	active map[*fastConn]struct{}
}

func newFastListener(ln net.Listener, role *Role, log *slog.Logger, idle, header time.Duration) *fastListener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &fastListener{Listener: ln, role: role, log: log, idle: idle, header: header,
		handoffs: make(chan net.Conn), done: make(chan struct{}), active: map[*fastConn]struct{}{}}
}

// Accept returns the next connection for net/http: one the fast path
// handed off.
func (l *fastListener) Accept() (net.Conn, error) {
	l.startOnce.Do(func() { go l.acceptLoop() })
	select {
	case c := <-l.handoffs:
		return c, nil
	case <-l.done:
		return nil, l.err
	}
}

// acceptLoop accepts connections and gives each its fast-path goroutine.
func (l *fastListener) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// A sibling server's Close set a deadline on Caddy's
				// shared listener; Caddy has cleared it.
				continue
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				l.log.Warn("edge fast path: accept", "error", err, "retry_in", backoff)
				select {
				case <-time.After(backoff):
					continue
				case <-l.done:
					return
				}
			}
			l.stop(err)
			return
		}
		backoff = 0
		go l.serve(c, nil)
	}
}

// stop makes Accept fail with err from now on and tells idle fast-path
// connections to close.
func (l *fastListener) stop(err error) {
	l.doneOnce.Do(func() {
		l.err = err
		close(l.done)
		l.mu.Lock()
		for fc := range l.active {
			fc.interrupt()
		}
		l.mu.Unlock()
	})
}

// Close closes the listener (Caddy's listeners are shared across
// reloads: its Close only detaches this server) and closes the fast
// path's connections once they are between requests, as net/http's
// shutdown does with idle connections.
func (l *fastListener) Close() error {
	err := l.Listener.Close()
	l.stop(net.ErrClosed)
	return err
}

func (l *fastListener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// handoff gives c to net/http, or closes it when no server takes
// connections any more.
func (l *fastListener) handoff(c net.Conn) {
	select {
	case l.handoffs <- c:
	case <-l.done:
		_ = c.Close()
	}
}

// serve runs the fast path on c, whose first bytes read are pre, until
// it closes c or hands it off.
func (l *fastListener) serve(c net.Conn, pre []byte) {
	if _, isTLS := c.(interface{ ConnectionState() tls.ConnectionState }); isTLS {
		l.handoff(c) // net/http must see the *tls.Conn itself
		return
	}
	fc := fastConns.Get().(*fastConn)
	fc.l, fc.c, fc.r, fc.interrupted, fc.deadline = l, c, 0, false, time.Time{}
	fc.w = copy(fc.buf, pre)
	fc.headLen = -1
	fc.raw = nil
	fc.unanswered.Store(int64(fc.w))
	if sc, ok := c.(syscall.Conn); ok {
		fc.raw, _ = sc.SyscallConn()
	}
	l.mu.Lock()
	if l.closed() {
		l.mu.Unlock()
		_ = c.Close()
		fastConns.Put(fc)
		return
	}
	l.active[fc] = struct{}{}
	l.mu.Unlock()

	keep := fc.loop()
	var pending []byte
	var oneHead bool
	if keep {
		pending = append([]byte(nil), fc.buf[fc.r:fc.w]...)
		// The connection may come back once net/http has answered when
		// it holds exactly one request that ends with its head.
		oneHead = fc.headLen == fc.w-fc.r && !fc.head.MoreThanHead
	}
	l.mu.Lock()
	delete(l.active, fc)
	l.mu.Unlock()
	fc.l, fc.c, fc.raw = nil, nil, nil
	fastConns.Put(fc)
	if !keep {
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	rc := &replayConn{Conn: c, pending: pending}
	if oneHead {
		rc.back = l
	}
	l.role.fastHandoffs.Add(1)
	l.handoff(rc)
}

// fastConn is one connection's state while the fast path has it. Pooled:
// the buffers are reused by the next connection.
type fastConn struct {
	l    *fastListener
	c    net.Conn
	buf  []byte
	r, w int // buf[r:w] is read and not yet answered
	head reqhead.Head
	// headLen is the length of the head handed to net/http (-1 when it
	// was not understood).
	headLen int
	out     []byte
	num     [2][]byte // Content-Length and Content-Range of a range
	iov     [2][]byte
	bufs    net.Buffers
	date    dateCache
	// deadline is the read deadline last set.
	deadline time.Time
	// raw is the socket for sendfile (nil when the connection has none);
	// send is sendStep bound once, and s* its state for one response.
	raw   syscall.RawConn
	send  func(fd uintptr) bool
	sHead []byte
	sFd   int
	sOff  int64
	sLeft int64
	sErr  error

	intMu       sync.Mutex
	interrupted bool
	// unanswered is w-r after the last read, readable from another
	// goroutine (tests watch a head arrive in pieces).
	unanswered atomic.Int64
}

var fastConns = sync.Pool{New: func() any { return newFastConn() }}

func newFastConn() *fastConn {
	fc := &fastConn{buf: make([]byte, fastBufSize), out: make([]byte, 0, 1024),
		num: [2][]byte{make([]byte, 0, 24), make([]byte, 0, 64)}}
	fc.send = fc.sendStep
	return fc
}

// sendfile writes head (with MSG_MORE, so it leaves with the body's
// first bytes) and n bytes of the file fd from off, waiting for the
// socket as net's own writes do.
func (fc *fastConn) sendfile(head []byte, fd int, off, n int64) error {
	fc.sHead, fc.sFd, fc.sOff, fc.sLeft, fc.sErr = head, fd, off, n, nil
	err := fc.raw.Write(fc.send)
	fc.sHead = nil
	if err == nil {
		err = fc.sErr
	}
	if err != nil {
		return fmt.Errorf("sendfile: %w", err)
	}
	return nil
}

// sendStep is one attempt: false means the socket is full, call again
// when it can take more.
func (fc *fastConn) sendStep(s uintptr) bool {
	for len(fc.sHead) > 0 || fc.sLeft > 0 {
		head := len(fc.sHead) > 0
		var n int
		var err error
		if head {
			n, err = syscall.SendmsgN(int(s), fc.sHead, nil, nil, syscall.MSG_MORE)
		} else {
			n, err = syscall.Sendfile(int(s), fc.sFd, &fc.sOff, int(min(fc.sLeft, 1<<30)))
		}
		switch {
		case err == syscall.EAGAIN:
			return false
		case err == syscall.EINTR:
			continue
		case err != nil:
			fc.sErr = err
			return true
		case head:
			fc.sHead = fc.sHead[n:]
		case n == 0:
			fc.sErr = io.ErrUnexpectedEOF // the file is shorter than the object
			return true
		default:
			fc.sLeft -= int64(n)
		}
	}
	return true
}

// aLongTimeAgo makes a blocked Read return at once.
var aLongTimeAgo = time.Unix(1, 0)

// interrupt wakes the connection's read so it sees the listener closed.
func (fc *fastConn) interrupt() {
	fc.intMu.Lock()
	defer fc.intMu.Unlock()
	fc.interrupted = true
	if fc.c != nil {
		_ = fc.c.SetReadDeadline(aLongTimeAgo)
	}
}

// loop answers requests until one is not the fast path's (true: hand
// off buf[r:w]) or the connection ends (false: close it).
func (fc *fastConn) loop() bool {
	l := fc.l
	for {
		if fc.r < fc.w {
			n, err := reqhead.Parse(fc.buf[fc.r:fc.w], &fc.head)
			switch {
			case err == nil:
				served, werr := fc.answer()
				if werr != nil {
					return false
				}
				if !served {
					fc.headLen = n
					return true
				}
				fc.r += n
				if fc.r == fc.w {
					fc.r, fc.w = 0, 0
				}
				continue
			case errors.Is(err, reqhead.ErrDoubt):
				fc.headLen = -1
				return true
			}
			// Incomplete: read more.
		}
		if l.closed() {
			return false
		}
		if fc.r > 0 {
			fc.w = copy(fc.buf, fc.buf[fc.r:fc.w])
			fc.r = 0
		}
		if fc.w == len(fc.buf) {
			return true // a head longer than ours to read
		}
		// The idle deadline moves at most once a second (a busy
		// connection would otherwise reset a timer per request); a head
		// that arrives in pieces gets the header deadline.
		now := time.Now()
		d := now.Add(l.header)
		if fc.w == 0 {
			d = now.Add(l.idle)
		}
		fc.intMu.Lock()
		if fc.interrupted {
			fc.intMu.Unlock()
			return false
		}
		if fc.w > 0 || d.Sub(fc.deadline) > time.Second || d.Before(fc.deadline) {
			_ = fc.c.SetReadDeadline(d)
			fc.deadline = d
		}
		fc.intMu.Unlock()
		n, err := fc.c.Read(fc.buf[fc.w:])
		fc.w += n
		fc.unanswered.Store(int64(fc.w - fc.r))
		if err != nil {
			// EOF, a timeout (idle or slow head) or a closed listener:
			// as net/http, close without an answer.
			return false
		}
	}
}

// bstr is b as a string without copying, for lookups that do not keep
// it: b is reused by the next read.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// answer writes the response to the parsed head when it is a fast hit.
// served is false (and nothing written) when the request is net/http's.
func (fc *fastConn) answer() (served bool, err error) {
	h := &fc.head
	if h.Refused || h.NHost != 1 || h.NRange > 1 || !httpguts.ValidHostHeader(bstr(h.Host)) {
		return false, nil
	}
	if h.NConnection > 0 && (h.NConnection > 1 || !strings.EqualFold(bstr(h.Connection), "keep-alive")) {
		return false, nil
	}
	path := bstr(h.Target)
	id, _, ok := splitPath(path)
	if !ok {
		return false, nil
	}
	role := fc.l.role
	rs, set := role.current(), role.fast.Load()
	if rs == nil || set == nil || !rs.gate.Open(id) {
		return false, nil
	}
	o, ok := rs.cache.Memory(path)
	if !ok || o.Key != path || !o.Fresh(set.now()) || set.prefetch && !o.Prefetched() {
		return false, nil
	}
	now := time.Now()
	wr := wireOf(rs.cache, o, now)
	if !wr.fast {
		return false, nil
	}
	// If-None-Match as preconditions() reads it: one field, not empty;
	// If-Modified-Since only beside it (where it is ignored).
	notMod := false
	if h.NIfNoneMatch > 0 {
		if h.NIfNoneMatch > 1 || len(h.IfNoneMatch) == 0 {
			return false, nil
		}
		notMod = etagListMatch(bstr(h.IfNoneMatch), o.ETag, false)
	} else if h.NIfModifiedSince > 0 {
		return false, nil
	}
	var rg ranges.Range
	ranged := h.NRange == 1 && !notMod
	if ranged {
		if len(wr.part.lits) == 0 {
			return false, nil
		}
		if rg, ok = ranges.ParseOne(bstr(h.Range), o.Size()); !ok {
			return false, nil
		}
	}
	rid := bstr(h.RequestID)
	if h.NRequestID != 1 || !reqid.Valid(rid) {
		rid = reqid.New()
	}
	stats := rs.cache.Stats()
	stats.MemHits.Add(1)
	stats.MemBytesServed.Add(o.Size())
	if notMod {
		return true, fc.writeNotModified(wr, rid, now)
	}
	return true, fc.write(o, wr, rid, ranged, rg, string(h.Method) == "HEAD", now)
}

// writeNotModified sends a 304: the head alone.
func (fc *fastConn) writeNotModified(wr *wire, rid string, now time.Time) error {
	out := append(fc.out[:0], "HTTP/1.1 304 Not Modified\r\n"...)
	out = wr.notMod.appendTo(out, rid, nil, nil)
	out = append(out, "Date: "...)
	out = fc.date.appendDate(out, now)
	out = append(out, "\r\n\r\n"...)
	fc.out = out
	_, err := fc.c.Write(out)
	return err
}

// write sends the head and, unless HEAD, the body in one writev.
func (fc *fastConn) write(o *cache.Object, wr *wire, rid string, ranged bool, rg ranges.Range, head bool, now time.Time) error {
	out := fc.out[:0]
	body := o.Body
	start := int64(0)
	if ranged {
		size := o.Size()
		fc.num[0] = strconv.AppendInt(fc.num[0][:0], rg.Length, 10)
		cr := append(fc.num[1][:0], "bytes "...)
		cr = strconv.AppendInt(cr, rg.Start, 10)
		cr = append(cr, '-')
		cr = strconv.AppendInt(cr, rg.End()-1, 10)
		cr = append(cr, '/')
		fc.num[1] = strconv.AppendInt(cr, size, 10)
		out = append(out, "HTTP/1.1 206 Partial Content\r\n"...)
		out = wr.part.appendTo(out, rid, fc.num[0], fc.num[1])
		body, start = body[rg.Start:rg.End()], rg.Start
	} else {
		out = append(out, "HTTP/1.1 200 OK\r\n"...)
		out = wr.full.appendTo(out, rid, nil, nil)
	}
	out = append(out, "Date: "...)
	out = fc.date.appendDate(out, now)
	out = append(out, "\r\n\r\n"...)
	fc.out = out
	if head || len(body) == 0 {
		_, err := fc.c.Write(out)
		return err
	}
	if wr.file != nil && fc.raw != nil && len(body) >= sendfileMin {
		err := fc.sendfile(out, wr.fd, wr.off+start, int64(len(body)))
		runtime.KeepAlive(wr) // wr.file must stay open until here
		return err
	}
	fc.iov[0], fc.iov[1] = out, body
	fc.bufs = fc.iov[:]
	_, err := fc.bufs.WriteTo(fc.c)
	fc.iov[0], fc.iov[1] = nil, nil
	return err
}

// Interface guards
var (
	_ caddy.Provisioner     = (*FastListener)(nil)
	_ caddy.ListenerWrapper = (*FastListener)(nil)
	_ caddyfile.Unmarshaler = (*FastListener)(nil)
)
