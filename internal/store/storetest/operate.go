package storetest

// This file is long because it is one part of the conformance suite every
// backend runs (operators, sessions, keys, audit, actions, insights):
// cases read top to bottom, each against a real database.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// operateTests cover operators, sessions, API keys, settings, the audit
// log, actions and the insights.
var operateTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Operators/OK", testOperatorsOK},
	{"Operators/ErrConflictEmail", testOperatorsConflict},
	{"Operators/FirstOnlyOnce", testFirstOperatorOnce},
	{"Operators/FirstErrConflictAfterAdminCreate", testFirstOperatorAfterCreate},
	{"Operators/ErrNotFound", testOperatorsNotFound},
	{"Operators/ErrInvalid", testOperatorsInvalid},
	{"Sessions/OK", testSessions},
	{"Sessions/Expired", testSessionsExpired},
	{"Sessions/ErrNotFound", testSessionsNotFound},
	{"APIKeys/OK", testAPIKeys},
	{"APIKeys/Errors", testAPIKeysErrors},
	{"Settings/Default", testSettingsDefault},
	{"Settings/RoundTrip", testSettingsRoundTrip},
	{"Settings/ErrInvalid", testSettingsInvalid},
	{"Audit/FiltersAndPaging", testAudit},
	{"Audit/ErrInvalid", testAuditInvalid},
	{"Audit/Contains", testAuditContains},
	{"Actions/StartIdempotent", testStartAction},
	{"Actions/StartConcurrent", testStartActionConcurrent},
	{"Actions/StartErrors", testStartActionErrors},
	{"Actions/FinishEffects", testFinishAction},
	{"Actions/FinishErrors", testFinishActionErrors},
	{"Actions/FinishAtomic", testFinishActionAtomic},
	{"Actions/FinishAccountUpdate", testFinishActionAccountUpdate},
	{"Insights/Overview", testOverview},
	{"Insights/InactivityRule", testInactivityRule},
	{"Insights/OverviewEmpty", testOverviewEmpty},
	{"Insights/Trend", testTrend},
	{"Insights/TeamStats", testTeamStats},
	{"ListAccounts/PagingEverySort", testListAccountsPaging},
	{"ListAccounts/Filters", testListAccountsFilters},
	{"ListAccounts/SearchIsLiteral", testListAccountsSearch},
	{"ListAccounts/ErrInvalid", testListAccountsInvalid},
}

func newOperator(t *testing.T, s store.Store, email string, role roster.Role) roster.Operator {
	t.Helper()
	o := roster.Operator{Email: email, PasswordHash: "$2a$10$hash", Role: role}
	require.NoError(t, s.CreateOperator(ctx(), &o))
	require.NotZero(t, o.ID)
	return o
}

func testOperatorsOK(t *testing.T, s store.Store) {
	n, err := s.CountOperators(ctx())
	require.NoError(t, err)
	require.Zero(t, n)

	o := newOperator(t, s, " Ada@Example.COM ", roster.RoleAdmin)
	require.Equal(t, "ada@example.com", o.Email)
	require.False(t, o.CreatedAt.IsZero())
	newOperator(t, s, "viewer@example.com", roster.RoleViewer)
	n, err = s.CountOperators(ctx())
	require.NoError(t, err)
	require.Equal(t, 2, n)

	got, err := s.Operator(ctx(), o.ID)
	require.NoError(t, err)
	require.Equal(t, o, got)
	got, err = s.OperatorByEmail(ctx(), "ADA@example.com")
	require.NoError(t, err)
	require.Equal(t, o, got)

	// Three failures lock; a later success clears them and keeps the lock
	// time the caller gives (zero).
	require.NoError(t, s.RecordLogin(ctx(), o.ID, 3, t0.Add(15*time.Minute), time.Time{}))
	got, err = s.Operator(ctx(), o.ID)
	require.NoError(t, err)
	require.Equal(t, 3, got.FailedLogins)
	require.Equal(t, t0.Add(15*time.Minute), got.LockedUntil)
	require.True(t, got.LastLoginAt.IsZero())

	require.NoError(t, s.RecordLogin(ctx(), o.ID, 0, time.Time{}, t0.Add(time.Hour)))
	got, err = s.Operator(ctx(), o.ID)
	require.NoError(t, err)
	require.Zero(t, got.FailedLogins)
	require.True(t, got.LockedUntil.IsZero())
	require.Equal(t, t0.Add(time.Hour), got.LastLoginAt)

	// A failure after a success keeps the last success.
	require.NoError(t, s.RecordLogin(ctx(), o.ID, 1, time.Time{}, time.Time{}))
	got, err = s.Operator(ctx(), o.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.FailedLogins)
	require.Equal(t, t0.Add(time.Hour), got.LastLoginAt)
}

func testOperatorsConflict(t *testing.T, s store.Store) {
	newOperator(t, s, "ada@example.com", roster.RoleAdmin)
	o := roster.Operator{Email: "ADA@example.com", PasswordHash: "x", Role: roster.RoleViewer}
	err := s.CreateOperator(ctx(), &o)
	require.ErrorIs(t, err, store.ErrConflict)
	require.Zero(t, o.ID)
	n, err := s.CountOperators(ctx())
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// testFirstOperatorOnce races first-run setups: exactly one makes an admin.
func testFirstOperatorOnce(t *testing.T, s store.Store) {
	const racers = 8
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := roster.Operator{Email: fmt.Sprintf("admin%d@example.com", i), PasswordHash: "x", Role: roster.RoleAdmin}
			errs[i] = s.CreateFirstOperator(ctx(), &o)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, store.ErrConflict)
		}
	}
	require.Equal(t, 1, ok, "one setup wins")
	n, err := s.CountOperators(ctx())
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// testFirstOperatorAfterCreate: an admin made by `roster admin create`
// means roster is set up.
func testFirstOperatorAfterCreate(t *testing.T, s store.Store) {
	newOperator(t, s, "ada@example.com", roster.RoleAdmin)
	o := roster.Operator{Email: "eve@example.com", PasswordHash: "x", Role: roster.RoleAdmin}
	require.ErrorIs(t, s.CreateFirstOperator(ctx(), &o), store.ErrConflict)
	n, err := s.CountOperators(ctx())
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func testOperatorsNotFound(t *testing.T, s store.Store) {
	_, err := s.Operator(ctx(), 999)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.OperatorByEmail(ctx(), "nobody@example.com")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.RecordLogin(ctx(), 999, 1, time.Time{}, time.Time{}), store.ErrNotFound)
}

func testOperatorsInvalid(t *testing.T, s store.Store) {
	for _, o := range []roster.Operator{
		{Email: "", PasswordHash: "x", Role: roster.RoleAdmin},
		{Email: "a@example.com", PasswordHash: "x", Role: "root"},
		{Email: "a@example.com", Role: roster.RoleAdmin},
	} {
		require.ErrorIs(t, s.CreateOperator(ctx(), &o), store.ErrInvalid)
	}
	n, err := s.CountOperators(ctx())
	require.NoError(t, err)
	require.Zero(t, n)
}

func testSessions(t *testing.T, s store.Store) {
	o := newOperator(t, s, "ada@example.com", roster.RoleAdmin)
	sess := roster.Session{TokenHash: []byte("hash-1"), OperatorID: o.ID, CSRFToken: "csrf", CreatedAt: t0, ExpiresAt: t0.Add(12 * time.Hour)}
	require.NoError(t, s.CreateSession(ctx(), sess))
	got, err := s.Session(ctx(), []byte("hash-1"), t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, sess, got)

	// The same token hash twice is a conflict.
	require.ErrorIs(t, s.CreateSession(ctx(), sess), store.ErrConflict)

	require.NoError(t, s.DeleteSession(ctx(), []byte("hash-1")))
	_, err = s.Session(ctx(), []byte("hash-1"), t0.Add(time.Hour))
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, s.DeleteSession(ctx(), []byte("hash-1")), "logging out twice is no error")
}

