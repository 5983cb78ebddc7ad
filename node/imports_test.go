package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/stratavideo/strata"

// allowed is the import column of ARCHITECTURE.md: which top-level Strata
// folders each folder's packages may depend on (itself always allowed).
var allowed = map[string][]string{
	"node":    {"cluster", "origin", "edge", "web"},
	"cluster": {},
	"origin":  {"cluster"},
	"edge":    {"cluster"},
	"web":     {},
	"deploy":  {"cluster", "origin", "edge", "web"},
}

// TestImportRules walks every package's dependencies with `go list -deps`
// and fails on an import the design does not allow.
func TestImportRules(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps=false", "-f", "{{.ImportPath}}|{{join .Deps \",\"}}|{{join .Imports \",\"}}", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		pkg := parts[0]
		top := topFolder(pkg)
		rules, known := allowed[top]
		if !known {
			t.Errorf("%s is in a top-level folder %q the design does not have", pkg, top)
			continue
		}
		for _, dep := range strings.Split(parts[1], ",") {
			if !strings.HasPrefix(dep, module+"/") {
				continue
			}
			dt := topFolder(dep)
			if dt != top && !contains(rules, dt) {
				t.Errorf("%s depends on %s: %s/ may not import %s/", pkg, dep, top, dt)
			}
		}
		if top == "web" {
			for _, imp := range strings.Split(parts[2], ",") {
				if imp != "" && imp != "embed" {
					t.Errorf("%s imports %s: web/ may import only embed", pkg, imp)
				}
			}
		}
	}
}

func topFolder(pkg string) string {
	rest := strings.TrimPrefix(pkg, module+"/")
	top, _, _ := strings.Cut(rest, "/")
	return top
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
