package cluster

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// ClusterOptions is the cluster part of the strata app's configuration.
type ClusterOptions struct {
	// Listen is the cluster port, host:port (Raft and RPC over TLS).
	Listen string `json:"listen"`
	// Advertise is the address peers dial, when Listen is not it (a
	// wildcard listen, NAT).
	Advertise string `json:"advertise,omitempty"`
	// Key is the shared secret every member knows; the nodes' certificates
	// are derived from it. KeyFile reads it from a file instead.
	Key     string `json:"key,omitempty"`
	KeyFile string `json:"key_file,omitempty"`
	// TLS replaces the derived certificates with the operator's own.
	TLS *TLSFiles `json:"tls,omitempty"`
	// Join lists members' cluster ports to ask for membership on first
	// start. The first origin has none and bootstraps the cluster.
	Join []string `json:"join,omitempty"`
	// HTTPURL is where peers and viewers reach this node over HTTP.
	HTTPURL string `json:"http_url,omitempty"`
}

// TLSFiles are PEM files of the operator's own cluster certificates.
type TLSFiles struct {
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
	CAFile   string `json:"ca_file"`
}

// nodeConfig turns the options into the node's cluster configuration.
// Placeholders ({env.X}) are replaced, so secrets can stay out of the file.
func (o *ClusterOptions) nodeConfig(voter bool) (*ClusterConfig, error) {
	repl := caddy.NewReplacer()
	cc := &ClusterConfig{
		Listen:    repl.ReplaceKnown(o.Listen, ""),
		Advertise: repl.ReplaceKnown(o.Advertise, ""),
		Key:       repl.ReplaceKnown(o.Key, ""),
		HTTPURL:   repl.ReplaceKnown(o.HTTPURL, ""),
		Voter:     voter,
	}
	for _, j := range o.Join {
		if j = repl.ReplaceKnown(j, ""); j != "" {
			cc.Join = append(cc.Join, j)
		}
	}
	if cc.Listen == "" {
		return nil, errors.New("listen is required")
	}
	if o.KeyFile != "" {
		raw, err := os.ReadFile(repl.ReplaceKnown(o.KeyFile, ""))
		if err != nil {
			return nil, fmt.Errorf("key_file: %w", err)
		}
		cc.Key = strings.TrimSpace(string(raw))
	}
	if o.TLS != nil {
		cc.CertFile = repl.ReplaceKnown(o.TLS.CertFile, "")
		cc.KeyFile = repl.ReplaceKnown(o.TLS.KeyFile, "")
		cc.CAFile = repl.ReplaceKnown(o.TLS.CAFile, "")
		if cc.CertFile == "" || cc.KeyFile == "" || cc.CAFile == "" {
			return nil, errors.New("tls needs cert_file, key_file and ca_file")
		}
	} else if cc.Key == "" {
		return nil, errors.New("a cluster key (key or key_file) or tls files are required")
	}
	return cc, nil
}
