package workflow_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/notify"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/workflow"
)

// The offboarding benchmark's organization and compressed limits.
const (
	offboardPeople = 1000
	// offboardWindow is the simulator's credit window: Miro's minute
	// compressed to two seconds. Its SCIM window scales with it.
	offboardWindow = 2 * time.Second
	// offboardBudget is the credits per window, small enough that the
	// credit budget, not the machine, bounds the run (see
	// docs/benchmarks.md); ROSTER_BENCH_OFFBOARD_BUDGET overrides it.
	offboardBudget = 25_000
)

// Simulator operations the benchmark counts.
const (
	opPatchUser    = "patchUser"
	opListSCIM     = "listUsers"
	opSessionReset = "enterprise-post-user-sessions-reset"
	opTeamDelete   = "enterprise-delete-team-member"
)

// BenchmarkOffboard1000 offboards 1,000 people at organization level
// against the simulator's compressed budget: the offboarding template
// (remove from every team, deactivate in the organization, sign out, tell IT by
// webhook) started by one Evaluate for 1,000 "left" directory events, and
// timed until the last run ended. It reports the wall time against the
// bound the rate limits set (wall/bound), the 429s, and fails unless every
// run succeeded, Miro ends with every person deactivated, license free and
// in no team, and each action reached Miro exactly once.
func BenchmarkOffboard1000(b *testing.B) {
	budget := offboardBudget
	if v := os.Getenv("ROSTER_BENCH_OFFBOARD_BUDGET"); v != "" {
		var err error
		if budget, err = strconv.Atoi(v); err != nil {
			b.Fatalf("ROSTER_BENCH_OFFBOARD_BUDGET: %v", err)
		}
	}
	backends := []struct {
		name string
		dsn  func(testing.TB) string
	}{
		{"sqlite", storetest.SQLiteDSN},
		{"postgres", storetest.PostgresDSN},
	}
	for _, be := range backends {
		for _, workers := range []int{8, 16} {
			b.Run(fmt.Sprintf("%s/workers=%d", be.name, workers), func(b *testing.B) {
				for range b.N {
					b.StopTimer()
					offboard1000(b, be.dsn(b), budget, workers)
				}
			})
		}
	}
}

