package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// peer is one cache under test.
type peer struct {
	name string
	port int
	// floor marks the control: Caddy answering a static 64 KB body with
	// its own respond handler, the least any Caddy handler can cost.
	floor bool
	// pid is the main process; its descendants are counted too.
	pid   int
	isHit func(http.Header) bool
}

// The configurations follow shared/peers/ (the reference figures' setup):
// nginx with tcp_nopush off and proxy_cache_lock on, Varnish with
// malloc,1G and an hour's TTL, ATS with a 1 GiB RAM cache and
// required_headers 0. Each also routes the coalescing video to the slow
// origin.
const nginxOriginConf = `worker_processes 1;
pid {WORK}/run/origin.pid;
error_log {WORK}/logs/origin-error.log warn;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    types { video/iso.segment m4s; }
    default_type application/octet-stream;
    sendfile on; tcp_nopush on;
    keepalive_requests 100000;
    log_format o '$remote_addr [$time_local] "$request" $status $body_bytes_sent "$http_range"';
    access_log {WORK}/logs/origin-access.log o;
    server {
        listen 127.0.0.1:{PORT};
        root {WORK}/content;
    }
}
`

const nginxCacheConf = `worker_processes auto;
pid {WORK}/run/ngxcache.pid;
error_log {WORK}/logs/ngxcache-error.log warn;
events { worker_connections 4096; }
http {
    default_type application/octet-stream;
    sendfile on; tcp_nopush off;  # Debian's "on" stalls 64 KB hits ~40 ms (delayed ACK)
    keepalive_requests 100000;
    access_log off;
    proxy_cache_path {WORK}/ngxcache levels=1:2 keys_zone=hls:50m max_size=4g inactive=1h use_temp_path=off;
    upstream origin     { server 127.0.0.1:{ORIGIN}; keepalive 64; }
    upstream slowOrigin { server 127.0.0.1:{SLOW}; keepalive 64; }
    server {
        listen 127.0.0.1:{PORT};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_cache hls;
        proxy_cache_key $uri;
        proxy_cache_lock on;
        proxy_cache_lock_timeout 10s;
        proxy_cache_valid 200 1h;
        add_header X-Cache $upstream_cache_status;
        location /media/{COLD}/ { proxy_pass http://slowOrigin; }
        location / { proxy_pass http://origin; }
    }
}
`

const varnishVCL = `vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "{ORIGIN}"; }
backend slow { .host = "127.0.0.1"; .port = "{SLOW}"; }
sub vcl_recv {
    unset req.http.Cookie;
    if (req.url ~ "^/media/{COLD}/") { set req.backend_hint = slow; }
}
sub vcl_backend_response { set beresp.ttl = 1h; }
sub vcl_deliver {
    if (obj.hits > 0) { set resp.http.X-Cache = "HIT"; } else { set resp.http.X-Cache = "MISS"; }
}
`

const strataCaddyfile = `{
	admin off
	persist_config off
	storage file_system {WORK}/strata-data/caddy
	servers {
		listener_wrappers {
			strata_edge_fast
		}
	}
	strata {
		data {WORK}/strata-data
		edge {
			memory 1GiB
			disk 4GiB
		}
	}
}

http://:{PORT} {
	bind 127.0.0.1
	strata_edge /media/{COLD}/* {
		origin 127.0.0.1:{SLOW}
	}
	strata_edge /media/* {
		origin 127.0.0.1:{ORIGIN}
		default_ttl 1h
	}
}
`

const floorCaddyfile = `{
	admin off
	persist_config off
	storage file_system {WORK}/floor-data
}

http://:{PORT} {
	bind 127.0.0.1
	header Content-Type video/iso.segment
	respond "{BODY}" 200
}
`

func (b *bench) vars(port int) *strings.Replacer {
	return strings.NewReplacer("{WORK}", b.work, "{PORT}", strconv.Itoa(port),
		"{ORIGIN}", strconv.Itoa(b.originPort), "{SLOW}", strconv.Itoa(b.slow.port), "{COLD}", coldVideo)
}

