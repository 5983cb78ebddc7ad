package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Stream kinds: the first byte a client sends after the TLS handshake.
const (
	KindRaft byte = 'R'
	KindRPC  byte = 'H'
)

// handshakeTimeout bounds the TLS handshake and the kind byte, so a peer
// that connects and says nothing cannot hold a goroutine.
const handshakeTimeout = 5 * time.Second

// ErrClosed is returned by a closed Mux's listeners and dialers.
var ErrClosed = errors.New("cluster transport closed")

// Mux is the cluster port.
type Mux struct {
	ln        net.Listener
	advertise net.Addr
	id        *Identity
	log       *slog.Logger
	dialer    net.Dialer

	mu     sync.Mutex
	closed bool
	// conns are the open connections, with their stream kind once known
	// (0 before).
	conns    map[net.Conn]byte
	isolated bool
	// blocked are stream kinds refused in both directions (Block).
	blocked map[byte]bool
	// streams are the hand-off channels of each stream kind; listeners
	// made by Listener read from them.
	streams map[byte]chan net.Conn
	done    chan struct{}
	wg      sync.WaitGroup
}

// Listen opens the cluster port on addr. advertise is the address peers use
// to reach this node ("" means the listener's own address).
func Listen(addr, advertise string, id *Identity, log *slog.Logger) (*Mux, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cluster port %s: %w", addr, err)
	}
	adv := ln.Addr()
	if advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", advertise)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("advertise address %s: %w", advertise, err)
		}
		if a.IP == nil || a.IP.IsUnspecified() {
			ln.Close()
			return nil, fmt.Errorf("advertise address %s: peers need a routable host", advertise)
		}
		adv = a
	} else if tcp := ln.Addr().(*net.TCPAddr); tcp.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("cluster port %s listens on every interface: set an advertise address peers can reach", addr)
	}
	m := &Mux{
		ln: ln, advertise: adv, id: id, log: log,
		conns:   map[net.Conn]byte{},
		streams: map[byte]chan net.Conn{},
		done:    make(chan struct{}),
	}
	for _, k := range []byte{KindRaft, KindRPC} {
		m.streams[k] = make(chan net.Conn)
	}
	m.wg.Add(1)
	go m.acceptLoop()
	return m, nil
}

// Addr is the address peers dial.
func (m *Mux) Addr() net.Addr { return m.advertise }

// Listener returns a virtual listener of one stream kind. Closing it stops
// its Accept only: a later Listener of the same kind (Raft restarted on a
// reset node) takes the streams over.
func (m *Mux) Listener(kind byte) net.Listener {
	return &subListener{mux: m, ch: m.streams[kind], closed: make(chan struct{})}
}

func (m *Mux) acceptLoop() {
	defer m.wg.Done()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.log.Warn("cluster accept", "error", err)
			time.Sleep(50 * time.Millisecond) // back off a failing accept (EMFILE), as net/http does
			continue
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.route(c)
		}()
	}
}

