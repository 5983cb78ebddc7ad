// Package logs keeps a process's recent log entries in memory, for the
// admin dashboard's cluster-wide log view (every node serves its own over
// the cluster port; see cluster.Node.Logs), and hands them to an optional
// exporter (OTLP, see otlp.go).
//
// Strata's modules build their loggers on Tee(ctx.Logger().Core()), so
// what they log still goes wherever Caddy's logging config sends it, and
// also here. Caddy's own logs (the access log among them) do not pass
// through a Strata module and are not kept.
package logs

import (
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap/zapcore"
)

// DefaultSize is how many entries a node keeps.
const DefaultSize = 2000

// MaxLimit bounds the entries one query returns.
const MaxLimit = 2000

// Entry is one log entry.
type Entry struct {
	Time    time.Time      `json:"time"`
	Level   string         `json:"level"`
	Logger  string         `json:"logger,omitempty"`
	Message string         `json:"msg"`
	Fields  map[string]any `json:"fields,omitempty"`
	// Node is the node that logged it, filled in by the node serving it.
	Node string `json:"node,omitempty"`
	// Seq orders a node's entries (times may tie).
	Seq uint64 `json:"seq"`
}

// Ring holds the last entries added, oldest first.
type Ring struct {
	mu   sync.Mutex
	buf  []Entry
	next int // where the next entry goes
	full bool
	seq  uint64
}

// NewRing keeps the last size entries.
func NewRing(size int) *Ring {
	if size <= 0 {
		size = DefaultSize
	}
	return &Ring{buf: make([]Entry, size)}
}

// Default is the process's ring: Caddy provisions each module with a
// logger of its own, and a reload makes new ones, so the entries must
// outlive any one module (as the node does; a process runs one node).
var Default = NewRing(DefaultSize)

// Add keeps e, dropping the oldest entry when the ring is full.
func (r *Ring) Add(e Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	e.Seq = r.seq
	r.buf[r.next] = e
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

// Filter picks entries.
type Filter struct {
	// Level is the lowest level wanted (Info by default: the zero value).
	Level zapcore.Level
	// Query is matched, case-insensitively, against the message, the
	// logger and the fields' values.
	Query string
	// Limit is how many of the newest matching entries to return.
	Limit int
}

// ParseFilter reads level=, q= and limit= (default and maximum MaxLimit).
func ParseFilter(q url.Values) (Filter, error) {
	f := Filter{Query: strings.TrimSpace(q.Get("q")), Limit: 200}
	if s := q.Get("level"); s != "" {
		lvl, err := zapcore.ParseLevel(s)
		if err != nil {
			return f, &filterError{"level is debug, info, warn or error"}
		}
		f.Level = lvl
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return f, &filterError{"limit is a number from 1 to " + strconv.Itoa(MaxLimit)}
		}
		f.Limit = n
	}
	if len(f.Query) > 200 {
		return f, &filterError{"q is at most 200 characters"}
	}
	return f, nil
}

// Values is f as query parameters, for asking a peer.
func (f Filter) Values() url.Values {
	v := url.Values{"level": {f.Level.String()}, "limit": {strconv.Itoa(f.Limit)}}
	if f.Query != "" {
		v.Set("q", f.Query)
	}
	return v
}

type filterError struct{ msg string }

func (e *filterError) Error() string { return e.msg }

// Entries are the newest f.Limit entries matching f, oldest first.
func (r *Ring) Entries(f Filter) []Entry {
	if f.Limit <= 0 {
		f.Limit = MaxLimit
	}
	q := strings.ToLower(f.Query)
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Entry
	n := len(r.buf)
	count := r.next
	if r.full {
		count = n
	}
	// Newest first, then reversed: the limit keeps the newest.
	for i := 0; i < count && len(out) < f.Limit; i++ {
		e := r.buf[(r.next-1-i+n)%n]
		if lvl, err := zapcore.ParseLevel(e.Level); err == nil && lvl < f.Level {
			continue
		}
		if q != "" && !e.matches(q) {
			continue
		}
		out = append(out, e)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func (e *Entry) matches(q string) bool {
	if strings.Contains(strings.ToLower(e.Message), q) || strings.Contains(strings.ToLower(e.Logger), q) {
		return true
	}
	for k, v := range e.Fields {
		if strings.Contains(strings.ToLower(k), q) || containsValue(v, q) {
			return true
		}
	}
	return false
}

func containsValue(v any, q string) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(strings.ToLower(v), q)
	case map[string]any:
		for k, x := range v {
			if strings.Contains(strings.ToLower(k), q) || containsValue(x, q) {
				return true
			}
		}
		return false
	case []any:
		for _, x := range v {
			if containsValue(x, q) {
				return true
			}
		}
		return false
	default:
		return false
	}
}

// exporter is the optional second destination (OTLP), swapped by the
// strata app when its config changes.
var exporter atomic.Pointer[Exporter]

// Exporter is a destination every entry the ring keeps is also written to.
type Exporter struct {
	core zapcore.Core
}

// NewExporter wraps core as an exporter.
func NewExporter(core zapcore.Core) *Exporter { return &Exporter{core: core} }

// SetExporter makes e receive every entry the ring does, in place of the
// one before (nil: none).
func SetExporter(e *Exporter) { exporter.Store(e) }

// ClearExporter removes e, unless another has taken its place already (a
// reload's new config sets its own before the old one is cleaned up).
func ClearExporter(e *Exporter) { exporter.CompareAndSwap(e, nil) }

// Tee is core with the process's ring (and exporter) added.
func Tee(core zapcore.Core) zapcore.Core {
	return zapcore.NewTee(core, &sinkCore{ring: Default})
}

// NewCore is a core that keeps entries of Info and above in ring only.
func NewCore(ring *Ring) zapcore.Core { return &sinkCore{ring: ring, noExport: true} }

// sinkCore writes Info and above to the ring and the exporter.
type sinkCore struct {
	ring     *Ring
	with     []zapcore.Field
	noExport bool
}

func (c *sinkCore) Enabled(l zapcore.Level) bool { return l >= zapcore.InfoLevel }

func (c *sinkCore) With(fields []zapcore.Field) zapcore.Core {
	return &sinkCore{ring: c.ring, with: append(c.with[:len(c.with):len(c.with)], fields...), noExport: c.noExport}
}

func (c *sinkCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *sinkCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	all := fields
	if len(c.with) > 0 {
		all = append(c.with[:len(c.with):len(c.with)], fields...)
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range all {
		f.AddTo(enc)
	}
	en := Entry{Time: e.Time, Level: e.Level.String(), Logger: e.LoggerName, Message: e.Message}
	if len(enc.Fields) > 0 {
		en.Fields = enc.Fields
	}
	c.ring.Add(en)
	if c.noExport {
		return nil
	}
	if x := exporter.Load(); x != nil && x.core.Enabled(e.Level) {
		return x.core.Write(e, all)
	}
	return nil
}

func (c *sinkCore) Sync() error {
	if x := exporter.Load(); x != nil && !c.noExport {
		return x.core.Sync()
	}
	return nil
}