func testSessionsExpired(t *testing.T, s store.Store) {
	o := newOperator(t, s, "ada@example.com", roster.RoleAdmin)
	exp := t0.Add(time.Hour)
	require.NoError(t, s.CreateSession(ctx(), roster.Session{TokenHash: []byte("h"), OperatorID: o.ID, CSRFToken: "c", CreatedAt: t0, ExpiresAt: exp}))
	_, err := s.Session(ctx(), []byte("h"), exp.Add(-time.Microsecond))
	require.NoError(t, err)
	_, err = s.Session(ctx(), []byte("h"), exp)
	require.ErrorIs(t, err, store.ErrNotFound, "a session expires at ExpiresAt")
	_, err = s.Session(ctx(), []byte("h"), exp.Add(time.Hour))
	require.ErrorIs(t, err, store.ErrNotFound)

	// A new session purges those expired when it is created.
	require.NoError(t, s.CreateSession(ctx(), roster.Session{TokenHash: []byte("h2"), OperatorID: o.ID, CSRFToken: "c",
		CreatedAt: exp, ExpiresAt: exp.Add(time.Hour)}))
	_, err = s.Session(ctx(), []byte("h"), t0)
	require.ErrorIs(t, err, store.ErrNotFound, "the expired session was purged")
	_, err = s.Session(ctx(), []byte("h2"), exp)
	require.NoError(t, err)
}

func testSessionsNotFound(t *testing.T, s store.Store) {
	_, err := s.Session(ctx(), []byte("nope"), t0)
	require.ErrorIs(t, err, store.ErrNotFound)
	err = s.CreateSession(ctx(), roster.Session{TokenHash: []byte("h"), OperatorID: 999, CSRFToken: "c", ExpiresAt: t0})
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testAPIKeys(t *testing.T, s store.Store) {
	o := newOperator(t, s, "ada@example.com", roster.RoleAdmin)
	k1 := roster.APIKey{Name: "ci", Prefix: "rk_ab12", Hash: []byte("h1"), Scopes: []string{roster.ScopeRead}, CreatedBy: o.ID, CreatedAt: t0}
	k2 := roster.APIKey{Name: "bot", Prefix: "rk_cd34", Hash: []byte("h2"), Scopes: []string{roster.ScopeRead, roster.ScopeAct}, CreatedBy: o.ID}
	require.NoError(t, s.CreateAPIKey(ctx(), &k1))
	require.NoError(t, s.CreateAPIKey(ctx(), &k2))
	require.NotZero(t, k1.ID)
	require.False(t, k2.CreatedAt.IsZero())

	got, err := s.APIKeyByHash(ctx(), []byte("h2"))
	require.NoError(t, err)
	require.Equal(t, k2, got)
	list, err := s.APIKeys(ctx())
	require.NoError(t, err)
	require.Equal(t, []roster.APIKey{k1, k2}, list)

	require.NoError(t, s.TouchAPIKey(ctx(), k1.ID, t0.Add(time.Minute)))
	got, err = s.APIKeyByHash(ctx(), []byte("h1"))
	require.NoError(t, err)
	require.Equal(t, t0.Add(time.Minute), got.LastUsedAt)

	require.NoError(t, s.DeleteAPIKey(ctx(), k1.ID))
	_, err = s.APIKeyByHash(ctx(), []byte("h1"))
	require.ErrorIs(t, err, store.ErrNotFound)
	list, err = s.APIKeys(ctx())
	require.NoError(t, err)
	require.Equal(t, []roster.APIKey{k2}, list)
}

func testAPIKeysErrors(t *testing.T, s store.Store) {
	o := newOperator(t, s, "ada@example.com", roster.RoleAdmin)
	k := roster.APIKey{Name: "ci", Prefix: "rk", Hash: []byte("h1"), Scopes: []string{roster.ScopeRead}, CreatedBy: o.ID}
	require.NoError(t, s.CreateAPIKey(ctx(), &k))

	dupName := roster.APIKey{Name: "ci", Prefix: "rk", Hash: []byte("h2"), CreatedBy: o.ID}
	require.ErrorIs(t, s.CreateAPIKey(ctx(), &dupName), store.ErrConflict)
	dupHash := roster.APIKey{Name: "other", Prefix: "rk", Hash: []byte("h1"), CreatedBy: o.ID}
	require.ErrorIs(t, s.CreateAPIKey(ctx(), &dupHash), store.ErrConflict)
	noOperator := roster.APIKey{Name: "x", Prefix: "rk", Hash: []byte("h3"), CreatedBy: 999}
	require.ErrorIs(t, s.CreateAPIKey(ctx(), &noOperator), store.ErrNotFound)
	badScope := roster.APIKey{Name: "y", Prefix: "rk", Hash: []byte("h4"), Scopes: []string{"admin"}, CreatedBy: o.ID}
	require.ErrorIs(t, s.CreateAPIKey(ctx(), &badScope), store.ErrInvalid)

	require.ErrorIs(t, s.DeleteAPIKey(ctx(), 999), store.ErrNotFound)
	require.ErrorIs(t, s.TouchAPIKey(ctx(), 999, t0), store.ErrNotFound)
	_, err := s.APIKeyByHash(ctx(), []byte("nope"))
	require.ErrorIs(t, err, store.ErrNotFound)
	list, err := s.APIKeys(ctx())
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func testSettingsDefault(t *testing.T, s store.Store) {
	got, err := s.Settings(ctx())
	require.NoError(t, err)
	require.Equal(t, roster.DefaultSettings(), got)
}

func testSettingsRoundTrip(t *testing.T, s store.Store) {
	want := roster.Settings{InactivityDays: 30, LicensePrices: map[string]float64{"full": 16, "occasional": 8.5},
		Currency: "EUR", DefaultSyncInterval: 6 * time.Hour}
	require.NoError(t, s.SaveSettings(ctx(), want))
	got, err := s.Settings(ctx())
	require.NoError(t, err)
	require.Equal(t, want, got)

	// Saving again replaces; no prices reads as an empty map.
	want = roster.Settings{InactivityDays: 90, Currency: "USD", DefaultSyncInterval: time.Hour}
	require.NoError(t, s.SaveSettings(ctx(), want))
	got, err = s.Settings(ctx())
	require.NoError(t, err)
	want.LicensePrices = map[string]float64{}
	require.Equal(t, want, got)
}

func testSettingsInvalid(t *testing.T, s store.Store) {
	ok := roster.DefaultSettings()
	for _, bad := range []func(*roster.Settings){
		func(s *roster.Settings) { s.InactivityDays = 0 },
		func(s *roster.Settings) { s.Currency = "" },
		func(s *roster.Settings) { s.DefaultSyncInterval = 0 },
		func(s *roster.Settings) { s.LicensePrices = map[string]float64{"full": -1} },
	} {
		st := ok
		st.LicensePrices = map[string]float64{}
		bad(&st)
		require.ErrorIs(t, s.SaveSettings(ctx(), st), store.ErrInvalid)
	}
	got, err := s.Settings(ctx())
	require.NoError(t, err)
	require.Equal(t, roster.DefaultSettings(), got, "a refused save stores nothing")
}

func testAudit(t *testing.T, s store.Store) {
	var all []roster.AuditEntry
	for i := range 25 {
		e := roster.AuditEntry{
			At: t0.Add(time.Duration(i) * time.Minute), Actor: "operator:ada@example.com",
			Kind: []string{"action", "sync", "auth"}[i%3], Action: "invite_to_team",
			Target: fmt.Sprintf("user%d@example.com", i%4), ConnectionID: int64(i % 2 * 7),
			Result: "ok", Detail: "invited", MiroAnswer: "201",
		}
		require.NoError(t, s.AppendAudit(ctx(), &e))
		require.NotZero(t, e.ID)
		all = append(all, e)
	}
	// At defaults to now.
	e := roster.AuditEntry{Actor: "system", Kind: "sync", Action: "sync"}
	require.NoError(t, s.AppendAudit(ctx(), &e))
	require.False(t, e.At.IsZero())
	all = append(all, e)
	newestFirst := slices.Clone(all)
	slices.Reverse(newestFirst)

	got, err := s.AuditEntries(ctx(), store.AuditFilter{})
	require.NoError(t, err)
	require.Equal(t, newestFirst, got)

	filter := func(keep func(roster.AuditEntry) bool) []roster.AuditEntry {
		var out []roster.AuditEntry
		for _, e := range newestFirst {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	got, err = s.AuditEntries(ctx(), store.AuditFilter{Kind: "auth"})
	require.NoError(t, err)
	require.Equal(t, filter(func(e roster.AuditEntry) bool { return e.Kind == "auth" }), got)
	got, err = s.AuditEntries(ctx(), store.AuditFilter{ConnectionID: 7})
	require.NoError(t, err)
	require.Equal(t, filter(func(e roster.AuditEntry) bool { return e.ConnectionID == 7 }), got)
	got, err = s.AuditEntries(ctx(), store.AuditFilter{Target: "user1@example.com", Kind: "sync"})
	require.NoError(t, err)
	require.Equal(t, filter(func(e roster.AuditEntry) bool { return e.Target == "user1@example.com" && e.Kind == "sync" }), got)
	require.NotEmpty(t, got)

	// Keyset paging by id walks every entry once, newest first.
	var paged []roster.AuditEntry
	f := store.AuditFilter{Limit: 4}
	for {
		page, err := s.AuditEntries(ctx(), f)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.LessOrEqual(t, len(page), 4)
		paged = append(paged, page...)
		f.BeforeID = page[len(page)-1].ID
	}
	require.Equal(t, newestFirst, paged)
}

// testAuditContains: the log's search boxes match any part of the target
// or the actor, whatever the case, and LIKE's wildcards match only
// themselves.
func testAuditContains(t *testing.T, s store.Store) {
	entries := []roster.AuditEntry{
		{Actor: "operator:Ada@Example.com", Kind: "action", Action: "remove", Target: "Grace.Hopper@example.com"},
		{Actor: "apikey:nightly-sync", Kind: "sync", Action: "sync", Target: "connection 7"},
		{Actor: "workflow:offboarding", Kind: "workflow", Action: "run", Target: "grace_h@example.org"},
		{Actor: "system", Kind: "auth", Action: "login", Target: "100%_sure@example.com"},
	}
	for i := range entries {
		require.NoError(t, s.AppendAudit(ctx(), &entries[i]))
	}
	targets := func(f store.AuditFilter) []string {
		t.Helper()
		got, err := s.AuditEntries(ctx(), f)
		require.NoError(t, err)
		var out []string
		for _, e := range got {
			out = append(out, e.Target)
		}
		return out
	}
	require.Equal(t, []string{"grace_h@example.org", "Grace.Hopper@example.com"}, targets(store.AuditFilter{TargetContains: "GRACE"}))
	require.Equal(t, []string{"Grace.Hopper@example.com"}, targets(store.AuditFilter{TargetContains: "hopper@"}))
	require.Equal(t, []string{"Grace.Hopper@example.com"}, targets(store.AuditFilter{ActorContains: "ada@example"}))
	require.Equal(t, []string{"connection 7"}, targets(store.AuditFilter{ActorContains: "NIGHTLY"}))
	require.Equal(t, []string{"grace_h@example.org"}, targets(store.AuditFilter{TargetContains: "grace", ActorContains: "workflow:", Kind: "workflow"}))
	require.Equal(t, []string{"100%_sure@example.com"}, targets(store.AuditFilter{TargetContains: "%_"}), "%% and _ match themselves")
	require.Empty(t, targets(store.AuditFilter{TargetContains: "grace", ActorContains: "system"}))
	require.Empty(t, targets(store.AuditFilter{TargetContains: "e_hopper"}), "_ is no wildcard")
}

func testAuditInvalid(t *testing.T, s store.Store) {
	require.ErrorIs(t, s.AppendAudit(ctx(), &roster.AuditEntry{Kind: "sync", Action: "sync"}), store.ErrInvalid)
	_, err := s.AuditEntries(ctx(), store.AuditFilter{Limit: -1})
	require.ErrorIs(t, err, store.ErrInvalid)
	got, err := s.AuditEntries(ctx(), store.AuditFilter{})
	require.NoError(t, err)
	require.Empty(t, got)
}

func inviteAction(connID int64, key string) roster.Action {
	return roster.Action{Key: key, Kind: roster.ActionInvite, ConnectionID: connID, MiroTeamID: "t1",
		Email: "new@example.com", Role: "member", Actor: "operator:ada@example.com"}
}

func testStartAction(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	a := inviteAction(c.ID, "key-1")
	a.CreatedAt = t0
	existed, err := s.StartAction(ctx(), &a)
	require.NoError(t, err)
	require.False(t, existed)
	require.NotZero(t, a.ID)
	require.Equal(t, roster.ActionPending, a.Status)

	stored, err := s.ActionByKey(ctx(), "key-1")
	require.NoError(t, err)
	require.Equal(t, a, stored)

	// The same key again: the stored action, nothing changed.
	again := inviteAction(c.ID, "key-1")
	again.Email, again.Role = "other@example.com", "admin"
	existed, err = s.StartAction(ctx(), &again)
	require.NoError(t, err)
	require.True(t, existed)
	require.Equal(t, a, again)

	// Once finished, the same key returns the outcome.
	a.Status, a.Result, a.MiroAnswer, a.FinishedAt = roster.ActionRefused, "already a member", "409 conflict", t0.Add(time.Second)
	require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{}, roster.AuditEntry{Actor: a.Actor, Kind: "action", Action: string(a.Kind), Result: "refused"}))
	third := inviteAction(c.ID, "key-1")
	existed, err = s.StartAction(ctx(), &third)
	require.NoError(t, err)
	require.True(t, existed)
	require.Equal(t, a, third)

	// Counted by kind and status, for /metrics.
	pending := inviteAction(c.ID, "key-2")
	_, err = s.StartAction(ctx(), &pending)
	require.NoError(t, err)
	counts, err := s.ActionCounts(ctx())
	require.NoError(t, err)
	require.Equal(t, []store.ActionCount{
		{Kind: roster.ActionInvite, Status: roster.ActionPending, N: 1},
		{Kind: roster.ActionInvite, Status: roster.ActionRefused, N: 1},
	}, counts)
}

func testStartActionConcurrent(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		fresh   int
		ids     = map[int64]bool{}
		errs    []error
		release = make(chan struct{})
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			a := inviteAction(c.ID, "same-key")
			existed, err := s.StartAction(ctx(), &a)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if !existed {
				fresh++
			}
			ids[a.ID] = true
		}()
	}
	close(release)
	wg.Wait()
	require.Empty(t, errs)
	require.Equal(t, 1, fresh, "exactly one start inserts")
	require.Len(t, ids, 1, "every start sees the one action")
}

