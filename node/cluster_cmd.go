package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/stratavideo/strata/cluster"
)

// registerClusterCommand adds `strata cluster status|join|leave|remove`,
// clients of the node's admin endpoint (see cluster/admin.go).
func registerClusterCommand() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "cluster",
		Short: "Shows and changes the Strata cluster of the node running beside it",
		Long: `Talks to the admin endpoint of the node running beside it ($STRATA_ADMIN,
or --address, default localhost:2019):

  strata cluster status          every node: roles, leader, applied index, health, disk
  strata cluster join HOST:PORT  this node (started on its own, still empty) joins that cluster
  strata cluster leave           this node leaves its cluster
  strata cluster remove NODE_ID  removes another node from the cluster`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("address", "", "the node's admin endpoint (default $STRATA_ADMIN or localhost:2019)")
			cmd.Args = cobra.MinimumNArgs(1)
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(runClusterCommand)
		},
	})
}

func adminAddress(fl caddycmd.Flags) string {
	if a := fl.String("address"); a != "" {
		return a
	}
	if a := os.Getenv("STRATA_ADMIN"); a != "" {
		return a
	}
	return caddy.DefaultAdminListen
}

func runClusterCommand(fl caddycmd.Flags) (int, error) {
	args := fl.Args()
	addr := adminAddress(fl)
	switch {
	case args[0] == "status" && len(args) == 1:
		var view cluster.ClusterView
		if err := adminCall(addr, http.MethodGet, "/strata/cluster", nil, &view); err != nil {
			return caddy.ExitCodeFailedStartup, err
		}
		printStatus(os.Stdout, view)
		return caddy.ExitCodeSuccess, nil
	case args[0] == "join" && len(args) == 2:
		return callAndSay(addr, "/strata/cluster/join", map[string]string{"addr": args[1]}, "joined the cluster at "+args[1])
	case args[0] == "leave" && len(args) == 1:
		return callAndSay(addr, "/strata/cluster/leave", map[string]string{}, "left the cluster; stop this node now")
	case args[0] == "remove" && len(args) == 2:
		return callAndSay(addr, "/strata/cluster/remove", map[string]string{"id": args[1]}, "removed "+args[1])
	}
	return caddy.ExitCodeFailedStartup, fmt.Errorf("usage: strata cluster status | join HOST:PORT | leave | remove NODE_ID")
}

func callAndSay(addr, path string, body any, done string) (int, error) {
	if err := adminCall(addr, http.MethodPost, path, body, nil); err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	fmt.Println(done)
	return caddy.ExitCodeSuccess, nil
}

// adminCall sends a request to the admin endpoint and decodes its answer.
func adminCall(addr, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(raw)
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	resp, err := caddycmd.AdminAPIRequest(addr, method, path, hdr, r)
	if err != nil {
		// AdminAPIRequest puts the admin endpoint's error body in err.
		return fmt.Errorf("%s %s on %s: %w", method, path, addr, err)
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	return nil
}

func printStatus(w io.Writer, v cluster.ClusterView) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLES\tSTATE\tVOTER\tAPPLIED\tHEALTH\tDISK USED\tADDRESS")
	for _, s := range v.Nodes {
		health := "ok"
		if !s.Healthy {
			health = s.Problem
			if health == "" {
				health = "unhealthy"
			}
		}
		disk := "-"
		if s.Disk != nil && s.Disk.TotalBytes > 0 {
			disk = fmt.Sprintf("%.0f%% of %s", 100*float64(s.Disk.UsedBytes)/float64(s.Disk.TotalBytes), gib(s.Disk.TotalBytes))
		}
		name := s.ID
		if s.ID == v.Self {
			name += " (this node)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%d\t%s\t%s\t%s\n", name, strings.Join(s.Roles, ","), s.State, s.Voter,
			s.AppliedIndex, health, disk, s.Addr)
	}
	tw.Flush()
	if v.Leader == "" {
		fmt.Fprintln(w, "no leader: the cluster cannot take writes")
	}
}

func gib(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }
