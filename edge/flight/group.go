package flight

import "sync"

// Group holds the fills in flight by key. The first caller for a key makes
// the fill and runs it; later callers get the same one to wait on.
type Group[T comparable] struct {
	mu sync.Mutex
	m  map[string]T
}

// Join returns the fill in flight for key, or the one create makes, with
// leader true: the caller must run it and call Done when it is stored.
func (g *Group[T]) Join(key string, create func() T) (t T, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur, ok := g.m[key]; ok {
		return cur, false
	}
	if g.m == nil {
		g.m = map[string]T{}
	}
	t = create()
	g.m[key] = t
	return t, true
}

// Has reports whether a fill for key is in flight.
func (g *Group[T]) Has(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.m[key]
	return ok
}

// Done removes t, if it is still the fill for key.
func (g *Group[T]) Done(key string, t T) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur, ok := g.m[key]; ok && cur == t {
		delete(g.m, key)
	}
}

// Len is the number of fills in flight.
func (g *Group[T]) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.m)
}
