package account

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// buckets is a token bucket per key (an IP, an account name), in memory:
// each node limits what reaches it, which is what slows a guesser down.
// Buckets untouched for a while are dropped so the map stays small.
type buckets struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu    sync.Mutex
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newBuckets(every time.Duration, burst int, now func() time.Time) *buckets {
	return &buckets{every: every, burst: burst, now: now, m: map[string]*bucket{}}
}

func (b *buckets) get(key string, now time.Time) *bucket {
	if now.Sub(b.swept) > 10*time.Minute {
		for k, v := range b.m {
			if now.Sub(v.seen) > time.Duration(b.burst)*b.every {
				delete(b.m, k)
			}
		}
		b.swept = now
	}
	bk := b.m[key]
	if bk == nil {
		bk = &bucket{lim: rate.NewLimiter(rate.Every(b.every), b.burst)}
		b.m[key] = bk
	}
	bk.seen = now
	return bk
}

// allow spends a token of key's bucket, reporting whether one was left.
func (b *buckets) allow(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	return b.get(key, now).lim.AllowN(now, 1)
}

// peek reports whether key's bucket has a token, without spending it.
func (b *buckets) peek(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	bk, ok := b.m[key]
	return !ok || bk.lim.TokensAt(now) >= 1
}

// limits are the rate limits of the account endpoints.
type limits struct {
	// authIP and authName count login and registration attempts.
	authIP, authName *buckets
	// tokenIP counts failed API token attempts.
	tokenIP *buckets
}

func newLimits(now func() time.Time) *limits {
	return &limits{
		authIP:   newBuckets(6*time.Second, 20, now),
		authName: newBuckets(12*time.Second, 10, now),
		tokenIP:  newBuckets(time.Second, 20, now),
	}
}
