package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/fsm"
	"github.com/stratavideo/strata/cluster/jsonio"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/cluster/transport"
)

// retryPause is the wait between attempts to reach a leader during an
// election.
const retryPause = 50 * time.Millisecond

// Apply replicates c and returns what the state machine made of it: the
// changed record, or the store's business error (test with errors.Is against
// the store's errors). A follower forwards the write to the leader over the
// cluster port, then waits until it has applied the write itself, so a
// client reads its own writes from the node it wrote through. A write is
// retried only when it certainly was not applied (no leader yet, or the
// leader could not be dialled), so a retry never applies a command twice.
func (n *Node) Apply(ctx context.Context, c command.Command) (any, error) {
	if err := n.checkLevel(c); err != nil {
		return nil, err
	}
	data, err := command.Encode(c)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.cfg.ApplyTimeout)
		defer cancel()
	}
	for {
		var (
			v     any
			err   error
			retry bool
		)
		if n.c().raft.State() == raft.Leader {
			v, err, retry = n.applyLocal(ctx, data)
		} else if addr, _ := n.c().raft.LeaderWithID(); addr != "" && n.rpc != nil {
			v, err, retry = n.forwardApply(ctx, string(addr), data)
		} else {
			retry = true
			err = ErrNotLeader
		}
		if !retry {
			return v, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("apply %T: %w (%v)", c, ErrNotLeader, err)
		case <-time.After(retryPause):
		}
	}
}

// waitFuture waits for f, or for ctx. With BatchApplyCh, Raft's apply
// queue is buffered, and an entry (or barrier) still queued when Raft
// shuts down is never answered: its future carries no shutdown channel,
// so f.Error() would wait for ever (seen: a node's Close hung on its
// register loop's apply after JoinCluster shut the old core down). The
// outcome of an entry given up on is unknown.
func waitFuture(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: no answer from raft (%v)", ErrOutcomeUnknown, ctx.Err())
	}
}

// applyLocal applies on this node, which believes it leads.
func (n *Node) applyLocal(ctx context.Context, data []byte) (v any, err error, retry bool) {
	dl, _ := ctx.Deadline()
	timeout := time.Until(dl)
	if timeout <= 0 {
		return nil, context.DeadlineExceeded, false
	}
	f := n.c().raft.Apply(data, timeout)
	if err := waitFuture(ctx, f); err != nil {
		// ErrNotLeader comes before the entry is taken: safe to retry.
		// ErrLeadershipLost may come after it was replicated: the outcome
		// is unknown and must be reported, not retried.
		switch {
		case errors.Is(err, raft.ErrNotLeader):
			return nil, err, true
		case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrAbortedByRestore):
			return nil, fmt.Errorf("apply: %w (%v)", ErrOutcomeUnknown, err), false
		case errors.Is(err, raft.ErrEnqueueTimeout):
			// Never entered the log, and the caller's time is up.
			return nil, fmt.Errorf("apply: %w (%v)", context.DeadlineExceeded, err), false
		}
		return nil, fmt.Errorf("apply: %w", err), false
	}
	// Committed and applied, but the leader writes its log behind (see
	// raftlog): the write is acknowledged once the leader's disk has it
	// too, so an acknowledged write is on a majority's disks.
	if err := n.c().logs.WaitDurable(ctx, f.Index()); err != nil {
		return nil, fmt.Errorf("apply: %w", err), false
	}
	res, ok := f.Response().(fsm.Result)
	if !ok {
		return nil, errors.New("apply: entry was already applied"), false
	}
	return res.Value, res.Err, false
}

