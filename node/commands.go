package main

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
)

func registerCommands() {
	registerClusterCommand()
	registerBackupCommands()
	registerAdminCommand()
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "default-config",
		Short: "Prints the embedded all-in-one Caddyfile",
		Long: `Prints the Caddyfile that 'strata run' uses when it is given no --config:
an all-in-one node (origin role, single-node Raft, local blobs, web UI) on
$STRATA_ADDR (default :8080) with its data in $STRATA_DATA (default
./strata-data). Save it and edit it to make your own configuration.`,
		Func: func(caddycmd.Flags) (int, error) {
			_, err := os.Stdout.Write(defaultCaddyfile)
			return 0, err
		},
	})
}

// embeddedRunArgs reports whether the command line is `run` without a
// config of its own and, if so, returns it with the embedded Caddyfile
// given on standard input.
func embeddedRunArgs(args []string) ([]string, bool) {
	if len(args) < 2 || args[1] != "run" {
		return nil, false
	}
	for _, a := range args[2:] {
		name := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-")
		if slices.Contains([]string{"config", "c", "resume", "r"}, name) {
			return nil, false
		}
	}
	out := append([]string{args[0], "run", "--config", "-", "--adapter", "caddyfile"}, args[2:]...)
	return out, true
}

// feedDefaultConfig makes the embedded Caddyfile the process's standard
// input, where Caddy reads `--config -`. The file is far smaller than a pipe's
// buffer, so writing it all before Caddy reads cannot block.
func feedDefaultConfig() error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("default config: %w", err)
	}
	if _, err := w.Write(defaultCaddyfile); err != nil {
		return fmt.Errorf("default config: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("default config: %w", err)
	}
	os.Stdin = r
	return nil
}

// exportListenAddr splits STRATA_ADDR (host:port, default :8080) into the
// STRATA_LISTEN_HOST and STRATA_LISTEN_PORT the default Caddyfile binds.
func exportListenAddr() error {
	addr := os.Getenv("STRATA_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("STRATA_ADDR %q: want host:port or :port", addr)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if os.Getenv("STRATA_LISTEN_HOST") == "" {
		os.Setenv("STRATA_LISTEN_HOST", host)
	}
	if os.Getenv("STRATA_LISTEN_PORT") == "" {
		os.Setenv("STRATA_LISTEN_PORT", port)
	}
	return nil
}

// announce tells the person who typed `strata run` where to point a browser.
func announce() {
	addr := os.Getenv("STRATA_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	data := os.Getenv("STRATA_DATA")
	if data == "" {
		data = "./strata-data"
	}
	fmt.Fprintf(os.Stderr, "Strata: open http://%s:%s in your browser (data in %s)\n", host, port, data)
}
