package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/notify"
	"roster/internal/notify/notifytest"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/workflow"
)

// runMainEnv makes the test binary run the roster command line from its
// arguments instead of the tests (see TestMain), so that a test can start
// `roster serve` as a real process and SIGKILL it.
const runMainEnv = "ROSTER_TEST_RUN_MAIN"

// crashLeavers is how many people leave at once.
const crashLeavers = 200

// crashStall is how long the crash tests wait for the next sign of
// progress before they fail: a stall, not a slow machine, fails them.
// Miro's SCIM limit lets a deactivation through every 0.3 s, and a dead
// job's run is taken over within seconds.
const crashStall = 90 * time.Second

// TestCrashResumeOffboarding is the promise workflows make: a roster
// serve killed with SIGKILL in the middle of offboarding 200 people, and
// started again on the same database, finishes every run, and nothing
// reaches Miro twice. The run is slow enough to be caught half-way by
// Miro's own SCIM limit (100 PATCHes per 30 s, which the client paces).
func TestCrashResumeOffboarding(t *testing.T) {
	if testing.Short() {
		t.Skip("a two-process crash test of a few minutes")
	}
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		crashResume(t, dsn)
	})
}

// leaver is a simulator member who leaves, and the teams they were in.
type leaver struct {
	id, email string
	teams     []string
}

