package cluster

import (
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("strata", parseGlobalOption)
}

// parseGlobalOption sets up the strata app from the global options block:
//
//	strata {
//	    data          <dir>
//	    node_id       <id>
//	    start_timeout <duration>
//	    origin        [{ <origin role options> }]
//	    edge          [{ <edge role options> }]
//	}
//
// Each role's block is read by that role's module (strata.roles.<name>).
func parseGlobalOption(d *caddyfile.Dispenser, _ any) (any, error) {
	app := &App{RolesRaw: caddy.ModuleMap{}}
	d.Next() // the option name
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for d.NextBlock(0) {
		switch name := d.Val(); name {
		case "data":
			if !d.NextArg() {
				return nil, d.ArgErr()
			}
			app.DataDir = d.Val()
		case "node_id":
			if !d.NextArg() {
				return nil, d.ArgErr()
			}
			app.NodeID = d.Val()
		case "start_timeout":
			if !d.NextArg() {
				return nil, d.ArgErr()
			}
			dur, err := caddy.ParseDuration(d.Val())
			if err != nil {
				return nil, d.Errf("start_timeout: %v", err)
			}
			app.StartTimeout = caddy.Duration(dur)
		case "origin", "edge":
			if _, dup := app.RolesRaw[name]; dup {
				return nil, d.Errf("role %s given twice", name)
			}
			unm, err := caddyfile.UnmarshalModule(d, "strata.roles."+name)
			if err != nil {
				return nil, err
			}
			app.RolesRaw[name] = caddyconfig.JSON(unm, nil)
		default:
			return nil, d.Errf("unknown strata option %q (want one of: %s)", name,
				strings.Join([]string{"data", "node_id", "start_timeout", "origin", "edge"}, ", "))
		}
	}
	return httpcaddyfile.App{Name: "strata", Value: caddyconfig.JSON(app, nil)}, nil
}
