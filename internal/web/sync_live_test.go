package web

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/jobs"
	"roster/internal/miro"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// syncPart is a connection's sync part, from the whole page or alone.
type syncPart struct {
	node *html.Node
	text string
	poll string // hx-get, when it polls
}

func (p syncPart) polls() bool { return p.poll != "" }

// readSyncPart finds connection id's sync part in body.
func readSyncPart(t *testing.T, body string, id int64) syncPart {
	t.Helper()
	n := byID(parseHTML(t, body), "sync-"+strconv.FormatInt(id, 10))
	require.NotNil(t, n, "no sync part for connection %d in %s", id, body)
	p := syncPart{node: n, text: text(n), poll: attr(n, "hx-get")}
	if p.polls() {
		require.Equal(t, "every 2s", attr(n, "hx-trigger"))
		require.Equal(t, "outerHTML", attr(n, "hx-swap"))
	} else {
		require.Empty(t, attr(n, "hx-trigger"), "a part that does not poll has no trigger")
	}
	return p
}

// fragment fetches connection id's sync part alone, as htmx does.
func fragment(t *testing.T, br *browser, id int64) syncPart {
	t.Helper()
	p := br.mustGet("/connections?part=sync&connection=" + strconv.FormatInt(id, 10))
	require.True(t, strings.HasPrefix(strings.TrimSpace(p.Body), `<div class="sync-state" id="sync-`), "the part alone, no layout: %s", p.Body)
	require.NotContains(t, strings.ToLower(p.Body), "credit")
	return readSyncPart(t, p.Body, id)
}

