package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/notify/notifytest"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// The soak test's switches. They start with ROSTER_SOAK, which TestMain
// keeps (it clears the other ROSTER_* variables of the shell).
const (
	soakEnv         = "ROSTER_SOAK"          // 1 runs TestSoak
	soakDurationEnv = "ROSTER_SOAK_DURATION" // the load phase, e.g. 60s; default 3m
	soakLeaversEnv  = "ROSTER_SOAK_LEAVERS"  // people offboarded; default scales with the duration
)

// The soak's fixed shape: a simulated organization, the load clients and
// the faults the simulator injects into every Miro endpoint.
const (
	soakMembers    = 1500
	soakTeams      = 30
	soakRateWindow = "5s" // with Miro's budget of 100,000 credits
	soakClients    = 8    // half with a session (dashboard), half with an API key
	soakThink      = 100 * time.Millisecond
	soakSyncEvery  = 4 * time.Second
	soakWaveEvery  = 2 * time.Second
	soakBystanders = 30 // people signed out through the API, one key each
	soakStall      = 2 * time.Minute
	// soakPendingGrace is the action layer's default PendingGrace: an API
	// action whose process died is retried only after it.
	soakPendingGrace   = 5 * time.Minute
	soakRequestTimeout = 30 * time.Second
)

// soakFaults are the simulator's injected failures: rate limits, server
// errors and connections reset without an answer. None lets a write
// through (the "lost" fault would), so a write the simulator served is a
// write roster made. A 429 spends the token's credit window, whatever its
// headers say, so roster waits for the window's reset: the simulator's
// window is compressed to soakRateWindow so that such a wait lasts
// seconds, as the syncs every few seconds need.
var soakFaults = []mirosim.Fault{
	{Kind: mirosim.Fault429, Rate: 0.01},
	{Kind: mirosim.Fault500, Rate: 0.01},
	{Kind: mirosim.Fault502, Rate: 0.01},
	{Kind: mirosim.Fault503, Rate: 0.01},
	{Kind: mirosim.FaultReset, Rate: 0.01},
}

// TestSoak runs roster as it runs in production, on loopback: two `roster
// serve` processes on one PostgreSQL schema, a `roster mirosim` injecting
// faults, syncs every few seconds, 8 clients reading the dashboard and the
// API, a bulk offboarding arriving in waves and sign-outs through the API;
// one serve is SIGKILLed midway and started again. At the end every run
// has ended, nothing reached Miro twice, the store agrees with Miro after a
// clean sync, and roster answered no 5xx but the 502s that pass a Miro
// failure on. The summary (latency p50/p99 included) is logged and saved
// in the test's artifact directory (go test -artifacts). See "Soak" in
// docs/benchmarks.md.
func TestSoak(t *testing.T) {
	if os.Getenv(soakEnv) != "1" {
		t.Skip("the soak test runs with ROSTER_SOAK=1 and PostgreSQL (docs/benchmarks.md, Soak)")
	}
	if os.Getenv("ROSTER_TEST_POSTGRES_URL") == "" {
		t.Fatal("ROSTER_SOAK=1 needs PostgreSQL: set ROSTER_TEST_POSTGRES_URL")
	}
	cfg := soakConfigFromEnv(t)
	s := setupSoak(t, cfg)
	s.run(t)
	s.drain(t)
	s.finish(t)
}

type soakConfig struct {
	duration time.Duration
	leavers  int
}

func soakConfigFromEnv(t *testing.T) soakConfig {
	cfg := soakConfig{duration: 3 * time.Minute}
	if v := os.Getenv(soakDurationEnv); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "%s=%q", soakDurationEnv, v)
		require.GreaterOrEqual(t, d, 30*time.Second, "%s: at least 30s", soakDurationEnv)
		cfg.duration = d
	}
	// Two leavers for three seconds of load by default, in waves over 80%
	// of it, so that runs keep starting around the SIGKILL.
	cfg.leavers = max(20, int(cfg.duration.Seconds()*2/3))
	if v := os.Getenv(soakLeaversEnv); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "%s=%q", soakLeaversEnv, v)
		require.Positive(t, n, soakLeaversEnv)
		require.LessOrEqual(t, n, 500, "%s: at most 500 (one page of runs)", soakLeaversEnv)
		cfg.leavers = n
	}
	return cfg
}

// soak is one soak run: the processes, the clients and what they saw.
type soak struct {
	cfg       soakConfig
	dsn       string
	dir       string // the artifact directory: logs and the summary
	e         *e2e
	simURL    string
	info      mirosim.Info
	admin     *miro.Client // the test's own token: its reads spend none of roster's credits
	st        *sqlstore.DB
	servers   [2]*soakServer
	serveArgs []string
	key       string           // an API key with read and act
	jars      []http.CookieJar // one logged-in session per dashboard client
	accounts  []int64          // account ids for /users/{id}

	leavers, bystanders []leaver
	memberships         int // the leavers' team memberships before the soak
	hook                *notifytest.WebhookServer
	workflowID          int64

	rec     recorder
	start   time.Time // the load began
	loadEnd time.Time
	killAt  time.Time
	upAgain time.Time
	atKill  string // where the runs stood at the SIGKILL
	// killedRiverID is the River client id of serve-b's first life.
	killedRiverID string

	signedOut         atomic.Int64
	pendingWaits      atomic.Int64 // sign-outs that met their key pending
	offboarded        atomic.Int64 // leavers whose wave was imported
	signOutsDone      chan struct{}
	drainTook         time.Duration
	finalSync         result
	runs              store.RunPage
	heldJobs          string
	syncRunsBy        map[string]int
	syncRunsAfterKill map[string]int
	syncRunsLeft      int // sync runs still "running" once both servers stopped
	// firstSyncAfterKill is when the first sync that succeeded after the
	// SIGKILL started, from the SIGKILL; 0 if none did.
	firstSyncAfterKill time.Duration
}

// syncAsks counts "sync now" answers: queued, or absorbed by a sync
// already queued or running.
type syncAsks struct{ queued, absorbed int }