func testStartActionErrors(t *testing.T, s store.Store) {
	a := inviteAction(999, "k")
	_, err := s.StartAction(ctx(), &a)
	require.ErrorIs(t, err, store.ErrNotFound)
	c := create(t, s, orgConnection("o1"))
	a = inviteAction(c.ID, "")
	_, err = s.StartAction(ctx(), &a)
	require.ErrorIs(t, err, store.ErrInvalid)
	a = inviteAction(c.ID, "k")
	a.Kind = "delete_org"
	_, err = s.StartAction(ctx(), &a)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.ActionByKey(ctx(), "k")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// startAction starts a fresh action on c.
func startAction(t *testing.T, s store.Store, a roster.Action) roster.Action {
	t.Helper()
	existed, err := s.StartAction(ctx(), &a)
	require.NoError(t, err)
	require.False(t, existed)
	return a
}

func auditOf(a roster.Action, result string) roster.AuditEntry {
	return roster.AuditEntry{At: t0.Add(time.Hour), Actor: a.Actor, Kind: "action", Action: string(a.Kind),
		Target: a.Email, ConnectionID: a.ConnectionID, Result: result, Detail: a.Result, MiroAnswer: a.MiroAnswer}
}

func testFinishAction(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))

	// An invite of someone the store does not know: account and membership.
	a := startAction(t, s, inviteAction(c.ID, "invite-new"))
	a.Status, a.Result, a.MiroAnswer, a.FinishedAt = roster.ActionSucceeded, "invited", "201 Created", t0.Add(time.Hour)
	newcomer := roster.Account{MiroUserID: "u100", Email: "New@Example.com", Name: "Nia Newcomer", OrgRole: "organization_internal_user",
		License: roster.LicenseFree, Active: true, FirstSeenAt: t0.Add(time.Hour)}
	audit := auditOf(a, "ok")
	require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{
		Account:    &newcomer,
		Membership: &roster.Membership{MiroUserID: "u100", MiroTeamID: "t1", Role: "member"},
	}, audit))

	got, err := s.ActionByKey(ctx(), "invite-new")
	require.NoError(t, err)
	require.Equal(t, a, got)
	accs, err := s.AccountsByMiroIDs(ctx(), []string{"u100"})
	require.NoError(t, err)
	require.Equal(t, "new@example.com", accs["u100"].Email)
	require.Equal(t, "Nia Newcomer", accs["u100"].Name)
	ms, err := s.AccountMemberships(ctx(), accs["u100"].ID)
	require.NoError(t, err)
	require.Equal(t, []roster.Membership{{MiroUserID: "u100", MiroTeamID: "t1", Role: "member"}}, ms)
	entries, err := s.AuditEntries(ctx(), store.AuditFilter{})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	audit.ID = entries[0].ID
	require.Equal(t, audit, entries[0])
	// The users list finds the newcomer at once.
	page, err := s.ListAccounts(ctx(), store.AccountQuery{Search: "NIA NEW"})
	require.NoError(t, err)
	require.Len(t, page.Accounts, 1)
	require.Equal(t, "u100", page.Accounts[0].MiroUserID)

	// An account the store knows keeps what syncs wrote.
	before, err := s.AccountsByMiroIDs(ctx(), []string{"u002"})
	require.NoError(t, err)
	a = startAction(t, s, roster.Action{Key: "role-u002", Kind: roster.ActionChangeRole, ConnectionID: c.ID,
		MiroTeamID: "t1", MiroUserID: "u002", Role: "admin", Actor: "apikey:bot"})
	a.Status, a.FinishedAt = roster.ActionSucceeded, t0.Add(2*time.Hour)
	require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{
		Account:    &roster.Account{MiroUserID: "u002", Name: "Someone Else"},
		Membership: &roster.Membership{MiroUserID: "u002", MiroTeamID: "t1", Role: "admin"},
	}, auditOf(a, "ok")))
	after, err := s.AccountsByMiroIDs(ctx(), []string{"u002"})
	require.NoError(t, err)
	require.Equal(t, before, after)
	ms, err = s.AccountMemberships(ctx(), before["u002"].ID)
	require.NoError(t, err)
	require.Equal(t, []roster.Membership{
		{MiroUserID: "u002", MiroTeamID: "t1", Role: "admin"},
		{MiroUserID: "u002", MiroTeamID: "t2", Role: "member"},
	}, ms)

	// A team no sync has stored yet gets its row, in the connection's org.
	a = startAction(t, s, roster.Action{Key: "invite-t9", Kind: roster.ActionInvite, ConnectionID: c.ID,
		MiroTeamID: "t9", MiroUserID: "u003", Role: "member", Actor: "apikey:bot"})
	a.Status = roster.ActionSucceeded
	require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{
		Membership: &roster.Membership{MiroUserID: "u003", MiroTeamID: "t9", Role: "member"},
	}, auditOf(a, "ok")))
	got, err = s.ActionByKey(ctx(), "invite-t9")
	require.NoError(t, err)
	require.False(t, got.FinishedAt.IsZero(), "FinishedAt defaults to now")
	teams, err := s.Teams(ctx(), 0)
	require.NoError(t, err)
	require.Contains(t, teams, roster.Team{MiroTeamID: "t9", OrgID: "o1"})

	// Remove from a team; removing again is no error.
	for i := range 2 {
		a = startAction(t, s, roster.Action{Key: fmt.Sprintf("remove-u001-%d", i), Kind: roster.ActionRemove, ConnectionID: c.ID,
			MiroTeamID: "t1", MiroUserID: "u001", Actor: "operator:ada@example.com"})
		a.Status = roster.ActionSucceeded
		require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{
			RemoveMembership: &store.MembershipKey{MiroTeamID: "t1", MiroUserID: "u001"},
		}, auditOf(a, "ok")))
	}
	u001, err := s.AccountsByMiroIDs(ctx(), []string{"u001"})
	require.NoError(t, err)
	ms, err = s.AccountMemberships(ctx(), u001["u001"].ID)
	require.NoError(t, err)
	require.Empty(t, ms)

	entries, err = s.AuditEntries(ctx(), store.AuditFilter{Kind: "action"})
	require.NoError(t, err)
	require.Len(t, entries, 5)
}

