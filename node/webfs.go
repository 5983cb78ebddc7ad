package main

import (
	"fmt"
	"io/fs"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/stratavideo/strata/web"
)

func init() {
	caddy.RegisterModule(WebFS{})
}

// WebFS is the caddy.fs.strata_web module: the web UI embedded in the
// binary, for file_server's fs option. It lives here, not in web/, because
// web/ holds only the built files and imports nothing but embed.
type WebFS struct {
	fs.FS `json:"-"`
}

// CaddyModule returns the Caddy module information.
func (WebFS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.fs.strata_web",
		New: func() caddy.Module { return new(WebFS) },
	}
}

// Provision roots the file system at the built UI.
func (w *WebFS) Provision(caddy.Context) error {
	sub, err := fs.Sub(web.Dist, "dist")
	if err != nil {
		return fmt.Errorf("web ui: %w", err)
	}
	w.FS = sub
	return nil
}

// UnmarshalCaddyfile takes no options: `filesystem <name> strata_web`.
func (w *WebFS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// Interface guards
var (
	_ fs.FS                 = (*WebFS)(nil)
	_ caddy.Provisioner     = (*WebFS)(nil)
	_ caddyfile.Unmarshaler = (*WebFS)(nil)
)
