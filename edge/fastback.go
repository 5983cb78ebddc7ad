package edge

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// replayConn is a connection the fast path handed to net/http. Read first
// returns the bytes the fast path had read.
//
// Why it can come back: a viewer's player keeps one connection for the
// whole session, and its first request for a video is often a miss (or a
// playlist to revalidate). Kept by net/http for good, every later hit on
// that connection would cost net/http's ~50 µs instead of the fast path's
// few. So when the bytes handed over were exactly one request that ends
// with its head (back != nil), the connection returns once net/http has
// answered: net/http reports it idle (fastConnState), and its next Read —
// the wait for the following request — returns io.EOF instead. net/http
// then closes its side, which leaves the socket open, and the fast path
// serves the socket again.
//
// While it answers a request without a body, net/http reads the socket
// only to notice a client that goes away: one byte at a time, kept for
// the next request. A client that sends its next request as soon as the
// last response bytes arrive often gets its first byte taken so, on
// loopback nearly always. Those bytes (held) go back with the socket:
// net/http drops them when it closes, never having parsed a request from
// fewer than the four bytes it peeks for. More bytes than that, or a
// second request net/http starts itself, and the connection is net/http's
// for good.
type replayConn struct {
	net.Conn
	pending []byte

	mu      sync.Mutex
	back    *fastListener // nil: net/http keeps the connection
	held    []byte        // read from the socket by net/http since the hand-off
	actives int           // requests net/http started
	idle    bool          // net/http answered and waits for the next request
	gone    bool          // given back or closed: the socket is not ours
}

// maxHeld is below the 4 bytes net/http peeks for before it parses a
// request, so it cannot have parsed one from what it holds.
const maxHeld = 3

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	c.mu.Lock()
	if l := c.back; l != nil && c.idle && !c.gone {
		c.gone = true
		held := c.held
		c.mu.Unlock()
		l.role.fastReturns.Add(1)
		go l.serve(c.Conn, held)
		return 0, io.EOF
	}
	gone := c.gone
	c.mu.Unlock()
	if gone {
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if c.back != nil {
			if c.idle || len(c.held)+n > maxHeld {
				c.back = nil
			} else {
				c.held = append(c.held, p[:n]...)
			}
		}
		c.mu.Unlock()
	}
	return n, err
}

// fastConnState is the ConnState hook of servers behind the fast
// listener: it tells a handed-off connection where net/http is.
func fastConnState(c net.Conn, s http.ConnState) {
	rc, ok := c.(*replayConn)
	if !ok {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch s {
	case http.StateActive:
		rc.actives++
		if rc.actives > 1 {
			rc.back = nil
		}
	case http.StateIdle:
		rc.idle = true
	}
}

// Close closes the socket unless the fast path has it back.
func (c *replayConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return nil
	}
	c.gone = true
	return c.Conn.Close()
}

// owned runs f on the socket unless it has gone back to the fast path:
// net/http must not touch it then.
func (c *replayConn) owned(f func() error) error {
	c.mu.Lock()
	gone := c.gone
	c.mu.Unlock()
	if gone {
		return net.ErrClosed
	}
	return f()
}

func (c *replayConn) Write(p []byte) (n int, err error) {
	err = c.owned(func() error { n, err = c.Conn.Write(p); return err })
	return n, err
}

func (c *replayConn) SetDeadline(t time.Time) error {
	return c.owned(func() error { return c.Conn.SetDeadline(t) })
}

func (c *replayConn) SetReadDeadline(t time.Time) error {
	return c.owned(func() error { return c.Conn.SetReadDeadline(t) })
}

func (c *replayConn) SetWriteDeadline(t time.Time) error {
	return c.owned(func() error { return c.Conn.SetWriteDeadline(t) })
}

// ReadFrom keeps sendfile for net/http's file responses.
func (c *replayConn) ReadFrom(r io.Reader) (n int64, err error) {
	err = c.owned(func() error {
		if rf, ok := c.Conn.(io.ReaderFrom); ok {
			n, err = rf.ReadFrom(r)
		} else {
			n, err = io.Copy(struct{ io.Writer }{c.Conn}, r)
		}
		return err
	})
	return n, err
}

// CloseWrite lets net/http half-close, as on the plain connection.
func (c *replayConn) CloseWrite() error {
	return c.owned(func() error {
		if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
			return cw.CloseWrite()
		}
		return nil
	})
}

var _ io.ReaderFrom = (*replayConn)(nil)
