package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

type harness struct {
	t       *testing.T
	s       *Store
	applied uint64
	now     time.Time
}

func newHarness(t *testing.T) *harness {
	cfg := DefaultConfig()
	cfg.NoSync = true
	s, err := Open(filepath.Join(t.TempDir(), "fsm.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &harness{t: t, s: s, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (h *harness) at() command.Stamp { return command.Stamp{At: h.now} }

// do runs fn in its own transaction, as one log entry.
func (h *harness) do(fn func(tx *Tx) (any, error)) (any, error) {
	h.applied++
	var out any
	var berr error
	_, err := h.s.Update(h.applied, func(tx *Tx) error {
		out, berr = fn(tx)
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out, berr
}

func (h *harness) claim(worker string, lease time.Duration) *model.Job {
	v, err := h.do(func(tx *Tx) (any, error) {
		return tx.ClaimJob(&command.ClaimJob{Stamp: h.at(), Worker: worker, LeaseUntil: h.now.Add(lease)})
	})
	if err != nil {
		h.t.Fatalf("claim: %v", err)
	}
	return v.(*model.Job)
}

func (h *harness) setup(videoID, jobID string, maxAttempts int) {
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.CreateVideo(&command.CreateVideo{Stamp: h.at(), Video: model.Video{ID: videoID, Title: videoID}})
	}); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.EnqueueJob(&command.EnqueueJob{Stamp: h.at(), ID: jobID, Kind: model.KindTranscode, VideoID: videoID, MaxAttempts: maxAttempts})
	}); err != nil {
		h.t.Fatal(err)
	}
}

func TestJobLeaseLifecycle(t *testing.T) {
	h := newHarness(t)
	h.setup("v1", "j1", 2)

	j := h.claim("w1", time.Minute)
	if j == nil || j.ID != "j1" || j.Attempts != 1 || j.Worker != "w1" {
		t.Fatalf("first claim = %+v", j)
	}
	if v, _ := h.s.Video("v1"); v.Status != model.StatusProcessing {
		t.Fatalf("video status after claim = %s", v.Status)
	}
	if again := h.claim("w2", time.Minute); again != nil {
		t.Fatalf("a leased job was claimed twice: %+v", again)
	}

	// The lease expires: another worker takes the job; w1's renewal fails.
	h.now = h.now.Add(2 * time.Minute)
	j = h.claim("w2", time.Minute)
	if j == nil || j.Worker != "w2" || j.Attempts != 2 {
		t.Fatalf("claim after expiry = %+v", j)
	}
	_, err := h.do(func(tx *Tx) (any, error) {
		return tx.RenewLease(&command.RenewLease{Stamp: h.at(), JobID: "j1", Worker: "w1", LeaseUntil: h.now.Add(time.Minute)})
	})
	if !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale worker renewed: err = %v", err)
	}

	// Second expiry with attempts used: dead, and the video failed.
	h.now = h.now.Add(2 * time.Minute)
	if j := h.claim("w3", time.Minute); j != nil {
		t.Fatalf("an exhausted job was claimed: %+v", j)
	}
	got, _ := h.s.Job("j1")
	if got.State != model.JobDead {
		t.Fatalf("job state = %s, want dead", got.State)
	}
	if v, _ := h.s.Video("v1"); v.Status != model.StatusFailed || v.Error == "" {
		t.Fatalf("video = %s %q, want failed with a reason", v.Status, v.Error)
	}

	// An admin retry brings it back with fresh attempts.
	if _, err := h.do(func(tx *Tx) (any, error) { return tx.RetryJob(&command.RetryJob{Stamp: h.at(), JobID: "j1"}) }); err != nil {
		t.Fatal(err)
	}
	if j := h.claim("w3", time.Minute); j == nil || j.Attempts != 1 {
		t.Fatalf("claim after retry = %+v", j)
	}
}

func TestFailJobBacksOffThenBuries(t *testing.T) {
	h := newHarness(t)
	h.setup("v1", "j1", 2)
	h.claim("w1", time.Minute)
	retryAt := h.now.Add(30 * time.Second)
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.FailJob(&command.FailJob{Stamp: h.at(), JobID: "j1", Worker: "w1", Reason: "ffmpeg crashed", RetryAt: retryAt})
	}); err != nil {
		t.Fatal(err)
	}
	if j := h.claim("w1", time.Minute); j != nil {
		t.Fatalf("claimed before its back-off: %+v", j)
	}
	h.now = retryAt
	if j := h.claim("w1", time.Minute); j == nil || j.Attempts != 2 {
		t.Fatalf("claim after back-off = %+v", j)
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.FailJob(&command.FailJob{Stamp: h.at(), JobID: "j1", Worker: "w1", Reason: "ffmpeg crashed again"})
	}); err != nil {
		t.Fatal(err)
	}
	j, _ := h.s.Job("j1")
	v, _ := h.s.Video("v1")
	if j.State != model.JobDead || v.Status != model.StatusFailed {
		t.Fatalf("after the last attempt: job %s, video %s", j.State, v.Status)
	}
}

func TestPermanentFailureAndDelete(t *testing.T) {
	h := newHarness(t)
	h.setup("v1", "j1", 3)
	h.setup("v2", "j2", 3)
	h.claim("w1", time.Minute)
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.FailJob(&command.FailJob{Stamp: h.at(), JobID: "j1", Worker: "w1", Reason: "not a video file", Permanent: true})
	}); err != nil {
		t.Fatal(err)
	}
	if v, _ := h.s.Video("v1"); v.Status != model.StatusFailed || v.Error != "not a video file" {
		t.Fatalf("video after permanent failure = %s %q", v.Status, v.Error)
	}
	// The next job is still served.
	if j := h.claim("w1", time.Minute); j == nil || j.ID != "j2" {
		t.Fatalf("next claim = %+v", j)
	}
	if _, err := h.do(func(tx *Tx) (any, error) { return tx.DeleteVideo(&command.DeleteVideo{Stamp: h.at(), ID: "v2"}) }); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Job("j2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("job of a deleted video: %v", err)
	}
	if jobs, _ := h.s.JobsOf("v1"); len(jobs) != 1 {
		t.Fatalf("jobs of v1 = %d", len(jobs))
	}
}

func TestListVideosPages(t *testing.T) {
	h := newHarness(t)
	for i := range 5 {
		h.now = h.now.Add(time.Second)
		id := string(rune('a' + i))
		if _, err := h.do(func(tx *Tx) (any, error) {
			return tx.CreateVideo(&command.CreateVideo{Stamp: h.at(), Video: model.Video{ID: id, Title: id}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		vs, next, err := h.s.ListVideos(cursor, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			got = append(got, v.ID)
		}
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		cursor = next
	}
	if want := "edcba"; joinIDs(got) != want {
		t.Fatalf("pages = %v, want newest first %s", got, want)
	}
}

func joinIDs(ids []string) string {
	s := ""
	for _, id := range ids {
		s += id
	}
	return s
}
