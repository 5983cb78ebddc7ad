package cluster

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// registerMetrics adds the node's Raft figures to the config's registry.
// They read live values, so nothing needs updating on the apply path.
func registerMetrics(reg prometheus.Registerer, n *Node) error {
	applied := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "strata", Subsystem: "raft", Name: "applied_index",
		Help: "Last Raft log index this node has applied."}, func() float64 { return float64(n.AppliedIndex()) })
	leader := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "strata", Subsystem: "raft", Name: "leader",
		Help: "1 when this node is the cluster leader."}, func() float64 {
		if n.IsLeader() {
			return 1
		}
		return 0
	})
	for _, c := range []prometheus.Collector{applied, leader, &raftCollector{n: n}, routeMetrics} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}

// raftCollector reads Raft's own figures, and the store's cache counters,
// at each scrape.
type raftCollector struct{ n *Node }

var (
	raftStateDesc = prometheus.NewDesc("strata_raft_state",
		"1 for this node's Raft state (follower, candidate, leader, shutdown), 0 for the others.", []string{"state"}, nil)
	raftTermDesc   = prometheus.NewDesc("strata_raft_term", "This node's current Raft term.", nil, nil)
	raftCommitDesc = prometheus.NewDesc("strata_raft_commit_index",
		"The highest Raft log index this node knows to be committed.", nil, nil)
	raftLastContactDesc = prometheus.NewDesc("strata_raft_last_contact_seconds",
		"Seconds since a follower last heard from the leader (0 on the leader).", nil, nil)
	raftVotersDesc  = prometheus.NewDesc("strata_raft_voters", "Voters in the Raft configuration.", nil, nil)
	raftServersDesc = prometheus.NewDesc("strata_raft_servers", "Servers (voters and non-voters) in the Raft configuration.", nil, nil)
	storeCacheDesc  = prometheus.NewDesc("strata_store_cache_reads_total",
		"Reads of decoded records (video, user, token) by whether the store's cache had them.", []string{"kind", "result"}, nil)
)

// Describe implements prometheus.Collector.
func (c *raftCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{raftStateDesc, raftTermDesc, raftCommitDesc, raftLastContactDesc, raftVotersDesc, raftServersDesc, storeCacheDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *raftCollector) Collect(ch chan<- prometheus.Metric) {
	co := c.n.c()
	if co == nil || co.raft == nil {
		return
	}
	for _, st := range co.store.CacheStats() {
		ch <- prometheus.MustNewConstMetric(storeCacheDesc, prometheus.CounterValue, float64(st.Hits), st.Kind, "hit")
		ch <- prometheus.MustNewConstMetric(storeCacheDesc, prometheus.CounterValue, float64(st.Misses), st.Kind, "miss")
	}
	r := co.raft
	state := r.State()
	for _, s := range []raft.RaftState{raft.Follower, raft.Candidate, raft.Leader, raft.Shutdown} {
		v := 0.0
		if s == state {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(raftStateDesc, prometheus.GaugeValue, v, stateName(s))
	}
	stats := r.Stats()
	num := func(k string) float64 {
		v, _ := strconv.ParseFloat(stats[k], 64)
		return v
	}
	ch <- prometheus.MustNewConstMetric(raftTermDesc, prometheus.GaugeValue, num("term"))
	ch <- prometheus.MustNewConstMetric(raftCommitDesc, prometheus.GaugeValue, num("commit_index"))
	contact := 0.0
	if state != raft.Leader {
		if t := r.LastContact(); !t.IsZero() {
			contact = time.Since(t).Seconds()
		}
	}
	ch <- prometheus.MustNewConstMetric(raftLastContactDesc, prometheus.GaugeValue, contact)
	if f := r.GetConfiguration(); f.Error() == nil {
		voters := 0
		servers := f.Configuration().Servers
		for _, s := range servers {
			if s.Suffrage == raft.Voter {
				voters++
			}
		}
		ch <- prometheus.MustNewConstMetric(raftVotersDesc, prometheus.GaugeValue, float64(voters))
		ch <- prometheus.MustNewConstMetric(raftServersDesc, prometheus.GaugeValue, float64(len(servers)))
	}
}

func stateName(s raft.RaftState) string {
	switch s {
	case raft.Follower:
		return "follower"
	case raft.Candidate:
		return "candidate"
	case raft.Leader:
		return "leader"
	default:
		return "shutdown"
	}
}

// routeMetrics are the requests Strata's API and media handlers answer, by
// route; process-wide, since the handlers are remade on every reload and
// their counts must go on.
var routeMetrics = newRouteCollector()

type routeCollector struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

func newRouteCollector() *routeCollector {
	return &routeCollector{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "strata", Subsystem: "http", Name: "requests_total",
			Help: "Requests answered by Strata's API and origin media handlers, by route (the API's pattern, or media by file kind) and status code."},
			[]string{"route", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "strata", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer a request (until the handler returns: whole bodies included), by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
			[]string{"route"}),
	}
}

// Describe implements prometheus.Collector.
func (c *routeCollector) Describe(ch chan<- *prometheus.Desc) {
	c.requests.Describe(ch)
	c.seconds.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *routeCollector) Collect(ch chan<- prometheus.Metric) {
	c.requests.Collect(ch)
	c.seconds.Collect(ch)
}

// ObserveRequest counts one request of route answered with status after took.
func ObserveRequest(route string, status int, took time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	routeMetrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	routeMetrics.seconds.WithLabelValues(route).Observe(took.Seconds())
}

// StatusRecorder notes the status a handler answers with, for
// ObserveRequest. It passes Flush and Unwrap through (http.ResponseController).
type StatusRecorder struct {
	http.ResponseWriter
	Status int
}

// WriteHeader implements http.ResponseWriter.
func (s *StatusRecorder) WriteHeader(code int) {
	if s.Status == 0 {
		s.Status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (s *StatusRecorder) Write(p []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// ReadFrom keeps the writer's own ReadFrom (sendfile) in use.
func (s *StatusRecorder) ReadFrom(r io.Reader) (int64, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	return io.Copy(s.ResponseWriter, r)
}

// Unwrap is for http.ResponseController.
func (s *StatusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
