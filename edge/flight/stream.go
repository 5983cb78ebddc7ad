// Package flight coalesces cache fills: one upstream fetch per object
// however many requests miss on it at once (Group), and a buffer that every
// waiter reads while the fetch is still writing it (Stream), so the first
// bytes reach all viewers as soon as they arrive rather than when the
// object is complete.
package flight

import (
	"context"
	"errors"
	"io"
	"sync"
)

// ErrTooLarge is returned by Write when the object outgrows the stream's
// limit.
var ErrTooLarge = errors.New("flight: object larger than the cache takes")

// Stream is a body being fetched: one writer appends, any number of
// readers read at their own offsets and wait for bytes not yet written.
// The buffer is kept whole, so when the writer is done it is the object.
type Stream struct {
	limit  int64
	expect int64 // the size announced, or -1

	mu   sync.Mutex
	buf  []byte
	done bool
	err  error
	// wake is closed (and replaced) whenever bytes arrive or the stream
	// ends: a broadcast that waiters can select on with their context.
	wake chan struct{}
}

// NewStream makes a stream for an object of sizeHint bytes (-1 if unknown)
// that refuses to grow past limit.
func NewStream(sizeHint, limit int64) *Stream {
	s := &Stream{limit: limit, expect: sizeHint, wake: make(chan struct{})}
	if sizeHint > 0 && sizeHint <= limit {
		s.buf = make([]byte, 0, sizeHint)
	}
	return s
}

// Write appends p and wakes the readers.
func (s *Stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return 0, errors.New("flight: write after close")
	}
	if int64(len(s.buf))+int64(len(p)) > s.limit {
		return 0, ErrTooLarge
	}
	s.buf = append(s.buf, p...)
	s.broadcastLocked()
	return len(p), nil
}

// Close ends the stream; err nil means the body is complete.
func (s *Stream) Close(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done, s.err = true, err
	s.broadcastLocked()
}

func (s *Stream) broadcastLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// Bytes returns the whole body once the stream closed without error.
func (s *Stream) Bytes() ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf, s.done && s.err == nil
}

// Buffered returns the bytes written so far. The writer uses it to store
// a complete body before it closes the stream, so that a reader that has
// seen the last byte finds the object in the cache.
func (s *Stream) Buffered() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf
}

// ReadAt copies bytes at off into p, waiting until at least one is there,
// the stream ends or ctx is done. At the end of a complete stream it
// returns io.EOF; at the end of a failed one, the writer's error.
//
// The last byte of a stream of announced size is held back until Close:
// the writer stores the object before it closes, so a reader that has
// the whole body knows the cache has it too.
func (s *Stream) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	b, err := s.view(ctx, off, int64(len(p)))
	return copy(p, b), err
}

// view returns up to n bytes at off without copying them, waiting as
// ReadAt does. The bytes stay valid and unchanged: Write only appends,
// and when append moves the buffer the old array keeps what it held.
func (s *Stream) view(ctx context.Context, off, n int64) ([]byte, error) {
	for {
		s.mu.Lock()
		avail := int64(len(s.buf))
		if !s.done && s.expect > 0 && avail == s.expect {
			avail--
		}
		if off < avail {
			b := s.buf[off:min(avail, off+n)]
			s.mu.Unlock()
			return b, nil
		}
		if s.done {
			err := s.err
			s.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return nil, err
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// WriteRange writes the n bytes at off to w as they arrive; n < 0 means
// up to the end of the stream. Each Write gets all the bytes there are
// so far, straight from the buffer: a herd of waiters on one object
// costs one copy per waiter (the kernel's), not two.
func (s *Stream) WriteRange(ctx context.Context, w io.Writer, off, n int64) error {
	toEnd := n < 0
	if toEnd {
		n = 1<<63 - 1
	}
	for n > 0 {
		b, err := s.view(ctx, off, n)
		if len(b) > 0 {
			if _, werr := w.Write(b); werr != nil {
				return werr
			}
			off += int64(len(b))
			n -= int64(len(b))
		}
		if err != nil {
			if err == io.EOF && toEnd {
				return nil
			}
			if err == io.EOF && n > 0 {
				return io.ErrUnexpectedEOF
			}
			if err != io.EOF {
				return err
			}
		}
	}
	return nil
}
