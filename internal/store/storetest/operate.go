package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// operateTests cover operators, sessions, API keys, settings and the
// audit log.
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
