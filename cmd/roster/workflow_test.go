package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/api"
	"roster/internal/mirosim"
	"roster/internal/notify/notifytest"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/workflow"
)

// wfBundle is a simulator, a data directory connected at organization
// level (with SCIM) and synced, and the store the commands write, opened
// beside them to check what they did.
type wfBundle struct {
	e   *e2e
	db  *sqlstore.DB
	dsn string // "" on SQLite
	dir string // for the test's files
}

func setupWorkflow(t *testing.T, dsn string) *wfBundle {
	t.Helper()
	b := &wfBundle{e: newE2E(t), dsn: dsn, dir: t.TempDir()}
	r := b.roster(t, "connect", "--level", "organization", "--miro-url", b.e.info.APIBaseURL,
		"--token", b.e.token(mirosim.InstallOrgAdmin), "--scim-token", b.e.info.SCIMToken)
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = b.roster(t, "sync")
	require.NoError(t, r.err, r.stdout+r.stderr)
	open := dsn
	if open == "" {
		open = filepath.Join(b.e.dataDir, "roster.db")
	}
	db, err := sqlstore.Open(context.Background(), open)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	b.db = db
	return b
}

// roster runs a command on the bundle's database.
func (b *wfBundle) roster(t *testing.T, args ...string) result {
	t.Helper()
	if b.dsn != "" {
		args = append(append([]string{}, args...), "--database", b.dsn)
	}
	return b.e.roster(t, args...)
}

// file writes a file of the test and returns its path.
func (b *wfBundle) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(b.dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// stepJobs counts the workflow step jobs queued in River's table.
func (b *wfBundle) stepJobs(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, b.db.SQL().QueryRowContext(context.Background(),
		`SELECT COUNT(*) FROM river_job WHERE kind = 'workflow_step'`).Scan(&n))
	return n
}

// leaver is a licensed, active internal member who is in some team, made
// a directory person who left.
func (b *wfBundle) leaver(t *testing.T) (roster.Account, []string) {
	t.Helper()
	ctx := context.Background()
	accs, err := b.db.Accounts(ctx, store.AccountFilter{License: "full", OrgRole: "organization_internal_user"})
	require.NoError(t, err)
	installer := b.e.info.Installs[mirosim.InstallOrgAdmin].UserID
	for _, a := range accs {
		if !a.Active || a.Email == "" || a.MiroUserID == installer {
			continue
		}
		ms, err := b.db.AccountMemberships(ctx, a.ID)
		require.NoError(t, err)
		if len(ms) == 0 {
			continue
		}
		var teams []string
		for _, m := range ms {
			teams = append(teams, m.MiroTeamID)
		}
		csv := b.file(t, "people.csv", "email,name,manager_email,department,status\n"+a.Email+",Leaver,,Eng,left\n")
		r := b.roster(t, "directory", "import", csv)
		require.NoError(t, r.err, r.stdout+r.stderr)
		return a, teams
	}
	t.Fatal("no licensed internal member in a team")
	return roster.Account{}, nil
}

// TestWorkflowCommands drives `roster workflow` end to end on SQLite and
// PostgreSQL: template, apply (valid and invalid), export round trip,
// list, enable, dry-run, run, runs, show, cancel, approvals.
func TestWorkflowCommands(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testWorkflowCommands(t, setupWorkflow(t, ""))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testWorkflowCommands(t, setupWorkflow(t, storetest.PostgresDSN(t)))
	})
}

