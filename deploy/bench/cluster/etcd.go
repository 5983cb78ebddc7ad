package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stratavideo/strata/deploy/loopport"
)

// ensureEtcd installs Debian's etcd-server when it is missing.
func ensureEtcd() error {
	if _, err := exec.LookPath("etcd"); err == nil {
		return nil
	}
	fmt.Println("installing Debian's etcd-server for the comparison…")
	for _, args := range [][]string{{"apt-get", "update", "-qq"}, {"apt-get", "install", "-y", "-qq", "etcd-server"}} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

type etcdCluster struct {
	procs   []*proc
	clients []*clientv3.Client
	leader  string
}

// startEtcd runs a 3-member etcd cluster on loopback ports.
func startEtcd(dir string) (*etcdCluster, error) {
	c := &etcdCluster{}
	type m struct {
		name         string
		client, peer int
	}
	var ms []m
	var initial []string
	for i := 1; i <= 3; i++ {
		cp, err := loopport.Free()
		if err != nil {
			return nil, err
		}
		pp, err := loopport.Free()
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("e%d", i)
		ms = append(ms, m{name, cp, pp})
		initial = append(initial, fmt.Sprintf("%s=http://127.0.0.1:%d", name, pp))
	}
	var endpoints []string
	for _, m := range ms {
		data := filepath.Join(dir, m.name)
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, err
		}
		curl := fmt.Sprintf("http://127.0.0.1:%d", m.client)
		purl := fmt.Sprintf("http://127.0.0.1:%d", m.peer)
		p, err := spawn(dir, "etcd", []string{"ETCD_UNSUPPORTED_ARCH=amd64"},
			"--name", m.name, "--data-dir", data,
			"--listen-client-urls", curl, "--advertise-client-urls", curl,
			"--listen-peer-urls", purl, "--initial-advertise-peer-urls", purl,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "strata-bench", "--log-level", "error")
		if err != nil {
			c.stop()
			return nil, err
		}
		c.procs = append(c.procs, p)
		endpoints = append(endpoints, curl)
	}
	err := poll(60*time.Second, "etcd leader", func() error {
		for _, ep := range endpoints {
			cl, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 2 * time.Second})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			st, err := cl.Status(ctx, ep)
			cancel()
			cl.Close()
			if err != nil {
				return err
			}
			if st.Header.MemberId == st.Leader {
				c.leader = ep
				return nil
			}
		}
		return errors.New("no leader yet")
	})
	if err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *etcdCluster) writer(i int) (func(context.Context, int) error, error) {
	cl, err := clientv3.New(clientv3.Config{Endpoints: []string{c.leader}, DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	c.clients = append(c.clients, cl)
	key := fmt.Sprintf("/videos/%d", i)
	return func(ctx context.Context, seq int) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err := cl.Put(ctx, key, record(seq))
		return err
	}, nil
}

func (c *etcdCluster) cpu() time.Duration { return cpuOf(c.procs) }

func (c *etcdCluster) stop() {
	for _, cl := range c.clients {
		cl.Close()
	}
	for _, p := range c.procs {
		p.kill()
	}
}