func (b *bench) writeConf(name, text string, port int) (string, error) {
	path := filepath.Join(b.work, name)
	return path, os.WriteFile(path, []byte(b.vars(port).Replace(text)), 0o644)
}

// startNginx runs an nginx in the foreground (its master is our child).
func (b *bench) startNginx(_ context.Context, name, conf string, vars map[string]string) error {
	text := conf
	for k, v := range vars {
		text = strings.ReplaceAll(text, "{"+k+"}", v)
	}
	text = strings.ReplaceAll(text, "{WORK}", b.work)
	path := filepath.Join(b.work, name+".conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return err
	}
	_, err := b.start(name, nil, "nginx", "-c", path, "-p", b.work, "-g", "daemon off;")
	return err
}

func (b *bench) startNginxCache(ctx context.Context) (*peer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	path, err := b.writeConf("ngxcache.conf", nginxCacheConf, port)
	if err != nil {
		return nil, err
	}
	cmd, err := b.start("nginx-cache", nil, "nginx", "-c", path, "-p", b.work, "-g", "daemon off;")
	if err != nil {
		return nil, err
	}
	return &peer{name: "nginx", port: port, pid: cmd.Process.Pid,
		isHit: func(h http.Header) bool { return h.Get("X-Cache") == "HIT" }}, nil
}

func (b *bench) startVarnish(ctx context.Context) (*peer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	vcl, err := b.writeConf("varnish.vcl", varnishVCL, port)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(b.work, "varnish")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cmd, err := b.start("varnish", nil, "varnishd", "-F", "-a", fmt.Sprintf("127.0.0.1:%d", port),
		"-f", vcl, "-s", "malloc,1G", "-n", dir, "-P", filepath.Join(b.work, "run", "varnish.pid"))
	if err != nil {
		return nil, err
	}
	return &peer{name: "varnish", port: port, pid: cmd.Process.Pid,
		isHit: func(h http.Header) bool { return h.Get("X-Cache") == "HIT" }}, nil
}

// startATS runs Traffic Server from a run root of its own, so Debian's
// /etc/trafficserver is read, never changed: records.config gets the
// changes of shared/peers/ats-records.diff.
func (b *bench) startATS(ctx context.Context) (*peer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	root := filepath.Join(b.work, "ats")
	for _, d := range []string{"etc", "cache", "run", "log", "var"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	if out, err := exec.CommandContext(ctx, "cp", "-a", "/etc/trafficserver/.", filepath.Join(root, "etc")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy /etc/trafficserver: %v: %s", err, out)
	}
	recPath := filepath.Join(root, "etc", "records.config")
	rec, err := os.ReadFile(recPath)
	if err != nil {
		return nil, err
	}
	text := string(rec)
	for key, val := range map[string]string{
		"proxy.config.http.server_ports":              fmt.Sprintf("STRING %d:ip-in=127.0.0.1", port),
		"proxy.config.http.insert_response_via_str":   "INT 2",
		"proxy.config.http.cache.required_headers":    "INT 0",
		"proxy.config.cache.ram_cache.size":           "INT 1073741824",
		"proxy.config.cache.ram_cache_cutoff":         "INT 16777216",
		"proxy.config.log.logging_enabled":            "INT 1",
		"proxy.config.admin.user_id":                  "STRING #-1", // stay root: the run root is ours
		"proxy.config.http.cache.when_to_revalidate":  "INT 0",
		"proxy.config.cache.enable_read_while_writer": "INT 1",
	} {
		re := regexp.MustCompile(`(?m)^CONFIG ` + regexp.QuoteMeta(key) + ` .*$`)
		line := "CONFIG " + key + " " + val
		if re.MatchString(text) {
			text = re.ReplaceAllLiteralString(text, line)
		} else {
			text += line + "\n"
		}
	}
	if err := os.WriteFile(recPath, []byte(text), 0o644); err != nil {
		return nil, err
	}
	remap := fmt.Sprintf("map http://127.0.0.1:%d/media/%s/ http://127.0.0.1:%d/media/%s/\nmap http://127.0.0.1:%d/ http://127.0.0.1:%d/\n",
		port, coldVideo, b.slow.port, coldVideo, port, b.originPort)
	if err := os.WriteFile(filepath.Join(root, "etc", "remap.config"), []byte(remap), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "storage.config"), []byte(filepath.Join(root, "cache")+" 1G\n"), 0o644); err != nil {
		return nil, err
	}
	runroot := fmt.Sprintf(`prefix: /usr
exec_prefix: /usr
bindir: /usr/bin
sbindir: /usr/sbin
sysconfdir: %[1]s/etc
datadir: %[1]s/cache
includedir: /usr/include
libdir: /usr/lib/trafficserver
libexecdir: /usr/lib/trafficserver/modules
localstatedir: %[1]s/var
runtimedir: %[1]s/run
logdir: %[1]s/log
cachedir: %[1]s/cache
`, root)
	rr := filepath.Join(root, "runroot.yaml")
	if err := os.WriteFile(rr, []byte(runroot), 0o644); err != nil {
		return nil, err
	}
	cmd, err := b.start("ats", nil, "traffic_server", "--run-root="+rr)
	if err != nil {
		return nil, err
	}
	return &peer{name: "ats", port: port, pid: cmd.Process.Pid, isHit: func(h http.Header) bool {
		via := h.Get("Via") // [cHs…] disk hit, [cRs…] RAM hit
		return strings.Contains(via, "[cH") || strings.Contains(via, "[cR")
	}}, nil
}

