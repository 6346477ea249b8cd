package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/jobs"
	"roster/internal/store/storetest"
	"roster/internal/workflow/workflowtest"
)

// unstartedSyncer is the Syncer of a Runner that is never started: its
// jobs stay queued for River UI to show, and none is ever worked.
type unstartedSyncer struct{}

func (unstartedSyncer) Sync(context.Context, int64) (roster.SyncRun, error) {
	return roster.SyncRun{}, errors.New("this test's runner works no job")
}

// riverJob is the part of River UI's job JSON the tests read.
type riverJob struct {
	ID    int64  `json:"id"`
	Kind  string `json:"kind"`
	State string `json:"state"`
}

// TestRiverUI: River UI at /admin/jobs, over the jobs Runner's own River
// client, on both backends. An admin sees its page and a real queued
// sync in its API, and cancels it; a viewer gets 403, a stranger the
// login; a POST without the session's CSRF token, or from another site
// even with it, is refused and changes nothing.
func TestRiverUI(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		runner, err := jobs.New(ctx, jobs.Config{DB: db, DSN: dsn, Syncer: unstartedSyncer{}})
		require.NoError(t, err)
		t.Cleanup(runner.Close)
		queued, err := runner.EnqueueSync(ctx, 42)
		require.NoError(t, err)
		require.True(t, queued)

		b := setupOn(t, db, func(c *Config) { c.Jobs = runner })
		adminBr := b.loggedIn(t, roster.RoleAdmin)

		// The page: River UI's index, with the CSRF shim, under roster's
		// CSP with inline styles allowed for this prefix only.
		p := adminBr.get(riverUIPrefix + "/")
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		require.Contains(t, p.Body, `"apiUrl":"/admin/jobs/api"`)
		require.Contains(t, p.Body, `<meta name="roster-csrf" content="`+adminBr.csrf+`">`)
		require.Contains(t, p.Body, `<script src="/admin/jobs/roster-csrf.js"></script>`)
		csp := p.Header.Get("Content-Security-Policy")
		require.Contains(t, csp, "script-src 'self';")
		require.Contains(t, csp, "style-src 'self' 'unsafe-inline';")
		require.Equal(t, "no-store", p.Header.Get("Cache-Control"))
		home := adminBr.mustGet("/")
		require.Contains(t, home.Header.Get("Content-Security-Policy"), "style-src 'self';", "the rest of the dashboard keeps its CSP")

		// Its assets, as the index names them, and the shim.
		asset := regexp.MustCompile(`/admin/jobs/assets/main-[^"]+\.js`).FindString(p.Body)
		require.NotEmpty(t, asset, p.Body)
		a := adminBr.get(asset)
		require.Equal(t, http.StatusOK, a.StatusCode)
		require.Contains(t, a.Header.Get("Content-Type"), "javascript")
		shim := adminBr.get(riverUIShimPath)
		require.Equal(t, http.StatusOK, shim.StatusCode)
		require.Contains(t, shim.Body, httpauth.CSRFHeader)

		// Its API lists the queued sync.
		p = adminBr.get(riverUIPrefix+"/api/jobs?state=available", "Accept", "application/json")
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		require.Contains(t, p.Header.Get("Content-Type"), "application/json")
		var list struct {
			Data []riverJob `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(p.Body), &list), p.Body)
		require.Len(t, list.Data, 1, p.Body)
		job := list.Data[0]
		require.Equal(t, jobs.SyncArgs{}.Kind(), job.Kind)
		require.Equal(t, "available", job.State)
		jobPath := riverUIPrefix + "/api/jobs/" + strconv.FormatInt(job.ID, 10)
		state := func() string {
			t.Helper()
			p := adminBr.get(jobPath)
			require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
			var j riverJob
			require.NoError(t, json.Unmarshal([]byte(p.Body), &j), p.Body)
			return j.State
		}

		// Others: a viewer is refused, a stranger sent to log in.
		viewerBr := b.loggedIn(t, roster.RoleViewer)
		for _, path := range []string{riverUIPrefix + "/", riverUIPrefix + "/api/jobs", jobPath} {
			require.Equal(t, http.StatusForbidden, viewerBr.get(path).StatusCode, path)
			anon := b.browser(t).get(path)
			require.Equal(t, http.StatusSeeOther, anon.StatusCode, path)
			require.True(t, strings.HasPrefix(anon.location(), "/login?next="), anon.location())
		}

		// Cancelling: refused without the token, and from another site
		// even with it; the job is still queued after each.
		cancel := func(br *browser, headers ...string) page {
			t.Helper()
			req, err := http.NewRequest(http.MethodPost, b.ts.URL+riverUIPrefix+"/api/jobs/cancel",
				strings.NewReader(`{"ids":["`+strconv.FormatInt(job.ID, 10)+`"]}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(headers); i += 2 {
				req.Header.Set(headers[i], headers[i+1])
			}
			resp, err := br.c.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return page{resp, string(body)}
		}
		crossSite := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}
		p = cancel(adminBr, crossSite...)
		require.Equal(t, http.StatusForbidden, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "CSRF")
		p = cancel(adminBr, append(crossSite, httpauth.CSRFHeader, adminBr.csrf)...)
		require.Equal(t, http.StatusForbidden, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "roster&#39;s own pages")
		p = cancel(viewerBr, httpauth.CSRFHeader, viewerBr.csrf)
		require.Equal(t, http.StatusForbidden, p.StatusCode, p.Body)
		require.Equal(t, "available", state())

		// The way River UI sends it, through the shim: same origin, token.
		p = cancel(adminBr, "Origin", b.ts.URL, "Sec-Fetch-Site", "same-origin", httpauth.CSRFHeader, adminBr.csrf)
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		require.Equal(t, "cancelled", state())
	})
}

