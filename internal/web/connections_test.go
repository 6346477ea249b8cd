package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/connect"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/store"
)

// fakeJobs is a SyncEnqueuer that remembers what is queued, unique per
// connection like River's sync jobs.
type fakeJobs struct {
	mu     sync.Mutex
	queued map[int64]bool
}

func (j *fakeJobs) EnqueueSync(_ context.Context, id int64) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.queued[id] {
		return false, nil
	}
	if j.queued == nil {
		j.queued = map[int64]bool{}
	}
	j.queued[id] = true
	return true, nil
}

// connFixture is the dashboard over a synced simulator with "Add
// connection" and disconnect wired to it, and fake sync jobs.
type connFixture struct {
	*fixture
	jobs *fakeJobs
}

func newConnFixture(t *testing.T) *connFixture {
	t.Helper()
	return newConnFixtureOn(t, openSQLite(t))
}

// newConnFixtureOn is newConnFixture on db.
func newConnFixtureOn(t *testing.T, db *storeDB) *connFixture {
	t.Helper()
	svc := &connect.Service{}
	jobs := &fakeJobs{}
	f := newFixture(t, db, func(c *Config) {
		c.Connect, c.Jobs = svc, jobs
	})
	app, err := connect.App{ClientID: f.info.ClientID, ClientSecret: f.info.ClientSecret, APIBaseURL: f.info.APIBaseURL}.Resolve()
	require.NoError(t, err)
	*svc = connect.Service{Store: f.db, Clients: f.kit.NewClients(f.db)}
	svc.Clients.App = app
	return &connFixture{fixture: f, jobs: jobs}
}

// connectViaSim runs "Add connection" at level through the simulator's
// consent page as userID on teamID, granting scopes (all the plan allows
// when none), and returns the callback's page.
func (f *connFixture) connectViaSim(t *testing.T, br *browser, level roster.Level, userID, teamID string, scopes ...string) page {
	t.Helper()
	p := br.mustGet("/connections/new")
	href := ""
	for _, a := range findAll(parseHTML(t, p.Body), "a", "button") {
		if attr(a, "id") == "connect-"+string(level) {
			href = attr(a, "href")
		}
	}
	require.NotEmpty(t, href, "no connect link for %s", level)
	p = br.get(href)
	require.Equal(t, http.StatusFound, p.StatusCode, p.Body)
	authURL, err := url.Parse(p.location())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(p.location(), f.info.AuthorizeURL+"?"), p.location())

	// The consent page's form, as Miro's user would submit it.
	form := authURL.Query()
	form.Del("response_type")
	form.Set("user_id", userID)
	form.Set("team_id", teamID)
	form.Set("decision", "approve")
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(f.info.AuthorizeURL, form)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, callbackPath, back.Path)
	return br.get(back.RequestURI())
}

