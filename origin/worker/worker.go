// Package worker runs jobs from the replicated queue: it claims a job with a
// lease, keeps the lease alive while the job runs, reports progress at a
// throttled rate, and completes the job or gives it back with a back-off.
//
// The queue rules (who holds what, attempts, dead letters) live in the
// cluster's store; this package only drives them from one node.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

// Applier replicates commands; the pool needs nothing else of the cluster.
type Applier interface {
	Apply(ctx context.Context, c command.Command) (any, error)
}

// Processor does one job. progress takes 0-100. An error wrapped with
// Permanent ends the job at once; any other error is retried.
type Processor func(ctx context.Context, job *model.Job, progress func(percent float64)) error

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying (a hostile or broken input).
// Its message is shown to users as the reason.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Config tunes a Pool.
type Config struct {
	// Name identifies this pool's workers in leases ("node-1/w0", ...).
	Name string
	// Size is the number of jobs run at once.
	Size int
	// Kinds are the job kinds this pool takes.
	Kinds []model.JobKind
	// Lease is how long a claim lasts without renewal.
	Lease time.Duration
	// Poll is how often an idle worker looks for work when not woken.
	Poll time.Duration
	// ProgressEvery throttles progress writes to the store.
	ProgressEvery time.Duration
	// Backoff is the wait before retry number attempt (1-based).
	Backoff func(attempt int) time.Duration
	// OnResult, if set, hears how each run ended: "done", "retry",
	// "failed" (permanent or out of attempts is the store's call, so a
	// last retry counts as "retry"), "interrupted" or "lost".
	OnResult func(job *model.Job, result string, took time.Duration)
	Now      func() time.Time
	Logger   *slog.Logger
}

// DefaultConfig is one worker with 30-second leases.
func DefaultConfig(name string) Config {
	return Config{
		Name:          name,
		Size:          1,
		Kinds:         []model.JobKind{model.KindTranscode},
		Lease:         30 * time.Second,
		Poll:          2 * time.Second,
		ProgressEvery: time.Second,
		Backoff:       DefaultBackoff,
		Now:           time.Now,
	}
}

// DefaultBackoff waits 5 s, 20 s, 80 s… up to 10 minutes.
func DefaultBackoff(attempt int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < attempt && d < 10*time.Minute; i++ {
		d *= 4
	}
	return min(d, 10*time.Minute)
}

// Pool is a set of workers.
type Pool struct {
	cfg     Config
	cluster Applier
	proc    Processor
	log     *slog.Logger

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start starts cfg.Size workers.
func Start(cfg Config, cluster Applier, proc Processor) *Pool {
	if cfg.Size <= 0 {
		cfg.Size = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{cfg: cfg, cluster: cluster, proc: proc, log: cfg.Logger,
		wake: make(chan struct{}, cfg.Size), ctx: ctx, cancel: cancel}
	for i := range cfg.Size {
		p.wg.Add(1)
		go p.loop(fmt.Sprintf("%s/w%d", cfg.Name, i))
	}
	return p
}

// Wake tells idle workers there may be work. It never blocks.
func (p *Pool) Wake() {
	for range p.cfg.Size {
		select {
		case p.wake <- struct{}{}:
		default:
			return
		}
	}
}

// Stop interrupts running jobs, gives them back to the queue and waits for
// the workers to end.
func (p *Pool) Stop() {
	p.cancel()
	p.wg.Wait()
}

func (p *Pool) loop(name string) {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.Poll)
	defer t.Stop()
	for {
		for p.ctx.Err() == nil && p.runOne(name) {
		}
		select {
		case <-p.ctx.Done():
			return
		case <-p.wake:
		case <-t.C:
		}
	}
}

func (p *Pool) stamp() command.Stamp { return command.Stamp{At: p.cfg.Now().UTC()} }

// runOne claims and runs one job. It reports whether it found one.
func (p *Pool) runOne(name string) bool {
	now := p.cfg.Now().UTC()
	v, err := p.cluster.Apply(p.ctx, &command.ClaimJob{Stamp: command.Stamp{At: now},
		Worker: name, Kinds: p.cfg.Kinds, LeaseUntil: now.Add(p.cfg.Lease)})
	if err != nil {
		if p.ctx.Err() == nil {
			p.log.Warn("claim job", "worker", name, "error", err)
		}
		return false
	}
	job, _ := v.(*model.Job)
	if job == nil {
		return false
	}
	log := p.log.With("worker", name, "job", job.ID, "video_id", job.VideoID, "attempt", job.Attempts)
	log.Info("job claimed")
	start := time.Now()

	jobCtx, cancelJob := context.WithCancelCause(p.ctx)
	defer cancelJob(nil)
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		p.renew(jobCtx, cancelJob, job, name, log)
	}()
	progress := p.progressFunc(jobCtx, job.VideoID)
	err = p.proc(jobCtx, job, progress)
	lost := context.Cause(jobCtx)
	cancelJob(nil)
	<-renewDone

	// Reports go out even when the pool is stopping: the job must be handed
	// back or finished, not left to time out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.ctx), 10*time.Second)
	defer cancel()
	result := "done"
	defer func() {
		if p.cfg.OnResult != nil {
			p.cfg.OnResult(job, result, time.Since(start))
		}
	}()
	switch {
	case errors.Is(lost, store.ErrLeaseLost):
		result = "lost"
		log.Warn("lease lost; another worker has the job", "error", lost)
	case err == nil:
		if _, err := p.cluster.Apply(ctx, &command.CompleteJob{Stamp: p.stamp(), JobID: job.ID, Worker: name}); err != nil {
			log.Error("complete job", "error", err)
		} else {
			log.Info("job done", "seconds", time.Since(start).Seconds())
		}
	case p.ctx.Err() != nil:
		result = "interrupted"
		p.report(ctx, log, &command.FailJob{Stamp: p.stamp(), JobID: job.ID, Worker: name,
			Reason: "interrupted: the worker stopped", Interrupted: true})
	case IsPermanent(err):
		result = "failed"
		log.Info("job refused its input", "reason", err)
		p.report(ctx, log, &command.FailJob{Stamp: p.stamp(), JobID: job.ID, Worker: name,
			Reason: err.Error(), Permanent: true})
	default:
		result = "retry"
		log.Warn("job failed; it will be retried", "error", err)
		p.report(ctx, log, &command.FailJob{Stamp: p.stamp(), JobID: job.ID, Worker: name,
			Reason: err.Error(), RetryAt: p.cfg.Now().UTC().Add(p.cfg.Backoff(job.Attempts))})
	}
	return true
}

