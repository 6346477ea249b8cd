package workflow_test

import (
	"cmp"
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/action"
	"roster/internal/jobs"
	"roster/internal/metrics"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/notify"
	"roster/internal/notify/notifytest"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
	"roster/internal/workflow"
)

const hookSecret = "test-webhook-secret"

// harness is one simulated Miro organization with a SCIM-capable
// organization connection, a store, the engine with real River jobs, and
// local SMTP and webhook receivers.
type harness struct {
	*testkit.Kit
	conn   roster.Connection
	engine *workflow.Engine
	runner *jobs.Runner
	smtp   *notifytest.SMTPServer
	hook   *notifytest.WebhookServer
	outbox *notify.Outbox
	// metrics counts the actions steps run, as serve's /metrics does.
	metrics *metrics.Metrics
}

// harnessOptions tune the harness beyond the tests' defaults (the
// benchmarks use them); zero fields keep the defaults.
type harnessOptions struct {
	// SCIMLimits paces the action runner's SCIM client (a compressed
	// simulator window).
	SCIMLimits *miro.SCIMLimits
	// Workers is the jobs runner's WorkflowWorkers.
	Workers int
	// PollInterval is River's fetch poll interval; 50ms when zero.
	PollInterval time.Duration
	// ManualTriggers keeps the jobs runner from evaluating triggers and
	// reconciling (its periodic job runs once when River elects a leader,
	// at a moment no test controls): the caller calls Evaluate.
	ManualTriggers bool
}

// stepsOnly is the engine as the jobs runner sees it, minus triggers and
// reconciliation.
type stepsOnly struct{ *workflow.Engine }

func (stepsOnly) Evaluate(context.Context) (int, error)  { return 0, nil }
func (stepsOnly) Reconcile(context.Context) (int, error) { return 0, nil }

// newHarness is the tests' harness: they call Evaluate and Reconcile
// themselves, so the jobs runner only works steps (its periodic trigger
// job, run whenever River elects a leader, would race the tests' calls).
func newHarness(t *testing.T, dsn string, cfg mirosim.Config) *harness {
	t.Helper()
	return newHarnessWith(t, dsn, cfg, harnessOptions{ManualTriggers: true})
}

// newHarnessWith is newHarness with options, for tests and benchmarks.
func newHarnessWith(t testing.TB, dsn string, cfg mirosim.Config, o harnessOptions) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{Kit: testkit.New(t, storetest.Open(t, dsn), cfg)}
	h.Clients.SCIMLimits = o.SCIMLimits
	h.conn = h.WithSCIM(t, h.Connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization))
	h.Sync(t, h.conn.ID)
	h.conn = h.Connection(t, h.conn.ID)

	h.smtp = notifytest.NewSMTP(t)
	h.hook = notifytest.NewWebhook(t, hookSecret)
	n, err := notify.New(notify.Config{SMTPAddr: h.smtp.Addr(), SMTPFrom: "roster@example.com", SMTPTLS: "none",
		WebhookURL: h.hook.URL(), WebhookSecret: hookSecret})
	require.NoError(t, err)
	h.metrics = metrics.New()
	// As serve wires it: every message recorded, the outbox channel set.
	h.outbox = &notify.Outbox{Log: h.DB, Next: n}
	h.engine = &workflow.Engine{Store: h.DB, Notifier: h.outbox, LinkKey: h.Sealer.MACKey("approval links"),
		PublicURL: "http://roster.test", Lease: 5 * time.Second,
		Actions: &action.Runner{Store: h.DB, Clients: h.Clients, Observe: h.metrics.Action}}
	var workflows jobs.Workflows = h.engine
	if o.ManualTriggers {
		workflows = stepsOnly{h.engine}
	}
	h.runner, err = jobs.New(ctx, jobs.Config{DB: h.DB, DSN: dsn, Syncer: h.Syncer, PollInterval: cmp.Or(o.PollInterval, 50*time.Millisecond),
		Workflows: workflows, StepRetryBase: 50 * time.Millisecond, StepAttempts: 4, TriggerEvery: time.Hour,
		WorkflowWorkers: o.Workers})
	require.NoError(t, err)
	h.engine.Jobs = h.runner
	require.NoError(t, h.runner.Start(context.WithoutCancel(ctx)))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.runner.Stop(stop)
		h.runner.Close()
	})
	h.Sim.ResetStats()
	return h
}

// eachBackend runs fn with a fresh harness on SQLite and PostgreSQL.
func eachBackend(t *testing.T, cfg mirosim.Config, fn func(t *testing.T, h *harness)) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		fn(t, newHarness(t, dsn, cfg))
	})
}

