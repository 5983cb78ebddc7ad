package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stratavideo/strata/deploy/loopport"
)

type strataCluster struct {
	procs  []*proc
	leader string // http://host:port of the leader
	ids    []string
	client *http.Client
	// token is an admin API token: writes need an account.
	token string
	// admins are the nodes' admin sockets, which serve /debug/pprof.
	admins []*http.Client
}

const strataNode = `{
	admin unix/%[1]s/admin.sock
	persist_config off
	storage file_system %[1]s/caddy
	strata {
		data %[1]s
		node_id %[2]s
		cluster {
			listen 127.0.0.1:%[3]d
			key "benchmark cluster key 0123456789"
			join %[4]s
			http_url http://127.0.0.1:%[5]d
		}
		origin {
			workers 0
		}
	}
}

http://127.0.0.1:%[5]d {
	handle /api/* {
		strata_api
	}
	handle /readyz {
		strata_health ready
	}
}
`

// startStrata runs three origins (no transcoding workers) and makes one
// video per writer to write to.
func startStrata(bin, dir string, videos int) (*strataCluster, error) {
	c := &strataCluster{client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	var first string
	urls := map[string]string{}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("s%d", i)
		cport, err := loopport.Free()
		if err != nil {
			return nil, err
		}
		hport, err := loopport.Free()
		if err != nil {
			return nil, err
		}
		data := filepath.Join(dir, name)
		join := first
		if first == "" {
			first = fmt.Sprintf("127.0.0.1:%d", cport)
			join = ""
		}
		cfg := filepath.Join(dir, name+".Caddyfile")
		if err := writeFile(cfg, fmt.Sprintf(strataNode, data, name, cport, join, hport)); err != nil {
			return nil, err
		}
		p, err := spawn(dir, bin, nil, "run", "--config", cfg, "--adapter", "caddyfile")
		if err != nil {
			return nil, err
		}
		c.procs = append(c.procs, p)
		c.admins = append(c.admins, unixClient(filepath.Join(data, "admin.sock")))
		base := fmt.Sprintf("http://127.0.0.1:%d", hport)
		urls[name] = base
		if err := poll(60*time.Second, name+" ready", func() error {
			resp, err := http.Get(base + "/readyz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("%s", resp.Status)
			}
			return nil
		}); err != nil {
			c.stop()
			return nil, fmt.Errorf("%w\n%s", err, p.logs.String())
		}
	}
	admin := unixClient(filepath.Join(dir, "s1", "admin.sock"))
	err := poll(60*time.Second, "three healthy members", func() error {
		var v struct {
			Leader string `json:"leader"`
			Nodes  []struct {
				Healthy bool `json:"healthy"`
			} `json:"nodes"`
		}
		if err := getJSON(admin, "http://localhost/strata/cluster", &v); err != nil {
			return err
		}
		if len(v.Nodes) != 3 || v.Leader == "" {
			return fmt.Errorf("%+v", v)
		}
		for _, n := range v.Nodes {
			if !n.Healthy {
				return fmt.Errorf("%+v", v)
			}
		}
		c.leader = urls[v.Leader]
		return nil
	})
	if err != nil {
		c.stop()
		return nil, err
	}
	// Writes need an account: an admin token from the admin endpoint, as
	// `strata admin create NAME --token` gets one (retried while the
	// first node bootstraps its accounts).
	err = poll(60*time.Second, "an admin token", func() error {
		resp, err := admin.Post("http://localhost/strata/accounts/admins", "application/json",
			strings.NewReader(`{"name":"bench","token":true}`))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var out struct {
			Token string `json:"token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
			return fmt.Errorf("admin token: %s %v", resp.Status, err)
		}
		c.token = out.Token
		return nil
	})
	if err != nil {
		c.stop()
		return nil, err
	}
	for i := range videos {
		id, err := c.createVideo(fmt.Sprintf("bench record %d", i))
		if err != nil {
			c.stop()
			return nil, err
		}
		c.ids = append(c.ids, id)
	}
	return c, nil
}

// createVideo makes an empty upload, which is a video at once.
func (c *strataCluster) createVideo(title string) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, c.leader+"/api/v1/uploads/", nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", "0")
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Upload-Metadata", "title "+base64.StdEncoding.EncodeToString([]byte(title)))
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || loc == "" {
		return "", fmt.Errorf("create video: %s", resp.Status)
	}
	return loc[strings.LastIndex(loc, "/")+1:], nil
}

func (c *strataCluster) writer(i int) (func(context.Context, int) error, error) {
	if i >= len(c.ids) {
		return nil, fmt.Errorf("only %d videos for writer %d", len(c.ids), i)
	}
	url := c.leader + "/api/v1/videos/" + c.ids[i]
	return func(ctx context.Context, seq int) error {
		body := fmt.Sprintf(`{"description":%q}`, record(seq))
		req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.client.Do(req)
		if err != nil {
			return err
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("PATCH: %s: %.300s", resp.Status, msg)
		}
		return nil
	}, nil
}

// profile writes a CPU profile of every node over d into dir, named
// prefix-sN.pprof, through Caddy's admin endpoint.
func (c *strataCluster) profile(d time.Duration, dir, prefix string) error {
	errs := make(chan error, len(c.admins))
	for i, admin := range c.admins {
		go func() {
			url := fmt.Sprintf("http://localhost/debug/pprof/profile?seconds=%d", int(d.Seconds()))
			resp, err := admin.Get(url)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("profile s%d: %s", i+1, resp.Status)
				return
			}
			body, err := io.ReadAll(resp.Body)
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-s%d.pprof", prefix, i+1)), body, 0o644)
			}
			errs <- err
		}()
	}
	var first error
	for range c.admins {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (c *strataCluster) cpu() time.Duration { return cpuOf(c.procs) }

func (c *strataCluster) stop() {
	for _, p := range c.procs {
		p.kill()
	}
}
