package fsm

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stratavideo/strata/cluster/index"
	"github.com/stratavideo/strata/cluster/model"
)

// indexer feeds the search index off the apply path. A Bleve batch costs
// milliseconds of CPU whether it holds one document or a hundred, and every
// node indexes every write, so applying it inside every Raft apply made it
// the most expensive step of every write. Changes are queued instead,
// coalesced by video (the latest wins), and committed by one goroutine at
// most every linger: writes arriving together share one batch, and a video
// edited many times in a row is analysed once. Search lags the store by
// about linger plus one batch, inside the promise that an edit shows in
// results within a second.
type indexer struct {
	ix     *index.Index
	log    *slog.Logger
	linger time.Duration

	// commitMu is held while a batch is written, and by replace, so a
	// rebuild never runs beside a commit of older changes. It guards sums
	// and docs.
	commitMu sync.Mutex
	// sums digest the document last written for each video, so a change
	// that leaves the document as it was (transcoding progress, replicas)
	// skips Bleve. A video missing here is written.
	sums map[string]uint64
	// docs counts the documents written and deleted.
	docs int

	mu   sync.Mutex
	cond *sync.Cond
	// pending are changes not yet in Bleve; nil deletes.
	pending map[string]*model.Video
	// target is the log index the pending changes bring the index to;
	// indexed is the one Bleve reflects; written is the one recorded in
	// Bleve itself (it lags indexed when batches had nothing to index).
	target, indexed, written uint64
	// epoch changes when a restore replaces everything, so a batch taken
	// before it is dropped rather than written over the rebuilt index.
	epoch uint64
	// committing says a batch taken from pending is being written: the
	// index does not reflect its target yet, though pending is empty.
	committing bool
	closed     bool
	done       chan struct{}
}

// defaultLinger is how long the first queued change waits for company.
// At 50 ms, Bleve (a segment per batch, analysis of every document) was
// 9 % of a three-node cluster's CPU at one writer and 17 % at sixteen in
// bench-cluster, on machines where CPU decides the write rate; 200 ms
// quarters the batches and still leaves search well inside a second.
const defaultLinger = 200 * time.Millisecond

func newIndexer(ix *index.Index, log *slog.Logger, indexed uint64) *indexer {
	x := &indexer{ix: ix, log: log, linger: defaultLinger, pending: map[string]*model.Video{}, sums: map[string]uint64{},
		target: indexed, indexed: indexed, written: indexed, done: make(chan struct{})}
	x.cond = sync.NewCond(&x.mu)
	go x.run()
	return x
}

// add queues the changes of the entries up to idx.
func (x *indexer) add(changes func(fn func(id string, v *model.Video)), idx uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	changes(func(id string, v *model.Video) {
		x.pending[id] = v
		n++
	})
	if idx > x.target {
		x.target = idx
	}
	if len(x.pending) == 0 && !x.committing {
		// Nothing to write: the index already reflects these entries.
		x.indexed = x.target
	}
	x.cond.Broadcast()
}

func (x *indexer) run() {
	defer close(x.done)
	for {
		x.mu.Lock()
		for len(x.pending) == 0 && !x.closed {
			x.cond.Wait()
		}
		if len(x.pending) == 0 && x.closed {
			x.mu.Unlock()
			return
		}
		if !x.closed && x.linger > 0 {
			// Let the writes that come with this one join its batch.
			x.mu.Unlock()
			time.Sleep(x.linger) // a deliberate delay that batches writes, not a wait for a condition
			x.mu.Lock()
		}
		batch, target, epoch := x.pending, x.target, x.epoch
		x.pending = map[string]*model.Video{}
		x.committing = true
		x.mu.Unlock()

		x.commitMu.Lock()
		var (
			err   error
			wrote bool
		)
		x.mu.Lock()
		current := epoch == x.epoch
		x.mu.Unlock()
		if current {
			wrote, err = x.commit(batch, target)
		}
		x.commitMu.Unlock()

		x.mu.Lock()
		if epoch == x.epoch {
			if err != nil {
				// The store holds the truth; a stale index is rebuilt at the
				// next start, because its recorded index lags the store's.
				x.log.Error("search index update failed; it will be rebuilt on restart", "index", target, "error", err)
			}
			x.indexed = max(x.indexed, target)
			if wrote {
				x.written = target
			}
			if len(x.pending) == 0 {
				// Entries without changes that came during the commit.
				x.indexed = x.target
			}
		}
		x.committing = false
		x.cond.Broadcast()
		x.mu.Unlock()
	}
}

// commit writes batch to Bleve, skipping the videos whose document is the
// one last written, and reports whether it wrote anything. commitMu is
// held.
func (x *indexer) commit(batch map[string]*model.Video, target uint64) (wrote bool, err error) {
	b := x.ix.NewBatch()
	sums := make(map[string]uint64, len(batch))
	var forget []string // deleted, or no digest
	for id, v := range batch {
		if v == nil {
			b.Put(id, nil)
			forget = append(forget, id)
			continue
		}
		doc := index.Document(v)
		if sum, err := index.DocumentSum(doc); err != nil {
			forget = append(forget, id)
		} else if last, ok := x.sums[id]; ok && last == sum {
			continue
		} else {
			sums[id] = sum
		}
		b.PutDocument(id, doc)
	}
	n := len(sums) + len(forget)
	if n == 0 {
		return false, nil
	}
	if err := x.ix.Commit(b, target); err != nil {
		// What Bleve holds is unknown now: write these again next time.
		for id := range batch {
			delete(x.sums, id)
		}
		return true, err
	}
	for id, sum := range sums {
		x.sums[id] = sum
	}
	for _, id := range forget {
		delete(x.sums, id)
	}
	x.docs += n
	return true, nil
}

// replace runs rebuild, which makes the index reflect the store at
// indexed, with no commit running beside it, and forgets the queued
// changes it covers.
func (x *indexer) replace(rebuild func() error, indexed uint64) error {
	x.commitMu.Lock()
	defer x.commitMu.Unlock()
	x.mu.Lock()
	x.epoch++
	x.pending = map[string]*model.Video{}
	x.mu.Unlock()
	x.sums = map[string]uint64{}
	err := rebuild()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.target, x.indexed, x.written = indexed, indexed, indexed
	x.cond.Broadcast()
	return err
}

// wait blocks until the index reflects every entry up to idx.
func (x *indexer) wait(ctx context.Context, idx uint64) error {
	stop := context.AfterFunc(ctx, func() {
		x.mu.Lock()
		x.cond.Broadcast()
		x.mu.Unlock()
	})
	defer stop()
	x.mu.Lock()
	defer x.mu.Unlock()
	for x.indexed < idx {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("search index at %d, waiting for %d: %w", x.indexed, idx, err)
		}
		x.cond.Wait()
	}
	return nil
}

// close writes what is queued, records the indexed log index in Bleve (so
// a clean restart need not rebuild), and stops.
func (x *indexer) close() {
	x.mu.Lock()
	x.closed = true
	x.cond.Broadcast()
	x.mu.Unlock()
	<-x.done
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.written < x.indexed {
		if err := x.ix.Commit(x.ix.NewBatch(), x.indexed); err != nil {
			x.log.Warn("recording the search index position", "error", err)
		}
		x.written = x.indexed
	}
}
