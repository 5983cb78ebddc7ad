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
//	    cluster {
//	        listen    <host:port>        # the cluster port (Raft + RPC, TLS)
//	        advertise <host:port>        # what peers dial, if not listen
//	        key       <secret>           # shared cluster key, or:
//	        key_file  <path>
//	        tls       <cert> <key> <ca>  # the operator's own certificates
//	        join      <host:port>...     # members to ask on first start
//	        http_url  <url>              # where peers reach this node's HTTP
//	    }
//	    logs {
//	        otlp      <url>              # ship log entries to an OTLP/HTTP collector
//	    }
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
			// No value (an empty {$ENV}) keeps the generated ID.
			if d.NextArg() {
				app.NodeID = d.Val()
			}
		case "start_timeout":
			if !d.NextArg() {
				return nil, d.ArgErr()
			}
			dur, err := caddy.ParseDuration(d.Val())
			if err != nil {
				return nil, d.Errf("start_timeout: %v", err)
			}
			app.StartTimeout = caddy.Duration(dur)
		case "cluster":
			co, err := parseClusterBlock(d)
			if err != nil {
				return nil, err
			}
			app.Cluster = co
		case "logs":
			lo, err := parseLogsBlock(d)
			if err != nil {
				return nil, err
			}
			app.Logs = lo
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
				strings.Join([]string{"data", "node_id", "start_timeout", "cluster", "logs", "origin", "edge"}, ", "))
		}
	}
	return httpcaddyfile.App{Name: "strata", Value: caddyconfig.JSON(app, nil)}, nil
}

func parseLogsBlock(d *caddyfile.Dispenser) (*LogsOptions, error) {
	lo := &LogsOptions{}
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "otlp":
			// No value (an empty {$ENV}) ships nothing.
			if d.NextArg() {
				lo.OTLP = d.Val()
			}
			if d.NextArg() {
				return nil, d.ArgErr()
			}
		default:
			return nil, d.Errf("unknown logs option %q (want otlp)", d.Val())
		}
	}
	return lo, nil
}

func parseClusterBlock(d *caddyfile.Dispenser) (*ClusterOptions, error) {
	co := &ClusterOptions{}
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		args := d.RemainingArgs()
		one := func() (string, error) {
			if len(args) != 1 {
				return "", d.Errf("cluster %s takes one value", opt)
			}
			return args[0], nil
		}
		var err error
		switch opt {
		case "listen":
			co.Listen, err = one()
		case "advertise":
			co.Advertise, err = one()
		case "key":
			co.Key, err = one()
		case "key_file":
			co.KeyFile, err = one()
		case "http_url":
			co.HTTPURL, err = one()
		case "join":
			// No value (an empty {$STRATA_JOIN}) means: bootstrap.
			co.Join = append(co.Join, args...)
		case "tls":
			if len(args) != 3 {
				return nil, d.Errf("cluster tls takes a certificate, a key and a CA file")
			}
			co.TLS = &TLSFiles{CertFile: args[0], KeyFile: args[1], CAFile: args[2]}
		default:
			return nil, d.Errf("unknown cluster option %q", opt)
		}
		if err != nil {
			return nil, err
		}
	}
	if co.Listen == "" {
		return nil, d.Err("cluster needs a listen address")
	}
	return co, nil
}
