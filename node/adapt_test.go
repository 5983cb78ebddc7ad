package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

var update = flag.Bool("update", false, "rewrite the golden JSON files")

func adapt(t *testing.T, src []byte) ([]byte, error) {
	t.Helper()
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(src, map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return nil, err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "\t"); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	return pretty.Bytes(), nil
}

// TestAdaptGolden pins what each Caddyfile turns into: the embedded default
// (with its environment defaults) and one using every strata option.
func TestAdaptGolden(t *testing.T) {
	for _, v := range []string{"STRATA_ADDR", "STRATA_DATA", "STRATA_ADMIN", "STRATA_LISTEN_HOST", "STRATA_LISTEN_PORT"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	cases := map[string][]byte{"default": defaultCaddyfile}
	files, _ := filepath.Glob("testdata/adapt/*.caddyfile")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".caddyfile")
		if strings.HasPrefix(name, "bad_") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases[name] = src
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := adapt(t, src)
			if err != nil {
				t.Fatalf("adapt: %v", err)
			}
			golden := filepath.Join("testdata", "adapt", name+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./node -run TestAdaptGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("adapted JSON differs from %s (rerun with -update if the change is intended):\n%s", golden, got)
			}
		})
	}
}

// TestAdaptRefusesBadOptions: a wrong option names the line and the reason.
func TestAdaptRefusesBadOptions(t *testing.T) {
	for file, want := range map[string]string{
		"bad_origin_option.caddyfile": "workers: want a positive whole number",
		"bad_strata_option.caddyfile": `unknown strata option "colour"`,
		"bad_ladder_option.caddyfile": "max_fps 500: transcode: invalid config: MaxFPS must be in 1..240, at Caddyfile:5",
		"bad_ladder_gop.caddyfile":    "SegmentSeconds must be in 1..60 and a multiple of GOPSeconds",
	} {
		t.Run(file, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "adapt", file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = adapt(t, src)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Caddyfile:") {
				t.Fatalf("err = %v, want one naming the line and %q", err, want)
			}
		})
	}
}

// TestEmbeddedRunArgs: only `run` without a config of its own gets the
// embedded Caddyfile.
func TestEmbeddedRunArgs(t *testing.T) {
	for in, want := range map[string]string{
		"strata run":                      "strata run --config - --adapter caddyfile",
		"strata run --watch":              "strata run --config - --adapter caddyfile --watch",
		"strata run --config x.caddyfile": "",
		"strata run -c x":                 "",
		"strata run --config=x":           "",
		"strata run --resume":             "",
		"strata adapt --config x":         "",
		"strata":                          "",
	} {
		got, ok := embeddedRunArgs(strings.Fields(in))
		if strings.Join(got, " ") != want || ok != (want != "") {
			t.Errorf("%q: got %q (%v), want %q", in, strings.Join(got, " "), ok, want)
		}
	}
}