func testFinishActionErrors(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	a := startAction(t, s, inviteAction(c.ID, "k"))

	pending := a
	require.ErrorIs(t, s.FinishAction(ctx(), pending, store.ActionEffect{}, auditOf(a, "ok")), store.ErrInvalid,
		"pending is not an outcome")
	missing := a
	missing.ID, missing.Status = 999, roster.ActionFailed
	require.ErrorIs(t, s.FinishAction(ctx(), missing, store.ActionEffect{}, auditOf(a, "failed")), store.ErrNotFound)

	a.Status = roster.ActionFailed
	require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{}, auditOf(a, "failed")))
	// A failed action is retried under its key, and its retry's outcome
	// is recorded.
	a.Status = roster.ActionSucceeded
	require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{}, auditOf(a, "ok")), "a failed action may be retried")
	a.Status = roster.ActionRefused
	require.ErrorIs(t, s.FinishAction(ctx(), a, store.ActionEffect{}, auditOf(a, "refused")), store.ErrConflict,
		"a succeeded outcome is never overwritten")
	got, err := s.ActionByKey(ctx(), "k")
	require.NoError(t, err)
	require.Equal(t, roster.ActionSucceeded, got.Status)
	entries, err := s.AuditEntries(ctx(), store.AuditFilter{})
	require.NoError(t, err)
	require.Len(t, entries, 2, "the failure and the retry's success are both audited")
}

func testFinishActionAtomic(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))
	a := startAction(t, s, inviteAction(c.ID, "k"))
	before := dump(t, s)
	beforeList := listing(t, s)

	unchanged := func(msg string) {
		t.Helper()
		require.Equal(t, beforeList, listing(t, s), msg)
		if before != nil {
			require.Equal(t, before, dump(t, s), msg)
		}
		got, err := s.ActionByKey(ctx(), "k")
		require.NoError(t, err)
		require.Equal(t, roster.ActionPending, got.Status, msg)
		entries, err := s.AuditEntries(ctx(), store.AuditFilter{})
		require.NoError(t, err)
		require.Empty(t, entries, msg)
	}

	done := a
	done.Status, done.Result = roster.ActionSucceeded, "invited"
	newcomer := roster.Account{MiroUserID: "u200", Email: "n@example.com", Active: true}

	// The account is valid, the membership names nobody.
	err := s.FinishAction(ctx(), done, store.ActionEffect{
		Account:    &newcomer,
		Membership: &roster.Membership{MiroUserID: "nobody", MiroTeamID: "t1", Role: "member"},
	}, auditOf(done, "ok"))
	require.ErrorIs(t, err, store.ErrNotFound)
	unchanged("a bad membership rolls everything back")

	// The effect is valid, the audit entry is not (no actor).
	bad := auditOf(done, "ok")
	bad.Actor = ""
	err = s.FinishAction(ctx(), done, store.ActionEffect{
		Account:          &newcomer,
		Membership:       &roster.Membership{MiroUserID: "u200", MiroTeamID: "t1", Role: "member"},
		RemoveMembership: &store.MembershipKey{MiroTeamID: "t2", MiroUserID: "u003"},
	}, bad)
	require.Error(t, err)
	unchanged("a bad audit entry rolls the effect and the status back")

	// An account without Miro id nor a known email cannot be added.
	err = s.FinishAction(ctx(), done, store.ActionEffect{
		Account: &roster.Account{Email: "stranger@example.com"},
	}, auditOf(done, "ok"))
	require.ErrorIs(t, err, store.ErrInvalid)
	unchanged("an account without Miro id rolls back")

	// And then it goes through.
	require.NoError(t, s.FinishAction(ctx(), done, store.ActionEffect{}, auditOf(done, "ok")))
}

