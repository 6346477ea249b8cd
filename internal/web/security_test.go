package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store/storetest"
	"roster/internal/workflow/workflowtest"
)

// routePath fills a route's pattern with plausible values.
func routePath(rt route) string {
	r := strings.NewReplacer("{$}", "", "{id}", "1", "{kind}", "invite", "{hash}", "0", "{name}", "x")
	return r.Replace(rt.Path)
}

func TestEveryRouteNeedsLogin(t *testing.T) {
	t.Parallel()
	b := setup(t, withEngine(&workflowtest.Jobs{}, nil)) // with the workflow routes
	b.operator(t, "ann@example.com", roster.RoleAdmin, "correct horse battery")
	br := b.browser(t)
	checked := 0
	for _, rt := range b.srv.routes {
		if rt.Access == public {
			continue
		}
		checked++
		path := routePath(rt)
		if rt.Method == http.MethodGet {
			p := br.get(path)
			require.Equal(t, http.StatusSeeOther, p.StatusCode, "GET %s", path)
			require.True(t, strings.HasPrefix(p.location(), "/login?next="), "GET %s went to %s", path, p.location())
			continue
		}
		p := br.do(rt.Method, path, url.Values{"csrf": {"whatever"}})
		require.Equal(t, http.StatusUnauthorized, p.StatusCode, "%s %s", rt.Method, path)
	}
	require.Greater(t, checked, 8)

	// A forged or stale session cookie is no login either.
	br.c.Jar.SetCookies(mustURL(t, b.ts.URL), []*http.Cookie{{Name: httpauth.SessionCookie, Value: strings.Repeat("A", 43)}})
	require.Equal(t, http.StatusSeeOther, br.get("/").StatusCode)
}

// TestPublicPostsCheckCSRF: a public POST (no session yet) checks its
// own double-submit CSRF token, but for one route: an approval link's
// confirm form. The approver has no session nor roster cookie, and the
// HMAC-signed token in its path is the capability (approvalLinkPattern),
// so a forged cross-site POST could only carry a token its author holds.
// A bogus token is refused by the link's own check (403, "not valid").
func TestPublicPostsCheckCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t, withEngine(&workflowtest.Jobs{}, nil))
	b.operator(t, "ann@example.com", roster.RoleAdmin, "correct horse battery")
	br := b.browser(t)
	checked := 0
	for _, rt := range b.srv.routes {
		if rt.Access != public || httpauth.SafeMethod(rt.Method) {
			continue
		}
		checked++
		path := strings.ReplaceAll(routePath(rt), "{token}", "bogus")
		p := br.do(rt.Method, path, url.Values{"email": {"ann@example.com"}, "password": {"correct horse battery"}})
		require.Equal(t, http.StatusForbidden, p.StatusCode, "%s %s", rt.Method, path)
		if rt.Path == approvalLinkPattern {
			require.NotContains(t, p.Body, "CSRF", "the approval link takes no CSRF token")
			require.Contains(t, p.Body, "not valid")
			continue
		}
		require.Contains(t, p.Body, "CSRF", "%s %s", rt.Method, path)
	}
	require.Equal(t, 3, checked, "setup, login and the approval link")
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		br := f.loggedIn(t, roster.RoleAdmin)
		acc := someAccount(t, f)
		before := storetest.Dump(t, db)

		for _, tc := range []struct {
			name string
			form url.Values
			hdr  []string
		}{
			{"Missing", url.Values{}, nil},
			{"Wrong", url.Values{"csrf": {"not-the-token"}}, nil},
			{"WrongHeader", url.Values{}, []string{httpauth.CSRFHeader, "not-the-token"}},
		} {
			settings := url.Values{"inactivity_days": {"7"}, "currency": {"EUR"}, "sync_interval_hours": {"1"}}
			for k, v := range tc.form {
				settings[k] = v
			}
			p := br.do("POST", "/settings", settings, tc.hdr...)
			require.Equal(t, http.StatusForbidden, p.StatusCode, tc.name)
			require.Contains(t, p.Body, "CSRF")
			p = br.do("POST", "/users/"+acc+"/actions/remove", url.Values{"key": {"k1"}, "connection": {"1"}, "team": {"x"}, "confirm": {"1"}}, tc.hdr...)
			require.Equal(t, http.StatusForbidden, p.StatusCode, tc.name)
			p = br.do("POST", "/logout", tc.form, tc.hdr...)
			require.Equal(t, http.StatusForbidden, p.StatusCode, tc.name)
		}
		require.Equal(t, before, storetest.Dump(t, db), "a refused POST changed the database")
		require.Equal(t, http.StatusOK, br.get("/").StatusCode, "still logged in")

		// The token works in the header too, as htmx sends it.
		p := br.do("POST", "/settings", url.Values{"inactivity_days": {"7"}, "currency": {"EUR"}, "sync_interval_hours": {"1"}}, httpauth.CSRFHeader, br.csrf)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		home := br.mustGet("/")
		require.Contains(t, home.Body, `hx-headers="{&#34;X-CSRF-Token&#34;:&#34;`+br.csrf+`&#34;}"`)
	})
}

