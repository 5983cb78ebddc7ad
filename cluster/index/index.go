// Package index is the node-local Bleve search index over videos.
//
// Every node keeps its own index, fed by the FSM from the log it applies to
// bbolt, so search never waits on another machine. The index records the
// last applied Raft index beside the documents (in the same Bleve batch);
// a node whose index and store disagree on it rebuilds the index from bbolt.
//
// A batch is searchable as soon as Commit returns, but reaches the disk a
// moment later, off the apply path: waiting for Bleve's fsync in every
// apply made it the slowest step of every write in the cluster, and the
// store (fsynced itself) already holds the truth. After a crash the index
// on disk is an older consistent state, its applied index lags the store's,
// and the node rebuilds it; Close waits for the last batch, so a clean
// restart needs no rebuild.
package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/stratavideo/strata/cluster/model"
)

// closeWait bounds how long Close waits for the last batch to reach the
// disk. Past it the index is closed anyway and rebuilt at the next start.
const closeWait = 30 * time.Second

// rebuildBatch is how many videos a rebuild indexes per Bleve batch.
// Bigger batches mean fewer segments to merge; 2000 short records are a
// few megabytes of memory.
const rebuildBatch = 2000

var (
	keyApplied = []byte("strata_applied")
	keyMapping = []byte("strata_mapping")
)

// Index is safe for concurrent use; Rebuild swaps the underlying Bleve index
// while searches go on.
type Index struct {
	dir  string
	opts Options

	mu  sync.RWMutex
	idx bleve.Index
	an  analyzers

	// pending hears when the last committed batch is on disk.
	pmu     sync.Mutex
	pending chan error
}

// Open opens the index in dir, creating it if missing. A directory that is
// not a readable index (a crash mid-creation, a format change) or that was
// built with another mapping version is replaced by an empty one, whose
// applied index of 0 makes the caller rebuild it from the store.
func Open(dir string) (*Index, error) {
	return OpenWith(dir, Options{PersistEvery: DefaultPersistEvery})
}

// Options tune an index.
type Options struct {
	// PersistEvery is how long Bleve waits between writes of new
	// documents to disk (they are searchable before). 0 writes every batch
	// at once: tests, whose nodes close often and would wait it out.
	PersistEvery time.Duration
}

// DefaultPersistEvery is PersistEvery for Open.
const DefaultPersistEvery = time.Second

// OpenWith is Open with options.
func OpenWith(dir string, o Options) (*Index, error) {
	idx, err := bleve.OpenUsing(dir, runtimeConfig(o))
	if err == nil {
		if v, gerr := idx.GetInternal(keyMapping); gerr != nil || string(v) != mappingVersion {
			idx.Close()
			err = fmt.Errorf("index mapping version %q, want %q (read: %v)", v, mappingVersion, gerr)
		}
	}
	if stale, _ := filepath.Glob(dir + ".rebuild*"); len(stale) > 0 {
		for _, d := range stale {
			os.RemoveAll(d) // left by a crash mid-rebuild
		}
	}
	if err != nil {
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			return nil, fmt.Errorf("open index %s: %w (and removing it: %v)", dir, err, rmErr)
		}
		if idx, err = create(dir, o); err != nil {
			return nil, err
		}
	}
	an, err := analyzersOf(idx)
	if err != nil {
		idx.Close()
		return nil, err
	}
	return &Index{dir: dir, opts: o, idx: idx, an: an}, nil
}

// runtimeConfig makes Bleve return from a batch once it is searchable,
// before it is on disk; whoever needs it on disk waits for the batch's
// persisted callback (see the package comment). It is a new map each time
// because Bleve writes into it.
func runtimeConfig(o Options) map[string]any {
	return map[string]any{
		"unsafe_batch": true,
		// Scorch persists every batch it is given as its own segment, each
		// with a file fsync and two bolt commits, and every node indexes
		// every write: at a few hundred writes a second that was a stream
		// of fsyncs competing with the Raft log's on the same disk. In-
		// process, 3 nodes, 1 writer, 5 alternating runs: 415-937 writes/s
		// with a nap of a second after each persist, 233-659 without. The
		// in-memory segments (searchable at once) merge during the nap and
		// reach the disk together. The index is not the source of truth:
		// after a crash its recorded position lags the store's and it is
		// rebuilt at start (see cluster's checkIndex). The cost: Close waits
		// out the nap to write the last batch.
		"scorchPersisterOptions": map[string]any{
			"persisterNapTimeMSec":      o.PersistEvery.Milliseconds(),
			"persisterNapUnderNumFiles": 1000,
		},
	}
}

// create makes an empty index with the current mapping in dir.
func create(dir string, o Options) (bleve.Index, error) {
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	idx, err := bleve.NewUsing(dir, m, bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore, runtimeConfig(o))
	if err != nil {
		return nil, fmt.Errorf("create index %s: %w", dir, err)
	}
	if err := idx.SetInternal(keyMapping, []byte(mappingVersion)); err != nil {
		idx.Close()
		return nil, fmt.Errorf("create index %s: %w", dir, err)
	}
	return idx, nil
}

