package transport

import (
	"context"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// RaftLayer is the raft.StreamLayer of the cluster port.
type RaftLayer struct {
	net.Listener
	mux *Mux
}

// RaftLayer returns the stream layer Raft's NetworkTransport runs on.
func (m *Mux) RaftLayer() *RaftLayer {
	return &RaftLayer{Listener: m.Listener(KindRaft), mux: m}
}

// Dial implements raft.StreamLayer.
func (l *RaftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return l.mux.Dial(ctx, string(address), KindRaft)
}

// Interface guard
var _ raft.StreamLayer = (*RaftLayer)(nil)