// repoRoot is the module's folder, for building the strata binary.
func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return "", fmt.Errorf("run the bench from the strata repository (go env GOMOD: %v)", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func (b *bench) strataBinary(ctx context.Context) (string, error) {
	if b.o.strata != "" {
		return b.o.strata, nil
	}
	bin := filepath.Join(b.work, "strata")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	root, err := repoRoot(ctx)
	if err != nil {
		return "", err
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./node")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build ./node: %w", err)
	}
	return bin, nil
}

func (b *bench) startStrata(ctx context.Context) (*peer, error) {
	bin, err := b.strataBinary(ctx)
	if err != nil {
		return nil, err
	}
	return b.startEdgeNode("strata", bin)
}

// startAgainst runs -against, another build of Strata, as one more peer
// with its own data folder and the same configuration.
func (b *bench) startAgainst(context.Context) (*peer, error) {
	return b.startEdgeNode("against", b.o.against)
}

func (b *bench) startEdgeNode(name, bin string) (*peer, error) {
	data := name + "-data"
	if err := seedCluster(filepath.Join(b.work, data)); err != nil {
		return nil, fmt.Errorf("seed the cluster store: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := strings.ReplaceAll(strataCaddyfile, "strata-data", data)
	path, err := b.writeConf(name+".Caddyfile", conf, port)
	if err != nil {
		return nil, err
	}
	cmd, err := b.start(name, []string{"AWS_EC2_METADATA_DISABLED=true"}, bin, "run", "--config", path, "--adapter", "caddyfile")
	if err != nil {
		return nil, err
	}
	return &peer{name: name, port: port, pid: cmd.Process.Pid,
		isHit: func(h http.Header) bool { return h.Get("X-Cache") == "HIT-MEM" }}, nil
}

func (b *bench) startCaddyFloor(ctx context.Context) (*peer, error) {
	bin, err := b.strataBinary(ctx)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(floorCaddyfile, "{BODY}", strings.Repeat("s", smallSize))
	path, err := b.writeConf("floor.Caddyfile", text, port)
	if err != nil {
		return nil, err
	}
	cmd, err := b.start("caddy-floor", nil, bin, "run", "--config", path, "--adapter", "caddyfile")
	if err != nil {
		return nil, err
	}
	return &peer{name: "caddy-floor", port: port, pid: cmd.Process.Pid, floor: true,
		isHit: func(http.Header) bool { return true }}, nil
}
