// Package fsm is the thin adapter between hashicorp/raft and the store.
//
// It decodes each log entry, dispatches it through a table to the store's
// typed methods, and feeds the search index from the same batch. Like rqlite
// and Consul, it panics on an entry it cannot decode (a replica that skipped
// it would silently diverge) and returns business errors as the apply result.
package fsm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/store"
)

// Result is what Apply returns for a command: the changed record or a
// business error.
type Result struct {
	Value any
	Err   error
}

// handler applies one decoded command inside a store transaction.
type handler func(tx *store.Tx, c command.Command) (any, error)

// typed adapts a store method taking the command type P to a handler.
func typed[C any, P interface {
	*C
	command.Command
}, R any](f func(*store.Tx, P) (R, error)) handler {
	return func(tx *store.Tx, c command.Command) (any, error) {
		cc, ok := c.(P)
		if !ok {
			return nil, fmt.Errorf("command %T dispatched to the handler of %T", c, P(nil))
		}
		return f(tx, cc)
	}
}

// handlers is the dispatch table. A type without an entry is a programming
// error caught by TestEveryCommandHasHandler.
var handlers = map[command.Type]handler{
	command.TypeCreateVideo:      typed((*store.Tx).CreateVideo),
	command.TypeUpdateVideo:      typed((*store.Tx).UpdateVideo),
	command.TypeUpdateProgress:   typed((*store.Tx).UpdateProgress),
	command.TypeRecordReplica:    typed((*store.Tx).RecordReplica),
	command.TypeVideoReady:       typed((*store.Tx).VideoReady),
	command.TypeVideoPlayable:    typed((*store.Tx).VideoPlayable),
	command.TypeEnqueueChunks:    typed((*store.Tx).EnqueueChunks),
	command.TypeChunkOutput:      typed((*store.Tx).ChunkOutput),
	command.TypeSetMediaInfo:     typed((*store.Tx).SetMediaInfo),
	command.TypeVideoFailed:      typed((*store.Tx).VideoFailed),
	command.TypeDeleteVideo:      typed((*store.Tx).DeleteVideo),
	command.TypeEnqueueJob:       typed((*store.Tx).EnqueueJob),
	command.TypeClaimJob:         typed((*store.Tx).ClaimJob),
	command.TypeRenewLease:       typed((*store.Tx).RenewLease),
	command.TypeCompleteJob:      typed((*store.Tx).CompleteJob),
	command.TypeFailJob:          typed((*store.Tx).FailJob),
	command.TypeRetryJob:         typed((*store.Tx).RetryJob),
	command.TypeAddViews:         typed((*store.Tx).AddViews),
	command.TypeAddQoE:           typed((*store.Tx).AddQoE),
	command.TypeRegisterMember:   typed((*store.Tx).RegisterMember),
	command.TypeRemoveMember:     typed((*store.Tx).RemoveMember),
	command.TypeCreateUser:       typed((*store.Tx).CreateUser),
	command.TypeUpdateUser:       typed((*store.Tx).UpdateUser),
	command.TypeAddPasskey:       typed((*store.Tx).AddPasskey),
	command.TypeUsePasskey:       typed((*store.Tx).UsePasskey),
	command.TypeDeletePasskey:    typed((*store.Tx).DeletePasskey),
	command.TypeCreateSession:    typed((*store.Tx).CreateSession),
	command.TypeDeleteSession:    typed((*store.Tx).DeleteSession),
	command.TypeCreateToken:      typed((*store.Tx).CreateToken),
	command.TypeDeleteToken:      typed((*store.Tx).DeleteToken),
	command.TypeTouchToken:       typed((*store.Tx).TouchToken),
	command.TypePutChallenge:     typed((*store.Tx).PutChallenge),
	command.TypeConsumeChallenge: typed((*store.Tx).ConsumeChallenge),
	command.TypeRotateSigningKey: typed((*store.Tx).RotateSigningKey),
	command.TypeRemoveSigningKey: typed((*store.Tx).RemoveSigningKey),
	command.TypeCreateSetupLink:  typed((*store.Tx).CreateSetupLink),
	command.TypeConsumeSetupLink: typed((*store.Tx).ConsumeSetupLink),
	command.TypeSetCaption:       typed((*store.Tx).SetCaption),
	command.TypeDeleteCaption:    typed((*store.Tx).DeleteCaption),
	command.TypeSetEdge:          typed((*store.Tx).SetEdge),
	command.TypeRemoveEdge:       typed((*store.Tx).RemoveEdge),
}

// Event tells observers what an applied command changed, after the store
// and index hold it. Listeners (the edge's purge, a worker waiting for work)
// must not block.
type Event struct {
	Index   uint64
	Command command.Command
	Value   any
}

// FSM implements raft.BatchingFSM over a store and an index.
type FSM struct {
	store   *store.Store
	index   *index.Index
	indexer *indexer
	log     *slog.Logger
	// applied mirrors the store's applied index without a read
	// transaction. Raft's own AppliedIndex runs ahead of it: Raft counts
	// an entry applied when it hands it to the FSM's goroutine.
	applied atomic.Uint64

	mu        sync.Mutex
	nextID    int
	listeners map[int]func(Event)
}

