package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The deploy files are checked here, in CI, because Docker and Kubernetes
// cannot run on these machines: every Caddyfile adapts, the compose file
// and manifests parse and refer to what exists, and the Dockerfile builds
// what the Makefile builds.

var deployDir = filepath.Join("..", "deploy")

// deployEnv is what the deploy files' Caddyfiles read, as a node would have
// it, so their placeholders become real values.
var deployEnv = map[string]string{
	"STRATA_NODE_ID":      "origin-1",
	"STRATA_URL":          "http://origin-1:8080",
	"STRATA_DATA":         "/var/lib/strata",
	"STRATA_ADMIN":        "localhost:2019",
	"STRATA_CLUSTER_ADDR": "origin-1:7946",
	"STRATA_CLUSTER_KEY":  "a cluster key for the tests only",
	"STRATA_JOIN":         "origin-2:7946",
	"STRATA_ORIGINS":      "origin-1:8080 origin-2:8080",
	"STRATA_S3_ENDPOINT":  "http://s3:7070",
	"STRATA_S3_REGION":    "us-east-1",
	"STRATA_DOMAIN":       "video.example.org",
	"STRATA_LISTEN_HOST":  "",
	"STRATA_LISTEN_PORT":  "8080",
}

func setDeployEnv(t *testing.T) {
	for k, v := range deployEnv {
		t.Setenv(k, v)
	}
}

// TestDeployCaddyfilesAdapt: every example Caddyfile, and those the
// Kubernetes ConfigMap carries, adapt to a config.
func TestDeployCaddyfilesAdapt(t *testing.T) {
	setDeployEnv(t)
	files, err := filepath.Glob(filepath.Join(deployDir, "examples", "*.Caddyfile"))
	if err != nil || len(files) < 4 {
		t.Fatalf("example Caddyfiles: %v %v", files, err)
	}
	srcs := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs[f] = b
	}
	for _, doc := range k8sDocs(t) {
		if doc.Kind == "ConfigMap" {
			for name, body := range doc.Data {
				srcs["k8s ConfigMap "+name] = []byte(body)
			}
		}
	}
	for name, src := range srcs {
		t.Run(filepath.Base(name), func(t *testing.T) {
			out, err := adapt(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(out, []byte(`"strata"`)) {
				t.Fatalf("no strata app in %s", out)
			}
		})
	}
}

type composeFile struct {
	Services map[string]struct {
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Profiles    []string          `yaml:"profiles"`
		DependsOn   []string          `yaml:"depends_on"`
		Volumes     []string          `yaml:"volumes"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// TestComposeFile: the compose file parses (anchors and merges included),
// runs three origins and two edges built from the Dockerfile with configs
// the image carries, joined to a member that exists, with named volumes.
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, want := range []string{"origin-1", "origin-2", "origin-3", "edge-1", "edge-2"} {
		s, ok := c.Services[want]
		if !ok {
			t.Fatalf("no service %s", want)
		}
		if s.Build == nil || s.Build.Dockerfile != "deploy/Dockerfile" {
			t.Errorf("%s: not built from deploy/Dockerfile: %+v", want, s.Build)
		} else if _, err := os.Stat(filepath.Join(deployDir, s.Build.Context, s.Build.Dockerfile)); err != nil {
			t.Errorf("%s: %v", want, err)
		}
		if s.Environment["STRATA_NODE_ID"] != want {
			t.Errorf("%s: STRATA_NODE_ID %q", want, s.Environment["STRATA_NODE_ID"])
		}
		if join := s.Environment["STRATA_JOIN"]; join != "" {
			host, _, _ := strings.Cut(join, ":")
			if _, ok := c.Services[host]; !ok {
				t.Errorf("%s joins %s, which is not a service", want, join)
			}
		}
		if len(s.Command) < 3 || s.Command[0] != "run" {
			t.Errorf("%s: command %q", want, s.Command)
		}
		for i, a := range s.Command {
			if a == "--config" && i+1 < len(s.Command) {
				checkImageConfig(t, want, s.Command[i+1])
			}
		}
		for _, v := range s.Volumes {
			name, _, _ := strings.Cut(v, ":")
			if _, ok := c.Volumes[name]; !ok {
				t.Errorf("%s: volume %s is not declared", want, name)
			}
		}
	}
	if s := c.Services["origin-1"]; s.Environment["STRATA_JOIN"] != "" {
		t.Error("origin-1 must bootstrap: it has a join address")
	}
	if _, ok := c.Services["s3"]; !ok {
		t.Error("no optional s3 service")
	}
}

// checkImageConfig: a config path in the image (/etc/strata/X, copied
// from deploy/examples) names a file that exists.
func checkImageConfig(t *testing.T, who, path string) {
	t.Helper()
	path = regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`).ReplaceAllString(path, "$1")
	name, ok := strings.CutPrefix(path, "/etc/strata/")
	if !ok {
		t.Errorf("%s: config %s is not one the image carries", who, path)
		return
	}
	if _, err := os.Stat(filepath.Join(deployDir, "examples", name)); err != nil {
		t.Errorf("%s: %v", who, err)
	}
}

