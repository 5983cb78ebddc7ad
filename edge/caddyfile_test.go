package edge

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestUnmarshalHandler(t *testing.T) {
	d := caddyfile.NewTestDispenser(`strata_edge {
		origin 10.0.0.1:8080 10.0.0.2:8080 {
			lb_policy round_robin
			health_uri /healthz
			health_interval 5s
		}
		parent 10.0.1.1:8080
		manifest_ttl 1s
		stale_if_error 1h
		prefetch 3
		coalesce_wait 5s
		fetch_timeout 30s
		max_ranges 8
		max_object 32MiB
	}`)
	var h Handler
	if err := h.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	if h.Origin == nil || len(h.Origin.Upstreams) != 2 || h.Origin.HealthChecks == nil || h.Origin.HealthChecks.Active == nil ||
		h.Origin.HealthChecks.Active.URI != "/healthz" || h.Origin.LoadBalancing == nil {
		t.Fatalf("origin = %+v", h.Origin)
	}
	if h.Parent == nil || len(h.Parent.Upstreams) != 1 || h.Parent.Upstreams[0].Dial != "10.0.1.1:8080" {
		t.Fatalf("parent = %+v", h.Parent)
	}
	if *h.Prefetch != 3 || h.MaxRanges != 8 || h.MaxObjectBytes != 32<<20 {
		t.Fatalf("handler = %+v", &h)
	}
	out, err := json.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"manifest_ttl":1000000000`, `"stale_if_error":3600000000000`, `"prefetch":3`, `"upstreams":[{"dial":"10.0.0.1:8080"}`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("JSON lacks %s:\n%s", want, out)
		}
	}
}

func TestUnmarshalHandlerErrors(t *testing.T) {
	for src, want := range map[string]string{
		"strata_edge 10.0.0.1":                       "wrong argument count",
		"strata_edge {\n colour red\n}":              `unknown strata_edge option "colour"`,
		"strata_edge {\n prefetch -1\n}":             "prefetch: want a whole number",
		"strata_edge {\n manifest_ttl soon\n}":       "manifest_ttl: want a duration",
		"strata_edge {\n origin a:1\n origin b:1\n}": "origin given twice",
	} {
		var h Handler
		err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", src, err, want)
		}
	}
}

func TestUnmarshalRole(t *testing.T) {
	var r Role
	if err := r.UnmarshalCaddyfile(caddyfile.NewTestDispenser(`edge {
		memory 512MiB
		disk 20GiB
		disk_dir /srv/edge
		public_url https://edge-1.example.net
		region eu-west
		coverage 10.1.0.0/16 192.0.2.0/24
		coverage 2001:db8::/32
	}`)); err != nil {
		t.Fatal(err)
	}
	if r.MemoryBytes != 512<<20 || r.DiskBytes != 20<<30 || r.DiskDir != "/srv/edge" || r.NoDisk {
		t.Fatalf("role = %+v", &r)
	}
	if r.PublicURL != "https://edge-1.example.net" || r.Region != "eu-west" ||
		!slices.Equal(r.Coverage, []string{"10.1.0.0/16", "192.0.2.0/24", "2001:db8::/32"}) {
		t.Fatalf("edge entry = %q %q %q", r.PublicURL, r.Region, r.Coverage)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	for _, bad := range []*Role{
		{MemoryBytes: 1 << 20, NoDisk: true, Coverage: []string{"10.0.0.0/8"}},
		{MemoryBytes: 1 << 20, NoDisk: true, PublicURL: "edge-1.example.net"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v validated", bad)
		}
	}
	var off Role
	if err := off.UnmarshalCaddyfile(caddyfile.NewTestDispenser(`edge {
		disk off
	}`)); err != nil || !off.NoDisk {
		t.Fatalf("disk off: %+v, %v", &off, err)
	}
	for src, want := range map[string]string{
		"edge {\n memory 10KiB\n}":         "memory: want a size",
		"edge {\n speed 1\n}":              `unknown edge option "speed"`,
		"edge {\n coverage 10.0.0.0/33\n}": "coverage: want CIDR blocks",
		"edge {\n coverage\n}":             "wrong argument count",
	} {
		var r Role
		if err := r.UnmarshalCaddyfile(caddyfile.NewTestDispenser(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", src, err, want)
		}
	}
}
