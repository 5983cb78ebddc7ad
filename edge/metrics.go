package edge

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// collector reads the running cache's counters at scrape time. The
// counters live with the cache, which outlives reloads, so a reload does
// not reset them, and the hit path pays one atomic add per figure.
type collector struct {
	role *Role

	requests, bytes, evictions, corrupt, purges, stored, objects, ratio, fast *prometheus.Desc
}

func registerMetrics(reg prometheus.Registerer, role *Role) error {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("strata_edge_"+name, help, labels, nil)
	}
	c := &collector{
		role:      role,
		requests:  d("requests_total", "Media requests by where the answer came from: hit_mem, hit_disk, miss, stale.", "result"),
		bytes:     d("bytes_total", "Body bytes by tier: served from mem, disk or stale copies, and fetched from upstream.", "tier"),
		evictions: d("evictions_total", "Objects evicted (mem, disk) or refused admission (mem_rejected).", "tier"),
		corrupt:   d("corrupt_objects_total", "Disk objects that failed their checksum and were dropped."),
		purges:    d("purges_total", "Purges by video or object."),
		stored:    d("stored_bytes", "Bytes held per tier.", "tier"),
		objects:   d("disk_objects", "Objects held on disk."),
		fast:      d("fast_connections_total", "Client connections the fast path handed to net/http for a request it does not answer (handoff), and got back after net/http answered (return).", "event"),
		ratio:     d("hit_ratio", "Share of media requests answered from the cache (memory or disk) since the edge started; rate() over strata_edge_requests_total gives it over a window."),
	}
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			return err
		}
	}
	return nil
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.bytes, c.evictions, c.corrupt, c.purges, c.stored, c.objects, c.ratio, c.fast} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	cc := c.role.Cache()
	if cc == nil {
		return
	}
	s := cc.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter(c.requests, s.MemHits.Load(), "hit_mem")
	counter(c.requests, s.DiskHits.Load(), "hit_disk")
	counter(c.requests, s.Misses.Load(), "miss")
	counter(c.requests, s.Stale.Load(), "stale")
	counter(c.bytes, s.MemBytesServed.Load(), "mem")
	counter(c.bytes, s.DiskBytesServed.Load(), "disk")
	counter(c.bytes, s.StaleBytesServed.Load(), "stale")
	counter(c.bytes, s.UpstreamBytes.Load(), "upstream")
	counter(c.evictions, s.MemEvictions.Load(), "mem")
	counter(c.evictions, s.MemRejects.Load(), "mem_rejected")
	counter(c.evictions, s.DiskEvictions.Load(), "disk")
	counter(c.corrupt, s.Corrupt.Load())
	counter(c.purges, s.Purges.Load())
	counter(c.fast, c.role.fastHandoffs.Load(), "handoff")
	counter(c.fast, c.role.fastReturns.Load(), "return")
	gauge(c.stored, cc.MemoryUsed(), "mem")
	gauge(c.stored, s.DiskBytes.Load(), "disk")
	gauge(c.objects, s.DiskObjects.Load())
	hits := s.MemHits.Load() + s.DiskHits.Load()
	ratio := 0.0
	if all := hits + s.Misses.Load() + s.Stale.Load(); all > 0 {
		ratio = float64(hits) / float64(all)
	}
	ch <- prometheus.MustNewConstMetric(c.ratio, prometheus.GaugeValue, ratio)
}