// overviewFixture syncs two organizations whose accounts cover every
// count of the overview; the comments give each account's counts with a
// cut-off of t0-30 days.
func overviewFixture(t *testing.T, s store.Store) (cutoff time.Time, c1, c2 roster.Connection) {
	t.Helper()
	cutoff = t0.Add(-30 * 24 * time.Hour)
	acc := func(n int, license, role string, exact, active bool, activity time.Time) roster.Account {
		a := account(n, license)
		a.OrgRole, a.LicenseExact, a.Active, a.LastActivityAt = role, exact, active, activity
		return a
	}
	const internal = "organization_internal_user"
	day := 24 * time.Hour
	accounts := []roster.Account{
		acc(1, "full", internal, true, true, t0.Add(-day)),                             // full active
		acc(2, "full", internal, true, true, t0.Add(-40*day)),                          // full inactive
		acc(3, "full", internal, true, true, time.Time{}),                              // full inactive, never active
		acc(4, "full", internal, true, false, t0.Add(-day)),                            // deactivated
		acc(5, "free", "organization_team_guest_user", true, true, time.Time{}),        // guest, never active
		acc(6, "free", "organization_external_user", true, true, t0.Add(-2*day)),       // external
		acc(7, "full", internal, true, true, t0.Add(-day)),                             // left: counts nowhere
		acc(8, "unknown", internal, false, true, t0.Add(-day)),                         // inferred
		acc(9, "full", internal, false, true, cutoff),                                  // full active (at the cut-off), inferred
		acc(10, "free", "organization_team_guest_user", true, false, t0.Add(-100*day)), // guest, deactivated
	}
	accounts[6].LeftAt, accounts[6].LastSeenAt = t0.Add(-day), t0.Add(-day)

	c1 = create(t, s, orgConnection("o1"))
	d1 := store.Diff{
		Organization: &roster.Organization{MiroOrgID: "o1", Name: "One", FullLicensesPurchased: 10},
		Teams:        []roster.Team{{MiroTeamID: "t1", OrgID: "o1", Name: "Design"}, {MiroTeamID: "t2", OrgID: "o1", Name: "Eng"}},
		Accounts:     accounts[:7],
		Memberships: []roster.Membership{
			{MiroUserID: "u001", MiroTeamID: "t1", Role: "admin"},
			{MiroUserID: "u002", MiroTeamID: "t1", Role: "member"},
			{MiroUserID: "u003", MiroTeamID: "t2", Role: "member"},
		},
	}
	for _, a := range accounts[:7] {
		if a.LeftAt.IsZero() {
			d1.Seen = append(d1.Seen, a.MiroUserID)
		}
	}
	apply(t, s, c1.ID, t0, d1)

	c2 = create(t, s, orgConnection("o2"))
	d2 := store.Diff{
		Organization: &roster.Organization{MiroOrgID: "o2", Name: "Two", FullLicensesPurchased: 5},
		Teams:        []roster.Team{{MiroTeamID: "t3", OrgID: "o2", Name: "Ops"}},
		Accounts:     accounts[7:],
		Seen:         []string{"u008", "u009", "u010"},
		Memberships:  []roster.Membership{{MiroUserID: "u009", MiroTeamID: "t3", Role: "admin"}},
	}
	apply(t, s, c2.ID, t0, d2)
	return cutoff, c1, c2
}

func testOverview(t *testing.T, s store.Store) {
	cutoff, _, _ := overviewFixture(t, s)
	got, err := s.Overview(ctx(), store.OverviewQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	got.Orgs = nil // per organization: testOverviewPerOrg
	require.Equal(t, roster.Overview{
		Accounts:     9, // all but u007, who left
		Deactivated:  2, // u004, u010
		SeatsBought:  15,
		FullAssigned: 4, // u001, u002, u003, u009
		FullActive:   1, // u001
		FullInactive: 2, // u002, u003 (assigned 41 days ago, never active)
		// u009's activity came from a team-level sync: usage unknown.
		FullUsageUnknown: 1, // u009
		UsageUnknown:     2, // u008, u009
		NeverActive:      2, // u003, u005
		Guests:           2, // u005, u010
		External:         1, // u006
		ByLicense:        map[string]int{"full": 4, "free": 2, "unknown": 1},
		Inferred:         2, // u008, u009
	}, got)

	// A later cut-off makes u001 inactive too, and never u009.
	got, err = s.Overview(ctx(), store.OverviewQuery{InactiveBefore: t0})
	require.NoError(t, err)
	require.Equal(t, 0, got.FullActive)
	require.Equal(t, 3, got.FullInactive)
	require.Equal(t, 1, got.FullUsageUnknown)
}

// testInactivityRule: inactivity runs from the later of the last activity
// and the license's assignment (first sight where Miro gives neither), and
// usage unknown (team-level only) is never inactive, in every query that
// decides it.
func testInactivityRule(t *testing.T, s store.Store) {
	day := 24 * time.Hour
	cutoff := roster.InactiveBefore(t0, 60)
	full := func(n int, activity, assigned, firstSeen time.Time) roster.Account {
		a := account(n, roster.LicenseFull)
		a.LastActivityAt, a.LicenseAssignedAt, a.FirstSeenAt = activity, assigned, firstSeen
		return a
	}
	org := []roster.Account{
		full(1, time.Time{}, t0.Add(-time.Minute), t0),               // new hire: assigned a minute ago, never logged in
		full(2, time.Time{}, t0.Add(-90*day), t0.Add(-90*day)),       // assigned 90 days ago, never logged in: inactive
		full(3, t0.Add(-90*day), t0.Add(-5*day), t0.Add(-400*day)),   // quiet 90 days, reassigned 5 days ago
		full(4, t0.Add(-90*day), t0.Add(-400*day), t0.Add(-400*day)), // quiet 90 days: inactive
		full(5, time.Time{}, time.Time{}, t0.Add(-90*day)),           // Miro gives neither; first seen 90 days ago: inactive
		full(6, t0.Add(-day), t0.Add(-400*day), t0.Add(-400*day)),    // active yesterday
	}
	c := create(t, s, orgConnection("o1"))
	d := store.Diff{
		Organization: &roster.Organization{MiroOrgID: "o1", Name: "One", FullLicensesPurchased: 10},
		Teams:        []roster.Team{{MiroTeamID: "t1", OrgID: "o1", Name: "All"}},
		Accounts:     org,
	}
	for _, a := range org {
		d.Seen = append(d.Seen, a.MiroUserID)
		d.Memberships = append(d.Memberships, roster.Membership{MiroUserID: a.MiroUserID, MiroTeamID: "t1", Role: "member"})
	}
	apply(t, s, c.ID, t0, d)

	// A team-level connection to another organization: license inferred,
	// no activity, seen long ago. Usage unknown.
	team := full(7, time.Time{}, time.Time{}, t0.Add(-400*day))
	team.LicenseExact, team.OrgRole = false, ""
	tc := create(t, s, teamConnection("o2", "t9"))
	apply(t, s, tc.ID, t0, store.Diff{
		Teams:       []roster.Team{{MiroTeamID: "t9", OrgID: "o2", Name: "Small"}},
		Accounts:    []roster.Account{team},
		Seen:        []string{team.MiroUserID},
		Memberships: []roster.Membership{{MiroUserID: team.MiroUserID, MiroTeamID: "t9", Role: "member"}},
	})

	inactive, active := []string{"u002", "u004", "u005"}, []string{"u001", "u003", "u006"}
	// The Go rule agrees with the store on what it stored.
	stored, err := s.Accounts(ctx(), store.AccountFilter{})
	require.NoError(t, err)
	var goInactive []string
	for _, a := range stored {
		if a.Inactive(cutoff) {
			goInactive = append(goInactive, a.MiroUserID)
		}
	}
	require.ElementsMatch(t, inactive, goInactive)

	o, err := s.Overview(ctx(), store.OverviewQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	require.Equal(t, 7, o.FullAssigned)
	require.Equal(t, 3, o.FullInactive)
	require.Equal(t, 3, o.FullActive)
	require.Equal(t, 1, o.FullUsageUnknown)
	require.Equal(t, 1, o.UsageUnknown)

	ids := func(q store.AccountQuery) []string {
		t.Helper()
		var out []string
		for _, a := range listAll(t, s, q) {
			out = append(out, a.MiroUserID)
		}
		return out
	}
	require.Equal(t, inactive, ids(store.AccountQuery{License: "full", Activity: "inactive", ActiveSince: cutoff}))
	require.Equal(t, active, ids(store.AccountQuery{License: "full", Activity: "active", ActiveSince: cutoff}))

	filtered, err := s.Accounts(ctx(), store.AccountFilter{License: roster.LicenseFull, InactiveSince: cutoff})
	require.NoError(t, err)
	var got []string
	for _, a := range filtered {
		got = append(got, a.MiroUserID)
	}
	require.ElementsMatch(t, inactive, got)

	stats, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	byTeam := map[string]int{}
	for _, st := range stats.Teams {
		byTeam[st.Team.MiroTeamID] = st.Inactive
	}
	require.Equal(t, map[string]int{"t1": 3, "t9": 0}, byTeam)
}

func testOverviewEmpty(t *testing.T, s store.Store) {
	got, err := s.Overview(ctx(), store.OverviewQuery{InactiveBefore: t0})
	require.NoError(t, err)
	require.Equal(t, roster.Overview{ByLicense: map[string]int{}}, got)
	days, err := s.LicenseDays(ctx(), "", time.Time{})
	require.NoError(t, err)
	require.Empty(t, days)
	stats, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: t0})
	require.NoError(t, err)
	require.Empty(t, stats.Teams)
	require.Zero(t, stats.Total)
	require.Empty(t, stats.NextCursor)
}