func TestAddConnection(t *testing.T) {
	t.Parallel()
	f := newConnFixture(t)
	ctx := context.Background()
	br := f.loggedIn(t, roster.RoleAdmin)
	admin := f.info.Installs[mirosim.InstallOrgAdmin]

	t.Run("OK", func(t *testing.T) {
		// A team of the organization, at team level, as the Company Admin.
		var teamID string
		for _, id := range f.info.TeamIDs {
			if _, err := f.admin.TeamMember(ctx, f.info.OrgID, id, admin.UserID); err == nil && id != admin.TeamID {
				teamID = id
			}
		}
		require.NotEmpty(t, teamID, "the Company Admin is in no other team")
		p := f.connectViaSim(t, br, roster.LevelTeam, admin.UserID, teamID)
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		c, err := f.db.FindConnection(ctx, roster.LevelTeam, "", teamID)
		require.NoError(t, err)
		require.Contains(t, p.Body, "Saved as connection "+strconv.FormatInt(c.ID, 10)+".")
		require.Contains(t, p.Body, roster.CapManage)
		require.True(t, f.jobs.queued[c.ID], "the first sync is queued")
		require.NotContains(t, p.Body, admin.AccessToken)
		entries, err := f.db.AuditEntries(ctx, store.AuditFilter{Kind: "connection", ConnectionID: c.ID})
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Equal(t, "ok", entries[0].Result)

		// The callback is single use: the cookie is gone.
		q := url.Values{"state": {"x"}, "code": {"y"}}
		p = br.get(callbackPath + "?" + q.Encode())
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "already used or has expired")
	})

	t.Run("ErrAlreadyConnected", func(t *testing.T) {
		before, err := f.db.Connections(ctx)
		require.NoError(t, err)
		p := f.connectViaSim(t, br, roster.LevelOrganization, admin.UserID, admin.TeamID)
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "is already connected (connection "+strconv.FormatInt(f.org.ID, 10)+")")
		after, err := f.db.Connections(ctx)
		require.NoError(t, err)
		require.Equal(t, len(before), len(after))
	})

	t.Run("ErrWrongState", func(t *testing.T) {
		p := br.mustGet("/connections/new")
		var href string
		for _, a := range findAll(parseHTML(t, p.Body), "a", "button") {
			if attr(a, "id") == "connect-team" {
				href = attr(a, "href")
			}
		}
		p = br.get(href)
		require.Equal(t, http.StatusFound, p.StatusCode)
		p = br.get(callbackPath + "?state=forged&code=whatever")
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "wrong state")
	})

	t.Run("ErrCSRF", func(t *testing.T) {
		p := br.get("/connections/authorize?level=team&csrf=wrong")
		require.Equal(t, http.StatusForbidden, p.StatusCode)
		require.Empty(t, p.Header.Values("Set-Cookie"))
	})

	t.Run("ErrOtherSession", func(t *testing.T) {
		// A cookie from another login session is refused.
		other := f.browser(t)
		f.operator(t, "other@example.com", roster.RoleAdmin, "correct horse battery")
		require.Equal(t, http.StatusSeeOther, other.login("other@example.com", "correct horse battery").StatusCode)
		p := br.get("/connections/authorize?level=team&csrf=" + url.QueryEscape(br.csrf))
		require.Equal(t, http.StatusFound, p.StatusCode)
		u, _ := url.Parse(br.b.ts.URL)
		for _, c := range br.c.Jar.Cookies(&url.URL{Scheme: "http", Host: u.Host, Path: "/connections"}) {
			if c.Name == oauthCookie {
				other.c.Jar.SetCookies(&url.URL{Scheme: "http", Host: u.Host, Path: "/connections"}, []*http.Cookie{c})
			}
		}
		state, _ := url.Parse(p.location())
		p = other.get(callbackPath + "?state=" + url.QueryEscape(state.Query().Get("state")) + "&code=x")
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "another login session")
	})

	t.Run("ErrViewer", func(t *testing.T) {
		v := f.loggedIn(t, roster.RoleViewer)
		p := v.mustGet("/connections")
		require.Contains(t, p.Body, ViewerReason)
		require.Equal(t, http.StatusForbidden, v.get("/connections/new").StatusCode)
	})
}

