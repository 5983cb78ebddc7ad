package edge

import (
	"net/netip"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"github.com/dustin/go-humanize"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("strata_edge", parseHandler)
	// Before reverse_proxy, so it also comes before strata_media (which
	// sits before file_server) whatever order the packages load in: the
	// edge is the middleware in front of the local origin.
	httpcaddyfile.RegisterDirectiveOrder("strata_edge", httpcaddyfile.Before, "reverse_proxy")
}

// UnmarshalCaddyfile reads the edge role's block inside the strata global
// option:
//
//	edge {
//	    memory     <size>          # memory tier, default 256MiB
//	    disk       <size> | off    # disk tier, default 1GiB
//	    disk_dir   <dir>           # default: <data>/edge-cache
//	    public_url <url>           # where viewers reach this edge
//	    region     <name>          # a name for people
//	    coverage   <cidr>...       # client networks it serves; repeatable
//	}
//
// With public_url the edge registers in the cluster's edge registry and
// origins send viewers there: those in its coverage first (the most
// specific block wins), others when the edges covering them fail.
func (e *Role) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the role name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		opt := d.Val()
		if opt == "coverage" {
			blocks := d.RemainingArgs()
			if len(blocks) == 0 {
				return d.ArgErr()
			}
			for _, b := range blocks {
				if _, err := netip.ParsePrefix(b); err != nil {
					return d.Errf("coverage: want CIDR blocks like 10.0.0.0/8 or 2001:db8::/32, got %q", b)
				}
			}
			e.Coverage = append(e.Coverage, blocks...)
			continue
		}
		if !d.NextArg() {
			return d.ArgErr()
		}
		val := d.Val()
		if d.NextArg() {
			return d.ArgErr()
		}
		switch opt {
		case "memory":
			n, err := humanize.ParseBytes(val)
			if err != nil || n < 1<<20 {
				return d.Errf("memory: want a size of at least 1MiB like 256MiB, got %q", val)
			}
			e.MemoryBytes = int64(n)
		case "disk":
			if val == "off" {
				e.NoDisk = true
				continue
			}
			n, err := humanize.ParseBytes(val)
			if err != nil || n < 1<<20 {
				return d.Errf("disk: want a size of at least 1MiB like 10GiB, or off, got %q", val)
			}
			e.DiskBytes = int64(n)
		case "disk_dir":
			e.DiskDir = val
		case "public_url":
			e.PublicURL = val
		case "region":
			e.Region = val
		default:
			return d.Errf("unknown edge option %q", opt)
		}
	}
	return nil
}

// UnmarshalCaddyfile reads the strata_edge directive:
//
//	strata_edge {
//	    origin <upstreams...> {       # remote origins; without it, the
//	        <reverse_proxy options>   # next handler is the origin
//	    }
//	    parent <upstreams...> {       # a shield edge, asked first
//	        <reverse_proxy options>
//	    }
//	    manifest_ttl   <duration>     # no-cache responses, default 2s
//	    default_ttl    <duration>     # responses without freshness, default 10m
//	    max_ttl        <duration>     # cap on max-age, default 365d
//	    stale_if_error <duration>     # default 24h
//	    prefetch       <segments>     # default 2, 0 = off
//	    coalesce_wait  <duration>     # default 10s
//	    fetch_timeout  <duration>     # default 60s
//	    max_ranges     <n>            # default 16
//	    max_object     <size>         # default 64MiB
//	}
//
// The origin and parent blocks take reverse_proxy's own subdirectives
// (to, lb_policy, lb_retries, health_uri, health_interval, fail_duration,
// max_fails, unhealthy_status, transport, …): they are Caddy's reverse
// proxy, used to fill the cache.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch opt := d.Val(); opt {
		case "origin", "parent":
			rp := new(reverseproxy.Handler)
			if err := rp.UnmarshalCaddyfile(d.NewFromNextSegment()); err != nil {
				return err
			}
			if opt == "origin" {
				if h.Origin != nil {
					return d.Err("origin given twice")
				}
				h.Origin = rp
			} else {
				if h.Parent != nil {
					return d.Err("parent given twice")
				}
				h.Parent = rp
			}
		case "manifest_ttl", "default_ttl", "max_ttl", "stale_if_error", "coalesce_wait", "fetch_timeout":
			val, err := oneArg(d)
			if err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(val)
			if err != nil || dur <= 0 {
				return d.Errf("%s: want a duration like 2s, got %q", opt, val)
			}
			*h.durationField(opt) = caddy.Duration(dur)
		case "prefetch", "max_ranges":
			val, err := oneArg(d)
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || (opt == "max_ranges" && n == 0) {
				return d.Errf("%s: want a whole number, got %q", opt, val)
			}
			if opt == "prefetch" {
				h.Prefetch = &n
			} else {
				h.MaxRanges = n
			}
		case "max_object":
			val, err := oneArg(d)
			if err != nil {
				return err
			}
			n, err := humanize.ParseBytes(val)
			if err != nil || n == 0 {
				return d.Errf("max_object: want a size like 64MiB, got %q", val)
			}
			h.MaxObjectBytes = int64(n)
		default:
			return d.Errf("unknown strata_edge option %q", opt)
		}
	}
	return nil
}

func oneArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	val := d.Val()
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return val, nil
}

// durationField is the field a duration option sets.
func (h *Handler) durationField(opt string) *caddy.Duration {
	switch opt {
	case "manifest_ttl":
		return &h.ManifestTTL
	case "default_ttl":
		return &h.DefaultTTL
	case "max_ttl":
		return &h.MaxTTL
	case "stale_if_error":
		return &h.StaleIfError
	case "coalesce_wait":
		return &h.CoalesceWait
	default:
		return &h.FetchTimeout
	}
}

func parseHandler(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var m Handler
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return &m, err
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*Role)(nil)
	_ caddyfile.Unmarshaler = (*Handler)(nil)
)