type k8sDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		ClusterIP   string            `yaml:"clusterIP"`
		ServiceName string            `yaml:"serviceName"`
		Selector    yaml.Node         `yaml:"selector"`
		Ports       []map[string]any  `yaml:"ports"`
		Template    k8sPodTemplate    `yaml:"template"`
		Claims      []k8sClaim        `yaml:"volumeClaimTemplates"`
		Extra       map[string]string `yaml:"-"`
	} `yaml:"spec"`
}

type k8sClaim struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
}

type k8sPodTemplate struct {
	Metadata struct {
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Containers []struct {
			Name         string   `yaml:"name"`
			Image        string   `yaml:"image"`
			Command      []string `yaml:"command"`
			Args         []string `yaml:"args"`
			VolumeMounts []struct {
				Name string `yaml:"name"`
			} `yaml:"volumeMounts"`
			Env []struct {
				Name      string `yaml:"name"`
				ValueFrom struct {
					SecretKeyRef *struct {
						Name string `yaml:"name"`
					} `yaml:"secretKeyRef"`
				} `yaml:"valueFrom"`
			} `yaml:"env"`
		} `yaml:"containers"`
		Volumes []struct {
			Name      string `yaml:"name"`
			ConfigMap *struct {
				Name string `yaml:"name"`
			} `yaml:"configMap"`
		} `yaml:"volumes"`
	} `yaml:"spec"`
}

func k8sDocs(t *testing.T) []k8sDoc {
	t.Helper()
	f, err := os.Open(filepath.Join(deployDir, "k8s", "strata.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []k8sDoc
	for {
		var d k8sDoc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("k8s/strata.yaml document %d: %v", len(docs)+1, err)
		}
		docs = append(docs, d)
	}
}

// selectorLabels reads a Service's selector map or a workload's
// matchLabels.
func selectorLabels(t *testing.T, n yaml.Node) map[string]string {
	t.Helper()
	var m struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	if err := n.Decode(&m); err == nil && m.MatchLabels != nil {
		return m.MatchLabels
	}
	var flat map[string]string
	if err := n.Decode(&flat); err != nil {
		t.Fatalf("selector: %v", err)
	}
	return flat
}

func subset(small, big map[string]string) bool {
	for k, v := range small {
		if big[k] != v {
			return false
		}
	}
	return len(small) > 0
}

// TestKubernetesManifests: every document is a named object; the
// origins' StatefulSet has a headless peer Service that publishes pods
// before they are ready; selectors pick their own pods; every Service
// selects a workload; volumes and config files refer to what exists.
func TestKubernetesManifests(t *testing.T) {
	docs := k8sDocs(t)
	byKind := map[string][]k8sDoc{}
	for i, d := range docs {
		if d.APIVersion == "" || d.Kind == "" || d.Metadata.Name == "" {
			t.Fatalf("document %d lacks apiVersion, kind or name: %+v", i+1, d)
		}
		byKind[d.Kind] = append(byKind[d.Kind], d)
	}
	if len(byKind["StatefulSet"]) != 1 || len(byKind["Deployment"]) != 1 || len(byKind["ConfigMap"]) != 1 {
		t.Fatalf("want one StatefulSet (origins), one Deployment (edges), one ConfigMap: %v", byKind)
	}
	services := map[string]k8sDoc{}
	for _, s := range byKind["Service"] {
		services[s.Metadata.Name] = s
	}
	cm := byKind["ConfigMap"][0]
	var workloads []k8sDoc
	workloads = append(workloads, byKind["StatefulSet"]...)
	workloads = append(workloads, byKind["Deployment"]...)
	for _, w := range workloads {
		sel := selectorLabels(t, w.Spec.Selector)
		if !subset(sel, w.Spec.Template.Metadata.Labels) {
			t.Errorf("%s: selector %v does not match its pods %v", w.Metadata.Name, sel, w.Spec.Template.Metadata.Labels)
		}
		volumes := map[string]bool{}
		for _, c := range w.Spec.Claims {
			volumes[c.Metadata.Name] = true
		}
		for _, v := range w.Spec.Template.Spec.Volumes {
			volumes[v.Name] = true
			if v.ConfigMap != nil && v.ConfigMap.Name != cm.Metadata.Name {
				t.Errorf("%s: ConfigMap %s does not exist", w.Metadata.Name, v.ConfigMap.Name)
			}
		}
		for _, c := range w.Spec.Template.Spec.Containers {
			for _, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					t.Errorf("%s: mounts volume %s, which is not declared", w.Metadata.Name, m.Name)
				}
			}
			cmd := strings.Join(append(c.Command, c.Args...), " ")
			for _, m := range regexp.MustCompile(`/etc/strata/([A-Za-z0-9.-]+)`).FindAllStringSubmatch(cmd, -1) {
				if _, ok := cm.Data[m[1]]; !ok {
					t.Errorf("%s: config %s is not in the ConfigMap", w.Metadata.Name, m[1])
				}
			}
			if !strings.Contains(cmd, "run") {
				t.Errorf("%s: container does not run strata: %q", w.Metadata.Name, cmd)
			}
		}
	}
	ss := byKind["StatefulSet"][0]
	peers, ok := services[ss.Spec.ServiceName]
	if !ok || peers.Spec.ClusterIP != "None" {
		t.Errorf("StatefulSet serviceName %q is not a headless Service", ss.Spec.ServiceName)
	}
	for name, s := range services {
		sel := selectorLabels(t, s.Spec.Selector)
		found := false
		for _, w := range workloads {
			if subset(sel, w.Spec.Template.Metadata.Labels) {
				found = true
			}
		}
		if !found {
			t.Errorf("Service %s selects no workload (%v)", name, sel)
		}
	}
}

