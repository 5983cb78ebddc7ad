// Package origin is the origin role of a Strata node: it takes uploads,
// runs the transcoding workers and keeps the blob stores. Its HTTP handlers
// (origin/api, origin/media) reach it through the strata app.
package origin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"gocloud.dev/blob"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/fsm"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/blobstore"
	"github.com/stratavideo/strata/origin/process"
	"github.com/stratavideo/strata/origin/replica"
	"github.com/stratavideo/strata/origin/transcode"
	"github.com/stratavideo/strata/origin/upload"
	"github.com/stratavideo/strata/origin/worker"
)

func init() {
	caddy.RegisterModule(new(Origin))
}

// ErrNotStarted is returned while the role has not started (or has stopped).
var ErrNotStarted = errors.New("the origin role is not running")

// Origin is the strata.roles.origin module.
type Origin struct {
	// Workers is the number of transcodes run at once. Default 1: one
	// ffmpeg already uses every core. 0 makes an origin that takes uploads
	// and serves media but leaves transcoding to the others.
	Workers *int `json:"workers,omitempty"`
	// MaxUploadBytes is the largest upload accepted. Default 8 GiB.
	MaxUploadBytes int64 `json:"max_upload_bytes,omitempty"`
	// RawStore and MediaStore are gocloud.dev/blob bucket URLs. Default:
	// folders under the node's data folder.
	RawStore   string `json:"raw_store,omitempty"`
	MediaStore string `json:"media_store,omitempty"`
	// FFmpeg and FFprobe are the binaries to run. Default: found on PATH.
	FFmpeg  string `json:"ffmpeg,omitempty"`
	FFprobe string `json:"ffprobe,omitempty"`
	// Preset is the x264 preset of the ladder. Default: the transcoder's.
	Preset string `json:"preset,omitempty"`
	// SegmentSeconds is the CMAF segment length. Default: the transcoder's.
	SegmentSeconds int `json:"segment_seconds,omitempty"`
	// MaxAttempts bounds retries of a failing job. Default 3.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Lease is how long a claimed job is held without renewal. Default 30s.
	Lease caddy.Duration `json:"lease,omitempty"`
	// Replicas is how many origins keep a copy of each video's blobs when
	// the stores are local folders (default 2, once there are 2 origins).
	// Object storage is shared by every origin and needs no copies.
	Replicas int `json:"replicas,omitempty"`
	// ChunkSeconds cuts sources of ChunkMinSeconds or longer into pieces
	// this long that the workers of every origin encode in parallel, when
	// the cluster has two origins or more. Defaults 60 and 300; a
	// negative ChunkSeconds turns chunking off.
	ChunkSeconds    float64 `json:"chunk_seconds,omitempty"`
	ChunkMinSeconds float64 `json:"chunk_min_seconds,omitempty"`

	// The ladder policy (ladder.go): each field left zero keeps the
	// transcoder's default (transcode.DefaultConfig).
	Ladder

	log     *slog.Logger
	metrics *metrics
	running atomic.Pointer[running]
}

// running is what Start made and Stop releases.
type running struct {
	node     *cluster.Node
	raw      *blob.Bucket
	media    *blob.Bucket
	uploads  *upload.Handler
	pool     *worker.Pool
	replicas *replica.Set
	unlisten func()
}

// CaddyModule returns the Caddy module information.
func (*Origin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "strata.roles.origin",
		New: func() caddy.Module { return new(Origin) },
	}
}

