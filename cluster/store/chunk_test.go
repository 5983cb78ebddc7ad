package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// Chunks are claimed by any worker; the last completion queues exactly one
// join that knows where every chunk's output is; progress moves with the
// chunks and is not reset by their claims.
func TestChunksQueueOneJoin(t *testing.T) {
	h := newHarness(t)
	h.setup("v1", "j1", 3)
	parent := h.claim("a", time.Minute)
	if parent.Kind != model.KindTranscode {
		t.Fatalf("claimed %+v", parent)
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.EnqueueChunks(&command.EnqueueChunks{Stamp: h.at(), ParentID: "j1", VideoID: "v1", Count: 3,
			Holder: "node-a", Plan: []byte(`{"x":1}`), MaxAttempts: 3})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.CompleteJob(&command.CompleteJob{Stamp: h.at(), JobID: "j1", Worker: "a"})
	}); err != nil {
		t.Fatal(err)
	}
	workers := []string{"a", "b", "c"}
	var chunks []*model.Job
	for i := range 3 {
		j := h.claim(workers[i], time.Minute)
		if j.Kind != model.KindChunk || j.Chunk == nil || j.Chunk.Index != i || j.Chunk.Holder != "node-a" || string(j.Chunk.Plan) != `{"x":1}` {
			t.Fatalf("claim %d = %+v %+v", i, j, j.Chunk)
		}
		chunks = append(chunks, j)
	}
	for i, j := range chunks {
		if i == 2 {
			// A chunk's output is only recorded by its holder.
			if _, err := h.do(func(tx *Tx) (any, error) {
				return tx.ChunkOutput(&command.ChunkOutput{Stamp: h.at(), JobID: j.ID, Worker: "a", Node: "x"})
			}); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("ChunkOutput by a non-holder: %v", err)
			}
		}
		if _, err := h.do(func(tx *Tx) (any, error) {
			return tx.ChunkOutput(&command.ChunkOutput{Stamp: h.at(), JobID: j.ID, Worker: j.Worker, Node: "node-" + j.Worker})
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.do(func(tx *Tx) (any, error) {
			return tx.CompleteJob(&command.CompleteJob{Stamp: h.at(), JobID: j.ID, Worker: j.Worker})
		}); err != nil {
			t.Fatal(err)
		}
		v := h.video("v1")
		if v.Status != model.StatusProcessing {
			t.Fatalf("video %s after chunk %d", v.Status, i)
		}
		if want := 5 + 90*float64(i+1)/3; v.Progress != want {
			t.Errorf("progress after chunk %d = %v, want %v", i, v.Progress, want)
		}
		_, err := h.do(func(tx *Tx) (any, error) { return tx.job(JoinJobID("j1")) })
		if i < 2 && !errors.Is(err, ErrNotFound) {
			t.Fatalf("join queued after %d of 3 chunks: %v", i+1, err)
		}
	}
	join := h.claim("b", time.Minute)
	if join.Kind != model.KindJoin || join.ID != JoinJobID("j1") || join.Chunk == nil ||
		fmt.Sprint(join.Chunk.Outputs) != "[node-a node-b node-c]" || join.Chunk.Holder != "node-a" {
		t.Fatalf("join = %+v %+v", join, join.Chunk)
	}
	if v := h.video("v1"); v.Progress != 95 {
		t.Errorf("claiming the join reset progress to %v", v.Progress)
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.EnqueueChunks(&command.EnqueueChunks{Stamp: h.at(), ParentID: "j2", VideoID: "v1", Count: 0, Holder: "a"})
	}); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero chunks: %v", err)
	}
}

// The parent encodes the audio and pictures while chunks run: when the
// chunks finish first, the join waits for the parent; a retried parent's
// second EnqueueChunks leaves the chunks alone.
func TestJoinWaitsForTheParent(t *testing.T) {
	h := newHarness(t)
	h.setup("v1", "j1", 3)
	h.claim("a", time.Minute)
	enqueue := func() {
		t.Helper()
		if _, err := h.do(func(tx *Tx) (any, error) {
			return tx.EnqueueChunks(&command.EnqueueChunks{Stamp: h.at(), ParentID: "j1", VideoID: "v1", Count: 2, Holder: "node-a"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	enqueue()
	enqueue()
	for range 2 {
		j := h.claim("b", time.Minute)
		if j.Kind != model.KindChunk {
			t.Fatalf("claimed %+v", j)
		}
		for _, c := range []command.Command{
			&command.ChunkOutput{Stamp: h.at(), JobID: j.ID, Worker: "b", Node: "node-b"},
			&command.CompleteJob{Stamp: h.at(), JobID: j.ID, Worker: "b"},
		} {
			if _, err := h.do(func(tx *Tx) (any, error) {
				if co, ok := c.(*command.ChunkOutput); ok {
					return tx.ChunkOutput(co)
				}
				return tx.CompleteJob(c.(*command.CompleteJob))
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if j := h.claimMaybe("c"); j != nil {
		t.Fatalf("claimed %s before the parent was done", j.ID)
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.CompleteJob(&command.CompleteJob{Stamp: h.at(), JobID: "j1", Worker: "a"})
	}); err != nil {
		t.Fatal(err)
	}
	if j := h.claimMaybe("c"); j == nil || j.ID != JoinJobID("j1") || fmt.Sprint(j.Chunk.Outputs) != "[node-b node-b]" {
		t.Fatalf("after the parent: claimed %+v", j)
	}
}

func (h *harness) claimMaybe(worker string) *model.Job {
	v, err := h.do(func(tx *Tx) (any, error) {
		return tx.ClaimJob(&command.ClaimJob{Stamp: h.at(), Worker: worker, LeaseUntil: h.now.Add(time.Minute)})
	})
	if err != nil {
		h.t.Fatalf("claim: %v", err)
	}
	j, _ := v.(*model.Job)
	return j
}

func (h *harness) video(id string) *model.Video {
	v, err := h.s.Video(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}