// TestDockerfileMatchesMakefile: the Dockerfile's build stage builds the
// package `make build` builds, with a Go at least as new as go.mod asks;
// the run stage copies from a stage that exists, installs ffmpeg and runs
// as a user that is not root.
func TestDockerfileMatchesMakefile(t *testing.T) {
	df, err := os.ReadFile(filepath.Join(deployDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	makePkg := regexp.MustCompile(`(?m)^\t\$\(GO\) build -o \$\(BIN\) (\S+)$`).FindSubmatch(mk)
	if makePkg == nil {
		t.Fatal("the Makefile's build target is not `$(GO) build -o $(BIN) PKG`")
	}
	stages := map[string]bool{}
	var last, user string
	var goImage string
	var builds, froms []string
	sc := bufio.NewScanner(bytes.NewReader(df))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				stages[f[3]] = true
				last = f[3]
			}
			if strings.HasPrefix(f[1], "golang:") {
				goImage = f[1]
			}
		case "COPY":
			for _, a := range f[1:] {
				if from, ok := strings.CutPrefix(a, "--from="); ok {
					froms = append(froms, from)
				}
			}
		case "USER":
			user = f[1]
		}
		if m := regexp.MustCompile(`go build .* (\./\S+)$`).FindStringSubmatch(line); m != nil {
			builds = append(builds, m[1])
		}
	}
	if len(builds) != 1 || builds[0] != string(makePkg[1]) {
		t.Errorf("the Dockerfile builds %v, the Makefile %s", builds, makePkg[1])
	}
	for _, f := range froms {
		if !stages[f] || f == last {
			t.Errorf("COPY --from=%s: no earlier stage of that name (%v)", f, stages)
		}
	}
	if user == "" || user == "root" || user == "0" {
		t.Errorf("the image runs as %q", user)
	}
	if !bytes.Contains(df, []byte("ffmpeg")) {
		t.Error("the image does not install ffmpeg")
	}
	want := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindSubmatch(gomod)
	have := regexp.MustCompile(`^golang:(\d+)\.(\d+)`).FindStringSubmatch(goImage)
	if want == nil || have == nil {
		t.Fatalf("go versions: go.mod %q, image %q", want, goImage)
	}
	if fmt.Sprintf("%s.%s", have[1], have[2]) < fmt.Sprintf("%s.%s", want[1], want[2]) {
		t.Errorf("the build image %s is older than go.mod's go %s.%s", goImage, want[1], want[2])
	}
}

// TestSystemdUnit: the unit runs the binary with a config and a data
// folder it owns, not as root.
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "systemd", "strata.service"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]map[string]string{}
	var cur string
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			cur = strings.Trim(line, "[]")
			sections[cur] = map[string]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || cur == "" {
				t.Fatalf("not a unit file line: %q", line)
			}
			sections[cur][k] = v
		}
	}
	svc := sections["Service"]
	if !strings.HasPrefix(svc["ExecStart"], "/usr/local/bin/strata run ") || !strings.Contains(svc["ExecStart"], "--config ") {
		t.Errorf("ExecStart %q", svc["ExecStart"])
	}
	if svc["User"] == "" || svc["User"] == "root" || svc["StateDirectory"] != "strata" {
		t.Errorf("User %q, StateDirectory %q", svc["User"], svc["StateDirectory"])
	}
	if sections["Install"]["WantedBy"] == "" {
		t.Error("no [Install] WantedBy")
	}
}
