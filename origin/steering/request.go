package steering

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stratavideo/strata/cluster"
)

// ClientIP is the viewer's address: Caddy's client IP, which follows
// X-Forwarded-For only from the server's trusted_proxies, or else the
// connection's remote address.
func ClientIP(r *http.Request) netip.Addr {
	if s, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && s != "" {
		if a, err := netip.ParseAddr(s); err == nil {
			return a.Unmap()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// ForManifest says how a manifest request is steered: the pathways in
// order (none: serve the manifest as it is) and whether the order is this
// viewer's own (then no shared cache may keep the answer).
//
//   - An edge filling its cache (EdgeHeader names a registered edge) gets
//     that edge first and the rest in a viewer-neutral order: its copy
//     serves all its viewers, whom the API sent there.
//   - Another shared cache (an edge without a public URL, such as the
//     all-in-one node's own) gets the manifest unsteered: its viewers
//     came to this node on purpose.
//   - A viewer asking directly gets its own ranking when an edge covers
//     it, and the unsteered manifest when none does (the origin serves
//     it, as the API said).
func ForManifest(r *http.Request, edges []cluster.EdgeView) (ranked []Ranked, perViewer bool) {
	if len(edges) == 0 {
		return nil, false
	}
	if id := r.Header.Get(cluster.EdgeHeader); id != "" {
		ranked = Rank(edges, netip.Addr{})
		for i, e := range ranked {
			if e.ID == id {
				first := ranked[i]
				copy(ranked[1:i+1], ranked[:i])
				ranked[0] = first
				return ranked, false
			}
		}
		return nil, false
	}
	ranked = Rank(edges, ClientIP(r))
	if Chosen(ranked) == nil {
		return nil, false
	}
	return ranked, true
}
