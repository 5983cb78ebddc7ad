package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// disk is the disk tier: one file per object under dir/objects, written to
// dir/tmp and renamed into place, so a reader never sees half a file. Its
// index lives in memory and is rebuilt from the files' headers at start.
type disk struct {
	dir   string
	max   atomic.Int64
	stats *Stats
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	index   map[string]*diskEntry
	byVideo map[string]map[string]struct{}
	used    int64
	seq     uint64
}

// diskEntry is what the index knows of one file.
type diskEntry struct {
	key, video, path string
	size             int64
	storedAt         time.Time
	lastUsed         atomic.Int64 // unix nanoseconds
	hits             atomic.Uint32
}

func openDisk(dir string, maxBytes int64, stats *Stats, log *slog.Logger, now func() time.Time) (*disk, error) {
	d := &disk{dir: dir, stats: stats, log: log, now: now,
		index: map[string]*diskEntry{}, byVideo: map[string]map[string]struct{}{}}
	d.max.Store(maxBytes)
	// Half-written files of a killed process are worthless.
	if err := os.RemoveAll(filepath.Join(dir, "tmp")); err != nil {
		return nil, fmt.Errorf("disk tier: clear tmp: %w", err)
	}
	for _, sub := range []string{"tmp", "objects"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return nil, fmt.Errorf("disk tier: %w", err)
		}
	}
	if err := d.rebuild(); err != nil {
		return nil, err
	}
	return d, nil
}

// rebuild reads every object file's header into the index. A file that
// fails its header checks is removed; of two files for one key (a crash
// between a replace and the old file's removal), the newer wins.
func (d *disk) rebuild() error {
	start := time.Now()
	root := filepath.Join(d.dir, "objects")
	var dropped int
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		_, m, size, err := readHead(path)
		if err != nil {
			dropped++
			d.log.Warn("edge disk tier: dropping an unreadable object", "path", path, "error", err)
			_ = os.Remove(path)
			return nil
		}
		if old := d.index[m.Key]; old != nil {
			if !m.StoredAt.After(old.storedAt) {
				_ = os.Remove(path)
				return nil
			}
			d.removeLocked(old)
			_ = os.Remove(old.path)
		}
		ent := &diskEntry{key: m.Key, video: m.VideoID, path: path, size: size, storedAt: m.StoredAt}
		if info, err := e.Info(); err == nil {
			ent.lastUsed.Store(info.ModTime().UnixNano())
		}
		d.addLocked(ent)
		if n := seqOf(path); n > d.seq {
			d.seq = n
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("disk tier: rebuild index: %w", err)
	}
	victims := d.evictLocked()
	removeFiles(victims)
	d.log.Info("edge disk tier ready", "dir", d.dir, "objects", len(d.index), "bytes", d.used,
		"dropped", dropped, "took", time.Since(start))
	return nil
}

// seqOf reads the sequence suffix of an object file name.
func seqOf(path string) uint64 {
	_, s, ok := strings.Cut(filepath.Base(path), ".")
	if !ok {
		return 0
	}
	n, _ := strconv.ParseUint(s, 16, 64)
	return n
}

func (d *disk) addLocked(e *diskEntry) {
	d.index[e.key] = e
	set := d.byVideo[e.video]
	if set == nil {
		set = map[string]struct{}{}
		d.byVideo[e.video] = set
	}
	set[e.key] = struct{}{}
	d.used += e.size
	d.stats.DiskBytes.Store(d.used)
	d.stats.DiskObjects.Store(int64(len(d.index)))
}

func (d *disk) removeLocked(e *diskEntry) {
	if d.index[e.key] != e {
		return
	}
	delete(d.index, e.key)
	if set := d.byVideo[e.video]; set != nil {
		delete(set, e.key)
		if len(set) == 0 {
			delete(d.byVideo, e.video)
		}
	}
	d.used -= e.size
	d.stats.DiskBytes.Store(d.used)
	d.stats.DiskObjects.Store(int64(len(d.index)))
}