func TestViewerCannotAct(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleViewer)
	acc := someAccount(t, f)
	before := storetest.Dump(t, f.db)

	// A viewer's user page shows no actions: no menu, no form, no button.
	p := br.mustGet("/users/" + acc)
	main := findAll(parseHTML(t, p.Body), "main", "")[0]
	require.Empty(t, findAll(main, "form", ""), "a form on a viewer's user page")
	require.Empty(t, findAll(main, "button", ""), "a button on a viewer's user page")
	require.NotContains(t, p.Body, "actions-menu")
	p = br.mustGet("/settings")
	require.Contains(t, p.Body, "<fieldset disabled>")

	for _, kind := range []string{"invite", "remove", "role"} {
		p := br.post("/users/"+acc+"/actions/"+kind, url.Values{"key": {"k-" + kind}, "connection": {"1"}, "team": {"t"}, "email": {"x@example.com"}, "role": {"admin"}, "confirm": {"1"}})
		require.Equal(t, http.StatusForbidden, p.StatusCode, kind)
		require.Contains(t, p.Body, "Viewers cannot act")
	}
	p = br.post("/settings", url.Values{"inactivity_days": {"1"}, "currency": {"EUR"}, "sync_interval_hours": {"1"}})
	require.Equal(t, http.StatusForbidden, p.StatusCode)
	require.Equal(t, before, storetest.Dump(t, f.db))
	require.Zero(t, f.sim.Stats().ByOperation["InviteTeamMembers"].Calls)
}

func TestInjection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	ctx := context.Background()
	br := f.loggedIn(t, roster.RoleAdmin)
	before, err := f.db.ListAccounts(ctx, storeQueryAll())
	require.NoError(t, err)

	for _, q := range []string{"' OR 1=1 --", "\" OR \"\"=\"", "%", "_", "'; DROP TABLE accounts; --", "<script>alert(1)</script>"} {
		p := br.get("/users?q=" + url.QueryEscape(q))
		require.Equal(t, http.StatusOK, p.StatusCode, q)
		require.Equal(t, 0, total(t, p.Body), "search %q matched someone", q)
		require.NotContains(t, p.Body, "<script>alert(1)</script>")
	}
	p := br.mustGet("/users?q=" + url.QueryEscape("<script>alert(1)</script>"))
	require.Contains(t, p.Body, `value="&lt;script&gt;alert(1)&lt;/script&gt;"`)

	// Forms echo input escaped.
	p = br.post("/settings", url.Values{"inactivity_days": {"<b>x</b>"}, "currency": {"<script>alert(1)</script>"}, "sync_interval_hours": {"1"}})
	require.Equal(t, http.StatusBadRequest, p.StatusCode)
	require.NotContains(t, p.Body, "<script>alert(1)</script>")
	require.NotContains(t, p.Body, "<b>x</b>")
	acc := someAccount(t, f)
	form := inviteForm(t, br, acc, f.org.ID)
	form.Set("email", `"><script>alert(1)</script>@example.com`)
	p = br.post("/users/"+acc+"/actions/invite", form)
	require.Equal(t, http.StatusBadRequest, p.StatusCode)
	require.NotContains(t, p.Body, "<script>alert(1)</script>")
	require.Contains(t, p.Body, "is not an email address")

	after, err := f.db.ListAccounts(ctx, storeQueryAll())
	require.NoError(t, err)
	require.Equal(t, before.Total, after.Total, "the accounts survived")
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.loggedIn(t, roster.RoleAdmin)
	css, err := b.srv.assets.url("app.css")
	require.NoError(t, err)
	for _, path := range []string{"/", "/users", "/login", "/nope", css, "/static/0/app.css", "/users/999"} {
		p := br.get(path)
		h := p.Header
		require.Equal(t, "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'", h.Get("Content-Security-Policy"), path)
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		require.Equal(t, "DENY", h.Get("X-Frame-Options"), path)
		require.Equal(t, "same-origin", h.Get("Referrer-Policy"), path)
	}
	p := br.get(css)
	require.Equal(t, http.StatusOK, p.StatusCode)
	require.Equal(t, "public, max-age=31536000, immutable", p.Header.Get("Cache-Control"))
	require.Equal(t, http.StatusNotFound, br.get("/static/0/app.css").StatusCode, "a stale fingerprint")
	require.Equal(t, http.StatusNotFound, br.get("/users/999").StatusCode)

	// No inline script or style anywhere.
	home := br.mustGet("/")
	require.NotRegexp(t, `<script>|<style|style="|onclick=`, home.Body)
}

// A body over the limit is said too large (413) before the CSRF check
// reads it, whether its length is declared or it comes in chunks, on
// forms behind the login and on the public ones; nothing is written.
func TestOversizedBody(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.loggedIn(t, roster.RoleAdmin)
	before := storetest.Dump(t, b.db)
	big := "inactivity_days=7&csrf=" + br.csrf + "&pad=" + strings.Repeat("x", maxFormBytes)
	for _, path := range []string{"/settings", "/login", "/setup"} {
		for _, chunked := range []bool{false, true} {
			var body io.Reader = strings.NewReader(big)
			if chunked {
				body = io.MultiReader(body) // no length known: sent in chunks
			}
			req, err := http.NewRequest("POST", b.ts.URL+path, body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if chunked {
				req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
			}
			resp, err := br.c.Do(req)
			require.NoError(t, err)
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%s chunked=%v: %s", path, chunked, raw)
			require.Contains(t, string(raw), "too large")
		}
	}
	require.Equal(t, before, storetest.Dump(t, b.db))
}
