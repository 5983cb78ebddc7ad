// Package access decides whether the edge may serve a video's media to a
// request: public and unlisted ready videos to anyone, private ones only
// with a valid signed token, nothing of a video that is not ready or not
// known to the node's local store.
//
// Decisions are read from the local store once per video and remembered
// until the cluster log changes that video (Invalidate), so the hit path
// pays a map lookup, not a bbolt transaction.
package access

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

// Videos reads videos from the local store; *cluster.Node is one.
type Videos interface {
	Video(id string) (*model.Video, error)
}

// TokenVerifier checks the signed token of a request for a private
// video's media. The edge role uses SignedTokens (the cluster's media
// signing keys); RefuseAll is what a gate without a verifier uses.
type TokenVerifier interface {
	// Verify returns nil when r carries a valid, unexpired token for
	// videoID.
	Verify(r *http.Request, videoID string) error
}

// ErrNoSigningKeys is RefuseAll's answer.
var ErrNoSigningKeys = errors.New("signed media tokens are not available yet: private media is refused")

// RefuseAll is the TokenVerifier while signing keys do not exist.
type RefuseAll struct{}

// Verify implements TokenVerifier.
func (RefuseAll) Verify(*http.Request, string) error { return ErrNoSigningKeys }

// Decision is what the gate says about a request.
type Decision int

// Decisions.
const (
	// Allow: serve the media.
	Allow Decision = iota
	// NotFound: the video is unknown or not ready.
	NotFound
	// Forbidden: the video is private and the request has no valid
	// token; answered 403, as the origin does.
	Forbidden
)

// kind is what the store said about a video.
type kind uint8

const (
	kindAbsent  kind = iota
	kindOpen         // ready, public or unlisted
	kindPrivate      // ready, private
)

// Gate makes the decisions.
type Gate struct {
	videos   Videos
	verifier TokenVerifier
	limit    int

	memo sync.Map // video ID → kind
	// mu and epoch order memo writes against invalidations: a decision
	// read from the store before an invalidation must not be remembered
	// after it.
	mu    sync.Mutex
	epoch atomic.Uint64
	size  int
}

// DefaultMemo bounds the remembered decisions.
const DefaultMemo = 100_000

// NewGate makes a gate over videos. A nil verifier is RefuseAll.
func NewGate(videos Videos, verifier TokenVerifier) *Gate {
	if verifier == nil {
		verifier = RefuseAll{}
	}
	return &Gate{videos: videos, verifier: verifier, limit: DefaultMemo}
}

// Check decides for a request for videoID's media.
func (g *Gate) Check(r *http.Request, videoID string) (Decision, error) {
	k, err := g.kind(videoID)
	if err != nil {
		return NotFound, err
	}
	switch k {
	case kindOpen:
		return Allow, nil
	case kindPrivate:
		if g.verifier.Verify(r, videoID) == nil {
			return Allow, nil
		}
		return Forbidden, nil
	}
	return NotFound, nil
}

// Open reports, from the remembered decisions alone, whether videoID's
// media may go to anyone: false when it is private, absent, not ready or
// not remembered yet, cases the caller leaves to Check. It reads no
// store, never remembers anything, and does not keep id, so id may point
// into a buffer that is about to be reused.
func (g *Gate) Open(videoID string) bool {
	v, ok := g.memo.Load(videoID)
	return ok && v.(kind) == kindOpen
}

func (g *Gate) kind(id string) (kind, error) {
	if v, ok := g.memo.Load(id); ok {
		return v.(kind), nil
	}
	epoch := g.epoch.Load()
	k := kindAbsent
	v, err := g.videos.Video(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return kindAbsent, fmt.Errorf("read video %s: %w", id, err)
	case !v.Playable():
	case v.Visibility == model.Private:
		k = kindPrivate
	default:
		k = kindOpen
	}
	g.mu.Lock()
	if g.epoch.Load() == epoch {
		if g.size >= g.limit {
			g.memo.Clear()
			g.size = 0
		}
		if _, loaded := g.memo.LoadOrStore(id, k); !loaded {
			g.size++
		}
	}
	g.mu.Unlock()
	return k, nil
}

// Invalidate forgets what the gate knew of videoID; the cluster's apply
// path calls it for every command that changes a video.
func (g *Gate) Invalidate(videoID string) {
	g.mu.Lock()
	g.epoch.Add(1)
	if _, loaded := g.memo.LoadAndDelete(videoID); loaded {
		g.size--
	}
	g.mu.Unlock()
}
