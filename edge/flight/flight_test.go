package flight

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

// TestStreamReadWhileWriting: readers get bytes as they are written, not
// when the stream closes, and all of them get the same bytes.
func TestStreamReadWhileWriting(t *testing.T) {
	s := NewStream(7, 1<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 10)
	n, err := s.ReadAt(ctx, p, 0)
	if err != nil || string(p[:n]) != "abc" {
		t.Fatalf("ReadAt before close = %q, %v", p[:n], err)
	}
	// A reader at the end waits for the next write.
	got := make(chan string)
	go func() {
		n, _ := s.ReadAt(ctx, p, 3)
		got <- string(p[:n])
	}()
	if _, err := s.Write([]byte("def")); err != nil {
		t.Fatal(err)
	}
	if g := <-got; g != "def" {
		t.Fatalf("waiting reader got %q", g)
	}
	// The last byte waits for Close.
	if _, err := s.Write([]byte("g")); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	if n, err := s.ReadAt(short, p, 6); n != 0 || err == nil {
		t.Fatalf("last byte before Close: %d bytes, %v", n, err)
	}
	cancelShort()
	s.Close(nil)
	if n, err := s.ReadAt(ctx, p, 6); n != 1 || err != nil {
		t.Fatalf("last byte after Close: %d bytes, %v", n, err)
	}
	if _, err := s.ReadAt(ctx, p, 7); err != io.EOF {
		t.Fatalf("ReadAt at the end = %v, want EOF", err)
	}
	var buf bytes.Buffer
	if err := s.WriteRange(ctx, &buf, 1, 4); err != nil || buf.String() != "bcde" {
		t.Fatalf("WriteRange = %q, %v", buf.String(), err)
	}
	if b, ok := s.Bytes(); !ok || string(b) != "abcdefg" {
		t.Fatalf("Bytes = %q, %v", b, ok)
	}
}

func TestStreamFailureAndLimit(t *testing.T) {
	s := NewStream(-1, 4)
	if _, err := s.Write([]byte("12345")); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write past the limit = %v", err)
	}
	boom := errors.New("boom")
	s.Close(boom)
	if _, err := s.ReadAt(context.Background(), make([]byte, 1), 0); !errors.Is(err, boom) {
		t.Fatalf("ReadAt after a failure = %v", err)
	}
	if _, ok := s.Bytes(); ok {
		t.Fatal("a failed stream is not a whole object")
	}
	// A reader gives up with its context.
	s2 := NewStream(-1, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s2.ReadAt(ctx, make([]byte, 1), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadAt with a cancelled context = %v", err)
	}
}

func TestGroupOneLeader(t *testing.T) {
	var g Group[*int]
	var wg sync.WaitGroup
	var mu sync.Mutex
	leaders := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, leader := g.Join("k", func() *int { return new(int) }); leader {
				mu.Lock()
				leaders++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if leaders != 1 || !g.Has("k") {
		t.Fatalf("%d leaders, in flight %v", leaders, g.Has("k"))
	}
	v, _ := g.Join("k", nil)
	g.Done("k", new(int)) // not the one in flight: ignored
	if !g.Has("k") {
		t.Fatal("Done with another value removed the fill")
	}
	g.Done("k", v)
	if g.Has("k") || g.Len() != 0 {
		t.Fatal("Done did not remove the fill")
	}
}