// testTrend: each successful sync writes its day's license points (the
// last sync of a day wins), counted by the trend's fixed 60-day window; a
// failed run writes none.
func testTrend(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	d := firstDiff("o1")
	apply(t, s, c.ID, t0, d) // 5 accounts, 4 full, all active within 60 days

	// A failed run adds no point.
	failed := roster.SyncRun{ConnectionID: c.ID}
	require.NoError(t, s.StartSyncRun(ctx(), &failed))
	failed.Error = "boom"
	require.NoError(t, s.FailSyncRun(ctx(), failed))

	// 59 days later u001 (1 day before t0) is still active, u002 (2 days) is not.
	apply(t, s, c.ID, t0.Add(59*24*time.Hour), store.Diff{})
	// u006 joins with a full license.
	apply(t, s, c.ID, t0.Add(60*24*time.Hour), store.Diff{
		Accounts: []roster.Account{account(6, roster.LicenseFull)}, Seen: []string{"u006"},
	})

	all, err := s.LicenseDays(ctx(), "", time.Time{})
	require.NoError(t, err)
	var full []roster.LicenseDay
	for _, p := range all {
		if p.License == roster.LicenseFull {
			full = append(full, p)
		}
	}
	day := t0.Truncate(24 * time.Hour)
	require.Equal(t, []roster.LicenseDay{
		{Day: day, License: "full", Assigned: 4, Active: 4},
		{Day: day.Add(59 * 24 * time.Hour), License: "full", Assigned: 4, Active: 1, Inactive: 3},
		{Day: day.Add(60 * 24 * time.Hour), License: "full", Assigned: 5, Active: 0, Inactive: 5},
	}, full)
	last2, err := s.LicenseDays(ctx(), "", t0.Add(59*24*time.Hour))
	require.NoError(t, err)
	require.Len(t, last2, len(all)-2, "from a day on: that day's and later points")
}

func testTeamStats(t *testing.T, s store.Store) {
	cutoff, c1, c2 := overviewFixture(t, s)
	// A team-level connection also covers t1; the lowest id is reported.
	tc := create(t, s, teamConnection("o1", "t1"))
	apply(t, s, tc.ID, t0, store.Diff{Teams: []roster.Team{{MiroTeamID: "t1", OrgID: "o1", Name: "Design"}}})
	// The left u007 was in t2: left members count nowhere.
	apply(t, s, c1.ID, t0.Add(time.Hour), store.Diff{Memberships: []roster.Membership{{MiroUserID: "u007", MiroTeamID: "t2", Role: "admin"}}})
	// An empty team no connection covers.
	apply(t, s, c2.ID, t0.Add(time.Hour), store.Diff{Teams: []roster.Team{{MiroTeamID: "t4", OrgID: "o2", Name: "Empty"}},
		RemovedTeams: []string{"t4"}})

	// By name, bytewise: "Empty" before "Eng".
	want := []roster.TeamStat{
		// u001 admin full active, u002 member full inactive
		{Team: roster.Team{MiroTeamID: "t1", OrgID: "o1", Name: "Design"}, Members: 2, Admins: 1, Licensed: 2, Inactive: 1, ConnectionID: c1.ID},
		{Team: roster.Team{MiroTeamID: "t4", OrgID: "o2", Name: "Empty"}},
		// u003 member full never active
		{Team: roster.Team{MiroTeamID: "t2", OrgID: "o1", Name: "Eng"}, Members: 1, Admins: 0, Licensed: 1, Inactive: 1, ConnectionID: c1.ID},
		// u009 admin full active at the cut-off
		{Team: roster.Team{MiroTeamID: "t3", OrgID: "o2", Name: "Ops"}, Members: 1, Admins: 1, Licensed: 1, Inactive: 0, ConnectionID: c2.ID},
	}
	got, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	require.Equal(t, store.TeamStatsPage{Teams: want, Total: 4}, got)

	// Paging at any size walks every team exactly once, in order, with
	// the same counts and the same total on every page.
	walk := func(q store.TeamStatsQuery) []roster.TeamStat {
		t.Helper()
		var all []roster.TeamStat
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20, "paging does not end")
			page, err := s.TeamStats(ctx(), q)
			require.NoError(t, err)
			all = append(all, page.Teams...)
			if page.NextCursor == "" {
				return all
			}
			require.Len(t, page.Teams, q.Limit)
			q.Cursor = page.NextCursor
		}
	}
	for _, limit := range []int{1, 2, 3, 4, 500} {
		require.Equal(t, want, walk(store.TeamStatsQuery{InactiveBefore: cutoff, Limit: limit}), "limit %d", limit)
	}
	first, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Limit: 3})
	require.NoError(t, err)
	require.Equal(t, 4, first.Total)
	last, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Limit: 3, Cursor: first.NextCursor})
	require.NoError(t, err)
	require.Equal(t, store.TeamStatsPage{Teams: want[3:], Total: 4}, last)

	// Search is a case-insensitive substring of the name; the total
	// counts the matches, on every page.
	page, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Search: " EN "})
	require.NoError(t, err)
	require.Equal(t, store.TeamStatsPage{Teams: want[2:3], Total: 1}, page)
	page, err = s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Search: "e", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, want[:2], page.Teams)
	require.Equal(t, 3, page.Total)
	page, err = s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Search: "e", Limit: 2, Cursor: page.NextCursor})
	require.NoError(t, err)
	require.Equal(t, store.TeamStatsPage{Teams: want[2:3], Total: 3}, page)
	// LIKE's wildcards match themselves.
	page, err = s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Search: "%"})
	require.NoError(t, err)
	require.Empty(t, page.Teams)
	require.Zero(t, page.Total)

	// Malformed cursors and limits out of range are invalid.
	for _, cursor := range []string{"!!", "e30", "bm90IGpzb24", first.NextCursor + "x"} {
		_, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Cursor: cursor})
		require.ErrorIs(t, err, store.ErrInvalid, "cursor %q", cursor)
	}
	for _, limit := range []int{-1, 501} {
		_, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Limit: limit})
		require.ErrorIs(t, err, store.ErrInvalid, "limit %d", limit)
	}

	// Teams of the same name page by team id.
	apply(t, s, c2.ID, t0.Add(2*time.Hour), store.Diff{Teams: []roster.Team{
		{MiroTeamID: "t6", OrgID: "o2", Name: "Eng"}, {MiroTeamID: "t5", OrgID: "o2", Name: "Eng"}}})
	got, err = s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	ids := []string{}
	for _, st := range got.Teams {
		ids = append(ids, st.Team.MiroTeamID)
	}
	require.Equal(t, []string{"t1", "t4", "t2", "t5", "t6", "t3"}, ids)
	require.Equal(t, got.Teams, walk(store.TeamStatsQuery{InactiveBefore: cutoff, Limit: 1}))
}

// listFixture stores 40 accounts not left (and one left) whose sort keys
// repeat, so that ties are broken by id: 5 names in two cases, 3 licenses,
// 6 activity times and never. Those with the unknown license (i%3 == 2, 13
// of the 40) have unknown usage, as a team-level connection sees them. Of
// the 40, 10 have no activity (every 4th), 7 of them with usage known (all
// but 8, 20, 32), and 8 are deactivated (i%5 == 1), 2 of them never active
// (16, 36) and 2 with usage unknown (11, 26).
func listFixture(t *testing.T, s store.Store) (connID int64, want []roster.Account) {
	t.Helper()
	c := create(t, s, orgConnection("o1"))
	names := []string{"alice", "Bob", "bob", "Émile", "zed"}
	d := store.Diff{Teams: []roster.Team{{MiroTeamID: "t1", OrgID: "o1", Name: "T"}}}
	for i := range 41 {
		a := account(i, []string{roster.LicenseFull, roster.LicenseFree, roster.LicenseUnknown}[i%3])
		a.LicenseExact = i%3 != 2
		a.Email = fmt.Sprintf("%c%02d@example.com", 'a'+(i*7)%26, i)
		if i%10 == 3 {
			a.Email = "same@example.com" // identical emails page by id
		}
		a.Name = names[i%len(names)]
		a.LastActivityAt = t0.Add(-time.Duration(i%6) * 24 * time.Hour)
		if i%4 == 0 {
			a.LastActivityAt = time.Time{}
		}
		a.Active = i%5 != 1
		if i == 40 {
			a.LeftAt = t0
		}
		d.Accounts = append(d.Accounts, a)
		d.Seen = append(d.Seen, a.MiroUserID)
		if i%2 == 0 {
			d.Memberships = append(d.Memberships, roster.Membership{MiroUserID: a.MiroUserID, MiroTeamID: "t1", Role: "member"})
		}
	}
	apply(t, s, c.ID, t0, d)
	want, err := s.Accounts(ctx(), store.AccountFilter{})
	require.NoError(t, err)
	require.Len(t, want, 40)
	return c.ID, want
}