// TestSyncLivePart: the connection page shows a sync queued, then running
// with its phase, teams and time left and its waits for Miro's rate
// limit, fetching its part every 2 s while it does, and stops once the
// sync has finished, saying what it found.
func TestSyncLivePart(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		// A runner never started: a sync asked for stays queued.
		runner, err := jobs.New(ctx, jobs.Config{DB: db, DSN: dsn, Syncer: unstartedSyncer{}})
		require.NoError(t, err)
		t.Cleanup(runner.Close)
		f := newFixture(t, db, func(c *Config) { c.Jobs = runner })
		br := f.loggedIn(t, roster.RoleAdmin)
		viewer := f.loggedIn(t, roster.RoleViewer)

		// Finished: the part says what the sync found, and does not poll.
		f.clock.Add(150 * time.Second)
		page := br.mustGet("/connections")
		require.NotContains(t, strings.ToLower(page.Body), "credit")
		require.Contains(t, page.Body, `href="/admin/jobs/jobs?kind=sync_connection">See sync jobs in the job queue</a>`)
		require.NotContains(t, viewer.mustGet("/connections").Body, "kind=sync_connection", "River UI refuses viewers")
		org := readSyncPart(t, page.Body, f.org.ID)
		require.False(t, org.polls())
		runs, err := db.SyncRuns(ctx, f.org.ID, 1)
		require.NoError(t, err)
		teams, err := db.Teams(ctx, f.org.ID)
		require.NoError(t, err)
		require.Regexp(t, `succeeded Last sync finished 2 minutes ago: [0-9,]+ people, `+
			regexp.QuoteMeta(plural(len(teams), "team")+", "+plural(runs[0].APICalls, "call")+" to Miro")+` · from v2-organization`, org.text)
		require.Equal(t, org.text, fragment(t, br, f.org.ID).text)

		// Sync now: queued, and the part polls.
		p := br.post("/connections/"+strconv.FormatInt(f.org.ID, 10)+"/sync", nil)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		page = br.mustGet(p.location())
		require.NotContains(t, page.Body, "Reload")
		org = readSyncPart(t, page.Body, f.org.ID)
		require.True(t, org.polls(), "a queued sync polls")
		require.Equal(t, "/connections?part=sync&connection="+strconv.FormatInt(f.org.ID, 10), org.poll)
		require.Contains(t, org.text, "queued A sync is queued")
		require.Contains(t, org.text, "Last sync finished", "the last sync still shows")
		require.True(t, fragment(t, br, f.org.ID).polls())
		require.False(t, readSyncPart(t, page.Body, f.team.ID).polls(), "the other connection has nothing going on")

		// Running (the team connection: no job of it is queued): the
		// phase, the teams and the time left, live.
		run := roster.SyncRun{ConnectionID: f.team.ID, Source: roster.SourceOrganization, StartedAt: f.clock.Now()}
		require.NoError(t, db.StartSyncRun(ctx, &run))
		part := fragment(t, br, f.team.ID)
		require.True(t, part.polls())
		require.Contains(t, part.text, "running Syncing: starting")

		progress := store.SyncProgress{Phase: "team members", Pages: 1300, Members: 50000, Teams: 3000, TeamsDone: 1240,
			APICalls: 1302, Credits: 400000, EstimatedLeft: 3*time.Minute + 10*time.Second, At: f.clock.Now()}
		require.NoError(t, db.SaveSyncProgress(ctx, run.ID, progress))
		part = fragment(t, br, f.team.ID)
		require.True(t, part.polls())
		require.Contains(t, part.text, "running Syncing: team members, 1,240 of 3,000 teams, about 3 min left")
		require.Contains(t, part.text, "1,302 calls to Miro so far")
		require.NotContains(t, part.text, "waiting")
		require.Equal(t, part.text, fragment(t, viewer, f.team.ID).text, "viewers see it too")

		// A wait for Miro's rate limit, as the sync recorded it.
		progress.WaitingUntil, progress.WaitReason = f.clock.Now().Add(42*time.Second), miro.WaitRateLimit
		require.NoError(t, db.SaveSyncProgress(ctx, run.ID, progress))
		part = fragment(t, br, f.team.ID)
		require.Contains(t, part.text, "about 3 min left · waiting 42 s for Miro's rate limit")
		f.clock.Add(40 * time.Second)
		require.Contains(t, fragment(t, br, f.team.ID).text, "waiting 2 s for Miro's rate limit")
		f.clock.Add(5 * time.Second)
		part = fragment(t, br, f.team.ID)
		require.NotContains(t, part.text, "waiting", "the wait is over")
		require.Contains(t, part.text, "nothing new since just now")

		// Finished: the part stops polling and says what the sync found.
		progress.Phase, progress.TeamsDone, progress.WaitingUntil, progress.WaitReason = "audit", 3000, time.Time{}, ""
		require.NoError(t, db.SaveSyncProgress(ctx, run.ID, progress))
		run.EndedAt, run.Pages, run.APICalls, run.Credits = f.clock.Now(), 31000, 31020, 900000
		require.NoError(t, db.ApplySync(ctx, &run, store.Diff{}))
		part = fragment(t, br, f.team.ID)
		require.False(t, part.polls(), "finished: no more polling")
		require.Contains(t, part.text, "succeeded Last sync finished just now: 50,000 people, 3,000 teams, 31,020 calls to Miro")
		require.Contains(t, part.text, "took 45 s")
		f.clock.Add(2 * time.Minute)
		require.Contains(t, fragment(t, br, f.team.ID).text, "Last sync finished 2 minutes ago")
		require.False(t, readSyncPart(t, br.mustGet("/connections").Body, f.team.ID).polls())

		t.Run("ErrNotFound", func(t *testing.T) {
			require.Equal(t, http.StatusNotFound, br.get("/connections?part=sync&connection=999").StatusCode)
			require.Equal(t, http.StatusNotFound, br.get("/connections?part=sync").StatusCode)
		})
	})
}

// TestSyncWords: the part's words for times and phases.
func TestSyncWords(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		10 * time.Second:                            "less than a minute left",
		50 * time.Second:                            "about 1 min left",
		3*time.Minute + 10*time.Second:              "about 3 min left",
		2 * time.Hour:                               "about 2 h left",
		time.Hour + 20*time.Minute + 20*time.Second: "about 1 h 20 min left",
	} {
		require.Equal(t, want, timeLeft(d), d)
	}
	for d, want := range map[time.Duration]string{
		300 * time.Millisecond:        "1 s",
		42 * time.Second:              "42 s",
		4*time.Minute + 5*time.Second: "4 min 5 s",
		2 * time.Minute:               "2 min",
		time.Hour + 20*time.Minute:    "1 h 20 min",
	} {
		require.Equal(t, want, shortDuration(d), d)
	}
	for p, want := range map[store.SyncProgress]string{
		{}:                                "Syncing: starting",
		{Phase: "members", Members: 4000}: "Syncing: people, 4,000 so far",
		{Phase: "teams", Teams: 120}:      "Syncing: teams, 120 so far",
		{Phase: "team members", Members: 230, Teams: 1}: "Syncing: team members, 230 people",
		{Phase: "audit", EstimatedLeft: time.Minute}:    "Syncing: usage, from Miro's audit log, about 1 min left",
	} {
		require.Equal(t, want, doingWords(p))
	}
}
