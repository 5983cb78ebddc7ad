package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"

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
