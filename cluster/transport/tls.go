// Package transport is the cluster port: one TCP listener with mutual TLS
// that carries both Raft and Strata's own RPC (HTTP/1.1), told apart by one
// byte each connection sends after the handshake.
//
// Every node derives the same certificate authority from the cluster key,
// and signs a fresh certificate for itself with it at start-up. A peer that
// does not know the key cannot present a certificate the others accept, so
// it gets nothing: not Raft, not RPC, not even an HTTP error.
package transport

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// serverName is the name every node's certificate carries and every client
// expects. Peers are authenticated by the CA, not by their host names, which
// change as operators move nodes around.
const serverName = "strata-cluster"

// MinKeyLen is the shortest cluster key accepted.
const MinKeyLen = 16

// Identity is what a node presents on the cluster port and trusts there.
type Identity struct {
	Cert tls.Certificate
	Pool *x509.CertPool
}

// IdentityFromKey derives the cluster CA from key and issues a certificate
// for this node. The CA's key comes from HKDF over the cluster key, and
// Ed25519 signing is deterministic, so every node builds the same CA.
func IdentityFromKey(key string, nodeID string, now time.Time) (*Identity, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("the cluster key must have at least %d characters", MinKeyLen)
	}
	seed, err := hkdf.Key(sha256.New, []byte(key), []byte("strata cluster ca v1"), "ed25519 seed", ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("derive cluster ca: %w", err)
	}
	caKey := ed25519.NewKeyFromSeed(seed)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Strata cluster CA"},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2120, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("cluster ca: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("cluster ca: %w", err)
	}
	return issue(ca, caKey, nodeID, now)
}

// issue signs a certificate for nodeID, good for both ends of a connection.
func issue(ca *x509.Certificate, caKey crypto.Signer, nodeID string, now time.Time) (*Identity, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, fmt.Errorf("serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: nodeID},
		DNSNames:     []string{serverName},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
	if err != nil {
		return nil, fmt.Errorf("node certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &Identity{
		Cert: tls.Certificate{Certificate: [][]byte{der, ca.Raw}, PrivateKey: priv},
		Pool: pool,
	}, nil
}

// IdentityFromFiles loads an operator's certificate, key and CA (PEM).
func IdentityFromFiles(certFile, keyFile, caFile string, readFile func(string) ([]byte, error)) (*Identity, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("cluster certificate: %w", err)
	}
	caPEM, err := readFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("cluster ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("cluster ca: no certificate in " + caFile)
	}
	return &Identity{Cert: cert, Pool: pool}, nil
}

// serverConfig requires and checks a client certificate from the cluster CA.
func (id *Identity) serverConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{id.Cert},
		ClientCAs:    id.Pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}
}

// clientConfig presents this node's certificate and checks the server's
// chain against the cluster CA. Host names are not checked: peers are who
// the CA says they are, wherever they run, and operators' own certificates
// need not name a particular host.
func (id *Identity) clientConfig() *tls.Config {
	return &tls.Config{
		Certificates:       []tls.Certificate{id.Cert},
		ServerName:         serverName,
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // replaced by VerifyConnection below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("cluster peer sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
				Roots: id.Pool, Intermediates: inter,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				return fmt.Errorf("cluster peer certificate: %w", err)
			}
			return nil
		},
	}
}
