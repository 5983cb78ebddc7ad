package edge

import "net/http"

// Viewers' pages come from an origin (or any node) and their players fetch
// media from the edge chosen for them: every answer of the edge, errors
// included, is readable cross-origin, or a player would see a refused
// private video (403) as a network failure and never refresh its token.
// Media needs no cookies (a private video's token is in the query), so
// any origin may read it.

// Shared values, so the hit path allocates nothing for them.
var (
	corsAny    = []string{"*"}
	corsExpose = []string{"Content-Length, Content-Range, Accept-Ranges, ETag, Age, X-Cache"}
	corsMethod = []string{"GET, HEAD, OPTIONS"}
	corsHeader = []string{"Range, If-Range, If-None-Match, If-Modified-Since"}
	corsMaxAge = []string{"86400"}
)

// cors sets what lets any page read the edge's answers.
func cors(h http.Header) {
	h["Access-Control-Allow-Origin"] = corsAny
	h["Access-Control-Expose-Headers"] = corsExpose
}

// preflight answers a CORS preflight (a player asking for a Range, say).
func preflight(w http.ResponseWriter) {
	h := w.Header()
	h["Access-Control-Allow-Methods"] = corsMethod
	h["Access-Control-Allow-Headers"] = corsHeader
	h["Access-Control-Max-Age"] = corsMaxAge
	w.WriteHeader(http.StatusNoContent)
}