func testWorkflowCommands(t *testing.T, b *wfBundle) {
	ctx := context.Background()
	team := b.e.info.TeamIDs[0]

	// template: valid YAML, for the only organization connection.
	r := b.roster(t, "workflow", "template", "offboarding", "--notify-to", "it@example.com")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.NotContains(t, r.stderr, "would refuse", r.stderr)
	ws, err := workflow.ParseYAML(strings.NewReader(r.stdout))
	require.NoError(t, err, r.stdout)
	require.Len(t, ws, 1)
	require.Equal(t, int64(1), ws[0].ConnectionID)
	require.False(t, ws[0].Enabled)
	offboarding := b.file(t, "offboarding.yaml", r.stdout)

	r = b.roster(t, "workflow", "template", "bogus", "--connection", "1")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), `no template "bogus": one of onboarding, offboarding, license-reclaim`)
	r = b.roster(t, "workflow", "template", "onboarding")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), "onboarding needs --team")
	require.Contains(t, r.err.Error(), team)
	// --team takes the team's name as well as its id.
	synced, err := b.db.Teams(ctx, 1)
	require.NoError(t, err)
	r = b.roster(t, "workflow", "template", "onboarding", "--team", synced[0].Name)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "team: \""+synced[0].MiroTeamID+"\"")
	r = b.roster(t, "workflow", "template", "onboarding", "--team", "No Such Team")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), `no team is named "No Such Team"`)

	// apply the template: created and stored.
	r = b.roster(t, "workflow", "apply", "-f", offboarding)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Equal(t, "created offboarding (id 1, disabled)\n", r.stdout)
	stored, err := b.db.WorkflowByName(ctx, "offboarding")
	require.NoError(t, err)
	require.Equal(t, roster.TriggerPersonLeft, stored.Trigger.Kind)
	require.Len(t, stored.Steps, 4)

	// A valid file of two workflows.
	valid := b.file(t, "valid.yaml", fmt.Sprintf(`name: welcome
connection: 1
trigger: {kind: manual}
steps:
  - {id: invite, kind: invite, team: "%s", role: member}
---
name: ask-first
enabled: true
connection: 1
trigger: {kind: manual}
steps:
  - id: ask
    kind: approval
    approver: boss@example.com
    via: ui
    timeout: 3d
  - {id: pause, kind: wait, duration: 30m}
`, team))
	r = b.roster(t, "workflow", "apply", "-f", valid)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "created welcome (id 2, disabled)\n")
	require.Contains(t, r.stdout, "created ask-first (id 3, enabled)\n")
	all, err := b.db.Workflows(ctx)
	require.NoError(t, err)
	require.Len(t, all, 3)

	// An invalid file: every field error printed, nothing stored, not
	// even its valid document.
	invalid := b.file(t, "invalid.yaml", fmt.Sprintf(`name: fine
connection: 1
trigger: {kind: manual}
steps: [{kind: sign_out}]
---
name: bad-trigger
connection: 1
trigger: {kind: bogus}
steps: [{kind: sign_out}]
---
name: no-team
connection: 1
trigger: {kind: manual}
steps: [{kind: invite}]
---
name: bad-cron
connection: 1
trigger: {kind: schedule, cron: "every day"}
steps: [{kind: sign_out}]
---
name: loop
connection: 1
trigger: {kind: manual}
steps:
  - {id: ask, kind: approval, approver: boss@example.com, timeout: 1d, on_deny: tell}
  - {id: tell, kind: notify, channel: webhook, text: hi, next: ask}
---
name: wrong-team
connection: 1
trigger: {kind: manual}
steps: [{kind: remove, team: "%s"}]
`, "999"))
	r = b.roster(t, "workflow", "apply", "-f", invalid)
	require.Error(t, r.err)
	require.NotZero(t, r.code())
	require.Empty(t, r.stdout)
	for _, want := range []string{
		`bad-trigger: trigger.kind: "bogus" is not a trigger: one of person_joined`,
		"no-team: steps[0].team: is required: the Miro team id\n",
		`bad-cron: trigger.cron: "every day" is not a cron schedule`,
		"loop: steps: the steps loop: ask → tell → ask; a run must always end\n",
		`wrong-team: steps[0].team: "999" is not a team of connection 1`,
	} {
		require.Contains(t, r.stderr, want)
	}
	require.NotContains(t, r.stderr, "fine:")
	require.Contains(t, r.err.Error(), "nothing was saved")
	_, err = b.db.WorkflowByName(ctx, "fine")
	require.ErrorIs(t, err, store.ErrNotFound)
	all, err = b.db.Workflows(ctx)
	require.NoError(t, err)
	require.Len(t, all, 3)

	// export → apply is a round trip: the same definitions, updated.
	exported := filepath.Join(b.dir, "export.yaml")
	r = b.roster(t, "workflow", "export", "-o", exported)
	require.NoError(t, r.err, r.stdout+r.stderr)
	first, err := os.ReadFile(exported)
	require.NoError(t, err)
	r = b.roster(t, "workflow", "apply", "-f", exported)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "updated ask-first (id 3, enabled)\n")
	require.Contains(t, r.stdout, "updated offboarding (id 1, disabled)\n")
	require.Contains(t, r.stdout, "updated welcome (id 2, disabled)\n")
	again, err := b.db.Workflows(ctx)
	require.NoError(t, err)
	for i := range all {
		all[i].UpdatedAt, again[i].UpdatedAt = time.Time{}, time.Time{}
	}
	require.Equal(t, all, again)
	r = b.roster(t, "workflow", "export")
	require.NoError(t, r.err, r.stderr)
	require.Equal(t, string(first), r.stdout)
	r = b.roster(t, "workflow", "export", "--name", "welcome")
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "name: welcome")
	require.NotContains(t, r.stdout, "offboarding")
	r = b.roster(t, "workflow", "export", "--name", "nope")
	require.Error(t, r.err)
	require.Contains(t, r.err.Error(), "no workflow named nope (roster workflow list shows them)")

	// list, enable, disable.
	r = b.roster(t, "workflow", "enable", "nope")
	require.Error(t, r.err)
	require.Contains(t, r.err.Error(), "no workflow named nope (roster workflow list shows them)")
	r = b.roster(t, "workflow", "enable", "offboarding")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Equal(t, "enabled offboarding (id 1)\n", r.stdout)
	stored, err = b.db.WorkflowByName(ctx, "offboarding")
	require.NoError(t, err)
	require.True(t, stored.Enabled)
	r = b.roster(t, "workflow", "list")
	require.NoError(t, r.err, r.stderr)
	require.Regexp(t, `(?m)^1\s+offboarding\s+person_left\s+yes\s+4\s+1\s+0/0/0$`, r.stdout)
	require.Regexp(t, `(?m)^2\s+welcome\s+manual\s+no\s+1\s+1\s+0/0/0$`, r.stdout)
	r = b.roster(t, "workflow", "disable", "offboarding")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Equal(t, "disabled offboarding (id 1)\n", r.stdout)

	// dry-run of the offboarding template names the teams and the
	// deactivation of someone who left.
	acc, teams := b.leaver(t)
	names := map[string]string{}
	ts, err := b.db.Teams(ctx, 1)
	require.NoError(t, err)
	for _, tm := range ts {
		names[tm.MiroTeamID] = tm.Name
	}
	// Without an SMTP server the report cannot go: the dry run says so,
	// and leaves the person out rather than promising a run that fails.
	r = b.roster(t, "workflow", "dry-run", "offboarding")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "email: not set; set it under Settings → Notifications or with --smtp-addr")
	require.NotContains(t, r.stdout, "Would run for 1 person\n")

	mail := notifytest.NewSMTP(t)
	smtp := []string{"--smtp-addr", mail.Addr(), "--smtp-tls", "none", "--smtp-from", "roster@example.com"}
	r = b.roster(t, append([]string{"workflow", "dry-run", "offboarding"}, smtp...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Basis: directory people who left and still hold an active Miro account\n")
	require.Contains(t, r.stdout, "Would run for 1 person\n")
	require.Contains(t, r.stdout, acc.Email+" (Leaver, full license)")
	require.Contains(t, r.stdout, strings.Replace(fmt.Sprintf("remove from %d teams: ", len(teams)), "from 1 teams", "from 1 team", 1))
	for _, tm := range teams {
		require.Contains(t, r.stdout, fmt.Sprintf("%s (%s)", names[tm], tm))
	}
	require.Contains(t, r.stdout, "deactivate in the organization, freeing the Full license")
	require.Contains(t, r.stdout, "sign out of every Miro session")
	require.Contains(t, r.stdout, `send by email to it@example.com: "Offboarded from Miro: `+acc.Email+`"`)
	require.NotContains(t, r.stdout, "BLOCKED")

	r = b.roster(t, append([]string{"workflow", "dry-run", "offboarding", "--json", "--email", acc.Email + ",nobody@nowhere.example"}, smtp...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	var d api.DryRun
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &d), r.stdout)
	require.Equal(t, "the people named", d.Basis)
	require.Equal(t, 1, d.Total)
	require.Equal(t, acc.Email, d.Runs[0].Email)
	require.Equal(t, "deactivate", d.Runs[0].Steps[1].Kind)
	require.Equal(t, []api.Exclusion{{Email: "nobody@nowhere.example", Reason: "roster knows no one with this email"}}, d.Excluded)

	// An unsaved definition from a file; a step the connection's teams
	// rule out is a field error.
	r = b.roster(t, "workflow", "dry-run", "-f", valid, "welcome", "--email", acc.Email)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Dry run of welcome")
	r = b.roster(t, "workflow", "dry-run", "-f", valid)
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), "holds 2 workflows")
	r = b.roster(t, "workflow", "dry-run", "-f", b.file(t, "bad.yaml", "name: x\nconnection: 1\ntrigger: {kind: manual}\nsteps: [{kind: remove, team: '999'}]\n"))
	require.Error(t, r.err)
	require.Contains(t, r.stderr, `x: steps[0].team: "999" is not a team of connection 1`)

	// run: runs recorded, their first step jobs queued for serve.
	r = b.roster(t, append([]string{"workflow", "run", "offboarding", "--email", acc.Email, "--email", "nobody@nowhere.example"}, smtp...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	m := regexp.MustCompile(`started run (\d+) for ` + regexp.QuoteMeta(acc.Email)).FindStringSubmatch(r.stdout)
	require.NotNil(t, m, r.stdout)
	require.Contains(t, r.stdout, "excluded nobody@nowhere.example: roster knows no one with this email\n")
	require.Contains(t, r.stdout, "1 run started, 1 excluded; a running roster serve works them")
	runID, _ := strconv.ParseInt(m[1], 10, 64)
	page, err := b.db.Runs(ctx, store.RunFilter{WorkflowID: 1})
	require.NoError(t, err)
	require.Len(t, page.Runs, 1)
	run := page.Runs[0]
	require.Equal(t, runID, run.ID)
	require.Equal(t, roster.RunRunning, run.Status)
	require.Equal(t, acc.Email, run.Email)
	require.Equal(t, acc.ID, run.AccountID)
	require.Contains(t, run.Trigger, "manual, by cli:")
	require.Equal(t, 1, b.stepJobs(t))

	r = b.roster(t, "workflow", "run", "offboarding")
	require.Equal(t, 2, r.code())
	r = b.roster(t, "workflow", "run", "nope", "--email", acc.Email)
	require.Contains(t, r.err.Error(), "no workflow named nope")

	r = b.roster(t, "workflow", "runs", "--workflow", "offboarding")
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "1 run: 1 running, 0 waiting, 0 succeeded, 0 failed, 0 cancelled\n")
	require.Regexp(t, fmt.Sprintf(`(?m)^%d\s+offboarding\s+%s\s+running\s+remove-from-teams\s`, runID, regexp.QuoteMeta(acc.Email)), r.stdout)

	r = b.roster(t, "workflow", "show", strconv.FormatInt(runID, 10))
	require.NoError(t, r.err, r.stderr)
	require.Regexp(t, `status\s+running`, r.stdout)
	require.Regexp(t, `at step\s+remove-from-teams`, r.stdout)
	require.Contains(t, r.stdout, "No step has started yet")

	// cancel, then cancel again.
	r = b.roster(t, "workflow", "cancel", strconv.FormatInt(runID, 10))
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Equal(t, fmt.Sprintf("cancelled run %d (offboarding for %s)\n", runID, acc.Email), r.stdout)
	run, err = b.db.Run(ctx, runID)
	require.NoError(t, err)
	require.Equal(t, roster.RunCancelled, run.Status)
	require.Contains(t, run.Error, "cancelled by cli:")
	r = b.roster(t, "workflow", "cancel", strconv.FormatInt(runID, 10))
	require.Error(t, r.err)
	require.Contains(t, r.err.Error(), fmt.Sprintf("run %d already ended: cancelled", runID))
	r = b.roster(t, "workflow", "cancel", "9999")
	require.Contains(t, r.err.Error(), "no run 9999")
	r = b.roster(t, "workflow", "show", "9999")
	require.Contains(t, r.err.Error(), "no run 9999")
	r = b.roster(t, "workflow", "show", "x")
	require.Equal(t, 2, r.code())

	// approve and deny: an unknown id is a clear error.
	r = b.roster(t, "workflow", "approve", "999")
	require.Error(t, r.err)
	require.Contains(t, r.err.Error(), "no approval 999 (roster workflow approvals lists the pending ones)")
	r = b.roster(t, "workflow", "deny", "999")
	require.Contains(t, r.err.Error(), "no approval 999")

	// An approval asked in the UI, answered from the command line: the
	// run is woken with a new step job.
	r = b.roster(t, "workflow", "run", "ask-first", "--email", acc.Email)
	require.NoError(t, r.err, r.stdout+r.stderr)
	m = regexp.MustCompile(`started run (\d+)`).FindStringSubmatch(r.stdout)
	require.NotNil(t, m, r.stdout)
	askID, _ := strconv.ParseInt(m[1], 10, 64)
	require.Equal(t, 2, b.stepJobs(t))
	jobs := &recordedJobs{}
	engine := &workflow.Engine{Store: b.db, Jobs: jobs}
	require.NoError(t, engine.Work(ctx, workflow.StepJob{RunID: askID, Position: 0, Generation: 1}, 1, 10))
	require.Len(t, jobs.steps, 1) // the deadline
	a, err := b.db.ApprovalFor(ctx, askID, "ask")
	require.NoError(t, err)
	require.Equal(t, roster.ApprovalPending, a.Status)

	r = b.roster(t, "workflow", "approvals")
	require.NoError(t, r.err, r.stderr)
	require.Regexp(t, fmt.Sprintf(`(?m)^%d\s+%d\s+ask-first\s+%s\s+ask\s+boss@example.com\s+pending`, a.ID, askID, regexp.QuoteMeta(acc.Email)), r.stdout)
	r = b.roster(t, "workflow", "show", strconv.FormatInt(askID, 10))
	require.NoError(t, r.err, r.stderr)
	require.Regexp(t, `(?m)^ask\s+approval\s+waiting\s+1\s`, r.stdout)
	require.Contains(t, r.stdout, fmt.Sprintf("approval %d (step ask): pending; approver boss@example.com", a.ID))

	r = b.roster(t, "workflow", "approve", strconv.FormatInt(a.ID, 10))
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, fmt.Sprintf("approved: approval %d of run %d (step ask)", a.ID, askID))
	a, err = b.db.Approval(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, roster.ApprovalApproved, a.Status)
	require.True(t, strings.HasPrefix(a.DecidedBy, "cli:"), a.DecidedBy)
	require.Equal(t, 3, b.stepJobs(t)) // the woken run's job
	r = b.roster(t, "workflow", "deny", strconv.FormatInt(a.ID, 10))
	require.Error(t, r.err)
	require.Contains(t, r.err.Error(), "already answered")
}

