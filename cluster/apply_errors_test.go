package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/store"
)

// Errors a follower's client must tell apart survive the trip from the
// leader: an unknown outcome is not a server fault.
func TestApplyErrorsCrossTheWire(t *testing.T) {
	for _, want := range []error{ErrOutcomeUnknown, store.ErrNotFound, store.ErrInvalid} {
		err := decodeError(encodeError(fmt.Errorf("apply: %w (leadership lost)", want)))
		if !errors.Is(err, want) {
			t.Errorf("%v came back as %v", want, err)
		}
	}
	if err := decodeError(encodeError(errors.New("disk on fire"))); errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("an internal error came back as %v", err)
	}
}

// neverFuture is a Raft future that is never answered, as an entry still
// in Raft's buffered apply queue when Raft shuts down.
type neverFuture struct{}

func (neverFuture) Error() error { select {} }

// A future Raft never answers does not hold its caller past the context.
func TestWaitFutureGivesUpWithTheContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := waitFuture(ctx, neverFuture{}); !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("waitFuture on an unanswered future = %v, want ErrOutcomeUnknown", err)
	}
}