// listAll follows the cursors of q to the end.
func listAll(t *testing.T, s store.Store, q store.AccountQuery) []roster.Account {
	t.Helper()
	var out []roster.Account
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "paging does not end")
		page, err := s.ListAccounts(ctx(), q)
		require.NoError(t, err)
		out = append(out, page.Accounts...)
		if page.NextCursor == "" {
			require.Equal(t, page.Total, len(out), "the total is what the pages hold")
			return out
		}
		require.Len(t, page.Accounts, max(q.Limit, 1))
		q.Cursor = page.NextCursor
	}
}

func compareAccounts(sort string) func(a, b roster.Account) int {
	str := func(a, b string) int { return strings.Compare(a, b) } // bytewise, as the store sorts
	return func(a, b roster.Account) int {
		var c int
		switch sort {
		case "email":
			c = str(a.Email, b.Email)
		case "name":
			c = str(a.Name, b.Name)
		case "license":
			if c = str(a.License, b.License); c == 0 {
				c = str(a.Email, b.Email)
			}
		case "last_activity":
			c = a.LastActivityAt.Compare(b.LastActivityAt) // zero (never) is the oldest
		}
		if c == 0 {
			c = int(a.ID - b.ID)
		}
		return c
	}
}

func testListAccountsPaging(t *testing.T, s store.Store) {
	_, all := listFixture(t, s)
	for _, sort := range []string{"email", "name", "license", "last_activity"} {
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{1, 7, 40, 1000} {
				want := slices.Clone(all)
				slices.SortFunc(want, compareAccounts(sort))
				if desc {
					slices.Reverse(want)
				}
				got := listAll(t, s, store.AccountQuery{Sort: sort, Desc: desc, Limit: limit})
				require.Equal(t, want, got, "sort %s desc %v limit %d", sort, desc, limit)
			}
		}
	}
	// Activity "never" and "unknown" and Status page like any filter:
	// every matching row once, in order, with the hand-counted total.
	// Never active is among those whose usage is known: no activity from a
	// team-level connection says nothing.
	for _, tc := range []struct {
		q    store.AccountQuery
		keep func(roster.Account) bool
		n    int
	}{
		{store.AccountQuery{Activity: "never"}, func(a roster.Account) bool { return a.UsageKnown() && a.LastActivityAt.IsZero() }, 7},
		{store.AccountQuery{Activity: "unknown"}, func(a roster.Account) bool { return !a.UsageKnown() }, 13},
		{store.AccountQuery{Status: "active"}, func(a roster.Account) bool { return a.Active }, 32},
		{store.AccountQuery{Status: "deactivated"}, func(a roster.Account) bool { return !a.Active }, 8},
		{store.AccountQuery{Activity: "never", Status: "active"}, func(a roster.Account) bool {
			return a.Active && a.UsageKnown() && a.LastActivityAt.IsZero()
		}, 5},
		{store.AccountQuery{Activity: "never", Status: "deactivated"}, func(a roster.Account) bool {
			return !a.Active && a.UsageKnown() && a.LastActivityAt.IsZero()
		}, 2},
		{store.AccountQuery{Activity: "unknown", Status: "active"}, func(a roster.Account) bool { return a.Active && !a.UsageKnown() }, 11},
		{store.AccountQuery{License: roster.LicenseFull, Status: "active"}, func(a roster.Account) bool { return a.Active && a.License == roster.LicenseFull }, 11},
	} {
		for _, sort := range []string{"email", "last_activity"} {
			for _, desc := range []bool{false, true} {
				for _, limit := range []int{1, 3, 1000} {
					want := slices.DeleteFunc(slices.Clone(all), func(a roster.Account) bool { return !tc.keep(a) })
					require.Len(t, want, tc.n, "the fixture's hand count for %+v", tc.q)
					slices.SortFunc(want, compareAccounts(sort))
					if desc {
						slices.Reverse(want)
					}
					q := tc.q
					q.Sort, q.Desc, q.Limit = sort, desc, limit
					require.Equal(t, want, listAll(t, s, q), "%+v", q)
				}
			}
		}
	}

	// The default is by email, 50 a page.
	page, err := s.ListAccounts(ctx(), store.AccountQuery{})
	require.NoError(t, err)
	require.Equal(t, 40, page.Total)
	require.Empty(t, page.NextCursor)
	slices.SortFunc(all, compareAccounts("email"))
	require.Equal(t, all, page.Accounts)
}

