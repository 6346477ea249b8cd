package web

import (
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"roster"
)

// TestTemplatesAtStartup: a missing or broken template fails parsing,
// which New does before serving anything.
func TestTemplatesAtStartup(t *testing.T) {
	t.Parallel()
	a, err := loadAssets(staticFS)
	require.NoError(t, err)
	_, err = parseTemplates(templateFS, a)
	require.NoError(t, err)

	full := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, p)
		full[p] = &fstest.MapFile{Data: b}
		return err
	}))

	missing := fstest.MapFS{}
	for k, v := range full {
		if k != "templates/users.html" {
			missing[k] = v
		}
	}
	_, err = parseTemplates(missing, a)
	require.ErrorContains(t, err, "users")

	noContent := fstest.MapFS{}
	for k, v := range full {
		noContent[k] = v
	}
	noContent["templates/teams.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}x{{end}}`)}
	_, err = parseTemplates(noContent, a)
	require.ErrorContains(t, err, `defines no "content"`)

	_, err = loadAssets(fstest.MapFS{"static/app.css": {Data: []byte("x")}})
	require.ErrorContains(t, err, "htmx")
}

// TestEveryPageRenders gets every page of the route list, as an admin and
// as a viewer, on a synced store.
func TestEveryPageRenders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	acc := someAccount(t, f)
	for _, role := range []roster.Role{roster.RoleAdmin, roster.RoleViewer} {
		br := f.loggedIn(t, role)
		for _, rt := range f.srv.routes {
			if rt.Method != http.MethodGet || rt.Access == public {
				continue
			}
			if rt.Access == admin && role == roster.RoleViewer {
				continue // 403: TestViewerCannotAct
			}
			if rt.Path == "/connections/authorize" || rt.Path == callbackPath {
				continue // OAuth hops, not pages: connections_test.go
			}
			path := strings.ReplaceAll(routePath(rt), "/users/1", "/users/"+acc)
			if path == "/users.csv" {
				// The export's old address: a redirect to the API's.
				require.Equal(t, http.StatusMovedPermanently, br.get(path).StatusCode)
				continue
			}
			if strings.HasSuffix(path, ".csv") {
				require.Equal(t, "text/csv; charset=utf-8", br.mustGet(path).Header.Get("Content-Type"), path)
				continue
			}
			p := br.mustGet(path)
			require.Contains(t, p.Body, "</html>", path)
			require.Contains(t, p.Body, `aria-current="page"`, "%s highlights its nav entry", path)
		}
	}
}
