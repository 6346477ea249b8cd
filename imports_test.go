package roster_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// importRules is who may import whom: each package of the module (by its
// path inside the module) and the module packages it may import. It is
// the table at the top of ARCHITECTURE.md, enforced. A package missing
// from it fails the test, so a new package gets a line here and there.
var importRules = map[string][]string{
	// The domain: no internal package, no I/O.
	".": {},
	// Leaves: Miro's client and simulator, and sealing, import nothing of ours.
	"internal/miro":    {},
	"internal/mirosim": {},
	"internal/secret":  {},
	// Storage.
	"internal/store":           {"."},
	"internal/store/sqlstore":  {".", "internal/store"},
	"internal/store/storetest": {".", "internal/store", "internal/store/sqlstore"},
	// Capabilities.
	"internal/connect":               {".", "internal/miro", "internal/store"},
	"internal/mirosync":              {".", "internal/miro", "internal/store", "internal/connect"},
	"internal/action":                {".", "internal/miro", "internal/store", "internal/connect"},
	"internal/directory":             {".", "internal/store"},
	"internal/insights":              {"."},
	"internal/licenses":              {".", "internal/store", "internal/insights", "internal/notify"},
	"internal/notify":                {"."},
	"internal/workflow":              {".", "internal/store", "internal/action", "internal/notify"},
	"internal/jobs":                  {".", "internal/store", "internal/store/sqlstore", "internal/workflow", "internal/licenses"},
	"internal/metrics":               {".", "internal/store"},
	"internal/notify/notifytest":     {"internal/notify"},
	"internal/workflow/workflowtest": {"internal/workflow"},
	// HTTP: three packages sharing httpauth, none of them a store backend.
	"internal/httpauth": {".", "internal/store"},
	"internal/web": {".", "internal/store", "internal/httpauth", "internal/insights", "internal/action", "internal/connect",
		"internal/directory", "internal/workflow", "internal/miro", "internal/licenses", "internal/notify"},
	"internal/api": {".", "internal/store", "internal/httpauth", "internal/insights", "internal/action", "internal/directory",
		"internal/workflow", "internal/licenses"},
	"internal/scim": {".", "internal/store", "internal/httpauth", "internal/directory"},
	// Tests' kit: the simulator, a store, the clients, sessions.
	"internal/testkit": {".", "internal/miro", "internal/mirosim", "internal/secret", "internal/store", "internal/store/sqlstore",
		"internal/store/storetest", "internal/connect", "internal/mirosync", "internal/httpauth"},
	// Wiring: the binary, and a seeding tool for benchmarks.
	"cmd/roster":        {"*"},
	"scripts/benchseed": {".", "internal/store", "internal/store/sqlstore", "internal/store/storetest", "internal/httpauth"},
}

// noHTTP are the packages that must not import net/http: the domain and
// the capabilities that hold logic. They hold no *http.Client either
// (internal/connect owns the Miro clients), so handlers stay thin and
// logic stays testable without a server.
var noHTTP = []string{".", "internal/store", "internal/store/sqlstore", "internal/insights", "internal/licenses", "internal/directory",
	"internal/action", "internal/mirosync", "internal/workflow", "internal/jobs", "internal/secret"}

// testOnly are helper packages for tests: no production package imports them.
var testOnly = []string{"internal/testkit", "internal/store/storetest", "internal/notify/notifytest", "internal/workflow/workflowtest"}

// listedPackage is what `go list -json` says of a package.
type listedPackage struct {
	ImportPath string
	Module     *struct{ Path string }
	Imports    []string // the package's own imports, test files excluded
}

// TestImportRules reads the module's import graph and fails on any
// import across a line the rules draw.
func TestImportRules(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		t.Fatalf("go list: %v\n%s", err, exitErr.Stderr)
	}
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; expected the whole module", len(pkgs))
	}
	for _, v := range importViolations(pkgs) {
		t.Error(v)
	}
}

// TestImportRulesCatchAWrongImport: the checker fails a package that
// imports across a line (the dashboard importing a store backend, the
// domain importing the store, an action importing net/http, anyone
// importing cmd or the test kit), so the rules cannot rot silently.
func TestImportRulesCatchAWrongImport(t *testing.T) {
	t.Parallel()
	mod := &struct{ Path string }{"roster"}
	wrong := []listedPackage{
		{ImportPath: "roster/internal/web", Module: mod, Imports: []string{"roster/internal/store/sqlstore"}},
		{ImportPath: "roster", Module: mod, Imports: []string{"roster/internal/store"}},
		{ImportPath: "roster/internal/action", Module: mod, Imports: []string{"net/http"}},
		{ImportPath: "roster/internal/api", Module: mod, Imports: []string{"roster/cmd/roster"}},
		{ImportPath: "roster/internal/scim", Module: mod, Imports: []string{"roster/internal/testkit"}},
		{ImportPath: "roster/internal/brandnew", Module: mod},
	}
	got := importViolations(wrong)
	for _, want := range []string{
		"internal/web imports internal/store/sqlstore",
		". imports internal/store",
		"internal/action imports net/http",
		"internal/api imports cmd/roster",
		"internal/scim imports internal/testkit",
		"internal/brandnew has no line in importRules",
	} {
		if !slices.ContainsFunc(got, func(v string) bool { return strings.HasPrefix(v, want) }) {
			t.Errorf("no violation %q in %q", want, got)
		}
	}
	if ok := importViolations(wrong[:0]); len(ok) != 0 {
		t.Errorf("no packages, yet violations: %q", ok)
	}
}

// importViolations checks pkgs against the rules and says, in words, each
// import that crosses a line.
func importViolations(pkgs []listedPackage) []string {
	var out []string
	for _, p := range pkgs {
		if p.Module == nil {
			continue
		}
		name := shortName(p.Module.Path, p.ImportPath)
		allowed, known := importRules[name]
		if !known {
			out = append(out, fmt.Sprintf("%s has no line in importRules (imports_test.go) nor in ARCHITECTURE.md's table", name))
			continue
		}
		for _, imp := range p.Imports {
			if imp == "net/http" && slices.Contains(noHTTP, name) {
				out = append(out, fmt.Sprintf("%s imports net/http: logic packages serve and call no HTTP (connect owns the Miro clients)", name))
			}
			if imp != p.Module.Path && !strings.HasPrefix(imp, p.Module.Path+"/") {
				continue
			}
			dep := shortName(p.Module.Path, imp)
			switch {
			case strings.HasPrefix(dep, "cmd/"):
				out = append(out, fmt.Sprintf("%s imports %s: nothing imports cmd", name, dep))
			case slices.Contains(testOnly, dep) && !slices.Contains(testOnly, name) && name != "scripts/benchseed":
				out = append(out, fmt.Sprintf("%s imports %s, a helper for tests only", name, dep))
			case !slices.Contains(allowed, "*") && !slices.Contains(allowed, dep):
				out = append(out, fmt.Sprintf("%s imports %s, which its line in importRules does not allow", name, dep))
			}
		}
	}
	return out
}

// shortName is a package's path inside the module: "." for the root.
func shortName(module, path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}