// route completes the handshake, reads the kind byte and hands the
// connection to its listener.
func (m *Mux) route(raw net.Conn) {
	if !m.track(raw) {
		raw.Close()
		return
	}
	c := tls.Server(raw, m.id.serverConfig())
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := c.Handshake(); err != nil {
		m.log.Debug("cluster handshake refused", "peer", raw.RemoteAddr(), "error", err)
		m.untrack(raw)
		raw.Close()
		return
	}
	var kind [1]byte
	if _, err := io.ReadFull(c, kind[:]); err != nil {
		m.untrack(raw)
		c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	ch, ok := m.streams[kind[0]]
	if !ok || !m.setKind(raw, kind[0]) {
		m.untrack(raw)
		c.Close()
		return
	}
	tc := &trackedConn{Conn: c, mux: m, raw: raw}
	select {
	case ch <- tc:
	case <-time.After(handshakeTimeout):
		// Nobody accepts this kind now (Raft restarting): drop it; the
		// peer retries.
		tc.Close()
	case <-m.done:
		tc.Close()
	}
}

// Dial opens a stream of the given kind to a peer's cluster port.
func (m *Mux) Dial(ctx context.Context, addr string, kind byte) (net.Conn, error) {
	m.mu.Lock()
	closed, isolated := m.closed, m.isolated
	m.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if isolated || m.isBlocked(kind) {
		return nil, fmt.Errorf("dial %s: %w", addr, errIsolated)
	}
	raw, err := m.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if !m.track(raw) {
		raw.Close()
		return nil, ErrClosed
	}
	c := tls.Client(raw, m.id.clientConfig())
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	} else {
		_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	}
	fail := func(err error) (net.Conn, error) {
		m.untrack(raw)
		raw.Close()
		return nil, err
	}
	if err := c.HandshakeContext(ctx); err != nil {
		return fail(fmt.Errorf("cluster handshake with %s: %w", addr, err))
	}
	if _, err := c.Write([]byte{kind}); err != nil {
		return fail(fmt.Errorf("cluster stream to %s: %w", addr, err))
	}
	_ = c.SetDeadline(time.Time{})
	if !m.setKind(raw, kind) {
		return fail(fmt.Errorf("dial %s: %w", addr, errIsolated))
	}
	return &trackedConn{Conn: c, mux: m, raw: raw}, nil
}

var errIsolated = errors.New("node is isolated (test fault injection)")

// Isolate drops every connection of this node and refuses new ones in both
// directions, as if its network cable were pulled, until Rejoin. Tests use
// it to partition a node.
func (m *Mux) Isolate() {
	m.mu.Lock()
	m.isolated = true
	conns := make([]net.Conn, 0, len(m.conns))
	for c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Rejoin undoes Isolate.
func (m *Mux) Rejoin() {
	m.mu.Lock()
	m.isolated = false
	m.mu.Unlock()
}

// Block drops this node's streams of one kind and refuses new ones in
// both directions until Unblock: with KindRaft, the node stops hearing the
// log but still answers RPCs (status), as a node whose Raft is starved
// would. Tests use it.
func (m *Mux) Block(kind byte) {
	m.mu.Lock()
	if m.blocked == nil {
		m.blocked = map[byte]bool{}
	}
	m.blocked[kind] = true
	var conns []net.Conn
	for c, k := range m.conns {
		if k == kind {
			conns = append(conns, c)
		}
	}
	m.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Unblock undoes Block.
func (m *Mux) Unblock(kind byte) {
	m.mu.Lock()
	delete(m.blocked, kind)
	m.mu.Unlock()
}

func (m *Mux) isBlocked(kind byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.blocked[kind]
}

// setKind records c's stream kind; false if that kind is blocked.
func (m *Mux) setKind(c net.Conn, kind byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.blocked[kind] {
		return false
	}
	if _, ok := m.conns[c]; ok {
		m.conns[c] = kind
	}
	return true
}

func (m *Mux) track(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.isolated {
		return false
	}
	m.conns[c] = 0
	return true
}

func (m *Mux) untrack(c net.Conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
}

// Close closes the port and every connection on it.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.done)
	conns := make([]net.Conn, 0, len(m.conns))
	for c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	err := m.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	m.wg.Wait()
	return err
}

// trackedConn forgets itself from the mux when closed.
type trackedConn struct {
	net.Conn
	mux  *Mux
	raw  net.Conn
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.mux.untrack(c.raw) })
	return c.Conn.Close()
}

// subListener is a virtual listener of one stream kind.
type subListener struct {
	mux    *Mux
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, ErrClosed
	case <-l.mux.done:
		return nil, ErrClosed
	}
}

// Close stops this stream kind's Accept; the port itself stays open until
// the Mux closes.
func (l *subListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *subListener) Addr() net.Addr { return l.mux.advertise }