func crashResume(t *testing.T, dsn string) {
	ctx := context.Background()
	start := time.Now()
	// An organization where every internal member has a full license, so
	// that 200 of them are plain members of their teams.
	sim, err := mirosim.New(mirosim.Config{Seed: 23, Members: 320, Teams: 30, TeamsPerMember: 2,
		LicenseMix: map[string]float64{"full": 1}})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	info := sim.Info(srv.URL)
	in := info.Installs[mirosim.InstallOrgAdmin]
	// The test reads Miro with its own token, so its reads spend none of
	// roster's credits.
	own, err := sim.MintToken(in.UserID, in.TeamID, in.Scopes)
	require.NoError(t, err)
	admin, err := miro.New(miro.Config{BaseURL: info.APIBaseURL, Token: miro.StaticToken(own.AccessToken)})
	require.NoError(t, err)

	leavers := pickLeavers(t, admin, info.OrgID, in.UserID, crashLeavers)
	memberships := 0
	for _, l := range leavers {
		memberships += len(l.teams)
	}

	e := &e2e{sim: sim, srv: srv, info: info, dataDir: filepath.Join(t.TempDir(), "data")}
	db := []string{"--database", dsn}
	r := e.roster(t, append([]string{"connect", "--level", "organization", "--miro-url", info.APIBaseURL,
		"--token", in.AccessToken, "--scim-token", info.SCIMToken}, db...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Saved as connection 1.")
	require.Contains(t, r.stdout, "[yes] deactivate and reactivate users")
	r = e.roster(t, append([]string{"sync"}, db...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)

	// The offboarding template, applied and enabled, as an admin would.
	r = e.roster(t, append([]string{"workflow", "template", "offboarding", "--connection", "1", "--notify", "webhook"}, db...)...)
	require.NoError(t, r.err, r.stderr)
	tmpl := filepath.Join(t.TempDir(), "offboarding.yaml")
	require.NoError(t, os.WriteFile(tmpl, []byte(r.stdout), 0o600))
	r = e.roster(t, append([]string{"workflow", "apply", "-f", tmpl}, db...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = e.roster(t, append([]string{"workflow", "enable", "offboarding"}, db...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "enabled offboarding")

	// The directory: the 200 work here, then they have all left.
	importPeople(t, e, db, leavers, roster.PersonActive)
	importPeople(t, e, db, leavers, roster.PersonLeft)

	hook := notifytest.NewWebhook(t, "crash-test-secret")
	sim.ResetStats()
	setup := time.Since(start)

	serveArgs := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", e.dataDir,
		"--workflow-tick", "1s", "--workflow-lease", "5s", "--step-retry", "200ms", "--workflow-workers", "8",
		"--webhook-url", hook.URL(), "--webhook-secret", "crash-test-secret"}, db...)
	dir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() { // keep the logs of both lives
			keep, err := os.MkdirTemp("", "roster-crash-")
			if err == nil {
				_ = os.CopyFS(keep, os.DirFS(dir))
				t.Logf("serve logs kept in %s", keep)
			}
		}
	})

	// First life: killed once a quarter of the people are deactivated.
	first := startChild(t, filepath.Join(dir, "serve-1.log"), serveArgs...)
	deactivated := func() int { return sim.Stats().ByOperation["patchUser"].Statuses[200] }
	waitProgress(t, first, crashStall, 20*time.Millisecond, "a quarter of the people deactivated", func() bool {
		return deactivated() >= crashLeavers/4
	}, func() int { return sim.Stats().Calls }, func() string { return writeSummary(sim.Stats()) })
	first.kill(t)
	atKill := sim.Stats()
	killedAt := time.Since(start)
	t.Logf("SIGKILL after %s of serving: %d deactivated, %d removals, %d sign-outs, %d webhooks",
		killedAt-setup, atKill.ByOperation["patchUser"].Statuses[200], atKill.ByOperation["enterprise-delete-team-member"].Calls,
		atKill.ByOperation["enterprise-post-user-sessions-reset"].Calls, len(hook.Deliveries()))
	require.Less(t, atKill.ByOperation["patchUser"].Statuses[200], crashLeavers*3/4,
		"the run was not caught half-way: make it slower, do not weaken the test")

	// Second life, on the same database: every run ends.
	second := startChild(t, filepath.Join(dir, "serve-2.log"), serveArgs...)
	st, err := sqlstore.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	wf, err := st.WorkflowByName(ctx, "offboarding")
	require.NoError(t, err)
	var page store.RunPage
	waitProgress(t, second, crashStall, 250*time.Millisecond, "every run ended", func() bool {
		page, err = st.Runs(ctx, store.RunFilter{WorkflowID: wf.ID, Limit: 500})
		require.NoError(t, err)
		return page.Total == crashLeavers && page.Counts[roster.RunRunning]+page.Counts[roster.RunWaiting] == 0
	}, func() int { return runsProgress(page) }, func() string { return runsReport(st, page) })
	ended := time.Since(start)
	second.stop(t)
	stats := sim.Stats()
	t.Logf("timings: setup %s, killed at %s, all %d runs ended at %s (%s after the restart)",
		setup.Round(time.Millisecond), killedAt.Round(time.Millisecond), crashLeavers, ended.Round(time.Millisecond),
		(ended - killedAt).Round(time.Millisecond))
	t.Logf("Miro writes: %s", writeSummary(stats))

	// Every run succeeded, each step once.
	require.Len(t, page.Runs, crashLeavers)
	require.Equal(t, crashLeavers, page.Counts[roster.RunSucceeded], "runs by status: %v\n%s", page.Counts, runsReport(st, page))
	byEmail := map[string]roster.WorkflowRun{}
	for _, run := range page.Runs {
		byEmail[run.Email] = run
	}

	// Miro's final state: in no team, deactivated with the license freed,
	// signed out once.
	inTeams := map[string][]string{}
	for tm, err := range admin.Teams(ctx, info.OrgID, "") {
		require.NoError(t, err)
		for m, err := range admin.TeamMembers(ctx, info.OrgID, tm.ID, "") {
			require.NoError(t, err)
			inTeams[m.ID] = append(inTeams[m.ID], tm.ID)
		}
	}
	members := map[string]miro.OrganizationMember{}
	for m, err := range admin.OrgMembers(ctx, info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		members[m.ID] = m
	}
	resets := map[string]int{}
	for ev, err := range admin.AuditLogs(ctx, miro.AuditQuery{CreatedAfter: start.Add(-time.Minute), CreatedBefore: time.Now().Add(time.Minute)}) {
		require.NoError(t, err)
		if ev.Event == "user_sessions_reset" && ev.Object != nil {
			resets[ev.Object.ID]++
		}
	}
	for _, l := range leavers {
		require.Empty(t, inTeams[l.id], "%s is still in teams", l.email)
		m := members[l.id]
		require.False(t, m.Active, "%s is still active", l.email)
		require.Equal(t, roster.LicenseFree, m.License.String(), l.email)
		require.Equal(t, 1, resets[l.id], "sessions of %s reset", l.email)
	}

	// Nothing reached Miro twice.
	require.Equal(t, crashLeavers, stats.ByOperation["patchUser"].Calls, "SCIM PATCHes: %v", stats.ByOperation["patchUser"].Statuses)
	require.Equal(t, crashLeavers, stats.ByOperation["enterprise-post-user-sessions-reset"].Calls, "sign-outs")
	require.Equal(t, memberships, stats.ByOperation["enterprise-delete-team-member"].Calls, "team removals")
	for op, o := range stats.ByOperation {
		switch op {
		case "patchUser", "enterprise-post-user-sessions-reset", "enterprise-delete-team-member":
		default:
			require.False(t, isWrite(op), "%s was called %d times", op, o.Calls)
		}
	}

	// One succeeded action per step and person, and no other.
	actions := 0
	for _, l := range leavers {
		run, ok := byEmail[l.email]
		require.True(t, ok, "no run for %s", l.email)
		keys := []string{workflow.ActionKey(run.ID, "deactivate"), workflow.ActionKey(run.ID, "sign-out")}
		for _, team := range l.teams {
			keys = append(keys, workflow.ActionKey(run.ID, "remove-from-teams")+":"+team)
		}
		for _, k := range keys {
			a, err := st.ActionByKey(ctx, k)
			require.NoError(t, err, k)
			require.Equal(t, roster.ActionSucceeded, a.Status, "%s: %s", k, a.Result)
			actions++
		}
	}
	var rows, succeeded int
	require.NoError(t, st.SQL().QueryRowContext(ctx,
		`SELECT COUNT(*), COUNT(CASE WHEN status = 'succeeded' THEN 1 END) FROM actions`).Scan(&rows, &succeeded))
	require.Equal(t, actions, rows, "actions recorded")
	require.Equal(t, actions, succeeded, "actions succeeded")

	// IT heard about each person; a resend after the crash carries the
	// same key, which is what lets a receiver drop it.
	sent := map[string]int{}
	for _, d := range hook.Deliveries() {
		sent[d.Header.Get(notify.HeaderIdempotencyKey)]++
	}
	require.Empty(t, hook.Rejected())
	for _, run := range page.Runs {
		require.GreaterOrEqual(t, sent[workflow.ActionKey(run.ID, "tell-it")], 1, run.Email)
	}
	t.Logf("webhooks: %d deliveries for %d runs", len(hook.Deliveries()), len(sent))
}

// pickLeavers chooses n active internal members with a full license who
// are plain members (no admin) of at least one team: the last-admin guard
// then skips no team.
func pickLeavers(t *testing.T, c *miro.Client, orgID, installer string, n int) []leaver {
	t.Helper()
	ctx := context.Background()
	teams := map[string][]string{}
	admin := map[string]bool{}
	for tm, err := range c.Teams(ctx, orgID, "") {
		require.NoError(t, err)
		for m, err := range c.TeamMembers(ctx, orgID, tm.ID, "") {
			require.NoError(t, err)
			teams[m.ID] = append(teams[m.ID], tm.ID)
			admin[m.ID] = admin[m.ID] || m.Role.String() != "member"
		}
	}
	var out []leaver
	for m, err := range c.OrgMembers(ctx, orgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		if len(out) == n {
			break
		}
		if !m.Active || m.ID == installer || m.Role.String() != "organization_internal_user" ||
			m.License.String() != roster.LicenseFull || len(teams[m.ID]) == 0 || admin[m.ID] {
			continue
		}
		out = append(out, leaver{id: m.ID, email: m.Email, teams: slices.Clone(teams[m.ID])})
	}
	require.Len(t, out, n, "the simulator has too few plain full members")
	return out
}

// importPeople imports the leavers into the directory with status.
func importPeople(t *testing.T, e *e2e, db []string, ls []leaver, status roster.PersonStatus) {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name,manager_email,department,status\n")
	for i, l := range ls {
		fmt.Fprintf(&b, "%s,Leaver %d,,Engineering,%s\n", l.email, i, status)
	}
	f := filepath.Join(t.TempDir(), "people-"+string(status)+".csv")
	require.NoError(t, os.WriteFile(f, []byte(b.String()), 0o600))
	r := e.roster(t, append([]string{"directory", "import", f}, db...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, fmt.Sprintf("%d rows:", len(ls)))
}

// isWrite reports whether a simulator operation changes Miro.
func isWrite(op string) bool {
	for _, w := range []string{"invite", "update", "delete", "post", "patch", "replace", "reset", "revoke"} {
		if strings.Contains(strings.ToLower(op), w) {
			return true
		}
	}
	return false
}

// writeSummary lists the calls of every write operation with their
// answers, for the log.
func writeSummary(s mirosim.Stats) string {
	var parts []string
	for op, o := range s.ByOperation {
		if isWrite(op) {
			parts = append(parts, fmt.Sprintf("%s %d %v", op, o.Calls, o.Statuses))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// child is roster running as a separate process: the test binary itself,
// told by runMainEnv to run the command line instead of the tests.
type child struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // Wait's, once done is closed
}

func startChild(t *testing.T, logPath string, args ...string) *child {
	t.Helper()
	f, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		f.Close()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Kill())
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the killed roster serve did not exit")
	}
}

// stop asks for a graceful shutdown and requires a clean exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(os.Interrupt))
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("roster serve did not shut down\n%s", c.tail())
	}
	require.NoError(t, c.err, c.tail())
}

// tail is the end of the child's log, for failure messages.
func (c *child) tail() string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return err.Error()
	}
	const n = 8000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return "--- " + c.log + " (end) ---\n" + string(b)
}