func smallOrg() mirosim.Config {
	return mirosim.Config{Seed: 7, Members: 60, Teams: 5, TeamsPerMember: 2}
}

// member is a simulator member matching pred, with its Miro state.
func (h *harness) member(t *testing.T, pred func(m miro.OrganizationMember) bool) miro.OrganizationMember {
	t.Helper()
	for m, err := range h.Admin.OrgMembers(context.Background(), h.Info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		if pred(m) {
			return m
		}
	}
	t.Fatal("no simulator member matches")
	return miro.OrganizationMember{}
}

func (h *harness) orgMember(t *testing.T, id string) miro.OrganizationMember {
	t.Helper()
	m, err := h.Admin.OrgMember(context.Background(), h.Info.OrgID, id)
	require.NoError(t, err)
	return m
}

// teamsOf are the simulator teams userID is in.
func (h *harness) teamsOf(t *testing.T, userID string) []string {
	t.Helper()
	var out []string
	for tm, err := range h.Admin.Teams(context.Background(), h.Info.OrgID, "") {
		require.NoError(t, err)
		for m, err := range h.Admin.TeamMembers(context.Background(), h.Info.OrgID, tm.ID, "") {
			require.NoError(t, err)
			if m.ID == userID {
				out = append(out, tm.ID)
			}
		}
	}
	return out
}

// save stores a workflow, enabled, on the harness's connection.
func (h *harness) save(t *testing.T, w roster.Workflow) roster.Workflow {
	t.Helper()
	w.ConnectionID, w.Enabled = h.conn.ID, true
	w, err := h.engine.Save(context.Background(), w)
	require.NoError(t, err)
	return w
}

// person writes a directory person.
func (h *harness) person(t *testing.T, p roster.Person) roster.Person {
	t.Helper()
	require.NoError(t, h.DB.UpsertPerson(context.Background(), &p))
	return p
}

// waitRuns waits until every run of the workflow has ended and returns them.
func (h *harness) waitRuns(t *testing.T, workflowID int64, want int) []roster.WorkflowRun {
	t.Helper()
	var (
		mu      sync.Mutex
		page    store.RunPage
		lastErr error
	)
	ok := assert.Eventually(t, func() bool {
		p, err := h.DB.Runs(context.Background(), store.RunFilter{WorkflowID: workflowID, Limit: 500})
		mu.Lock()
		defer mu.Unlock()
		if lastErr = err; err != nil {
			return false
		}
		page = p
		if len(p.Runs) < want {
			return false
		}
		for _, r := range p.Runs {
			if r.Status.Live() {
				return false
			}
		}
		return true
	}, 90*time.Second, 50*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.True(t, ok, "the runs of workflow %d did not end: counts %v, last error %v", workflowID, page.Counts, lastErr)
	require.Len(t, page.Runs, want)
	return page.Runs
}

// waitStatus waits until a run reaches status.
func (h *harness) waitStatus(t *testing.T, runID int64, status roster.RunStatus) roster.WorkflowRun {
	t.Helper()
	var (
		mu      sync.Mutex
		run     roster.WorkflowRun
		lastErr error
	)
	ok := assert.Eventually(t, func() bool {
		r, err := h.DB.Run(context.Background(), runID)
		mu.Lock()
		defer mu.Unlock()
		run, lastErr = r, err
		return err == nil && r.Status == status
	}, 90*time.Second, 50*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.True(t, ok, "run %d did not become %s: it is %s (%s), last error %v", runID, status, run.Status, run.Error, lastErr)
	return run
}

func (h *harness) timeline(t *testing.T, runID int64) map[string]roster.RunStep {
	t.Helper()
	steps, err := h.DB.RunSteps(context.Background(), runID)
	require.NoError(t, err)
	out := map[string]roster.RunStep{}
	for _, s := range steps {
		out[s.StepID] = s
	}
	return out
}

func (h *harness) calls(op string) int { return h.Sim.Stats().ByOperation[op].Calls }

// linkFrom finds an approval link in a message body.
func linkFrom(t *testing.T, body, word string) string {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), word+": "); ok {
			return strings.TrimSpace(rest)
		}
	}
	t.Fatalf("no %s link in %q", word, body)
	return ""
}

// tokenOf is the token of an approval link.
func tokenOf(link string) string { return link[strings.LastIndex(link, "/")+1:] }

// scrape is what /metrics would serve.
func (h *harness) scrape(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	return rec.Body.String()
}
