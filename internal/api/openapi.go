package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// openAPIDoc is the API's OpenAPI 3 document, written by hand. A test
// checks it against routeList and validates real answers against it.
//
//go:embed openapi.json
var openAPIDoc []byte

// apiOpenAPI is GET /api/v1/openapi.json.
func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIDoc)
	return nil
}

// queryParams reads, from openAPIDoc, the query parameters each operation
// takes, keyed by "METHOD path": the document is the one list, so that a
// parameter the API does not know is refused rather than ignored.
func queryParams() (map[string][]string, error) {
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []openAPIParam `json:"parameters"`
		} `json:"paths"`
		Components struct {
			Parameters map[string]openAPIParam `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		return nil, fmt.Errorf("api: read openapi.json: %w", err)
	}
	out := make(map[string][]string)
	for path, ops := range doc.Paths {
		for method, op := range ops {
			names := []string{}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				}
				if p.In == "query" {
					names = append(names, p.Name)
				}
			}
			out[strings.ToUpper(method)+" "+path] = names
		}
	}
	return out, nil
}

type openAPIParam struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

// checkQuery refuses a query parameter the route does not take, naming
// it and those it does.
func checkQuery(r *http.Request, allowed []string) error {
	for name := range r.URL.Query() {
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return invalidField(name, "unknown query parameter %q: this route takes none", name)
			}
			return invalidField(name, "unknown query parameter %q: this route takes %s", name, strings.Join(allowed, ", "))
		}
	}
	return nil
}
