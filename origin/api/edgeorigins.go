package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stratavideo/strata/cluster"
)

func init() {
	caddy.RegisterModule(EdgeOrigins{})
	httpcaddyfile.RegisterHandlerDirective("strata_edge_origins", parseEdgeOrigins)
	// Before header, so the header directive's placeholders see the var.
	httpcaddyfile.RegisterDirectiveOrder("strata_edge_origins", httpcaddyfile.Before, "header")
}

// EdgeOriginsVar is the request variable EdgeOrigins sets.
const EdgeOriginsVar = "strata_edge_origins"

// EdgeOrigins is the http.handlers.strata_edge_origins module: it sets the
// request variable strata_edge_origins to the origins (scheme://host:port)
// of the registered edges, space-separated, for the UI's
// Content-Security-Policy:
//
//	strata_edge_origins
//	header Content-Security-Policy "… connect-src 'self' {http.vars.strata_edge_origins}; …"
//
// The player fetches manifests, segments and the steering manifest from
// the edge chosen for the viewer, which the policy must allow. Taken from
// the registry at each page load, the policy names exactly the edges the
// API may send a viewer to, and follows the cluster as edges come and go,
// where a fixed list in the Caddyfile would go stale and a wildcard
// (https:) would let an injected script reach anywhere.
type EdgeOrigins struct {
	node *cluster.Node
}

// CaddyModule returns the Caddy module information.
func (EdgeOrigins) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.strata_edge_origins",
		New: func() caddy.Module { return new(EdgeOrigins) },
	}
}

// Provision finds the node.
func (e *EdgeOrigins) Provision(ctx caddy.Context) error {
	app, err := cluster.FromContext(ctx)
	if err != nil {
		return err
	}
	e.node = app.Node()
	return nil
}

// ServeHTTP implements caddyhttp.MiddlewareHandler.
func (e *EdgeOrigins) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	caddyhttp.SetVar(r.Context(), EdgeOriginsVar, e.origins())
	return next.ServeHTTP(w, r)
}

// origins lists the edges' origins, sorted, without duplicates. A
// registry that cannot be read gives none: the policy stays as strict as
// without edges.
func (e *EdgeOrigins) origins() string {
	edges, err := e.node.Edges()
	if err != nil {
		return ""
	}
	out := make([]string, 0, len(edges))
	for _, ed := range edges {
		u, err := url.Parse(ed.PublicURL)
		if err != nil || u.Host == "" {
			continue
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), " ")
}

// UnmarshalCaddyfile reads the directive, which takes no options:
//
//	strata_edge_origins
func (e *EdgeOrigins) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() || d.NextBlock(0) {
		return d.ArgErr()
	}
	return nil
}

func parseEdgeOrigins(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	e := new(EdgeOrigins)
	err := e.UnmarshalCaddyfile(h.Dispenser)
	return e, err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*EdgeOrigins)(nil)
	_ caddyhttp.MiddlewareHandler = (*EdgeOrigins)(nil)
	_ caddyfile.Unmarshaler       = (*EdgeOrigins)(nil)
)