// waitProgress polls cond every interval until it holds, failing when
// progress has not grown for stall (nothing advanced: a busy machine is
// slow, a stall is stuck) or when the child exits first; report says
// where things stand. cond is polled before progress.
func waitProgress(t *testing.T, c *child, stall, interval time.Duration, what string, cond func() bool, progress func() int, report func() string) {
	t.Helper()
	last, lastAt := -1, time.Now()
	for !cond() {
		if c.exited() {
			t.Fatalf("roster serve exited (%v) before %s\n%s\n%s", c.err, what, report(), c.tail())
		}
		if p := progress(); p > last {
			last, lastAt = p, time.Now()
		} else if time.Since(lastAt) > stall {
			t.Fatalf("nothing advanced for %s before %s (progress %d)\n%s\n%s", stall, what, last, report(), c.tail())
		}
		time.Sleep(interval)
	}
}

// runsProgress grows each time a run moves on: the steps the runs have
// passed, and the runs ended.
func runsProgress(page store.RunPage) int {
	n := 0
	for _, run := range page.Runs {
		n += run.Position
		if run.Status != roster.RunRunning && run.Status != roster.RunWaiting {
			n++
		}
	}
	return n
}

// runsReport describes the runs that did not succeed: where each stands
// and its timeline, for a failure message.
func runsReport(st *sqlstore.DB, page store.RunPage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "runs: %d, by status %v\n", page.Total, page.Counts)
	// River's jobs other than completed steps: a periodic job stuck in
	// running blocks its next insertions.
	rows, err := st.SQL().QueryContext(context.Background(), `SELECT kind, state, COUNT(*), MIN(attempted_at), MAX(attempted_at)
		FROM river_job WHERE NOT (kind = 'workflow_step' AND state = 'completed') GROUP BY kind, state ORDER BY kind, state`)
	if err == nil {
		for rows.Next() {
			var kind, state string
			var n int
			var first, last any
			if rows.Scan(&kind, &state, &n, &first, &last) == nil {
				fmt.Fprintf(&b, "river_job %s %s: %d (attempted %v .. %v)\n", kind, state, n, first, last)
			}
		}
		rows.Close()
	}
	shown := 0
	for _, run := range page.Runs {
		if run.Status == roster.RunSucceeded {
			continue
		}
		if shown++; shown > 10 {
			b.WriteString("...\n")
			break
		}
		fmt.Fprintf(&b, "run %d %s: %s at step %d, generation %d, lease until %s, updated %s, error %q\n", run.ID, run.Email,
			run.Status, run.Position, run.Generation, run.LeaseUntil.Format(time.RFC3339Nano), run.UpdatedAt.Format(time.RFC3339Nano), run.Error)
		steps, err := st.RunSteps(context.Background(), run.ID)
		if err != nil {
			fmt.Fprintf(&b, "  timeline: %v\n", err)
		}
		for _, s := range steps {
			fmt.Fprintf(&b, "  %s: %s, %d attempts: %s\n", s.StepID, s.Status, s.Attempts, s.Detail)
		}
	}
	return b.String()
}