// TestRiverUIWithoutJobs: a dashboard without a jobs runner has no
// /admin/jobs, as it has no workflow pages without an engine.
func TestRiverUIWithoutJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.loggedIn(t, roster.RoleAdmin)
	for _, rt := range b.srv.routes {
		require.False(t, strings.HasPrefix(rt.Path, riverUIPrefix), rt.Path)
	}
	require.Equal(t, http.StatusNotFound, br.get(riverUIPrefix+"/").StatusCode)
}

// TestJobsLinks: where River UI is mounted, the navigation links admins
// to it, the connection page to the sync jobs and a run's page to the
// workflow step jobs; viewers, whom it would refuse, get no link, and a
// dashboard without a jobs runner (no /admin/jobs) links nowhere.
func TestJobsLinks(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		db := storetest.Open(t, dsn)
		runner, err := jobs.New(context.Background(), jobs.Config{DB: db, DSN: dsn, Syncer: unstartedSyncer{}})
		require.NoError(t, err)
		t.Cleanup(runner.Close)
		wf := &wfFixture{jobs: &workflowtest.Jobs{}}
		wf.fixture = newFixture(t, db, withEngine(wf.jobs, &wf.eng), func(c *Config) { c.Jobs = runner })
		adminBr := wf.loggedIn(t, roster.RoleAdmin)
		viewerBr := wf.loggedIn(t, roster.RoleViewer)
		acc := wf.member(t)
		id := wf.createWorkflow(t, adminBr, approvalYAML("ask-then-remove", wf.org.ID, wf.memberTeam(t, acc)))
		run := wf.startRun(t, adminBr, id, acc.Email)

		for path, want := range map[string]string{
			"/connections": `href="/admin/jobs/jobs?kind=` + jobs.SyncArgs{}.Kind() + `"`,
			"/workflows/runs/" + strconv.FormatInt(run, 10): `href="/admin/jobs/jobs?kind=` + jobs.StepArgs{}.Kind() + `"`,
		} {
			body := adminBr.mustGet(path).Body
			require.Contains(t, body, want, path)
			require.Contains(t, body, `<a href="/admin/jobs">Jobs</a>`, path)
			require.NotContains(t, viewerBr.mustGet(path).Body, "/admin/jobs", path)
		}
	})
	t.Run("without a jobs runner", func(t *testing.T) {
		t.Parallel()
		f := newWFFixture(t, storetest.Open(t, storetest.SQLiteDSN(t)))
		adminBr := f.loggedIn(t, roster.RoleAdmin)
		acc := f.member(t)
		id := f.createWorkflow(t, adminBr, approvalYAML("ask-then-remove", f.org.ID, f.memberTeam(t, acc)))
		run := f.startRun(t, adminBr, id, acc.Email)
		for _, path := range []string{"/connections", "/workflows/runs/" + strconv.FormatInt(run, 10)} {
			require.NotContains(t, adminBr.mustGet(path).Body, "/admin/jobs", path)
		}
	})
}
