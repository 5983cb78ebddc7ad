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

// UnmarshalCaddyfile reads the directive:
//
//	strata_api {
//		rp_id          example.com                   # WebAuthn relying party ID; default: each request's host
//		origins        https://example.com https://www.example.com   # allowed origins; default: the request's own
//		password_login                               # turn on the password fallback (off by default)
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "rp_id":
			if !d.NextArg() {
				return d.ArgErr()
			}
			h.RPID = d.Val()
			if d.NextArg() {
				return d.ArgErr()
			}
		case "origins":
			h.Origins = append(h.Origins, d.RemainingArgs()...)
			if len(h.Origins) == 0 {
				return d.ArgErr()
			}
		case "password_login":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.PasswordLogin = true
		default:
			return d.Errf("unknown strata_api option %q", d.Val())
		}
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
