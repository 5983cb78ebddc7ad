package cache

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// TestOpenBody: the file's body is found and checked; a damaged file, a
// file of another object and a memory-only cache are refused.
func TestOpenBody(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 8<<20, 64<<20)
	o := testObject("/media/v/seg-1.m4s", "v", 300_000)
	if err := c.Store(o, 0); err != nil {
		t.Fatal(err)
	}
	f, off, err := c.OpenBody(o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(f, off, o.Size()))
	f.Close()
	if err != nil || !bytes.Equal(got, o.Body) {
		t.Fatalf("body at %d: %d bytes, %v", off, len(got), err)
	}

	other := testObject(o.Key, "v", 300_000)
	other.Body[0] ^= 1
	other.Sum = Checksum(other.Body)
	if _, _, err := c.OpenBody(other); err == nil {
		t.Fatal("a file of other bytes was accepted")
	}

	b, err := os.ReadFile(c.DiskPath(o.Key))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-10] ^= 0xff
	if err := os.WriteFile(c.DiskPath(o.Key), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.OpenBody(o); err == nil {
		t.Fatal("a damaged file was accepted")
	}

	mem := open(t, "", 8<<20, 0)
	if _, _, err := mem.OpenBody(o); err == nil {
		t.Fatal("a cache without a disk tier opened a file")
	}
}
