package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/transport"
)

// configurationOf lists the server IDs of n's newest configuration.
func configurationOf(n *Node) []string {
	f := n.c().raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	var ids []string
	for _, s := range f.Configuration().Servers {
		ids = append(ids, string(s.ID))
	}
	slices.Sort(ids)
	return ids
}

// startAlone starts id in a cluster of its own (no join list) and waits
// until it leads itself, as a node that is then told to join another.
func startAlone(t *testing.T, id string) (*testCluster, *Node) {
	t.Helper()
	tc := newTestCluster(t)
	n := tc.start(id, true, nil)
	eventually(t, 10*time.Second, id+" leads itself", func() error {
		if !n.IsLeader() {
			return errors.New("not yet")
		}
		return nil
	})
	return tc, n
}

// adopt moves node id, which has joined tc, from the test cluster it was
// started in.
func (tc *testCluster) adopt(from *testCluster, id string) {
	tc.nodes[id] = from.nodes[id]
	delete(from.nodes, id)
}

// TestJoinAnswersOnceEveryVoterHoldsTheConfiguration: a join is answered
// only when every voter that answers holds the configuration adding the
// new node, not as soon as a majority does. A voter left without it
// refuses the new node's votes (hashicorp/raft#526), and had the leader
// gone right after the join, the two could elect nobody until it came
// back. Here one voter's Raft traffic is blocked (it still answers
// status) until the entry adding c is committed without it.
func TestJoinAnswersOnceEveryVoterHoldsTheConfiguration(t *testing.T) {
	tc := newTestCluster(t)
	tc.start("a", true, nil)
	tc.start("b", true, nil)
	tc.start("d", true, nil)
	tc.waitMembers("a", "b", "d")
	leader := tc.leader()
	var lagger *Node
	for _, id := range []string{"a", "b", "d"} {
		if n := tc.nodes[id]; n != leader {
			lagger = n
			break
		}
	}

	tcC, c := startAlone(t, "c")

	lagger.mux.Block(transport.KindRaft)
	// Heal the lagger half a second after the entry adding c is committed
	// without it.
	healed := make(chan struct{})
	go func() {
		defer close(healed)
		defer lagger.mux.Unblock(transport.KindRaft)
		deadline := time.Now().Add(20 * time.Second)
		var last uint64 // the entry adding c is at or below it
		for time.Now().Before(deadline) {
			r := leader.c().raft
			if last == 0 && slices.Contains(configurationOf(leader), "c") {
				last = r.LastIndex()
			}
			if last > 0 && r.CommitIndex() >= last {
				// Committed without the lagger. It stays slow a while
				// longer, as a starved voter would: a join answered at
				// commit answers within this.
				time.Sleep(500 * time.Millisecond) // a modelled slow voter, not a wait for a condition
				return
			}
			time.Sleep(time.Millisecond) // polling the leader's state, with the deadline above
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.JoinCluster(ctx, leader.Addr()); err != nil {
		t.Fatalf("join: %v", err)
	}
	// Read at once: the join's answer is the promise under test.
	got := configurationOf(lagger)
	<-healed
	tc.adopt(tcC, "c")
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("when the join answered, %s held configuration %v, want %v", lagger.ID(), got, want)
	}
	tc.waitMembers("a", "b", "c", "d")
	// And the leader's loss now leaves a cluster that elects.
	old := leader.ID()
	tc.stop(old)
	eventually(t, 20*time.Second, "a new leader", func() error {
		if l := tc.leader(); l == nil || l.ID() == old {
			return fmt.Errorf("none")
		}
		return nil
	})
}