// offboard1000 is one measured offboarding of 1,000 people on a fresh
// simulator and store.
func offboard1000(b *testing.B, dsn string, budget, workers int) {
	ctx := context.Background()
	cfg := mirosim.Config{Seed: 11, Members: 1600, Teams: 50, TeamsPerMember: 2,
		LicenseMix: map[string]float64{roster.LicenseFull: 0.85, roster.LicenseFree: 0.15},
		RateWindow: offboardWindow, RateBudget: budget}
	// The simulator's SCIM window: Miro's 30 s per 60 s credit window,
	// scaled like the credit window (mirosim's ratelimit.go).
	scimWindow := max(time.Second, 30*time.Second*(offboardWindow/time.Second)/60)
	scimLimits := miro.SCIMLimits{Get: 200, Post: 200, PutPatch: 100, Delete: 20, Window: scimWindow}
	h := newHarnessWith(b, dsn, cfg, harnessOptions{SCIMLimits: &scimLimits, Workers: workers, ManualTriggers: true})

	leavers, memberships := h.leavers(b, offboardPeople)
	people := make([]roster.Person, len(leavers))
	for i, a := range leavers {
		people[i] = roster.Person{Email: a.Email, Name: a.Name, Status: roster.PersonActive}
		if err := h.DB.UpsertPerson(ctx, &people[i]); err != nil {
			b.Fatal(err)
		}
	}
	// Saved after the joins, so its cursor starts past them.
	w, err := workflow.Template("offboarding", workflow.TemplateOptions{NotifyChannel: roster.ChannelWebhook})
	if err != nil {
		b.Fatal(err)
	}
	w.ConnectionID, w.Enabled = h.conn.ID, true
	if w, err = h.engine.Save(ctx, w); err != nil {
		b.Fatal(err)
	}
	for i := range people {
		people[i].Status = roster.PersonLeft
		if err := h.DB.UpdatePerson(ctx, &people[i]); err != nil {
			b.Fatal(err)
		}
	}

	// Start just after a credit window begins, the same start every run.
	time.Sleep(time.Until(time.Now().Truncate(offboardWindow).Add(offboardWindow + 10*time.Millisecond)))
	h.Sim.ResetStats()
	start := time.Now()
	b.StartTimer()
	n, err := h.engine.Evaluate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if n != offboardPeople {
		b.Fatalf("Evaluate started %d runs, want %d", n, offboardPeople)
	}
	counts := h.waitAllEnded(b, w.ID, offboardPeople, 10*time.Minute)
	b.StopTimer()
	runs := h.allRuns(b, w.ID)
	last := start
	for _, r := range runs {
		if r.EndedAt.After(last) {
			last = r.EndedAt
		}
	}
	wall := last.Sub(start)
	stats := h.Sim.Stats()

	// The bound: what the limits allow at best, from what was spent.
	creditBound := time.Duration(float64(stats.Credits) / float64(budget) * float64(offboardWindow))
	patches, gets := acted(stats, opPatchUser), acted(stats, opListSCIM)
	patchBound := time.Duration(float64(patches) / float64(scimLimits.PutPatch) * float64(scimWindow))
	getBound := time.Duration(float64(gets) / float64(scimLimits.Get) * float64(scimWindow))
	bound := max(creditBound, patchBound, getBound)

	// Zero duplicates, and Miro's final state.
	if counts[roster.RunSucceeded] != offboardPeople {
		b.Fatalf("runs by status %v, want %d succeeded", counts, offboardPeople)
	}
	resets, deletes := acted(stats, opSessionReset), acted(stats, opTeamDelete)
	if patches != offboardPeople || resets != offboardPeople || deletes != memberships {
		b.Fatalf("Miro acted %d PATCHes, %d session resets, %d team-member deletes; want %d, %d, %d (stats %+v)",
			patches, resets, deletes, offboardPeople, offboardPeople, memberships, stats.ByOperation)
	}
	h.checkOffboarded(b, leavers)
	hooks := h.hook.Deliveries()
	keys := map[string]bool{}
	for _, d := range hooks {
		keys[d.Header.Get(notify.HeaderIdempotencyKey)] = true
	}
	if len(hooks) != offboardPeople || len(keys) != offboardPeople || len(h.hook.Rejected()) > 0 {
		b.Fatalf("webhook: %d deliveries, %d keys, %d rejected; want %d", len(hooks), len(keys), len(h.hook.Rejected()), offboardPeople)
	}
	dups := stats.ByOperation[opPatchUser].Calls - patches + stats.ByOperation[opSessionReset].Calls - resets +
		stats.ByOperation[opTeamDelete].Calls - deletes - stats.RateLimited
	b.Logf("%s, %d workers: wall %.2fs; bound %.2fs (credits %d → %.2fs, SCIM PATCH %d → %.2fs, GET %d → %.2fs); "+
		"calls %d, 429s %d; memberships %d", h.DB.Dialect(), workers, wall.Seconds(), bound.Seconds(), stats.Credits,
		creditBound.Seconds(), patches, patchBound.Seconds(), gets, getBound.Seconds(), stats.Calls, stats.RateLimited, memberships)
	b.Logf("steps: %s", stepSpans(b, h, runs, start))

	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(wall.Seconds()/bound.Seconds(), "wall/bound")
	b.ReportMetric(float64(offboardPeople)/wall.Seconds(), "runs/s")
	b.ReportMetric(float64(stats.RateLimited), "429s")
	b.ReportMetric(float64(stats.Credits), "credits")
	b.ReportMetric(float64(patches), "scim-patches")
	b.ReportMetric(float64(resets), "session-resets")
	b.ReportMetric(float64(deletes), "team-deletes")
	b.ReportMetric(float64(dups), "duplicates")
}

// acted counts an operation's calls that Miro acted on: every call but
// those refused with 429 (which did nothing).
func acted(s mirosim.Stats, op string) int {
	o := s.ByOperation[op]
	return o.Calls - o.Statuses[429]
}

// leavers picks n active internal members with a full license who are
// admin of no team (so no last-admin guard applies), from the store the
// harness synced, and returns them with their team memberships' count.
func (h *harness) leavers(b testing.TB, n int) ([]roster.Account, int) {
	b.Helper()
	ctx := context.Background()
	accs, err := h.DB.Accounts(ctx, store.AccountFilter{ConnectionID: h.conn.ID, License: roster.LicenseFull,
		OrgRole: "organization_internal_user"})
	if err != nil {
		b.Fatal(err)
	}
	var out []roster.Account
	memberships := 0
	for _, a := range accs {
		if len(out) == n {
			break
		}
		if !a.Active || a.Email == "" {
			continue
		}
		ms, err := h.DB.AccountMemberships(ctx, a.ID)
		if err != nil {
			b.Fatal(err)
		}
		if len(ms) == 0 || slices.ContainsFunc(ms, func(m roster.Membership) bool { return m.Role == "admin" }) {
			continue
		}
		out = append(out, a)
		memberships += len(ms)
	}
	if len(out) < n {
		b.Fatalf("the organization has only %d plain internal members with a full license, want %d", len(out), n)
	}
	return out, memberships
}

