package cache

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func testObject(key, video string, size int) *Object {
	body := bytes.Repeat([]byte{byte(len(key))}, size)
	copy(body, key)
	now := time.Now()
	return New(key, video, http.Header{"Content-Type": {"video/iso.segment"}, "Etag": {`"v1"`}}, body, now, now.Add(time.Hour))
}

func open(t *testing.T, dir string, memBytes, diskBytes int64) *Cache {
	t.Helper()
	c, err := Open(Config{MemoryBytes: memBytes, DiskDir: dir, DiskBytes: diskBytes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestDiskRestartRebuildsIndex: objects written by one cache are found by
// the next one over the same folder, checked and whole.
func TestDiskRestartRebuildsIndex(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 8<<20, 64<<20)
	var want []*Object
	for i := range 20 {
		o := testObject(fmt.Sprintf("/media/v%d/seg-%d.m4s", i%3, i), fmt.Sprintf("v%d", i%3), 10_000+i)
		if err := c.Store(o, c.Gen(o.VideoID)); err != nil {
			t.Fatal(err)
		}
		want = append(want, o)
	}
	c.Close()
	// Leftovers of a killed writer are cleared.
	if err := os.WriteFile(filepath.Join(dir, "tmp", "obj-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}

	c2 := open(t, dir, 8<<20, 64<<20)
	if got := c2.Stats().DiskObjects.Load(); got != 20 {
		t.Fatalf("rebuilt index has %d objects, want 20", got)
	}
	for _, o := range want {
		if _, ok := c2.Memory(o.Key); ok {
			t.Fatalf("%s in memory before any read", o.Key)
		}
		got, ok := c2.Disk(o.Key)
		if !ok || !bytes.Equal(got.Body, o.Body) || got.ETag != `"v1"` || got.VideoID != o.VideoID {
			t.Fatalf("%s after restart: ok=%v", o.Key, ok)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(entries) != 0 {
		t.Fatalf("tmp not cleared: %d entries", len(entries))
	}
}

// TestDiskCorruptObjectDropped: a flipped byte in a body (or a truncated
// file) is caught by the checksum; the object is dropped, not returned.
func TestDiskCorruptObjectDropped(t *testing.T) {
	for name, damage := range map[string]func(path string) error{
		"flipped body byte": func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)-10] ^= 0xff
			return os.WriteFile(p, b, 0o600)
		},
		"truncated": func(p string) error { return os.Truncate(p, 100) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := open(t, dir, 8<<20, 64<<20)
			o := testObject("/media/v/seg-1.m4s", "v", 50_000)
			if err := c.Store(o, 0); err != nil {
				t.Fatal(err)
			}
			path := c.DiskPath(o.Key)
			if err := damage(path); err != nil {
				t.Fatal(err)
			}
			if got, ok := c.Disk(o.Key); ok {
				t.Fatalf("corrupt object returned (%d bytes)", len(got.Body))
			}
			if c.Stats().Corrupt.Load() != 1 {
				t.Fatalf("corrupt count = %d", c.Stats().Corrupt.Load())
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("corrupt file still there: %v", err)
			}
			if c.DiskPath(o.Key) != "" {
				t.Fatal("corrupt object still indexed")
			}
		})
	}
}

// TestDiskEvictionKeepsBound: writing three times the bound leaves the
// tier within it, on disk as in the index, and keeps the object in use.
func TestDiskEvictionKeepsBound(t *testing.T) {
	dir := t.TempDir()
	const bound = 1 << 20
	c := open(t, dir, 1<<20, bound)
	hot := testObject("/media/hot/seg-0.m4s", "hot", 60_000)
	if err := c.Store(hot, 0); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		o := testObject(fmt.Sprintf("/media/cold/seg-%d.m4s", i), "cold", 60_000)
		if err := c.Store(o, 0); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.disk.get(hot.Key); !ok { // the hot object keeps being read
			t.Fatalf("hot object evicted after %d cold ones", i)
		}
	}
	c.WaitRemovals()
	if used := c.Stats().DiskBytes.Load(); used > bound || used < bound/2 {
		t.Fatalf("disk tier holds %d bytes, bound %d", used, bound)
	}
	var onDisk int64
	filepath.Walk(filepath.Join(dir, "objects"), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			onDisk += info.Size()
		}
		return nil
	})
	if onDisk != c.Stats().DiskBytes.Load() {
		t.Fatalf("files hold %d bytes, index says %d", onDisk, c.Stats().DiskBytes.Load())
	}
	if c.Stats().DiskEvictions.Load() == 0 {
		t.Fatal("no evictions counted")
	}
}

// TestPurgeVideo: a purge empties both tiers of that video alone, and a
// fill that began before it cannot store afterwards.
func TestPurgeVideo(t *testing.T) {
	c := open(t, t.TempDir(), 8<<20, 64<<20)
	a := testObject("/media/a/seg-1.m4s", "a", 1000)
	b := testObject("/media/b/seg-1.m4s", "b", 1000)
	for _, o := range []*Object{a, b} {
		if err := c.Store(o, 0); err != nil {
			t.Fatal(err)
		}
	}
	genBefore := c.Gen("a")
	c.PurgeVideo("a")
	if _, ok := c.Memory(a.Key); ok || c.DiskPath(a.Key) != "" {
		t.Fatal("purged object still cached")
	}
	if _, ok := c.Memory(b.Key); !ok {
		t.Fatal("another video's object was purged")
	}
	if err := c.Store(testObject(a.Key, "a", 1000), genBefore); err != ErrPurged {
		t.Fatalf("store after purge = %v, want ErrPurged", err)
	}
	if c.Has(a.Key) {
		t.Fatal("a fill from before the purge stored its object")
	}
}
