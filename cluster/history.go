package cluster

import "time"

// CacheHistory is an edge's recent cache figures, kept in the node's
// memory only (not replicated): one sample per step, oldest first, each
// what happened during that step (deltas of the cache's counters). A step
// in which the edge was not running reads as zeros.
type CacheHistory struct {
	// Start is the start of the first sample's step.
	Start       time.Time `json:"start"`
	StepSeconds int       `json:"step_seconds"`
	// Requests by where the answer came from.
	MemHits  []int64 `json:"mem_hits"`
	DiskHits []int64 `json:"disk_hits"`
	Stale    []int64 `json:"stale"`
	Misses   []int64 `json:"misses"`
	// Body bytes served per tier, and fetched from upstream.
	MemBytes      []int64 `json:"mem_bytes"`
	DiskBytes     []int64 `json:"disk_bytes"`
	StaleBytes    []int64 `json:"stale_bytes"`
	UpstreamBytes []int64 `json:"upstream_bytes"`
}

// StatusOptions says what a status carries beyond the basics.
type StatusOptions struct {
	// Hash adds the state hash (it reads the whole store).
	Hash bool
	// History adds an edge's cache history (some tens of KB a node).
	History bool
}

type historySource struct{ fn func() *CacheHistory }

// SetCacheHistory makes fn the source of this node's cache history in
// its status, until the returned function is called. A later call takes
// over (a reloaded config's edge role from the old one); the old one's
// remove then leaves the new source in place.
func (n *Node) SetCacheHistory(fn func() *CacheHistory) (remove func()) {
	src := &historySource{fn: fn}
	n.history.Store(src)
	return func() { n.history.CompareAndSwap(src, nil) }
}

// cacheHistory is this node's cache history, or nil when it has none.
func (n *Node) cacheHistory() *CacheHistory {
	if src := n.history.Load(); src != nil {
		return src.fn()
	}
	return nil
}
