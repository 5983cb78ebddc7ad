package origin

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratavideo/strata/cluster/model"
)

// metrics are the origin's Prometheus series, registered in the config's
// registry (Caddy serves it at the metrics handler).
type metrics struct {
	uploads     prometheus.Counter
	uploadBytes prometheus.Counter
	jobs        *prometheus.CounterVec
	jobSeconds  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, o *Origin) (*metrics, error) {
	m := &metrics{
		uploads: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "strata", Name: "uploads_finished_total",
			Help: "Uploads completed on this origin."}),
		uploadBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "strata", Name: "upload_bytes_total",
			Help: "Bytes of completed uploads on this origin."}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "strata", Name: "jobs_finished_total",
			Help: "Job runs on this origin by kind and result (done, retry, failed, interrupted, lost)."}, []string{"kind", "result"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "strata", Name: "job_seconds",
			Help:    "Wall time of job runs on this origin, by kind and result.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13)}, []string{"kind", "result"}),
	}
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "strata", Name: "jobs_queued",
		Help: "Jobs waiting in the cluster's queue."}, func() float64 {
		q, _ := o.openJobs()
		return float64(q)
	})
	running := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "strata", Name: "jobs_running",
		Help: "Jobs held by a worker anywhere in the cluster."}, func() float64 {
		_, r := o.openJobs()
		return float64(r)
	})
	for _, c := range []prometheus.Collector{m.uploads, m.uploadBytes, m.jobs, m.jobSeconds, queue, running} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) uploadFinished(n int64) {
	m.uploads.Inc()
	m.uploadBytes.Add(float64(n))
}

func (m *metrics) jobResult(j *model.Job, result string, took time.Duration) {
	m.jobs.WithLabelValues(string(j.Kind), result).Inc()
	m.jobSeconds.WithLabelValues(string(j.Kind), result).Observe(took.Seconds())
}

func (o *Origin) openJobs() (queued, running int) {
	r := o.running.Load()
	if r == nil {
		return 0, 0
	}
	q, ru, err := r.node.OpenJobs()
	if err != nil {
		return 0, 0
	}
	return q, ru
}