// count adds one 202 answer of POST /api/v1/connections/{id}/sync.
func (a *syncAsks) count(body []byte) {
	var out struct {
		Data struct {
			Queued bool `json:"queued"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &out) != nil {
		return
	}
	if out.Data.Queued {
		a.queued++
	} else {
		a.absorbed++
	}
}

// soakServer is one `roster serve` process; the clients skip it while it
// is down.
type soakServer struct {
	name string
	mu   sync.Mutex
	url  string
	up   bool
	proc *child
}

func (v *soakServer) target() (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.url, v.up
}

// markDown takes the server out of the clients' rotation and returns its
// process.
func (v *soakServer) markDown() *child {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.up = false
	return v.proc
}

func (v *soakServer) set(url string, up bool, proc *child) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.url, v.up, v.proc = url, up, proc
}

func setupSoak(t *testing.T, cfg soakConfig) *soak {
	ctx := t.Context()
	s := &soak{cfg: cfg, dsn: storetest.PostgresDSN(t), dir: t.ArtifactDir(), signOutsDone: make(chan struct{})}
	t.Logf("soak: %s of load, %d leavers; logs and summary in %s", cfg.duration, cfg.leavers, s.dir)

	// The simulator, as its own process.
	sim := startChild(t, filepath.Join(s.dir, "mirosim.log"), "mirosim", "--listen", "127.0.0.1:0",
		"--members", strconv.Itoa(soakMembers), "--teams", strconv.Itoa(soakTeams), "--teams-per-member", "2",
		"--seed", "7", "--token-ttl", "24h", "--rate-window", soakRateWindow, "--rate-budget", "100000")
	s.simURL = childLine(t, sim, "base URL: ", time.Minute)
	s.simJSON(t, "GET", "/_sim/info", nil, &s.info)
	in := s.info.Installs[mirosim.InstallOrgAdmin]
	var own mirosim.Install
	s.simJSON(t, "POST", "/_sim/tokens", map[string]any{"user_id": in.UserID, "team_id": in.TeamID, "scopes": in.Scopes}, &own)
	var err error
	s.admin, err = miro.New(miro.Config{BaseURL: s.info.APIBaseURL, Token: miro.StaticToken(own.AccessToken)})
	require.NoError(t, err)

	picked := pickLeavers(t, s.admin, s.info.OrgID, in.UserID, cfg.leavers+soakBystanders)
	s.leavers, s.bystanders = picked[:cfg.leavers], picked[cfg.leavers:]
	for _, l := range s.leavers {
		s.memberships += len(l.teams)
	}

	// roster: connected, synced, the offboarding template enabled, the
	// leavers in the directory, an operator.
	s.e = &e2e{dataDir: filepath.Join(t.TempDir(), "data")}
	db := []string{"--database", s.dsn}
	r := s.e.roster(t, append([]string{"connect", "--level", "organization", "--miro-url", s.info.APIBaseURL,
		"--token", in.AccessToken, "--scim-token", s.info.SCIMToken, "--sync-interval", "1m"}, db...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = s.e.roster(t, append([]string{"sync"}, db...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = s.e.roster(t, append([]string{"workflow", "template", "offboarding", "--connection", "1", "--notify", "webhook"}, db...)...)
	require.NoError(t, r.err, r.stderr)
	tmpl := filepath.Join(t.TempDir(), "offboarding.yaml")
	require.NoError(t, os.WriteFile(tmpl, []byte(r.stdout), 0o600))
	r = s.e.roster(t, append([]string{"workflow", "apply", "-f", tmpl}, db...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = s.e.roster(t, append([]string{"workflow", "enable", "offboarding"}, db...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	importPeople(t, s.e, db, s.leavers, roster.PersonActive)
	r = s.e.roster(t, append([]string{"admin", "create", "--email", "soak@example.com"}, db...)...)
	require.NoError(t, r.err, r.stderr)
	password := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(r.stdout)
	require.Len(t, password, 2, r.stdout)

	s.st = storetest.Open(t, s.dsn)
	wf, err := s.st.WorkflowByName(ctx, "offboarding")
	require.NoError(t, err)
	s.workflowID = wf.ID

	// Two serve processes on the database.
	s.hook = notifytest.NewWebhook(t, "soak-secret")
	s.serveArgs = append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", s.e.dataDir, "--workers", "2",
		"--workflow-tick", "1s", "--workflow-lease", "5s", "--step-retry", "500ms", "--workflow-workers", "4",
		"--webhook-url", s.hook.URL(), "--webhook-secret", "soak-secret"}, db...)
	for i, name := range []string{"serve-a", "serve-b"} {
		s.servers[i] = &soakServer{name: name}
		s.startServer(t, i, name+"-1.log")
	}

	// The clients' credentials, made as people make them: a login per
	// dashboard client, and an API key created on the settings page.
	for range soakClients / 2 {
		s.jars = append(s.jars, s.login(t, "soak@example.com", password[1]))
	}
	s.key = s.createAPIKey(t, s.jars[0])
	var users struct {
		Data []struct {
			ID int64 `json:"id"`
		} `json:"data"`
	}
	base, _ := s.servers[0].target()
	code, body := s.apiGet(t, base+"/api/v1/users?limit=100", &users)
	require.Equal(t, http.StatusOK, code, body)
	for _, u := range users.Data {
		s.accounts = append(s.accounts, u.ID)
	}
	require.NotEmpty(t, s.accounts)
	return s
}

// startServer starts serve i with its log in the artifact directory and
// marks it up once it listens.
func (s *soak) startServer(t *testing.T, i int, logName string) {
	c := startChild(t, filepath.Join(s.dir, logName), s.serveArgs...)
	u := childLine(t, c, "roster serving on ", 2*time.Minute)
	s.servers[i].set(u, true, c)
}

// run is the load phase: clients, drivers, the SIGKILL and the restart.
func (s *soak) run(t *testing.T) {
	d := s.cfg.duration
	s.simJSON(t, "POST", "/_sim/stats/reset", nil, nil)
	s.simJSON(t, "PUT", "/_sim/faults", soakFaults, nil)
	s.start = time.Now()
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i := range soakClients {
		wg.Go(func() { s.loadClient(ctx, i) })
	}
	wg.Go(func() { s.syncDriver(ctx) })
	wg.Go(func() { s.offboardDriver(ctx, t) })
	// Sign-outs continue past the load until each has succeeded.
	go func() {
		defer close(s.signOutsDone)
		s.signOutDriver(t.Context())
	}()

	// Midway, serve-b dies without a chance to clean up, and comes back.
	// It dies in the middle of a sync if it runs one within a few syncs'
	// time, else of a workflow step, else as it is.
	sleepUntil(s.start.Add(d / 2))
	b := s.servers[1]
	riverID := riverClientID(b.proc)
	s.killedRiverID = riverID
	var held map[string]int
	for _, w := range []struct {
		wait time.Duration
		kind string
	}{{4 * soakSyncEvery, "sync_connection"}, {4 * soakWaveEvery, "workflow_step"}} {
		deadline := time.Now().Add(w.wait)
		for held = s.jobsHeldBy(t, riverID); riverID != "" && held[w.kind] == 0 && time.Now().Before(deadline); held = s.jobsHeldBy(t, riverID) {
			time.Sleep(10 * time.Millisecond)
		}
		if held[w.kind] > 0 {
			break
		}
	}
	proc := b.markDown()
	s.killAt = time.Now()
	proc.kill(t)
	s.atKill = fmt.Sprintf("%s; River jobs serve-b held: %v", s.runsReport(t), held)
	t.Logf("SIGKILL serve-b at %s: %s", s.killAt.Sub(s.start).Round(time.Second), s.atKill)
	sleepUntil(s.killAt.Add(d / 6))
	s.startServer(t, 1, "serve-b-2.log")
	s.upAgain = time.Now()
	t.Logf("serve-b serving again at %s", s.upAgain.Sub(s.start).Round(time.Second))

	sleepUntil(s.start.Add(d))
	stop()
	wg.Wait()
	s.loadEnd = time.Now()
}

// drain ends the faults and waits for the sign-outs and the runs to end,
// failing only when nothing advances for soakStall.
func (s *soak) drain(t *testing.T) {
	s.simJSON(t, "DELETE", "/_sim/faults", nil, nil)
	ctx := t.Context()
	last, lastChange := "", time.Now()
	for {
		page, err := s.st.Runs(ctx, store.RunFilter{WorkflowID: s.workflowID, Limit: 500})
		require.NoError(t, err)
		s.runs = page
		if page.Total == int(s.offboarded.Load()) && page.Counts[roster.RunRunning]+page.Counts[roster.RunWaiting] == 0 {
			break
		}
		// Progress: a run started, moved a step, was taken over or ended.
		sig := fmt.Sprint(page.Total, page.Counts)
		for _, run := range page.Runs {
			sig += fmt.Sprintf(" %d:%d:%d", run.ID, run.Position, run.Generation)
		}
		if sig != last {
			last, lastChange = sig, time.Now()
		}
		if time.Since(lastChange) > soakStall {
			s.heldJobs = s.jobsReport(t)
			s.saveStallSummary(t)
			t.Fatalf("no run advanced for %s after the load ended\n%s\n%s", soakStall, runsReport(s.st, page), s.heldJobs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	s.drainTook = time.Since(s.loadEnd)

	// A sign-out cut by the SIGKILL stays pending until the grace ends;
	// the retry then asks Miro whether it was done.
	select {
	case <-s.signOutsDone:
	case <-time.After(soakPendingGrace + soakStall):
		t.Errorf("the API sign-outs did not all succeed within %s of the load's end (%d of %d)",
			soakPendingGrace+soakStall, s.signedOut.Load(), len(s.bystanders))
	}

	s.awaitSyncAfterKill(t)

	// What the crash left behind, for the report (issue 10 item 10: a
	// killed process's River jobs stay held until River's rescue).
	s.heldJobs = s.jobsReport(t)
	s.syncRunsBy = s.syncRunCounts(t, time.Time{})
	s.syncRunsAfterKill = s.syncRunCounts(t, s.killAt)
	var first *time.Time
	require.NoError(t, s.st.SQL().QueryRowContext(t.Context(), `SELECT MIN(started_at) FROM sync_runs
		WHERE started_at >= $1 AND status = 'succeeded'`, s.killAt.UTC()).Scan(&first))
	if first != nil {
		s.firstSyncAfterKill = first.Sub(s.killAt)
	}

	for _, v := range s.servers {
		v.proc.stop(t)
	}
	s.syncRunsLeft = s.syncRunCounts(t, time.Time{})[string(roster.SyncRunning)]
	// The final clean sync, with no faults and no other process.
	s.finalSync = s.e.roster(t, "sync", "--connection", "1", "--database", s.dsn)
}

// awaitSyncAfterKill asks for syncs until one started after the SIGKILL
// has succeeded, for up to soakStall: a sync the killed process held must
// not block the connection's syncs for long.
func (s *soak) awaitSyncAfterKill(t *testing.T) {
	hc := &http.Client{Timeout: soakRequestTimeout}
	deadline := time.Now().Add(soakStall)
	for time.Now().Before(deadline) {
		if s.syncRunCounts(t, s.killAt)[string(roster.SyncSucceeded)] > 0 {
			return
		}
		srv, base := s.pick(0)
		req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/api/v1/connections/1/sync", nil)
		req.Header.Set("Authorization", "Bearer "+s.key)
		s.rec.do(hc, req, "sync", "POST /api/v1/connections/{id}/sync", srv, http.StatusAccepted)
		time.Sleep(soakSyncEvery)
	}
}

// finish compares roster with Miro, writes the summary and checks it.
func (s *soak) finish(t *testing.T) {
	ctx := t.Context()
	var problems []string
	fail := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	// Syncs: none left running, and syncs still ran after the SIGKILL
	// (issue 10 item 10: a sync killed mid-run held its job for 2 h).
	if s.syncRunsLeft > 0 {
		fail("%d sync runs are still running after both servers stopped (River jobs: %s)", s.syncRunsLeft, s.heldJobs)
	}
	if s.syncRunsAfterKill[string(roster.SyncSucceeded)] == 0 {
		fail("no sync succeeded after the SIGKILL, within %s of the load's end: sync runs since %v, River jobs: %s",
			soakStall, s.syncRunsAfterKill, s.heldJobs)
	}
	if s.finalSync.err != nil {
		fail("the final sync failed: %v\n%s%s", s.finalSync.err, s.finalSync.stdout, s.finalSync.stderr)
	}

	// Runs: one per leaver, every one ended, a failure says why.
	if n := s.offboarded.Load(); n != int64(len(s.leavers)) {
		fail("only %d of the %d leavers were imported as left during the load", n, len(s.leavers))
	}
	byEmail := map[string][]roster.WorkflowRun{}
	for _, run := range s.runs.Runs {
		byEmail[run.Email] = append(byEmail[run.Email], run)
		if run.Status == roster.RunFailed && strings.TrimSpace(run.Error) == "" {
			fail("run %d (%s) failed without a reason", run.ID, run.Email)
		}
	}
	for _, l := range s.leavers {
		if n := len(byEmail[l.email]); n != 1 {
			fail("%s has %d offboarding runs, want 1", l.email, n)
		}
	}

	// Miro's final state, read with the test's own token.
	m := s.readMiro(t)
	resets := s.sessionResets(t)
	removedMemberships, deactivated, wantResets := 0, 0, 0
	for _, l := range s.leavers {
		succeeded := len(byEmail[l.email]) == 1 && byEmail[l.email][0].Status == roster.RunSucceeded
		for _, team := range l.teams {
			if !m.memberships[team+"/"+l.id] {
				removedMemberships++
			}
		}
		if !m.active[l.id] {
			deactivated++
		}
		wantResets += resets[l.id]
		switch {
		case resets[l.id] > 1:
			fail("%s was signed out %d times", l.email, resets[l.id])
		case succeeded && resets[l.id] != 1:
			fail("%s: run succeeded but signed out %d times", l.email, resets[l.id])
		case succeeded && m.active[l.id]:
			fail("%s: run succeeded but still active at Miro", l.email)
		case succeeded && len(m.teamsOf[l.id]) > 0:
			fail("%s: run succeeded but still in teams %v", l.email, m.teamsOf[l.id])
		}
	}
	for _, b := range s.bystanders {
		wantResets += resets[b.id]
		if resets[b.id] != 1 {
			fail("%s was signed out %d times through the API, want 1", b.email, resets[b.id])
		}
		if !m.active[b.id] || len(m.teamsOf[b.id]) != len(b.teams) {
			fail("%s, only signed out, changed at Miro: active %v, teams %v", b.email, m.active[b.id], m.teamsOf[b.id])
		}
	}
	totalResets := 0
	for _, n := range resets {
		totalResets += n
	}
	if totalResets != wantResets {
		fail("%d sign-outs at Miro, %d of them of people the soak did not sign out", totalResets, totalResets-wantResets)
	}

	// Nothing twice: every write the simulator served (not answered by a
	// fault) changed something, and only once. A second removal would be
	// a served 404, a second deactivation a served PATCH of an inactive
	// user, a second sign-out a second audit event.
	var stats mirosim.Stats
	s.simJSON(t, "GET", "/_sim/stats", nil, &stats)
	served := func(op string) int {
		n := 0
		for status, c := range stats.ByOperation[op].Statuses {
			if !faultStatus(status) {
				n += c
			}
		}
		return n
	}
	if n := served("enterprise-delete-team-member"); n != removedMemberships {
		fail("team removals served %d, memberships removed %d: %v", n, removedMemberships, stats.ByOperation["enterprise-delete-team-member"].Statuses)
	}
	if n := served("patchUser"); n != deactivated {
		fail("SCIM PATCHes served %d, people deactivated %d: %v", n, deactivated, stats.ByOperation["patchUser"].Statuses)
	}
	if n := served("enterprise-post-user-sessions-reset"); n != totalResets {
		fail("sign-outs served %d, audit events %d", n, totalResets)
	}
	for op := range stats.ByOperation {
		switch op {
		case "enterprise-delete-team-member", "patchUser", "enterprise-post-user-sessions-reset":
		default:
			if isWrite(op) && served(op) > 0 {
				fail("%s was served %d times: the soak asks for no such write", op, served(op))
			}
		}
	}

	// The store after the clean sync equals Miro.
	stored := s.storeCounts(t, ctx)
	for _, c := range []struct {
		what        string
		store, miro int
	}{
		{"members", stored.members, len(m.active)},
		{"active members", stored.active, countTrue(m.active)},
		{"full licenses", stored.full, m.full},
		{"teams", stored.teams, m.teams},
		{"memberships", len(stored.memberships), len(m.memberships)},
	} {
		if c.store != c.miro {
			fail("store has %d %s, Miro %d", c.store, c.what, c.miro)
		}
	}
	var missing, extra []string
	for k := range m.memberships {
		if !stored.memberships[k] {
			missing = append(missing, k)
		}
	}
	for k := range stored.memberships {
		if !m.memberships[k] {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra) > 0 {
		fail("memberships differ: missing in the store %v, only in the store %v", firstN(missing, 10), firstN(extra, 10))
	}

	// roster's answers.
	h := s.rec.classify(s)
	for _, p := range h.problems {
		fail("%s", p)
	}

	sum := s.summary(stats, h, stored, m, totalResets, removedMemberships, deactivated)
	s.saveSummary(t, sum)
	t.Log("\n" + sum)
	for _, p := range problems {
		t.Error(p)
	}
}

// ---- the load ----

// loadClient is one of the 8 clients: it reads a page or a list, thinks,
// and reads another, alternating between the servers that are up.
func (s *soak) loadClient(ctx context.Context, i int) {
	session := i < soakClients/2
	hc := &http.Client{Timeout: soakRequestTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	who, paths := "api", []string{"/api/v1/users?limit=50", "/api/v1/users?license=full&limit=100", "/api/v1/teams",
		"/api/v1/connections", "/api/v1/connections/1/sync-runs", "/api/v1/changes", "/api/v1/insights/overview",
		"/api/v1/audit", "/api/v1/people", "/api/v1/workflows", "/api/v1/workflow-runs", "/api/v1/users/{id}"}
	if session {
		hc.Jar = s.jars[i]
		who, paths = "dashboard", []string{"/", "/users", "/users?license=full", "/teams", "/audit", "/directory",
			"/connections", "/workflows", "/workflows/runs", "/users/{id}"}
	}
	for n := 0; ctx.Err() == nil; n++ {
		p := paths[(n+i)%len(paths)]
		label := "GET " + p
		p = strings.Replace(p, "{id}", strconv.FormatInt(s.accounts[(n*7+i)%len(s.accounts)], 10), 1)
		srv, base := s.pick(n + i)
		req, _ := http.NewRequestWithContext(ctx, "GET", base+p, nil)
		if !session {
			req.Header.Set("Authorization", "Bearer "+s.key)
		}
		s.rec.do(hc, req, who, label, srv, http.StatusOK)
		select {
		case <-ctx.Done():
		case <-time.After(soakThink):
		}
	}
}

// syncDriver asks for a sync every few seconds, alternating servers.
func (s *soak) syncDriver(ctx context.Context) {
	hc := &http.Client{Timeout: soakRequestTimeout}
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(soakSyncEvery):
		}
		srv, base := s.pick(n)
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/connections/1/sync", nil)
		req.Header.Set("Authorization", "Bearer "+s.key)
		s.rec.do(hc, req, "sync", "POST /api/v1/connections/{id}/sync", srv, http.StatusAccepted)
	}
}

// offboardDriver marks the leavers as left in the directory, a wave every
// few seconds over the first 80% of the load, through the API's import.
func (s *soak) offboardDriver(ctx context.Context, t *testing.T) {
	hc := &http.Client{Timeout: soakRequestTimeout}
	waves := max(1, int(s.cfg.duration*8/10/soakWaveEvery))
	for w := range waves {
		sleepUntil(s.start.Add(time.Duration(w) * soakWaveEvery))
		if ctx.Err() != nil {
			return
		}
		chunk := s.leavers[w*len(s.leavers)/waves : (w+1)*len(s.leavers)/waves]
		if len(chunk) == 0 {
			continue
		}
		var b strings.Builder
		b.WriteString("email,name,manager_email,department,status\n")
		for _, l := range chunk {
			fmt.Fprintf(&b, "%s,Leaver,,Engineering,%s\n", l.email, roster.PersonLeft)
		}
		// A wave cut by the SIGKILL is sent again: an import is an upsert.
		for try := 0; ; try++ {
			srv, base := s.pick(w + try)
			req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/people/import", strings.NewReader(b.String()))
			req.Header.Set("Authorization", "Bearer "+s.key)
			req.Header.Set("Content-Type", "text/csv")
			sm := s.rec.do(hc, req, "offboard", "POST /api/v1/people/import", srv, http.StatusOK)
			if sm.status == http.StatusOK {
				s.offboarded.Add(int64(len(chunk)))
				break
			}
			if ctx.Err() != nil {
				break
			}
			if try == 4 {
				t.Errorf("wave %d was not imported: %d %s %s", w, sm.status, sm.err, sm.body)
				break
			}
			time.Sleep(time.Second)
		}
	}
}

// signOutDriver signs the bystanders out through the API, spread over the
// load, each with one idempotency key that it retries until it succeeds:
// after a 502 (Miro failed), a cut connection, or a 409 (the key is still
// pending: in the killed process, until the action layer's grace).
func (s *soak) signOutDriver(ctx context.Context) {
	hc := &http.Client{Timeout: soakRequestTimeout}
	gap := s.cfg.duration * 8 / 10 / time.Duration(len(s.bystanders)+1)
	var wg sync.WaitGroup
	for i, b := range s.bystanders {
		sleepUntil(s.start.Add(gap * time.Duration(i+1)))
		wg.Go(func() {
			body, _ := json.Marshal(map[string]any{"connection_id": 1, "user_id": b.id, "idempotency_key": "soak-sign-out-" + strconv.Itoa(i)})
			waited := false
			for try := 0; ctx.Err() == nil; try++ {
				srv, base := s.pick(i + try)
				req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/actions/sign-out", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+s.key)
				req.Header.Set("Content-Type", "application/json")
				sm := s.rec.do(hc, req, "sign-out", "POST /api/v1/actions/sign-out", srv, http.StatusOK)
				switch sm.status {
				case http.StatusOK:
					s.signedOut.Add(1)
					return
				case http.StatusConflict:
					if !waited {
						waited = true
						s.pendingWaits.Add(1)
					}
				case 0, http.StatusBadGateway:
				default:
					return // unexpected: classify reports it
				}
				time.Sleep(time.Duration(min(try+1, 10)) * 500 * time.Millisecond)
			}
		})
	}
	wg.Wait()
}

// pick is the server for the n-th request: alternating, skipping one
// that is down.
func (s *soak) pick(n int) (int, string) {
	for k := range 2 {
		i := (n + k) % 2
		if u, up := s.servers[i].target(); up {
			return i, u
		}
	}
	u, _ := s.servers[0].target()
	return 0, u
}

// ---- what roster answered ----

// sample is one request to roster.
type sample struct {
	who, route string
	server     int
	start      time.Time
	dur        time.Duration
	status     int // 0: no answer
	want       int
	err        string
	body       []byte // kept for non-2xx answers and the sync answer
}

type recorder struct {
	mu      sync.Mutex
	samples []sample
}

func (r *recorder) do(hc *http.Client, req *http.Request, who, route string, server, want int) sample {
	sm := sample{who: who, route: route, server: server, start: time.Now(), want: want}
	resp, err := hc.Do(req)
	if err == nil {
		sm.status = resp.StatusCode
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			sm.status, err = 0, rerr
		} else if sm.status != http.StatusOK || who == "sync" {
			sm.body = body
		}
	}
	sm.dur = time.Since(sm.start)
	if err != nil {
		if req.Context().Err() != nil {
			return sm // the load ended mid-request: not an answer
		}
		sm.err = err.Error()
	}
	r.mu.Lock()
	r.samples = append(r.samples, sm)
	r.mu.Unlock()
	return sm
}

// httpReport is roster's answers, classified.
type httpReport struct {
	byStatus      map[string]map[int]int // route: status: count
	cutByKill     int                    // no answer from serve-b while it was being killed
	passedOn      map[string]int         // 502s of a failed action, by the Miro failure named
	latency       map[string][]time.Duration
	loadRequests  int
	problems      []string
	unexpected5xx int
	syncAsks      [2]syncAsks // before and after the SIGKILL
}

// classify sorts the answers. Expected: what each route wants; a 502
// "failed" from an action, which passes on a Miro failure the faults
// caused (its reason is counted); no answer from serve-b while it was
// being SIGKILLed. Anything else, and any other 5xx, is a problem.
func (r *recorder) classify(s *soak) httpReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := httpReport{byStatus: map[string]map[int]int{}, passedOn: map[string]int{}, latency: map[string][]time.Duration{}}
	odd, first := map[string]int{}, map[string]string{}
	for _, sm := range r.samples {
		if h.byStatus[sm.route] == nil {
			h.byStatus[sm.route] = map[int]int{}
		}
		h.byStatus[sm.route][sm.status]++
		if sm.who == "dashboard" || sm.who == "api" {
			h.loadRequests++
			if sm.status == http.StatusOK {
				h.latency[sm.who] = append(h.latency[sm.who], sm.dur)
				h.latency["all"] = append(h.latency["all"], sm.dur)
			}
		}
		if sm.who == "sync" && sm.status == http.StatusAccepted {
			h.syncAsks[btoi(sm.start.After(s.killAt))].count(sm.body)
		}
		end := sm.start.Add(sm.dur)
		switch {
		case sm.status == sm.want:
		case sm.status == 0 && sm.server == 1 && !end.Before(s.killAt) && sm.start.Before(s.upAgain):
			h.cutByKill++
		case sm.status == http.StatusBadGateway && sm.who == "sign-out" && apiErrorCode(sm.body) == "failed" && missReason(sm.body) != "":
			h.passedOn[missReason(sm.body)]++
		case sm.status == http.StatusConflict && sm.who == "sign-out" && apiErrorCode(sm.body) == "conflict":
			// the key is pending (in flight, or in the killed process
			// until the grace): the driver retries it
		default:
			if sm.status >= 500 {
				h.unexpected5xx++
			}
			what := fmt.Sprintf("%s on %s answered %d (want %d)", sm.route, s.servers[sm.server].name, sm.status, sm.want)
			if sm.status == 0 {
				what = fmt.Sprintf("%s on %s: no answer (%s)", sm.route, s.servers[sm.server].name, sm.err)
			}
			if odd[what]++; odd[what] == 1 {
				first[what] = string(firstBytes(sm.body, 300))
			}
		}
	}
	for _, what := range slices.Sorted(maps.Keys(odd)) {
		h.problems = append(h.problems, fmt.Sprintf("%s, %d times: %s", what, odd[what], first[what]))
	}
	return h
}

// apiErrorCode is the code of an API error body.
func apiErrorCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}

// missReason names the Miro failure a failed action's answer reports, by
// the first sign of an injected fault in its message: an HTTP status, a
// reset, a cut answer. "" when it names no such failure of Miro.
func missReason(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	msg := strings.ToLower(e.Error.Message)
	if !strings.Contains(msg, "miro: ") {
		return ""
	}
	for _, sign := range []string{"429", "500", "502", "503", "reset", "eof", "timeout"} {
		if strings.Contains(msg, sign) {
			return sign
		}
	}
	return ""
}

// faultStatus reports whether the simulator answered with a fault or a
// refusal before the handler ran: 429 (injected or its budget), the
// injected 5xx, or no answer (a reset).
func faultStatus(status int) bool {
	switch status {
	case 0, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable:
		return true
	}
	return false
}

// ---- reading Miro and the store ----

// miroState is the simulator's organization at the end.
type miroState struct {
	active      map[string]bool // member id: active
	full        int
	teams       int
	memberships map[string]bool // "team/member"
	teamsOf     map[string][]string
}

func (s *soak) readMiro(t *testing.T) miroState {
	ctx := t.Context()
	m := miroState{active: map[string]bool{}, memberships: map[string]bool{}, teamsOf: map[string][]string{}}
	for om, err := range s.admin.OrgMembers(ctx, s.info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		m.active[om.ID] = om.Active
		if om.License.String() == roster.LicenseFull {
			m.full++
		}
	}
	for tm, err := range s.admin.Teams(ctx, s.info.OrgID, "") {
		require.NoError(t, err)
		m.teams++
		for mem, err := range s.admin.TeamMembers(ctx, s.info.OrgID, tm.ID, "") {
			require.NoError(t, err)
			m.memberships[tm.ID+"/"+mem.ID] = true
			m.teamsOf[mem.ID] = append(m.teamsOf[mem.ID], tm.ID)
		}
	}
	return m
}

// sessionResets counts Miro's sign-outs per person since the load began.
func (s *soak) sessionResets(t *testing.T) map[string]int {
	out := map[string]int{}
	q := miro.AuditQuery{CreatedAfter: s.start.Add(-time.Minute), CreatedBefore: time.Now().Add(time.Minute)}
	for ev, err := range s.admin.AuditLogs(t.Context(), q) {
		require.NoError(t, err)
		if ev.Event == "user_sessions_reset" && ev.Object != nil {
			out[ev.Object.ID]++
		}
	}
	return out
}

type storeState struct {
	members, active, full, teams int
	memberships                  map[string]bool
}

func (s *soak) storeCounts(t *testing.T, ctx context.Context) storeState {
	db := s.st.SQL()
	st := storeState{memberships: map[string]bool{}}
	require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN a.active THEN 1 END),
		COUNT(CASE WHEN a.license = 'full' THEN 1 END)
		FROM accounts a JOIN connection_accounts ca ON ca.account_id = a.id AND ca.connection_id = 1
		WHERE a.left_at IS NULL`).Scan(&st.members, &st.active, &st.full))
	require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM connection_teams WHERE connection_id = 1`).Scan(&st.teams))
	rows, err := db.QueryContext(ctx, `SELECT m.miro_team_id, a.miro_user_id FROM memberships m
		JOIN accounts a ON a.id = m.account_id AND a.left_at IS NULL
		JOIN connection_teams ct ON ct.miro_team_id = m.miro_team_id AND ct.connection_id = 1`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var team, user string
		require.NoError(t, rows.Scan(&team, &user))
		st.memberships[team+"/"+user] = true
	}
	require.NoError(t, rows.Err())
	return st
}

// runsReport is where the runs stand, in one line.
func (s *soak) runsReport(t *testing.T) string {
	page, err := s.st.Runs(t.Context(), store.RunFilter{WorkflowID: s.workflowID, Limit: 1})
	require.NoError(t, err)
	syncing := s.syncRunCounts(t, time.Time{})[string(roster.SyncRunning)]
	return fmt.Sprintf("runs %d, by status %v; %d webhooks; %d sync runs running", page.Total, page.Counts, len(s.hook.Deliveries()), syncing)
}

// riverClientID is the River client id a serve logged at start, "" if
// it logged none.
func riverClientID(c *child) string {
	b, _ := os.ReadFile(c.log)
	m := regexp.MustCompile(`msg="River client started".* client_id=(\S+)`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// jobsHeldBy counts the running River jobs a client holds, by kind.
func (s *soak) jobsHeldBy(t *testing.T, clientID string) map[string]int {
	rows, err := s.st.SQL().QueryContext(t.Context(), `SELECT kind, COUNT(*) FROM river_job
		WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $1 GROUP BY kind`, clientID)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var kind string
		var n int
		require.NoError(t, rows.Scan(&kind, &n))
		out[kind] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// jobsReport lists River's jobs that are not completed, by kind and
// state: a job held by the killed process stays "running".
func (s *soak) jobsReport(t *testing.T) string {
	rows, err := s.st.SQL().QueryContext(t.Context(), `SELECT kind, state, COUNT(*) FROM river_job
		WHERE state <> 'completed' GROUP BY kind, state ORDER BY kind, state`)
	require.NoError(t, err)
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var kind, state string
		var n int
		require.NoError(t, rows.Scan(&kind, &state, &n))
		parts = append(parts, fmt.Sprintf("%s %s %d", kind, state, n))
	}
	require.NoError(t, rows.Err())
	if len(parts) == 0 {
		parts = append(parts, "none")
	}
	if s.killedRiverID != "" {
		parts = append(parts, fmt.Sprintf("held by the killed serve-b: %v", s.jobsHeldBy(t, s.killedRiverID)))
	}
	return strings.Join(parts, "; ")
}

// syncRunCounts counts sync runs by status, of those started after since.
func (s *soak) syncRunCounts(t *testing.T, since time.Time) map[string]int {
	rows, err := s.st.SQL().QueryContext(t.Context(), `SELECT status, COUNT(*) FROM sync_runs WHERE started_at >= $1 GROUP BY status`, since.UTC())
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		require.NoError(t, rows.Scan(&status, &n))
		out[status] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// ---- the summary ----

func (s *soak) summary(stats mirosim.Stats, h httpReport, stored storeState, m miroState, resets, removed, deactivated int) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	at := func(t time.Time) string { return t.Sub(s.start).Round(time.Second).String() }
	p("roster soak, %s", time.Now().UTC().Format(time.RFC3339))
	p("setup: 2 roster serve on one PostgreSQL schema; roster mirosim, %d members, %d teams, credit window %s; faults on every Miro call: %s",
		soakMembers, soakTeams, soakRateWindow, faultsText())
	p("load: %s; %d clients (%d dashboard with a session, %d API with a key), %s think time; a sync asked every %s",
		s.loadEnd.Sub(s.start).Round(time.Second), soakClients, soakClients/2, soakClients/2, soakThink, soakSyncEvery)
	p("SIGKILL serve-b at %s (%s); serving again at %s", at(s.killAt), s.atKill, at(s.upAgain))
	p("")
	secs := s.loadEnd.Sub(s.start).Seconds()
	p("load requests: %d (%.1f/s), answered 200: %d", h.loadRequests, float64(h.loadRequests)/secs, len(h.latency["all"]))
	for _, k := range []string{"all", "dashboard", "api"} {
		l := h.latency[k]
		p("  latency %-9s p50 %s  p90 %s  p99 %s  max %s  (n=%d)", k, pct(l, 50), pct(l, 90), pct(l, 99), pct(l, 100), len(l))
	}
	p("answers by route:")
	for _, route := range slices.Sorted(maps.Keys(h.byStatus)) {
		p("  %-45s %v", route, h.byStatus[route])
	}
	p("  no answer from serve-b while it was killed: %d; 502 passing on a Miro failure (sign-out): %v; unexpected 5xx: %d",
		h.cutByKill, h.passedOn, h.unexpected5xx)
	p("")
	p("syncs asked through the API: before the kill %d queued, %d absorbed; after %d queued, %d absorbed",
		h.syncAsks[0].queued, h.syncAsks[0].absorbed, h.syncAsks[1].queued, h.syncAsks[1].absorbed)
	p("sync runs: %v; started after the kill: %v; still running after both servers stopped: %d", s.syncRunsBy, s.syncRunsAfterKill, s.syncRunsLeft)
	p("first successful sync after the kill started %s after it (0s: none)", s.firstSyncAfterKill.Round(time.Second))
	p("River jobs not completed at the end: %s", s.heldJobs)
	p("final clean sync: %s", firstLine(s.finalSync.stdout+errText(s.finalSync.err)))
	p("")
	reasons := map[string]int{}
	for _, run := range s.runs.Runs {
		if run.Status != roster.RunSucceeded {
			reasons[string(run.Status)+": "+run.Error]++
		}
	}
	p("offboarding: %d leavers in waves every %s; runs %d, by status %v; all ended %s after the load",
		len(s.leavers), soakWaveEvery, s.runs.Total, s.runs.Counts, s.drainTook.Round(time.Second))
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		p("  %d × %s", reasons[r], r)
	}
	p("sign-outs through the API: %d of %d people; %d met their key pending (409) and retried", s.signedOut.Load(), len(s.bystanders), s.pendingWaits.Load())
	p("webhooks: %d deliveries", len(s.hook.Deliveries()))
	p("Miro writes served (answers by status, 0 = reset): team removals %d of the leavers' %d memberships %v; deactivations %d %v; sign-outs %d %v",
		removed, s.memberships, stats.ByOperation["enterprise-delete-team-member"].Statuses,
		deactivated, stats.ByOperation["patchUser"].Statuses,
		resets, stats.ByOperation["enterprise-post-user-sessions-reset"].Statuses)
	faults := map[int]int{}
	for _, o := range stats.ByOperation {
		for status, n := range o.Statuses {
			if faultStatus(status) {
				faults[status] += n
			}
		}
	}
	p("simulator: %d calls; answered by a fault or a 429 (0 = reset): %v", stats.Calls, faults)
	p("store vs Miro after the clean sync: members %d/%d, active %d/%d, full licenses %d/%d, teams %d/%d, memberships %d/%d",
		stored.members, len(m.active), stored.active, countTrue(m.active), stored.full, m.full, stored.teams, m.teams,
		len(stored.memberships), len(m.memberships))
	if len(h.problems) > 0 {
		p("")
		p("problems in roster's answers:")
		for _, pr := range h.problems {
			p("  %s", pr)
		}
	}
	return b.String()
}

// saveStallSummary saves what is known when the drain stalls.
func (s *soak) saveStallSummary(t *testing.T) {
	s.saveSummary(t, fmt.Sprintf("soak stalled after the load\nSIGKILL at %s: %s\nruns: %v\nRiver jobs not completed: %s\n",
		s.killAt.Sub(s.start).Round(time.Second), s.atKill, s.runs.Counts, s.heldJobs))
}

func (s *soak) saveSummary(t *testing.T, text string) {
	path := filepath.Join(s.dir, "soak-summary.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Errorf("save the summary: %v", err)
		return
	}
	t.Logf("summary saved as %s (kept with go test -artifacts -outputdir DIR)", path)
}

func faultsText() string {
	var parts []string
	for _, f := range soakFaults {
		parts = append(parts, fmt.Sprintf("%s %g%%", f.Kind, f.Rate*100))
	}
	return strings.Join(parts, ", ")
}

// pct is the p-th percentile of ds (100: the maximum), in milliseconds.
func pct(ds []time.Duration, p float64) string {
	if len(ds) == 0 {
		return "-"
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return fmt.Sprintf("%.1fms", float64(sorted[i].Microseconds())/1000)
}

// ---- small helpers ----

// simJSON calls the simulator's admin API, sending in and decoding the
// answer into out when they are not nil.
func (s *soak) simJSON(t *testing.T, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		js, err := json.Marshal(in)
		require.NoError(t, err)
		body = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.simURL+path, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out), "%s %s", method, path)
	}
}

// login signs in on the dashboard's form, as a browser does: the login
// page sets the form's CSRF cookie, the form posts it back.
func (s *soak) login(t *testing.T, email, password string) http.CookieJar {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Jar: jar, Timeout: soakRequestTimeout}
	base, _ := s.servers[0].target()
	resp, err := hc.Get(base + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	u, _ := url.Parse(base)
	var csrf string
	for _, c := range jar.Cookies(u) {
		if c.Name == "roster_csrf" {
			csrf = c.Value
		}
	}
	require.NotEmpty(t, csrf, "the login page set no CSRF cookie")
	resp, err = hc.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}, "csrf": {csrf}})
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "login: %s", firstBytes(body, 500))
	require.Contains(t, string(body), "Overview", "the login did not land on the overview")
	return jar
}

// createAPIKey creates a read and act key on the settings page.
func (s *soak) createAPIKey(t *testing.T, jar http.CookieJar) string {
	hc := &http.Client{Jar: jar, Timeout: soakRequestTimeout}
	base, _ := s.servers[0].target()
	resp, err := hc.Get(base + "/settings/api-keys")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	require.Len(t, csrf, 2, "no CSRF token on the API keys page")
	resp, err = hc.PostForm(base+"/settings/api-keys", url.Values{"name": {"soak"}, "scopes": {"read", "act"}, "csrf": {string(csrf[1])}})
	require.NoError(t, err)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", firstBytes(page, 500))
	key := regexp.MustCompile(`<code id="new-key">(rk_[^<]+)</code>`).FindSubmatch(page)
	require.Len(t, key, 2, "the new key is not shown")
	return string(key[1])
}

// apiGet reads an API list with the key.
func (s *soak) apiGet(t *testing.T, u string, out any) (int, string) {
	req, err := http.NewRequestWithContext(t.Context(), "GET", u, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(raw, out))
	}
	return resp.StatusCode, string(raw)
}

// childLine waits for the child's log to hold a line starting with
// prefix and returns the rest of it.
func childLine(t *testing.T, c *child, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if f, err := os.Open(c.log); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
					f.Close()
					return strings.TrimSpace(rest)
				}
			}
			f.Close()
		}
		if c.exited() {
			t.Fatalf("the process exited (%v) before printing %q\n%s", c.err, prefix, c.tail())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s\n%s", prefix, timeout, c.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(slices.Clone(s[:n]), fmt.Sprintf("... (%d more)", len(s)-n))
	}
	return s
}

func firstBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return cmp.Or(line, "(nothing printed)")
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return " " + err.Error()
}