func (p *Pool) report(ctx context.Context, log *slog.Logger, c *command.FailJob) {
	if _, err := p.cluster.Apply(ctx, c); err != nil {
		log.Error("report job failure; the lease will expire instead", "error", err)
	}
}

// renew keeps the lease alive until ctx ends; a lost lease cancels the job.
func (p *Pool) renew(ctx context.Context, cancelJob context.CancelCauseFunc, job *model.Job, name string, log *slog.Logger) {
	t := time.NewTicker(p.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := p.cfg.Now().UTC()
		_, err := p.cluster.Apply(ctx, &command.RenewLease{Stamp: command.Stamp{At: now},
			JobID: job.ID, Worker: name, LeaseUntil: now.Add(p.cfg.Lease)})
		if errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrNotFound) {
			cancelJob(fmt.Errorf("%w: %v", store.ErrLeaseLost, err))
			return
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("renew lease", "error", err)
		}
	}
}

// progressFunc writes progress at most every ProgressEvery, and never the
// same whole percent twice.
func (p *Pool) progressFunc(ctx context.Context, videoID string) func(float64) {
	var mu sync.Mutex
	var last time.Time
	lastPct := -1.0
	return func(pct float64) {
		mu.Lock()
		now := p.cfg.Now()
		if now.Sub(last) < p.cfg.ProgressEvery || int(pct) == int(lastPct) {
			mu.Unlock()
			return
		}
		last, lastPct = now, pct
		mu.Unlock()
		if _, err := p.cluster.Apply(ctx, &command.UpdateProgress{Stamp: command.Stamp{At: now.UTC()}, ID: videoID, Progress: pct}); err != nil && ctx.Err() == nil {
			p.log.Debug("progress", "video_id", videoID, "error", err)
		}
	}
}

// Lister reads jobs from the local store.
type Lister interface {
	Jobs(keep func(*model.Job) bool) ([]*model.Job, error)
}

// ReleaseOrphans gives back jobs still leased to this pool's workers from
// before a restart: nothing of this pool runs yet, so those leases belong to
// a process that died. Waiting for them to expire would only delay the
// videos. The attempt is not refunded: a file that kills its worker must
// still run out of attempts.
func ReleaseOrphans(ctx context.Context, cfg Config, jobs Lister, cluster Applier) (int, error) {
	prefix := cfg.Name + "/"
	orphans, err := jobs.Jobs(func(j *model.Job) bool {
		return j.State == model.JobRunning && strings.HasPrefix(j.Worker, prefix)
	})
	if err != nil {
		return 0, fmt.Errorf("list orphaned jobs: %w", err)
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	released := 0
	for _, j := range orphans {
		_, err := cluster.Apply(ctx, &command.FailJob{Stamp: command.Stamp{At: now().UTC()}, JobID: j.ID, Worker: j.Worker,
			Reason: "the node restarted while processing", RetryAt: now().UTC()})
		if err != nil && !errors.Is(err, store.ErrLeaseLost) && !errors.Is(err, store.ErrNotFound) {
			return released, fmt.Errorf("release job %s: %w", j.ID, err)
		}
		if err == nil {
			released++
		}
	}
	return released, nil
}
