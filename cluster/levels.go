package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/command"
)

// ErrUpgradeInProgress refuses a command that some member of the cluster
// does not understand yet: an older build that would have to stop on it.
// It goes once every node runs a build that knows it.
var ErrUpgradeInProgress = errors.New("some nodes of the cluster run an older Strata that does not know this change yet; upgrade them first")

// levelRefresh is how often a node asks its peers which commands they
// understand.
const levelRefresh = 5 * time.Second

// checkLevel refuses c when a member may not understand it. Only commands
// newer than the baseline pay for the check.
func (n *Node) checkLevel(c command.Command) error {
	need := command.LevelOf(c.CommandType())
	if need <= command.BaselineLevel {
		return nil
	}
	if got := n.clusterLevel(); got < need {
		return fmt.Errorf("%T: %w (the cluster understands level %d, this needs %d)", c, ErrUpgradeInProgress, got, need)
	}
	return nil
}

// clusterLevel is the lowest command level among the servers of the Raft
// configuration: what each last said in its status, the baseline for one
// that never said (an older build, or one not reached yet).
func (n *Node) clusterLevel() uint8 {
	if n.cfg.Cluster == nil {
		return command.Level
	}
	f := n.c().raft.GetConfiguration()
	if f.Error() != nil {
		return command.BaselineLevel
	}
	lowest := command.Level
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(n.id) {
			continue
		}
		l := command.BaselineLevel
		if v, ok := n.levels.Load(string(s.ID)); ok {
			l = v.(uint8)
		}
		lowest = min(lowest, l)
	}
	return lowest
}

// noteLevels remembers the levels statuses report.
func (n *Node) noteLevels(sts []Status) {
	for _, st := range sts {
		if st.ID != "" && st.State != "unreachable" {
			n.levels.Store(st.ID, max(st.CommandLevel, command.BaselineLevel))
		}
	}
}

// levelLoop keeps the peers' levels current: a node upgraded (or
// downgraded) in place reports its new level at the next refresh.
func (n *Node) levelLoop() {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), levelRefresh)
		if sts, err := n.ClusterStatus(ctx, false); err == nil {
			n.noteLevels(sts)
			n.noteStatuses(sts)
		}
		cancel()
		select {
		case <-n.stop:
			return
		case <-time.After(levelRefresh):
		}
	}
}