// analyzersOf takes the analyzers from the index's own mapping, so queries
// are analysed as the documents on disk were.
func analyzersOf(idx bleve.Index) (analyzers, error) {
	im, ok := idx.Mapping().(*mapping.IndexMappingImpl)
	if !ok {
		return analyzers{}, fmt.Errorf("index mapping is a %T", idx.Mapping())
	}
	an := analyzers{stemmed: im.AnalyzerNamed(anStemmed), plain: im.AnalyzerNamed(anPlain)}
	if an.stemmed == nil || an.plain == nil {
		return analyzers{}, errors.New("index mapping lacks the strata analyzers")
	}
	an.stemmedAt, an.plainAt = onOriginal(an.stemmed), onOriginal(an.plain)
	return an, nil
}

// Close closes the index.
// Close waits (up to closeWait) for the last committed batch to reach the
// disk, then closes the index.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		return nil
	}
	err := x.waitPersisted()
	err = errors.Join(err, x.idx.Close())
	x.idx = nil
	return err
}

// waitPersisted waits for the last committed batch to be on disk.
func (x *Index) waitPersisted() error {
	x.pmu.Lock()
	ch := x.pending
	x.pending = nil
	x.pmu.Unlock()
	if ch == nil {
		return nil
	}
	if err := waitFor(ch); err != nil {
		return fmt.Errorf("%w; it will be rebuilt at the next start", err)
	}
	return nil
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
	if v == nil {
		if b.err == nil {
			b.b.Delete(id)
		}
		return
	}
	b.PutDocument(id, Document(v))
}

// PutDocument indexes doc, made by Document, under id.
func (b *Batch) PutDocument(id string, doc map[string]any) {
	if b.err != nil {
		return
	}
	if err := b.b.Index(id, doc); err != nil {
		b.err = fmt.Errorf("index video %s: %w", id, err)
	}
}

// Commit applies the batch and records applied in the same Bleve batch.
func (x *Index) Commit(b *Batch, applied uint64) error {
	if b.err != nil {
		return b.err
	}
	b.b.SetInternal(keyApplied, binary.BigEndian.AppendUint64(nil, applied))
	persisted := make(chan error, 1)
	b.b.SetPersistedCallback(func(err error) { persisted <- err })
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return errors.New("index is closed")
	}
	if err := x.idx.Batch(b.b); err != nil {
		return fmt.Errorf("index batch: %w", err)
	}
	// Bleve writes batches to disk in order, so the last one being there
	// means they all are.
	x.pmu.Lock()
	x.pending = persisted
	x.pmu.Unlock()
	return nil
}

// Rebuild replaces the index with one built from each, which must call its
// argument once per video. Searches keep using the old index until the new
// one is complete.
func (x *Index) Rebuild(each func(fn func(*model.Video) error) error, applied uint64) error {
	// A folder of its own for each rebuild, beside the index, so that two
	// rebuilds can never write into each other's files.
	tmpRoot, err := os.MkdirTemp(filepath.Dir(x.dir), filepath.Base(x.dir)+rebuildSuffix)
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	defer os.RemoveAll(tmpRoot)
	tmpDir := filepath.Join(tmpRoot, "index")
	if err := build(tmpDir, x.opts, each, applied); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx != nil {
		// What the old index has not yet written no longer matters.
		x.pmu.Lock()
		x.pending = nil
		x.pmu.Unlock()
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
	idx, err := bleve.OpenUsing(x.dir, runtimeConfig(x.opts))
	if err != nil {
		return fmt.Errorf("rebuild: reopen: %w", err)
	}
	an, err := analyzersOf(idx)
	if err != nil {
		idx.Close()
		return fmt.Errorf("rebuild: %w", err)
	}
	x.idx, x.an = idx, an
	return nil
}

// rebuildSuffix names the folders of rebuilds in progress; Open removes
// those a crash left.
const rebuildSuffix = ".rebuild-"

// build writes a complete index of each's videos in dir, closed and on
// disk when it returns.
func build(dir string, o Options, each func(fn func(*model.Video) error) error, applied uint64) error {
	fresh, err := create(dir, o)
	if err != nil {
		return err
	}
	batch := fresh.NewBatch()
	err = each(func(v *model.Video) error {
		if err := batch.Index(v.ID, Document(v)); err != nil {
			return err
		}
		if batch.Size() < rebuildBatch {
			return nil
		}
		err := fresh.Batch(batch)
		batch.Reset()
		return err
	})
	if err == nil {
		// The batches before this one are on disk when it is.
		batch.SetInternal(keyApplied, binary.BigEndian.AppendUint64(nil, applied))
		persisted := make(chan error, 1)
		batch.SetPersistedCallback(func(err error) { persisted <- err })
		if err = fresh.Batch(batch); err == nil {
			err = waitFor(persisted)
		}
	}
	return errors.Join(err, fresh.Close())
}

// waitFor waits (up to closeWait) for a batch's persisted callback. Bleve
// retries a failed write to disk without end, so the wait is bounded.
func waitFor(persisted <-chan error) error {
	timer := time.NewTimer(closeWait)
	defer timer.Stop()
	select {
	case err := <-persisted:
		if err != nil {
			return fmt.Errorf("write the index to disk: %w", err)
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("the index was not written to disk within %s", closeWait)
	}
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