// Provision sets defaults.
func (o *Origin) Provision(ctx caddy.Context) error {
	o.log = cluster.NewLogger(ctx)
	if o.Workers == nil {
		one := 1
		o.Workers = &one
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = upload.DefaultMaxSize
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Replicas <= 0 {
		o.Replicas = 2
	}
	if o.Lease <= 0 {
		o.Lease = caddy.Duration(30 * time.Second)
	}
	m, err := newMetrics(ctx.GetMetricsRegistry(), o)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	o.metrics = m
	return nil
}

// Validate checks the configuration.
func (o *Origin) Validate() error {
	if time.Duration(o.Lease) < 3*time.Second {
		return fmt.Errorf("lease %s is too short to renew", time.Duration(o.Lease))
	}
	if o.SegmentSeconds < 0 || o.SegmentSeconds > 20 {
		return fmt.Errorf("segment_seconds %d: want 1 to 20", o.SegmentSeconds)
	}
	if err := o.Ladder.validate(); err != nil {
		return err
	}
	// The ranges themselves are the transcoder's: one place says what an
	// encode accepts, for the Caddyfile, JSON configs and tests alike.
	if err := o.TranscodeConfig().Validate(); err != nil {
		return err
	}
	return nil
}

// TranscodeConfig is the transcoder configuration this role runs with.
func (o *Origin) TranscodeConfig() transcode.Config {
	tc := transcode.DefaultConfig()
	if o.FFmpeg != "" {
		tc.FFmpeg = o.FFmpeg
	}
	if o.FFprobe != "" {
		tc.FFprobe = o.FFprobe
	}
	if o.Preset != "" {
		tc.Preset = o.Preset
	}
	if o.SegmentSeconds > 0 {
		tc.SegmentSeconds = o.SegmentSeconds
	}
	o.Ladder.apply(&tc)
	return tc
}

// chunking is the Processor's cutting policy.
func (o *Origin) chunking(n *cluster.Node) process.Chunking {
	c := process.Chunking{PieceSeconds: o.ChunkSeconds, MinSeconds: o.ChunkMinSeconds, MaxAttempts: o.MaxAttempts}
	if c.PieceSeconds == 0 {
		c.PieceSeconds = 60
	}
	if c.PieceSeconds < 0 {
		c.PieceSeconds = 0
	}
	if c.MinSeconds == 0 {
		c.MinSeconds = 300
	}
	c.Origins = func() int {
		ms, err := n.Members()
		if err != nil {
			return 1
		}
		count := 0
		for _, m := range ms {
			if m.HasRole("origin") {
				count++
			}
		}
		return count
	}
	return c
}

// dropWork removes this origin's chunked-transcoding work files of a
// video that no longer needs them, off the apply path.
func (r *running) dropWork(id string, log *slog.Logger) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := blobstore.DeletePrefix(ctx, r.raw, process.WorkPrefix(id)); err != nil {
			log.Warn("drop work files", "video_id", id, "error", err)
		}
	}()
}

// Start opens the stores, the upload handler and the worker pool.
func (o *Origin) Start(n *cluster.Node) (err error) {
	ctx := context.Background()
	r := &running{node: n}
	defer func() {
		if err != nil {
			r.close(o.log)
		}
	}()
	dataDir := n.DataDir()
	if r.raw, err = openStore(ctx, o.RawStore, filepath.Join(dataDir, "blobs", "raw")); err != nil {
		return err
	}
	if r.media, err = openStore(ctx, o.MediaStore, filepath.Join(dataDir, "blobs", "media")); err != nil {
		return err
	}
	r.replicas = replica.New(replica.Config{
		Buckets:  map[string]*blob.Bucket{model.KindRaw: r.raw, model.KindMedia: r.media},
		Shared:   isShared(o.RawStore) && isShared(o.MediaStore),
		Replicas: o.Replicas,
		Logger:   o.log.With("part", "replica"),
	}, n)
	r.replicas.Start()
	r.uploads, err = upload.New(upload.Config{
		Self:        n.ID(),
		Dir:         filepath.Join(dataDir, "uploads"),
		MaxSize:     o.MaxUploadBytes,
		MaxAttempts: o.MaxAttempts,
		Raw:         r.raw,
		Cluster:     n,
		OnFinish:    o.metrics.uploadFinished,
		Logger:      o.log.With("part", "upload"),
	})
	if err != nil {
		return err
	}
	scratch := filepath.Join(dataDir, "work")
	if err := os.RemoveAll(scratch); err != nil { // leftovers of a killed process
		return fmt.Errorf("clear scratch: %w", err)
	}
	if err := os.MkdirAll(scratch, 0o750); err != nil {
		return fmt.Errorf("scratch: %w", err)
	}
	proc := &process.Processor{
		Self: n.ID(), Sources: r.replicas, Media: r.media, Cluster: n, Transcode: o.TranscodeConfig(),
		Scratch: scratch, Now: time.Now, Logger: o.log.With("part", "process"),
		Work: r.raw, Peers: r.replicas, Chunking: o.chunking(n),
	}
	wc := worker.DefaultConfig(n.ID())
	wc.Size = *o.Workers
	wc.Kinds = []model.JobKind{model.KindTranscode, model.KindChunk, model.KindJoin}
	wc.Lease = time.Duration(o.Lease)
	wc.Logger = o.log.With("part", "worker")
	wc.OnResult = o.metrics.jobResult
	if released, err := worker.ReleaseOrphans(ctx, wc, n, n); err != nil {
		o.log.Warn("releasing jobs left by a previous run", "error", err)
	} else if released > 0 {
		o.log.Info("released jobs left by a previous run", "jobs", released)
	}
	if wc.Size > 0 {
		r.pool = worker.Start(wc, n, proc.Run)
	}
	r.unlisten = n.Listen(func(e fsm.Event) {
		switch c := e.Command.(type) {
		case *command.EnqueueJob, *command.RetryJob, *command.FailJob, *command.EnqueueChunks, *command.CompleteJob:
			// A completed chunk may have queued the join.
			if r.pool != nil {
				r.pool.Wake()
			}
		case *command.VideoReady:
			r.dropWork(c.ID, o.log)
		case *command.DeleteVideo:
			r.dropWork(c.ID, o.log)
		}
	})
	o.running.Store(r)
	return nil
}

