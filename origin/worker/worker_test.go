package worker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

func openNode(t *testing.T) *cluster.Node {
	t.Helper()
	cfg := cluster.DefaultNodeConfig(t.TempDir())
	cfg.NoSync = true
	n, err := cluster.OpenNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

func enqueue(t *testing.T, n *cluster.Node, id string) {
	t.Helper()
	at := command.Stamp{At: time.Now().UTC()}
	if _, err := n.Apply(context.Background(), &command.CreateVideo{Stamp: at, Video: model.Video{ID: id, Title: id}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Apply(context.Background(), &command.EnqueueJob{Stamp: at, ID: id + "-j", Kind: model.KindTranscode, VideoID: id, MaxAttempts: 3}); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
}

func jobState(n *cluster.Node, videoID string) (model.JobState, int) {
	jobs, _ := n.JobsOf(videoID)
	if len(jobs) == 0 {
		return "", 0
	}
	return jobs[0].State, jobs[0].Attempts
}

func testConfig() Config {
	c := DefaultConfig("test")
	c.Poll = 20 * time.Millisecond
	c.Lease = 3 * time.Second
	c.ProgressEvery = 0
	c.Backoff = func(int) time.Duration { return 0 }
	return c
}

func TestPoolCompletesRetriesAndBuries(t *testing.T) {
	n := openNode(t)
	var flaky atomic.Int32
	proc := func(ctx context.Context, job *model.Job, progress func(float64)) error {
		progress(50)
		switch job.VideoID {
		case "bad":
			return Permanent(errors.New("not a video file"))
		case "flaky":
			if flaky.Add(1) < 2 {
				return errors.New("ffmpeg crashed")
			}
		case "broken":
			return errors.New("disk on fire")
		}
		return nil
	}
	pool := Start(testConfig(), n, proc)
	defer pool.Stop()
	for _, id := range []string{"bad", "flaky", "broken", "good"} {
		enqueue(t, n, id)
	}
	pool.Wake()

	want := map[string]struct {
		state    model.JobState
		attempts int
	}{
		"good":   {model.JobDone, 1},
		"flaky":  {model.JobDone, 2},
		"bad":    {model.JobDead, 1},
		"broken": {model.JobDead, 3},
	}
	for id, w := range want {
		waitFor(t, id+" to finish", func() bool {
			s, _ := jobState(n, id)
			return s == model.JobDone || s == model.JobDead
		})
		s, attempts := jobState(n, id)
		if s != w.state || attempts != w.attempts {
			t.Errorf("%s: %s after %d attempts, want %s after %d", id, s, attempts, w.state, w.attempts)
		}
	}
	if v, _ := n.Video("bad"); v.Status != model.StatusFailed || v.Error != "not a video file" {
		t.Errorf("bad video: %s %q", v.Status, v.Error)
	}
	if v, _ := n.Video("broken"); v.Status != model.StatusFailed {
		t.Errorf("broken video: %s", v.Status)
	}
}

// A job whose worker stops is given back at once, without using an attempt,
// and another pool finishes it.
func TestStopGivesJobBack(t *testing.T) {
	n := openNode(t)
	started := make(chan struct{})
	blocking := func(ctx context.Context, job *model.Job, progress func(float64)) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	p1 := Start(testConfig(), n, blocking)
	enqueue(t, n, "v")
	p1.Wake()
	<-started
	p1.Stop()
	if s, attempts := jobState(n, "v"); s != model.JobQueued || attempts != 0 {
		t.Fatalf("after stop: %s with %d attempts, want queued with 0", s, attempts)
	}
	p2 := Start(testConfig(), n, func(context.Context, *model.Job, func(float64)) error { return nil })
	defer p2.Stop()
	p2.Wake()
	waitFor(t, "the second pool to finish the job", func() bool { s, _ := jobState(n, "v"); return s == model.JobDone })
}

// A worker that loses its lease (another worker took the job after it
// expired) is told to stop through its context.
func TestLostLeaseCancelsJob(t *testing.T) {
	n := openNode(t)
	cancelled := make(chan error, 1)
	cfg := testConfig()
	proc := func(ctx context.Context, job *model.Job, progress func(float64)) error {
		// Steal the job: claim it as another worker after the lease expires.
		later := time.Now().UTC().Add(time.Hour)
		if _, err := n.Apply(context.Background(), &command.ClaimJob{Stamp: command.Stamp{At: later}, Worker: "thief", LeaseUntil: later.Add(time.Hour)}); err != nil {
			return err
		}
		<-ctx.Done()
		cancelled <- context.Cause(ctx)
		return ctx.Err()
	}
	p := Start(cfg, n, proc)
	defer p.Stop()
	enqueue(t, n, "v")
	p.Wake()
	select {
	case err := <-cancelled:
		if err == nil {
			t.Fatal("job context ended without a cause")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the job was not cancelled after its lease was lost")
	}
}

// Jobs leased to this pool's names before a restart go back to the queue at
// once, spending the attempt.
func TestReleaseOrphans(t *testing.T) {
	n := openNode(t)
	enqueue(t, n, "v")
	now := time.Now().UTC()
	if _, err := n.Apply(context.Background(), &command.ClaimJob{Stamp: command.Stamp{At: now}, Worker: "test/w0", LeaseUntil: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	released, err := ReleaseOrphans(context.Background(), testConfig(), n, n)
	if err != nil || released != 1 {
		t.Fatalf("released %d, %v", released, err)
	}
	if s, attempts := jobState(n, "v"); s != model.JobQueued || attempts != 1 {
		t.Fatalf("after release: %s with %d attempts, want queued with 1", s, attempts)
	}
	other := testConfig()
	other.Name = "other"
	enqueue(t, n, "w")
	if _, err := n.Apply(context.Background(), &command.ClaimJob{Stamp: command.Stamp{At: now}, Worker: "test/w0", LeaseUntil: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if released, _ := ReleaseOrphans(context.Background(), other, n, n); released != 0 {
		t.Fatalf("another pool released %d jobs it does not own", released)
	}
}
