// Package upload takes resumable uploads with the tus 1.0.0 protocol.
//
// The protocol is tusd's (github.com/tus/tusd/v2); this package adds what
// Strata needs around it: the size limit answered up front, the checksum and
// expiration extensions tusd lacks, short video IDs, metadata rules, and the
// hand-over of a finished upload to the raw blob store and the cluster.
//
// In-progress uploads are staged in a local folder with tusd's filestore, so a
// client resumes on the origin it started on. A finished upload is copied to
// the raw store before the last PATCH is answered, and the video exists in the
// cluster by the time the client hears that its upload is complete.
package upload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	"gocloud.dev/blob"
	expslog "golang.org/x/exp/slog"

	"github.com/stratavideo/strata/cluster/command"
)

// Applier is the part of the cluster an upload needs: replicating commands.
type Applier interface {
	Apply(ctx context.Context, c command.Command) (any, error)
}

// Config sets up a Handler.
type Config struct {
	// Self is this origin's node ID, the first holder of every upload.
	Self string
	// Dir stages uploads in progress.
	Dir string
	// BasePath is the URL path the handler is mounted at, with a trailing slash.
	BasePath string
	// MaxSize is the largest upload accepted, in bytes.
	MaxSize int64
	// Expiry is how long an unfinished upload is kept after its last write.
	Expiry time.Duration
	// FinishedExpiry is how long a finished upload stays staged, so that a
	// client that lost the last response can still see it is complete.
	FinishedExpiry time.Duration
	// SweepEvery is how often expired uploads are removed.
	SweepEvery time.Duration
	// MaxAttempts of the transcode job made from an upload.
	MaxAttempts int
	// Raw is where finished uploads go.
	Raw *blob.Bucket
	// Cluster receives CreateVideo and EnqueueJob.
	Cluster Applier
	// OnFinish, if set, hears of every finished upload.
	OnFinish func(bytes int64)
	// Now is the clock (injected for tests).
	Now    func() time.Time
	Logger *slog.Logger
}

// DefaultMaxSize is 8 GiB.
const DefaultMaxSize int64 = 8 << 30

// Handler serves the tus protocol.
type Handler struct {
	cfg   Config
	tus   *tusd.Handler
	store filestore.FileStore
	log   *slog.Logger

	stop chan struct{}
	done sync.WaitGroup
}

// New makes a Handler and starts its sweeper of expired uploads.
func New(cfg Config) (*Handler, error) {
	if cfg.Dir == "" || cfg.Raw == nil || cfg.Cluster == nil {
		return nil, errors.New("upload: Dir, Raw and Cluster are required")
	}
	if cfg.BasePath == "" {
		cfg.BasePath = "/api/v1/uploads/"
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = 24 * time.Hour
	}
	if cfg.FinishedExpiry <= 0 {
		cfg.FinishedExpiry = time.Hour
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("upload dir: %w", err)
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	h.store = filestore.New(cfg.Dir)
	composer := tusd.NewStoreComposer()
	cs := checksumStore{inner: h.store}
	composer.UseCore(cs)
	composer.UseTerminater(cs)
	composer.UseLengthDeferrer(cs)
	// The memory locker lets a resumed request ask a stale one, still
	// waiting on a dead connection, to let go of the upload at once.
	memorylocker.New().UseIn(composer)

	tus, err := tusd.NewHandler(tusd.Config{
		StoreComposer:             composer,
		BasePath:                  cfg.BasePath,
		MaxSize:                   cfg.MaxSize,
		DisableDownload:           true,
		DisableConcatenation:      true,
		PreUploadCreateCallback:   h.preCreate,
		PreFinishResponseCallback: h.preFinish,
		NetworkTimeout:            60 * time.Second,
		Logger:                    tusdLogger(cfg.Logger),
		Cors:                      &tusd.CorsConfig{Disable: true},
	})
	if err != nil {
		return nil, fmt.Errorf("tus handler: %w", err)
	}
	h.tus = tus
	h.done.Add(1)
	go h.sweepLoop()
	return h, nil
}

// Close stops the sweeper.
func (h *Handler) Close() {
	close(h.stop)
	h.done.Wait()
}

// ServeHTTP checks what tusd does not, then hands the request to tusd.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The size limit is answered before a byte of the body is read, with
	// the JSON error every other endpoint gives.
	if r.Method == http.MethodPost {
		if n, err := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64); err == nil && n > h.cfg.MaxSize {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "too_large",
				fmt.Sprintf("the file is %s; the largest upload this server takes is %s", humanBytes(n), humanBytes(h.cfg.MaxSize)))
			return
		}
	}
	if sum := r.Header.Get("Upload-Checksum"); sum != "" && r.Method == http.MethodPatch {
		want, err := parseChecksumHeader(sum)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, "bad_checksum", err.Error())
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), checksumKey{}, want))
	}
	// tusd routes on the path below its base path.
	ew := &extensionWriter{ResponseWriter: w, req: r, expires: h.cfg.Now().Add(h.cfg.Expiry)}
	http.StripPrefix(strings.TrimSuffix(h.cfg.BasePath, "/"), h.tus).ServeHTTP(ew, r)
	ew.finish()
}

// extensionWriter adds the headers of the extensions this package
// implements on top of tusd (checksum and expiration), and turns tusd's
// plain-text errors ("ERR_UPLOAD_INTERRUPTED: upload has been …") into the
// JSON errors every other endpoint answers with.
type extensionWriter struct {
	http.ResponseWriter
	req         *http.Request
	expires     time.Time
	wroteHeader bool
	// errBody collects a plain-text error body to rewrite; nil otherwise.
	errBody *strings.Builder
}

func (w *extensionWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		hdr := w.Header()
		if code >= 400 && strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") && w.req.Method != http.MethodHead {
			w.errBody = &strings.Builder{}
			hdr.Set("Content-Type", "application/json")
			hdr.Del("Content-Length")
		}
		if ext := hdr.Get("Tus-Extension"); ext != "" {
			hdr.Set("Tus-Extension", ext+",checksum,expiration")
			hdr.Set("Tus-Checksum-Algorithm", strings.Join(checksumAlgorithms, ","))
		}
		if (w.req.Method == http.MethodPost || w.req.Method == http.MethodPatch) && code < 300 {
			hdr.Set("Upload-Expires", w.expires.UTC().Format(http.TimeFormat))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *extensionWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.errBody != nil {
		return w.errBody.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// finish writes a collected plain-text error as JSON: tusd's "ERR_X: text"
// becomes code "x" and message "text".
func (w *extensionWriter) finish() {
	if w.errBody == nil {
		return
	}
	text := strings.TrimSpace(w.errBody.String())
	code, msg, found := strings.Cut(text, ": ")
	if !found || !strings.HasPrefix(code, "ERR_") {
		code, msg = "ERR_UPLOAD", text
	}
	code = strings.ToLower(strings.TrimPrefix(code, "ERR_"))
	_, _ = w.ResponseWriter.Write(errorBody(code, msg))
}

// Unwrap lets tusd's http.ResponseController reach the connection to set
// read deadlines.
func (w *extensionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// tusdLogger passes tusd's warnings and errors to our logger and drops its
// per-request info lines. tusd logs through golang.org/x/exp/slog.
func tusdLogger(l *slog.Logger) *expslog.Logger {
	return expslog.New(expslog.NewTextHandler(lineWriter{l.With("part", "tusd")}, &expslog.HandlerOptions{Level: expslog.LevelWarn}))
}

type lineWriter struct{ l *slog.Logger }

func (w lineWriter) Write(p []byte) (int, error) {
	w.l.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