// isShared reports whether a store URL is object storage that every origin
// reaches (anything but a local folder).
func isShared(url string) bool {
	return url != "" && !strings.HasPrefix(url, "file://")
}

func openStore(ctx context.Context, url, defaultDir string) (*blob.Bucket, error) {
	if url == "" {
		var err error
		if url, err = blobstore.FolderURL(defaultDir); err != nil {
			return nil, err
		}
	}
	return blobstore.Open(ctx, url)
}

// Stop stops the workers (their jobs go back to the queue) and closes the
// stores.
func (o *Origin) Stop() error {
	r := o.running.Swap(nil)
	if r == nil {
		return nil
	}
	return r.close(o.log)
}

func (r *running) close(log *slog.Logger) error {
	if r.unlisten != nil {
		r.unlisten()
	}
	if r.pool != nil {
		r.pool.Stop()
	}
	if r.replicas != nil {
		r.replicas.Stop()
	}
	if r.uploads != nil {
		r.uploads.Close()
	}
	var errs []error
	for _, b := range []*blob.Bucket{r.raw, r.media} {
		if b != nil {
			errs = append(errs, b.Close())
		}
	}
	return errors.Join(errs...)
}

// Ready reports whether the role is running.
func (o *Origin) Ready() error {
	if o.running.Load() == nil {
		return ErrNotStarted
	}
	return nil
}

// Parts are the running role's pieces that handlers use.
type Parts struct {
	Node     *cluster.Node
	Raw      *blob.Bucket
	Media    *blob.Bucket
	Uploads  *upload.Handler
	Replicas *replica.Set
}

// Parts returns the running role's pieces, or ErrNotStarted.
func (o *Origin) Parts() (Parts, error) {
	r := o.running.Load()
	if r == nil {
		return Parts{}, ErrNotStarted
	}
	return Parts{Node: r.node, Raw: r.raw, Media: r.media, Uploads: r.uploads, Replicas: r.replicas}, nil
}

// FromApp finds the origin role of the config being provisioned.
func FromApp(ctx caddy.Context) (*Origin, error) {
	app, err := cluster.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	o, ok := app.Role("origin").(*Origin)
	if !ok {
		return nil, errors.New("this node has no origin role: add `origin` to the strata global option")
	}
	return o, nil
}

// Interface guards
var (
	_ cluster.Role         = (*Origin)(nil)
	_ cluster.ReadyChecker = (*Origin)(nil)
	_ caddy.Provisioner    = (*Origin)(nil)
	_ caddy.Validator      = (*Origin)(nil)
)