// applyResponse is /rpc/apply's answer.
type applyResponse struct {
	// Index is the entry's log index, for the follower to wait on.
	Index uint64          `json:"index"`
	Type  string          `json:"type,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
	Error *wireError      `json:"error,omitempty"`
}

type wireError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// businessKinds maps the store's errors to wire names and back.
var businessKinds = map[string]error{
	"not_found":  store.ErrNotFound,
	"exists":     store.ErrExists,
	"invalid":    store.ErrInvalid,
	"lease_lost": store.ErrLeaseLost,
	"expired":    store.ErrExpired,
	"used":       store.ErrUsed,
	// Not the store's, but a follower's client needs it as much.
	"outcome_unknown": ErrOutcomeUnknown,
}

// remoteError is an error the leader returned, still matching the store's
// sentinel with errors.Is.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

func encodeError(err error) *wireError {
	if err == nil {
		return nil
	}
	for k, sentinel := range businessKinds {
		if errors.Is(err, sentinel) {
			return &wireError{Kind: k, Message: err.Error()}
		}
	}
	return &wireError{Kind: "internal", Message: err.Error()}
}

func decodeError(w *wireError) error {
	if w == nil {
		return nil
	}
	return &remoteError{msg: w.Message, kind: businessKinds[w.Kind]}
}

// resultTypes are the types apply results come in, by the name they
// travel under when a follower forwards a write: the follower rebuilds
// the value the leader's store returned. A result of a type missing here
// cannot be forwarded (TestEveryResultForwards checks each command's).
var resultTypes = map[string]func() any{
	"video":        func() any { return new(model.Video) },
	"job":          func() any { return new(model.Job) },
	"member":       func() any { return new(model.Member) },
	"edge":         func() any { return new(model.Edge) },
	"user":         func() any { return new(model.User) },
	"passkey":      func() any { return new(model.Passkey) },
	"session":      func() any { return new(model.Session) },
	"api_token":    func() any { return new(model.APIToken) },
	"challenge":    func() any { return new(model.Challenge) },
	"signing_keys": func() any { return new(model.SigningKeys) },
	"setup_link":   func() any { return new(model.SetupLink) },
	"int":          func() any { return new(int) },
}

// resultNames is resultTypes backwards, by the pointer type.
var resultNames = func() map[reflect.Type]string {
	m := map[reflect.Type]string{}
	for name, mk := range resultTypes {
		m[reflect.TypeOf(mk())] = name
	}
	return m
}()

// encodeValue names an apply result's type so the follower can rebuild it.
func encodeValue(v any) (string, json.RawMessage, error) {
	if v == nil {
		return "", nil, nil
	}
	if n, ok := v.(int); ok {
		v = &n
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return "", nil, nil
	}
	name, ok := resultNames[rv.Type()]
	if !ok {
		return "", nil, fmt.Errorf("apply result of type %T cannot be forwarded", v)
	}
	raw, err := json.Marshal(v)
	return name, raw, err
}

func decodeValue(name string, raw json.RawMessage) (any, error) {
	if name == "" {
		return nil, nil
	}
	mk, ok := resultTypes[name]
	if !ok {
		return nil, fmt.Errorf("unknown apply result type %q", name)
	}
	v := mk()
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, err
	}
	if n, ok := v.(*int); ok {
		return *n, nil
	}
	return v, nil
}

// forwardApply sends the entry to the leader.
func (n *Node) forwardApply(ctx context.Context, leader string, data []byte) (v any, err error, retry bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+leader+"/rpc/apply", bytes.NewReader(data))
	if err != nil {
		return nil, err, false
	}
	resp, err := n.rpc.Do(req)
	if err != nil {
		if errors.Is(err, transport.ErrDial) {
			return nil, err, true
		}
		return nil, fmt.Errorf("forward to leader %s: outcome unknown: %w", leader, err), false
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusMisdirectedRequest, http.StatusServiceUnavailable:
		io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("%s is not the leader", leader), true
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("forward to leader %s: %s: %s", leader, resp.Status, bytes.TrimSpace(msg)), false
	}
	var ar applyResponse
	if err := jsonio.Read(resp.Body, &ar); err != nil {
		return nil, fmt.Errorf("forward to leader %s: %w", leader, err), false
	}
	if ar.Error != nil && ar.Error.Kind == "internal" {
		return nil, fmt.Errorf("leader %s: %s", leader, ar.Error.Message), false
	}
	v, err = decodeValue(ar.Type, ar.Value)
	if err != nil {
		return nil, err, false
	}
	// Read-your-writes on this node: wait (briefly) until it applied the
	// entry too. If it cannot in time the write still happened; say so.
	if err := n.waitApplied(ctx, ar.Index); err != nil {
		n.log.Warn("a forwarded write is not applied here yet", "index", ar.Index, "error", err)
	}
	return v, decodeError(ar.Error), false
}

// ConsistentRead makes this node's next local reads linearizable: it
// confirms the leader still leads and waits until this node has applied
// everything the leader had committed when asked (leader check plus
// barrier, through the leader when this node follows).
func (n *Node) ConsistentRead(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.cfg.ApplyTimeout)
		defer cancel()
	}
	for {
		var idx uint64
		var err error
		retry := false
		if n.c().raft.State() == raft.Leader {
			idx, err = n.barrier(ctx)
			retry = errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost)
		} else if addr, _ := n.c().raft.LeaderWithID(); addr != "" && n.rpc != nil {
			idx, err = n.remoteBarrier(ctx, string(addr))
			retry = err != nil
		} else {
			err, retry = ErrNotLeader, true
		}
		if err == nil {
			return n.waitApplied(ctx, idx)
		}
		if !retry {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("consistent read: %w (%v)", ErrNotLeader, err)
		case <-time.After(retryPause):
		}
	}
}

// barrier confirms leadership and waits for the FSM to catch up with every
// entry before it; it returns the index a reader must have applied: the
// FSM's applied index once the barrier is through, which covers every
// write acknowledged before the read began. (Not the barrier's own index:
// barriers never reach the FSM, and a follower learns that one is
// committed only with the leader's next append.)
func (n *Node) barrier(ctx context.Context) (uint64, error) {
	dl, _ := ctx.Deadline()
	c := n.c()
	if err := c.raft.VerifyLeader().Error(); err != nil {
		return 0, err
	}
	if err := waitFuture(ctx, c.raft.Barrier(time.Until(dl))); err != nil {
		return 0, err
	}
	// A read sees only what is on a majority's disks: what the leader
	// applied must be on its own disk too (see raftlog).
	applied := c.fsm.Applied()
	if err := c.logs.WaitDurable(ctx, applied); err != nil {
		return 0, err
	}
	return applied, nil
}

func (n *Node) remoteBarrier(ctx context.Context, leader string) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+leader+"/rpc/barrier", nil)
	if err != nil {
		return 0, err
	}
	resp, err := n.rpc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("barrier on %s: %s", leader, resp.Status)
	}
	var out struct {
		Index uint64 `json:"index"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, err
	}
	return out.Index, nil
}

// waitApplied polls until this node's store holds entry idx (the FSM's
// applied index: Raft's runs ahead of what the store holds).
func (n *Node) waitApplied(ctx context.Context, idx uint64) error {
	for n.c().fsm.Applied() < idx {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting to apply index %d (at %d): %w", idx, n.c().fsm.Applied(), ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}