// recordedJobs keeps the step jobs an in-test engine enqueues.
type recordedJobs struct{ steps []workflow.StepJob }

func (j *recordedJobs) EnqueueSteps(_ context.Context, steps []workflow.StepJob) error {
	j.steps = append(j.steps, steps...)
	return nil
}

// TestWorkflowUsage: the help, -h of every subcommand, and mistakes in
// how a subcommand is called.
func TestWorkflowUsage(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	r := e.roster(t, "workflow")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.stderr, "dry-run")
	for _, c := range workflowCommands() {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"workflow", c.name, "-h"}, &out, &errb)
		require.Equal(t, 2, exitCode(err), c.name)
		require.Contains(t, errb.String(), "Usage: roster workflow "+c.name, c.name)
		require.Contains(t, errb.String(), "-data-dir", c.name)
		require.Contains(t, errb.String(), "[ROSTER_DATA_DIR]", c.name)
	}
	r = e.roster(t, "workflow", "bogus")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), `unknown subcommand "bogus"`)
	r = e.roster(t, "workflow", "apply")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), "-f FILE is required")
	r = e.roster(t, "workflow", "enable")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), "give a workflow name")
	r = e.roster(t, "workflow", "enable", "a", "b")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), `unexpected argument "b"`)
	r = e.roster(t, "workflow", "runs", "--status", "gone")
	require.Equal(t, 2, r.code())
	r = e.roster(t, "workflow", "template", "offboarding")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), "no organization-level connection")
	r = e.roster(t, "workflow", "template", "offboarding", "--notify", "email")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), "--notify email needs --notify-to")
}