// waitAllEnded polls the run counts until want runs of the workflow have
// ended, and returns the counts by status.
func (h *harness) waitAllEnded(b testing.TB, workflowID int64, want int, timeout time.Duration) map[roster.RunStatus]int {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		page, err := h.DB.Runs(context.Background(), store.RunFilter{WorkflowID: workflowID, Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		ended := 0
		for s, c := range page.Counts {
			if !s.Live() {
				ended += c
			}
		}
		if ended >= want {
			return page.Counts
		}
		if time.Now().After(deadline) {
			b.Fatalf("runs did not end within %s: %v", timeout, page.Counts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// allRuns reads every run of the workflow.
func (h *harness) allRuns(b testing.TB, workflowID int64) []roster.WorkflowRun {
	b.Helper()
	var out []roster.WorkflowRun
	f := store.RunFilter{WorkflowID: workflowID, Limit: 500}
	for {
		page, err := h.DB.Runs(context.Background(), f)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, page.Runs...)
		if page.NextBefore == 0 {
			return out
		}
		f.BeforeID = page.NextBefore
	}
}

// checkOffboarded fails unless Miro has every leaver deactivated, with a
// free license, and in no team.
func (h *harness) checkOffboarded(b testing.TB, leavers []roster.Account) {
	b.Helper()
	ctx := context.Background()
	left := map[string]bool{}
	for _, a := range leavers {
		left[a.MiroUserID] = true
	}
	seen := 0
	for m, err := range h.Admin.OrgMembers(ctx, h.Info.OrgID, miro.MemberFilter{}) {
		if err != nil {
			b.Fatal(err)
		}
		if !left[m.ID] {
			continue
		}
		seen++
		if m.Active || m.License.String() != roster.LicenseFree {
			b.Fatalf("%s at Miro: active %t, license %s; want deactivated, free", m.Email, m.Active, m.License)
		}
	}
	if seen != len(leavers) {
		b.Fatalf("Miro lists %d of the %d leavers", seen, len(leavers))
	}
	for tm, err := range h.Admin.Teams(ctx, h.Info.OrgID, "") {
		if err != nil {
			b.Fatal(err)
		}
		for m, err := range h.Admin.TeamMembers(ctx, h.Info.OrgID, tm.ID, "") {
			if err != nil {
				b.Fatal(err)
			}
			if left[m.ID] {
				b.Fatalf("leaver %s is still in team %s", m.ID, tm.ID)
			}
		}
	}
}

// stepSpans says, per step of the template, when its first and last run
// ended it (seconds from start) and the median time from the run's
// previous step (or its start) to its end, queueing included: where the
// time went.
func stepSpans(b testing.TB, h *harness, runs []roster.WorkflowRun, start time.Time) string {
	b.Helper()
	type span struct {
		first, last time.Duration
		took        []time.Duration
	}
	spans := map[string]*span{}
	var order []string
	for _, r := range runs {
		steps, err := h.DB.RunSteps(context.Background(), r.ID)
		if err != nil {
			b.Fatal(err)
		}
		slices.SortFunc(steps, func(x, y roster.RunStep) int { return x.EndedAt.Compare(y.EndedAt) })
		prev := r.CreatedAt
		for _, s := range steps {
			sp := spans[s.StepID]
			if sp == nil {
				sp = &span{first: math.MaxInt64}
				spans[s.StepID] = sp
				order = append(order, s.StepID)
			}
			end := s.EndedAt.Sub(start)
			sp.first, sp.last = min(sp.first, end), max(sp.last, end)
			sp.took = append(sp.took, s.EndedAt.Sub(prev))
			prev = s.EndedAt
		}
	}
	out := ""
	for _, id := range order {
		sp := spans[id]
		slices.Sort(sp.took)
		out += fmt.Sprintf("%s ended %.1f–%.1fs (median %.0fms after the previous); ", id, sp.first.Seconds(), sp.last.Seconds(),
			float64(sp.took[len(sp.took)/2].Milliseconds()))
	}
	return out
}