func testListAccountsFilters(t *testing.T, s store.Store) {
	cutoff, c1, _ := overviewFixture(t, s)
	ids := func(q store.AccountQuery) []string {
		t.Helper()
		q.Limit = 3 // several pages: filters hold across cursors
		var out []string
		for _, a := range listAll(t, s, q) {
			out = append(out, a.MiroUserID)
		}
		return out
	}
	all := []string{"u001", "u002", "u003", "u004", "u005", "u006", "u008", "u009", "u010"}
	require.Equal(t, all, ids(store.AccountQuery{}))
	require.Equal(t, []string{"u001", "u002", "u003", "u004", "u005", "u006", "u007", "u008", "u009", "u010"},
		ids(store.AccountQuery{IncludeLeft: true}))
	require.Equal(t, []string{"u001", "u002", "u003", "u004", "u009"}, ids(store.AccountQuery{License: "full"}))
	require.Equal(t, []string{"u006"}, ids(store.AccountQuery{OrgRole: "organization_external_user"}))
	require.Equal(t, []string{"u001", "u002"}, ids(store.AccountQuery{MiroTeamID: "t1"}))
	require.Equal(t, []string{"u001", "u002", "u003", "u004", "u005", "u006"}, ids(store.AccountQuery{ConnectionID: c1.ID}))
	// u008 and u009 are team-level only: usage unknown, neither active nor inactive.
	require.Equal(t, []string{"u001", "u004", "u006"}, ids(store.AccountQuery{Activity: "active", ActiveSince: cutoff}))
	require.Equal(t, []string{"u002", "u003", "u005", "u010"}, ids(store.AccountQuery{Activity: "inactive", ActiveSince: cutoff}))
	require.Equal(t, []string{"u005", "u006", "u010"}, ids(store.AccountQuery{Guests: true}))
	require.Equal(t, []string{"u004", "u010"}, ids(store.AccountQuery{Status: "deactivated"}))
	require.Equal(t, []string{"u001", "u002", "u003", "u005", "u006", "u008", "u009"}, ids(store.AccountQuery{Status: "active"}))
	// u003 and u005 never logged in; u008 and u009 are usage unknown
	// (u009's activity came from a team-level sync), never "never".
	require.Equal(t, []string{"u003", "u005"}, ids(store.AccountQuery{Activity: "never"}))
	require.Equal(t, []string{"u008", "u009"}, ids(store.AccountQuery{Activity: "unknown"}))
	// "never" needs no cut-off, and one given changes nothing.
	require.Equal(t, []string{"u003", "u005"}, ids(store.AccountQuery{Activity: "never", ActiveSince: cutoff}))
	require.Equal(t, []string{"u003"}, ids(store.AccountQuery{Activity: "never", License: "full"}))
	require.Empty(t, ids(store.AccountQuery{Activity: "never", Status: "deactivated"}))
	// Every overview number is one query: its total is the number.
	o, err := s.Overview(ctx(), store.OverviewQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	total := func(q store.AccountQuery) int {
		t.Helper()
		page, err := s.ListAccounts(ctx(), q)
		require.NoError(t, err)
		return page.Total
	}
	require.Equal(t, o.NeverActive, total(store.AccountQuery{Activity: "never", Status: "active"}))
	require.Equal(t, o.UsageUnknown, total(store.AccountQuery{Activity: "unknown", Status: "active"}))
	require.Equal(t, o.Deactivated, total(store.AccountQuery{Status: "deactivated"}))
	require.Equal(t, o.Accounts-o.Deactivated, total(store.AccountQuery{Status: "active"}))
	for license, n := range o.ByLicense {
		require.Equal(t, n, total(store.AccountQuery{License: license, Status: "active"}), license)
	}
	require.Equal(t, o.FullAssigned, total(store.AccountQuery{License: roster.LicenseFull, Status: "active"}))
	// Filters combine: the overview's "full inactive" link.
	require.Equal(t, []string{"u002", "u003"}, ids(store.AccountQuery{License: "full", Activity: "inactive", ActiveSince: cutoff}))
	require.Equal(t, []string{"u003"}, ids(store.AccountQuery{License: "full", Activity: "inactive", ActiveSince: cutoff, MiroTeamID: "t2"}))
	require.Empty(t, ids(store.AccountQuery{License: "full", Status: "deactivated", Guests: true}))
	require.Equal(t, []string{"u006", "u004", "u001"},
		ids(store.AccountQuery{Activity: "active", ActiveSince: cutoff, Sort: "email", Desc: true}))
	// One inactivity rule: the overview's counts are the filter's totals.
	require.Equal(t, o.FullInactive, total(store.AccountQuery{License: "full", Activity: "inactive", ActiveSince: cutoff, Status: "active"}))
	require.Equal(t, o.FullActive, total(store.AccountQuery{License: "full", Activity: "active", ActiveSince: cutoff, Status: "active"}))
}

func testListAccountsSearch(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	people := []struct{ email, name string }{
		{"pct@example.com", "100% Done"},
		{"under_score@example.com", "Under Score"},
		{"underxscore@example.com", "Under X Score"},
		{"quote@example.com", `O'Brien "Q" Quinn`},
		{"back@example.com", `Back\Slash`},
		{"olaf@example.com", "Ölaf Ärger"},
		{"plain@example.com", "Plain Person"},
	}
	var d store.Diff
	for i, p := range people {
		a := account(i+1, roster.LicenseFull)
		a.Email, a.Name = p.email, p.name
		d.Accounts = append(d.Accounts, a)
		d.Seen = append(d.Seen, a.MiroUserID)
	}
	apply(t, s, c.ID, t0, d)
	search := func(q string) []string {
		t.Helper()
		page, err := s.ListAccounts(ctx(), store.AccountQuery{Search: q})
		require.NoError(t, err, "search %q", q)
		require.Equal(t, len(page.Accounts), page.Total)
		var out []string
		for _, a := range page.Accounts {
			out = append(out, a.Email)
		}
		return out
	}
	require.Equal(t, []string{"pct@example.com"}, search("%"))
	require.Equal(t, []string{"pct@example.com"}, search("0% d"))
	require.Equal(t, []string{"under_score@example.com"}, search("_"))
	require.Equal(t, []string{"under_score@example.com"}, search("UNDER_"))
	require.Equal(t, []string{"quote@example.com"}, search("o'brien"))
	require.Equal(t, []string{"quote@example.com"}, search(`"q"`))
	require.Equal(t, []string{"back@example.com"}, search(`\`))
	require.Equal(t, []string{"back@example.com"}, search(`k\s`))
	require.Equal(t, []string{"olaf@example.com"}, search("ÖLAF ä"), "case folding beyond ASCII")
	require.Equal(t, []string{"plain@example.com"}, search("PLAIN@"), "email and name are searched")
	require.Len(t, search("example.com"), len(people))
	require.Len(t, search("   "), len(people), "blank is no search")
	require.Equal(t, []string{"pct@example.com"}, search("  PCT@  "), "outer spaces are trimmed")
	for _, attack := range []string{"'; DROP TABLE accounts; --", `" OR 1=1 --`, "%' OR '1'='1", "*", "[a-z]"} {
		require.Empty(t, search(attack), attack)
	}
	require.Len(t, search("example"), len(people), "the table is intact")
}

func testListAccountsInvalid(t *testing.T, s store.Store) {
	listFixture(t, s)
	page, err := s.ListAccounts(ctx(), store.AccountQuery{Limit: 5})
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor)
	good := page.NextCursor

	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, q := range map[string]store.AccountQuery{
		"not base64":          {Cursor: "!!!"},
		"not JSON":            {Cursor: b64("hello")},
		"empty JSON":          {Cursor: b64("{}")},
		"unknown field":       {Cursor: b64(`{"s":"email","k":["a"],"i":1,"x":"'; DROP TABLE accounts"}`)},
		"no id":               {Cursor: b64(`{"s":"email","k":["a"]}`)},
		"too many keys":       {Cursor: b64(`{"s":"email","k":["a","b"],"i":1}`)},
		"sql in sort":         {Cursor: b64(`{"s":"email; DROP TABLE accounts","k":["a"],"i":1}`)},
		"another sort":        {Cursor: good, Sort: "name"},
		"another direction":   {Cursor: good, Desc: true},
		"truncated":           {Cursor: good[:len(good)-3]},
		"trailing data":       {Cursor: b64(`{"s":"email","k":["a"],"i":1} {}`)},
		"limit above 1000":    {Limit: 1001},
		"negative limit":      {Limit: -1},
		"unknown sort":        {Sort: "email DESC; --"},
		"unknown activity":    {Activity: "sometimes", ActiveSince: t0},
		"activity, no cutoff": {Activity: "active"},
		"inactive, no cutoff": {Activity: "inactive"},
		"unknown status":      {Status: "left"},
		"status as a flag":    {Status: "true"},
	} {
		_, err := s.ListAccounts(ctx(), q)
		require.ErrorIs(t, err, store.ErrInvalid, name)
		require.False(t, errors.Is(err, store.ErrNotFound), name)
	}
	page, err = s.ListAccounts(ctx(), store.AccountQuery{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, page.Accounts, 40, "the table is intact")
}

func testFinishActionAccountUpdate(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))
	before, err := s.AccountsByMiroIDs(ctx(), []string{"u002"})
	require.NoError(t, err)
	require.True(t, before["u002"].Active)

	// Deactivation: inactive, and the license SCIM reports.
	a := startAction(t, s, roster.Action{Key: "deactivate-u002", Kind: roster.ActionDeactivate, ConnectionID: c.ID,
		MiroUserID: "u002", Email: before["u002"].Email, Actor: "operator:ada@example.com"})
	a.Status = roster.ActionSucceeded
	require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{
		AccountUpdate: &roster.Account{MiroUserID: "u002", Active: false, License: roster.LicenseFree},
	}, auditOf(a, "ok")))
	after, err := s.AccountsByMiroIDs(ctx(), []string{"u002"})
	require.NoError(t, err)
	require.False(t, after["u002"].Active)
	require.Equal(t, roster.LicenseFree, after["u002"].License)
	want := before["u002"]
	want.Active, want.License = false, roster.LicenseFree
	require.Equal(t, want, after["u002"], "nothing else changes")

	// Reactivation with no license keeps the license; an unknown account
	// is no error.
	a = startAction(t, s, roster.Action{Key: "reactivate-u002", Kind: roster.ActionReactivate, ConnectionID: c.ID,
		MiroUserID: "u002", Actor: "operator:ada@example.com"})
	a.Status = roster.ActionSucceeded
	require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{
		AccountUpdate: &roster.Account{MiroUserID: "u002", Active: true},
	}, auditOf(a, "ok")))
	after, err = s.AccountsByMiroIDs(ctx(), []string{"u002"})
	require.NoError(t, err)
	require.True(t, after["u002"].Active)
	require.Equal(t, roster.LicenseFree, after["u002"].License)
	a = startAction(t, s, roster.Action{Key: "deactivate-nobody", Kind: roster.ActionDeactivate, ConnectionID: c.ID,
		MiroUserID: "u999", Actor: "operator:ada@example.com"})
	a.Status = roster.ActionSucceeded
	require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{
		AccountUpdate: &roster.Account{MiroUserID: "u999"},
	}, auditOf(a, "ok")))

	// Sign-out is a kind the store accepts.
	startAction(t, s, roster.Action{Key: "signout-u002", Kind: roster.ActionSignOut, ConnectionID: c.ID,
		MiroUserID: "u002", Actor: "operator:ada@example.com"})
}
