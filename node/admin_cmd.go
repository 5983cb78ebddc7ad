package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/stratavideo/strata/origin/account"
)

// registerAdminCommand adds `strata admin create NAME [--token]`, a client
// of the node's admin endpoint (see origin/account/admin.go). Only whoever
// reaches that endpoint (the operator, beside the node) can make an admin.
func registerAdminCommand() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "admin",
		Short: "Makes Strata admin accounts on the node running beside it",
		Long: `Talks to the admin endpoint of the node running beside it ($STRATA_ADMIN,
or --address, default localhost:2019):

  strata admin create NAME          makes NAME an admin account (if it does not
                                    exist) and prints a one-time link that adds
                                    its passkey; open it within a day
  strata admin create NAME --token  prints only a new admin-scoped API token,
                                    for scripts (Authorization: Bearer TOKEN)
  strata admin rotate-key           makes a new media signing key current;
                                    tokens signed with older keys still verify
  strata admin remove-key KEY_ID    drops an old key: its tokens stop verifying

The link is a path on the node's site; --url (default $STRATA_URL, or
http://localhost and the port of $STRATA_ADDR) is put in front of it.`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("address", "", "the node's admin endpoint (default $STRATA_ADMIN or localhost:2019)")
			cmd.Flags().Bool("token", false, "print only a new admin-scoped API token")
			cmd.Flags().String("url", "", "the site's address, put in front of the setup link")
			cmd.Args = cobra.RangeArgs(1, 2)
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(runAdminCommand)
		},
	})
}

func runAdminCommand(fl caddycmd.Flags) (int, error) {
	args := fl.Args()
	switch {
	case args[0] == "rotate-key" && len(args) == 1, args[0] == "remove-key" && len(args) == 2:
		body := map[string]string{}
		if len(args) == 2 {
			body["remove"] = args[1]
		}
		var ring account.KeyRing
		if err := adminCall(adminAddress(fl), http.MethodPost, "/strata/accounts/keys", body, &ring); err != nil {
			return caddy.ExitCodeFailedStartup, err
		}
		fmt.Printf("current media signing key: %s (keys: %s)\n", ring.Current, strings.Join(ring.Keys, ", "))
		return caddy.ExitCodeSuccess, nil
	case args[0] != "create" || len(args) != 2:
		return caddy.ExitCodeFailedStartup, fmt.Errorf("usage: strata admin create NAME [--token] | rotate-key | remove-key KEY_ID")
	}
	withToken := fl.Bool("token")
	var out account.AdminCreated
	body := map[string]any{"name": args[1], "token": withToken}
	if err := adminCall(adminAddress(fl), http.MethodPost, "/strata/accounts/admins", body, &out); err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	if withToken {
		fmt.Println(out.Token)
		return caddy.ExitCodeSuccess, nil
	}
	fmt.Printf("%s is an admin. Open this link within a day to add a passkey (it works once):\n\n  %s%s\n",
		out.User.Name, siteURL(fl.String("url")), out.SetupLink)
	return caddy.ExitCodeSuccess, nil
}

// siteURL guesses where the node's site is, for the printed link.
func siteURL(flag string) string {
	if flag != "" {
		return strings.TrimSuffix(flag, "/")
	}
	if u := os.Getenv("STRATA_URL"); u != "" {
		return strings.TrimSuffix(u, "/")
	}
	port := "8080"
	if addr := os.Getenv("STRATA_ADDR"); addr != "" {
		if i := strings.LastIndex(addr, ":"); i >= 0 && i < len(addr)-1 {
			port = addr[i+1:]
		}
	}
	return "http://localhost:" + port
}