// get reads key and checks it. A corrupt file is removed and reported as
// a miss, so the caller refetches it.
func (d *disk) get(key string) (*Object, bool) {
	d.mu.Lock()
	e := d.index[key]
	d.mu.Unlock()
	if e == nil {
		return nil, false
	}
	o, err := readObject(e.path, key)
	if err != nil {
		if errors.Is(err, errCorrupt) {
			d.stats.Corrupt.Add(1)
			d.log.Warn("edge disk tier: corrupt object dropped; it will be fetched again", "key", key, "error", err)
		} else if !errors.Is(err, fs.ErrNotExist) {
			d.log.Warn("edge disk tier: read failed", "key", key, "error", err)
		}
		d.mu.Lock()
		d.removeLocked(e)
		d.mu.Unlock()
		_ = os.Remove(e.path)
		return nil, false
	}
	e.lastUsed.Store(d.now().UnixNano())
	e.hits.Add(1)
	return o, true
}

// has reports whether key is indexed, without reading it.
func (d *disk) has(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.index[key] != nil
}

// put writes o and indexes it, evicting what the byte bound requires. It
// does not fsync: after a crash a torn file fails its checksum and is
// fetched again, which is cheaper than an fsync on every fill.
func (d *disk) put(o *Object) error {
	tmp, err := os.CreateTemp(filepath.Join(d.dir, "tmp"), "obj-*")
	if err != nil {
		return fmt.Errorf("disk tier: %w", err)
	}
	if err := encodeFile(tmp, o); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("disk tier: write %s: %w", o.Key, err)
	}
	st, err := tmp.Stat()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("disk tier: write %s: %w", o.Key, err)
	}
	sum := sha256.Sum256([]byte(o.Key))
	name := hex.EncodeToString(sum[:16])

	d.mu.Lock()
	d.seq++
	path := filepath.Join(d.dir, "objects", name[:2], name+"."+strconv.FormatUint(d.seq, 16))
	d.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("disk tier: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("disk tier: %w", err)
	}
	e := &diskEntry{key: o.Key, video: o.VideoID, path: path, size: st.Size(), storedAt: o.StoredAt}
	e.lastUsed.Store(d.now().UnixNano())
	d.mu.Lock()
	var victims []string
	if old := d.index[o.Key]; old != nil {
		d.removeLocked(old)
		victims = append(victims, old.path)
	}
	d.addLocked(e)
	for _, v := range d.evictLocked() {
		victims = append(victims, v)
	}
	d.mu.Unlock()
	removeFiles(victims)
	return nil
}

// evictSample is how many entries each eviction compares, as Redis does:
// enough to find a poor one, few enough to stay O(1).
const evictSample = 16

// evictLocked drops the least valuable objects until the tier is within
// its bound and returns their files. An object's value is its hits over
// the time since it was last used: a segment many viewers still watch
// outlives one watched once an hour ago.
func (d *disk) evictLocked() []string {
	var paths []string
	now := d.now().UnixNano()
	for d.used > d.max.Load() && len(d.index) > 0 {
		var worst *diskEntry
		worstValue := 0.0
		n := 0
		for _, e := range d.index { // map order is random: a sample
			idle := float64(now-e.lastUsed.Load())/float64(time.Second) + 1
			if idle < 1 {
				idle = 1
			}
			v := float64(e.hits.Load()+1) / idle
			if worst == nil || v < worstValue {
				worst, worstValue = e, v
			}
			if n++; n >= evictSample {
				break
			}
		}
		d.removeLocked(worst)
		d.stats.DiskEvictions.Add(1)
		paths = append(paths, worst.path)
	}
	return paths
}

// purge forgets every object of video and returns their files.
func (d *disk) purge(video string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var paths []string
	for key := range d.byVideo[video] {
		if e := d.index[key]; e != nil {
			paths = append(paths, e.path)
			d.removeLocked(e)
		}
	}
	return paths
}

// purgeKey forgets one object and returns its file.
func (d *disk) purgeKey(key string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.index[key]; e != nil {
		d.removeLocked(e)
		return []string{e.path}
	}
	return nil
}

// pathOf is the file holding key, for tests.
func (d *disk) pathOf(key string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.index[key]; e != nil {
		return e.path
	}
	return ""
}

func (d *disk) resize(maxBytes int64) {
	d.max.Store(maxBytes)
	d.mu.Lock()
	victims := d.evictLocked()
	d.mu.Unlock()
	removeFiles(victims)
}

func removeFiles(paths []string) {
	for _, p := range paths {
		_ = os.Remove(p)
	}
}
