// Command strata is the Strata node: Caddy v2 with Strata's modules.
//
// `strata run` with no --config runs the embedded all-in-one Caddyfile; every
// other command is Caddy's (`strata adapt`, `strata reload`, `strata
// validate`, …) or Strata's own (`strata default-config`).
package main

import (
	_ "embed"
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/stratavideo/strata/cluster"
	_ "github.com/stratavideo/strata/cluster/health"
	_ "github.com/stratavideo/strata/edge"
	_ "github.com/stratavideo/strata/origin"
	_ "github.com/stratavideo/strata/origin/account"
	_ "github.com/stratavideo/strata/origin/api"
	_ "github.com/stratavideo/strata/origin/media"
)

// defaultCaddyfile is the all-in-one node's configuration.
//
//go:embed Caddyfile
var defaultCaddyfile []byte

func main() {
	// The AWS SDK probes the EC2 metadata address for credentials when none
	// are given; a video server must not send that request by surprise.
	if os.Getenv("AWS_EC2_METADATA_DISABLED") == "" {
		os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	}
	if err := exportListenAddr(); err != nil {
		os.Stderr.WriteString("strata: " + err.Error() + "\n")
		os.Exit(1)
	}
	registerCommands()
	if len(os.Args) > 1 && os.Args[1] == "validate" {
		cluster.ValidateOnly()
	}
	if args, ok := embeddedRunArgs(os.Args); ok {
		if err := feedDefaultConfig(); err != nil {
			os.Stderr.WriteString("strata: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Args = args
		announce()
	}
	caddycmd.Main()
}