func TestSyncNow(t *testing.T) {
	t.Parallel()
	f := newConnFixture(t)
	ctx := context.Background()
	br := f.loggedIn(t, roster.RoleAdmin)
	id := strconv.FormatInt(f.org.ID, 10)

	// The list shows each connection's last sync with its counts and its
	// calls to Miro, in plain words.
	list := br.mustGet("/connections")
	runs, err := f.db.SyncRuns(ctx, f.org.ID, 1)
	require.NoError(t, err)
	section := findAll(parseHTML(t, list.Body), "section", "connection")
	require.Len(t, section, 2)
	last := strings.ReplaceAll(text(findAll(section[0], "p", "last-sync")[0]), ",", "")
	require.Contains(t, last, "succeeded")
	require.Contains(t, last, strconv.Itoa(runs[0].Added)+" added")
	require.Contains(t, last, strconv.Itoa(runs[0].APICalls)+" calls to Miro")
	require.NotContains(t, strings.ToLower(text(section[0])), "credit")
	require.Contains(t, text(section[0]), "usage data")

	p := br.post("/connections/"+id+"/sync", nil)
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	require.Equal(t, "/connections?queued="+id+"#connection-"+id, p.location())
	require.Contains(t, br.mustGet("/connections?queued="+id).Body, "queued; it runs in the background")
	p = br.post("/connections/"+id+"/sync", nil)
	require.Equal(t, "/connections?already="+id+"#connection-"+id, p.location())
	require.Contains(t, br.mustGet("/connections?already="+id).Body, "already queued or running")

	entries, err := f.db.AuditEntries(ctx, store.AuditFilter{Kind: "sync", ConnectionID: f.org.ID})
	require.NoError(t, err)
	var requests []string
	for _, e := range entries {
		if e.Action == "sync_now" {
			requests = append(requests, e.Detail)
		}
	}
	require.Equal(t, []string{"a sync was already queued or running", "sync queued"}, requests, "both requests are audited, newest first")

	t.Run("ErrViewer", func(t *testing.T) {
		v := f.loggedIn(t, roster.RoleViewer)
		require.Equal(t, http.StatusForbidden, v.post("/connections/"+id+"/sync", nil).StatusCode)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		require.Equal(t, http.StatusNotFound, br.post("/connections/999/sync", nil).StatusCode)
	})
}

func TestDisconnect(t *testing.T) {
	t.Parallel()
	f := newConnFixture(t)
	ctx := context.Background()
	br := f.loggedIn(t, roster.RoleAdmin)
	id := strconv.FormatInt(f.team.ID, 10)

	t.Run("ErrNotConfirmed", func(t *testing.T) {
		p := br.post("/connections/"+id+"/disconnect", nil)
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		c, err := f.db.Connection(ctx, f.team.ID)
		require.NoError(t, err)
		require.Equal(t, roster.StatusActive, c.Status)
	})

	t.Run("OK", func(t *testing.T) {
		tok := f.info.Installs[mirosim.InstallNonEnterpriseTeam].AccessToken
		p := br.post("/connections/"+id+"/disconnect", url.Values{"confirm": {"1"}})
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.Equal(t, "/connections?disconnected="+id+"#connection-"+id, p.location())

		c, err := f.db.Connection(ctx, f.team.ID)
		require.NoError(t, err)
		require.Equal(t, roster.StatusDisconnected, c.Status)
		require.Empty(t, c.SealedToken, "the token is deleted")
		runs, err := f.db.SyncRuns(ctx, f.team.ID, 10)
		require.NoError(t, err)
		require.NotEmpty(t, runs, "history is kept")

		// Miro no longer accepts the token.
		client, err := miro.New(miro.Config{BaseURL: f.info.APIBaseURL, Token: miro.StaticToken(tok), MaxRetries: 1})
		require.NoError(t, err)
		_, err = client.TokenInfo(ctx)
		require.Error(t, err)

		entries, err := f.db.AuditEntries(ctx, store.AuditFilter{Kind: "connection", ConnectionID: f.team.ID})
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Equal(t, "disconnect", entries[0].Action)
		require.Contains(t, entries[0].Detail, "revoked")

		list := br.mustGet("/connections?disconnected=" + id)
		require.Contains(t, list.Body, "is disconnected: its token was revoked at Miro")
		// Sync now is off for it, and the scheduler's job would cancel.
		p = br.post("/connections/"+id+"/sync", nil)
		require.Equal(t, http.StatusConflict, p.StatusCode)
		require.False(t, f.jobs.queued[f.team.ID])
	})

	t.Run("ErrViewer", func(t *testing.T) {
		v := f.loggedIn(t, roster.RoleViewer)
		p := v.post("/connections/"+strconv.FormatInt(f.org.ID, 10)+"/disconnect", url.Values{"confirm": {"1"}})
		require.Equal(t, http.StatusForbidden, p.StatusCode)
	})
}
