// Package loopport hands out free loopback TCP ports for processes that a
// test or a launcher starts and that must be told their port in advance.
//
// The kernel picks each port (a listener on 127.0.0.1:0), and the listener
// is closed before the child binds it. Closing it lets the kernel hand the
// same port out again at once: two calls in a row returned one port in CI
// (a node's HTTP and cluster port collided, and it failed with "address
// already in use"). So a port is never returned twice by one process.
package loopport

import (
	"fmt"
	"net"
	"sync"
)

var (
	mu     sync.Mutex
	handed = map[int]bool{}
)

// Free returns a loopback port that was free a moment ago and that this
// process has not returned before. Another process can still take it
// before the caller binds it; that window is small and cannot be closed
// without passing the listener itself.
func Free() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	// Keep the listeners of refused ports open while looking, so the
	// kernel cannot offer them again in this loop.
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for range 64 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free loopback port: %w", err)
		}
		held = append(held, l)
		port := l.Addr().(*net.TCPAddr).Port
		if !handed[port] {
			handed[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("find a free loopback port: the kernel offered only ports already handed out")
}
