package api

import (
	_ "embed"
	"net/http"
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
