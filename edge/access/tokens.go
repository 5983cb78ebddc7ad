package access

import (
	"net/http"

	"github.com/stratavideo/strata/cluster/mediatoken"
)

// TokenParam is the query parameter that carries a private video's media
// token. The edge keys its cache on the path alone, so the token never
// splits or leaks into the cache.
const TokenParam = "token"

// SignedTokens is the TokenVerifier over the cluster's media signing keys.
type SignedTokens struct {
	V *mediatoken.Verifier
}

// NewSignedTokens verifies tokens against the key ring keys holds (the
// node's replicated store).
func NewSignedTokens(keys mediatoken.Keys) SignedTokens {
	return SignedTokens{V: mediatoken.NewVerifier(keys)}
}

// Verify implements TokenVerifier.
func (s SignedTokens) Verify(r *http.Request, videoID string) error {
	return s.V.Verify(videoID, r.URL.Query().Get(TokenParam))
}
