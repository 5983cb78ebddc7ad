package api

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("strata_api", parseCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("strata_api", httpcaddyfile.Before, "file_server")
}

// UnmarshalCaddyfile reads the directive, which takes no options:
//
//	strata_api
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	if d.NextBlock(0) {
		return d.Errf("strata_api takes no options")
	}
	return nil
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var a Handler
	err := a.UnmarshalCaddyfile(h.Dispenser)
	return &a, err
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
