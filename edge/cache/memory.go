package cache

import (
	"fmt"

	"github.com/dgraph-io/ristretto/v2"
)

// memory is the RAM tier: ristretto, bounded by the bytes of the objects
// it holds. Ristretto admits by TinyLFU, so a burst of one-hit objects
// (a crawler, a prefetch past the end) does not flush the popular ones.
type memory struct {
	c *ristretto.Cache[string, *Object]
}

// newMemory makes the tier; onLeave hears of every object that ristretto
// evicts or refuses, so the video index can forget it.
func newMemory(maxBytes int64, stats *Stats, onLeave func(*Object)) (*memory, error) {
	// Ristretto's authors advise ten counters per expected item; objects
	// are segments of 64 KiB and more, so one counter per 8 KiB is ample.
	counters := max(maxBytes/(8<<10), 1<<12)
	c, err := ristretto.NewCache(&ristretto.Config[string, *Object]{
		NumCounters:        counters,
		MaxCost:            maxBytes,
		BufferItems:        64,
		IgnoreInternalCost: true,
		OnEvict: func(it *ristretto.Item[*Object]) {
			stats.MemEvictions.Add(1)
			if it.Value != nil {
				onLeave(it.Value)
			}
		},
		OnReject: func(it *ristretto.Item[*Object]) {
			stats.MemRejects.Add(1)
			if it.Value != nil {
				onLeave(it.Value)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("memory tier: %w", err)
	}
	return &memory{c: c}, nil
}

func (m *memory) get(key string) (*Object, bool) { return m.c.Get(key) }

// set offers o to the tier; ristretto may still refuse it.
func (m *memory) set(o *Object) bool { return m.c.Set(o.Key, o, o.cost()) }

// del removes key at once (ristretto orders it after earlier sets).
func (m *memory) del(key string) { m.c.Del(key) }

// wait returns once every set so far has been applied or refused.
func (m *memory) wait() { m.c.Wait() }

// used is the bytes held.
func (m *memory) used() int64 { return m.c.MaxCost() - m.c.RemainingCost() }

func (m *memory) resize(maxBytes int64) { m.c.UpdateMaxCost(maxBytes) }

func (m *memory) close() { m.c.Close() }
