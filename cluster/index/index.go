// Package index is the node-local Bleve search index over videos.
//
// Every node keeps its own index, fed by the FSM in the same apply that
// writes bbolt, so search never waits on another machine. The index records
// the last applied Raft index beside the documents (in the same Bleve batch);
// a node whose index and store disagree on it rebuilds the index from bbolt.
package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/blevesearch/bleve/v2"

	"github.com/stratavideo/strata/cluster/model"
)

var keyApplied = []byte("strata_applied")

// Index is safe for concurrent use; Rebuild swaps the underlying Bleve index
// while searches go on.
type Index struct {
	dir string

	mu  sync.RWMutex
	idx bleve.Index
}

// Open opens the index in dir, creating it if missing. A directory that is
// not a readable index (a crash mid-creation, a format change) is replaced by
// an empty one, whose applied index of 0 makes the caller rebuild it.
func Open(dir string) (*Index, error) {
	idx, err := bleve.Open(dir)
	if err != nil {
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			return nil, fmt.Errorf("open index %s: %w (and removing it: %v)", dir, err, rmErr)
		}
		idx, err = bleve.New(dir, newMapping())
		if err != nil {
			return nil, fmt.Errorf("create index %s: %w", dir, err)
		}
	}
	return &Index{dir: dir, idx: idx}, nil
}

// Close closes the index.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		return nil
	}
	err := x.idx.Close()
	x.idx = nil
	return err
}

// Applied is the Raft index the documents reflect.
func (x *Index) Applied() (uint64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return 0, errors.New("index is closed")
	}
	raw, err := x.idx.GetInternal(keyApplied)
	if err != nil {
		return 0, fmt.Errorf("read applied index: %w", err)
	}
	if len(raw) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(raw), nil
}

// Batch collects changes to apply in one Bleve batch.
type Batch struct {
	b   *bleve.Batch
	err error
}

// NewBatch starts a batch.
func (x *Index) NewBatch() *Batch {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return &Batch{err: errors.New("index is closed")}
	}
	return &Batch{b: x.idx.NewBatch()}
}

// Put indexes v, or removes it when v is nil.
func (b *Batch) Put(id string, v *model.Video) {
	if b.err != nil {
		return
	}
	if v == nil {
		b.b.Delete(id)
		return
	}
	if err := b.b.Index(id, toDoc(v)); err != nil {
		b.err = fmt.Errorf("index video %s: %w", id, err)
	}
}

// Commit applies the batch and records applied in the same Bleve batch.
func (x *Index) Commit(b *Batch, applied uint64) error {
	if b.err != nil {
		return b.err
	}
	b.b.SetInternal(keyApplied, binary.BigEndian.AppendUint64(nil, applied))
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return errors.New("index is closed")
	}
	if err := x.idx.Batch(b.b); err != nil {
		return fmt.Errorf("index batch: %w", err)
	}
	return nil
}

// Rebuild replaces the index with one built from each, which must call its
// argument once per video. Searches keep using the old index until the new
// one is complete.
func (x *Index) Rebuild(each func(fn func(*model.Video) error) error, applied uint64) error {
	tmpDir := x.dir + ".rebuild"
	if err := os.RemoveAll(tmpDir); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	fresh, err := bleve.New(tmpDir, newMapping())
	if err != nil {
		return fmt.Errorf("rebuild: create: %w", err)
	}
	const batchSize = 500
	batch := fresh.NewBatch()
	flush := func() error {
		if batch.Size() == 0 {
			return nil
		}
		err := fresh.Batch(batch)
		batch.Reset()
		return err
	}
	err = each(func(v *model.Video) error {
		if err := batch.Index(v.ID, toDoc(v)); err != nil {
			return err
		}
		if batch.Size() >= batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		batch.SetInternal(keyApplied, binary.BigEndian.AppendUint64(nil, applied))
		err = fresh.Batch(batch)
	}
	if closeErr := fresh.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.RemoveAll(tmpDir)
		return fmt.Errorf("rebuild: %w", err)
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx != nil {
		if err := x.idx.Close(); err != nil {
			return fmt.Errorf("rebuild: close old index: %w", err)
		}
		x.idx = nil
	}
	if err := os.RemoveAll(x.dir); err != nil {
		return fmt.Errorf("rebuild: remove old index: %w", err)
	}
	if err := os.Rename(tmpDir, x.dir); err != nil {
		return fmt.Errorf("rebuild: swap: %w", err)
	}
	idx, err := bleve.Open(x.dir)
	if err != nil {
		return fmt.Errorf("rebuild: reopen: %w", err)
	}
	x.idx = idx
	return nil
}

// Count is the number of documents, for tests and status.
func (x *Index) Count() (uint64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return 0, errors.New("index is closed")
	}
	return x.idx.DocCount()
}
