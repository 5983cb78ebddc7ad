package cluster

import (
	"errors"

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
	for _, c := range []prometheus.Collector{applied, leader} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}