// New makes an FSM. The store and index stay owned by the caller, who
// must have brought the index level with the store (see RebuildIndex), and
// who calls Close before closing them.
func New(st *store.Store, ix *index.Index, log *slog.Logger) *FSM {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	applied, _ := st.Applied()
	f := &FSM{store: st, index: ix, log: log, indexer: newIndexer(ix, log, applied)}
	f.applied.Store(applied)
	return f
}

// Applied is the index of the last entry the store holds: a read on this
// node after Applied() >= i sees every write up to entry i.
func (f *FSM) Applied() uint64 { return f.applied.Load() }

// Close writes the queued index changes and stops the indexer.
func (f *FSM) Close() { f.indexer.close() }

// WaitIndexed blocks until search reflects every entry up to idx.
func (f *FSM) WaitIndexed(ctx context.Context, idx uint64) error {
	return f.indexer.wait(ctx, idx)
}

// Listen registers fn to be called after every applied command, until the
// returned function is called.
func (f *FSM) Listen(fn func(Event)) (cancel func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listeners == nil {
		f.listeners = map[int]func(Event){}
	}
	f.nextID++
	id := f.nextID
	f.listeners[id] = fn
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.listeners, id)
	}
}

// Apply implements raft.FSM.
func (f *FSM) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch implements raft.BatchingFSM: one bbolt transaction, and one
// fsync, for the whole batch. Entries at or below the store's applied index
// are skipped: the store is durable across restarts and Raft replays the
// log tail from its last snapshot.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	results := make([]any, len(logs))
	if len(logs) == 0 {
		return results
	}
	applied, err := f.store.Applied()
	if err != nil {
		panic(fmt.Sprintf("fsm: read applied index: %v", err))
	}
	last := logs[len(logs)-1].Index
	if last <= applied {
		return results
	}
	var events []Event
	tx, err := f.store.Update(last, func(tx *store.Tx) error {
		for i, l := range logs {
			if l.Index <= applied || l.Type != raft.LogCommand {
				continue
			}
			c, err := command.Decode(l.Data)
			if err != nil {
				// State must not diverge: stop this replica rather than skip.
				panic(fmt.Sprintf("fsm: entry %d: %v", l.Index, err))
			}
			h, ok := handlers[c.CommandType()]
			if !ok {
				panic(fmt.Sprintf("fsm: entry %d: no handler for command type %d", l.Index, c.CommandType()))
			}
			v, err := h(tx, c)
			if err != nil && !isBusiness(err) {
				return fmt.Errorf("entry %d: %w", l.Index, err)
			}
			results[i] = Result{Value: v, Err: err}
			if err == nil {
				events = append(events, Event{Index: l.Index, Command: c, Value: v})
			}
		}
		return nil
	})
	if err != nil {
		// The store could not write (disk full, I/O error). Carrying on would
		// acknowledge entries this replica does not hold.
		panic(fmt.Sprintf("fsm: apply entries up to %d: %v", last, err))
	}
	f.applied.Store(last)
	f.updateIndex(tx, last)
	f.notify(events)
	return results
}

func (f *FSM) updateIndex(tx *store.Tx, last uint64) {
	f.indexer.add(tx.Changes, last)
}

func (f *FSM) notify(events []Event) {
	if len(events) == 0 {
		return
	}
	f.mu.Lock()
	ls := make([]func(Event), 0, len(f.listeners))
	for _, fn := range f.listeners {
		ls = append(ls, fn)
	}
	f.mu.Unlock()
	for _, e := range events {
		for _, fn := range ls {
			fn(e)
		}
	}
}

// isBusiness reports whether err is a rule of the store refusing a command,
// as opposed to the store failing.
func isBusiness(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) ||
		errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrLeaseLost) ||
		errors.Is(err, store.ErrExpired) || errors.Is(err, store.ErrUsed)
}

// Snapshot implements raft.FSM. It only opens a read transaction; the
// copy happens in Persist, off the apply path.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	sn, err := f.store.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("fsm snapshot: %w", err)
	}
	return &snapshot{sn: sn}, nil
}

// Restore implements raft.FSM: the store is replaced from the snapshot and the
// index rebuilt from the store.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := f.store.Restore(rc); err != nil {
		return fmt.Errorf("fsm restore: %w", err)
	}
	if applied, err := f.store.Applied(); err == nil {
		f.applied.Store(applied)
	}
	return f.RebuildIndex()
}

// RebuildIndex rebuilds the search index from the store.
func (f *FSM) RebuildIndex() error {
	applied, err := f.store.Applied()
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	rebuild := func() error { return f.index.Rebuild(f.store.EachVideo, applied) }
	if f.indexer != nil {
		err = f.indexer.replace(rebuild, applied)
	} else {
		err = rebuild()
	}
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	return nil
}

type snapshot struct{ sn *store.Snapshot }

// Persist implements raft.FSMSnapshot. It ends the read transaction when
// done rather than waiting for Release: raft.RecoverCluster never calls
// Release, and the open transaction would hold the store's lock for ever.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	defer s.sn.Release()
	if _, err := s.sn.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

// Release implements raft.FSMSnapshot.
func (s *snapshot) Release() { s.sn.Release() }

// Interface guards
var (
	_ raft.BatchingFSM = (*FSM)(nil)
	_ raft.FSMSnapshot = (*snapshot)(nil)
)
