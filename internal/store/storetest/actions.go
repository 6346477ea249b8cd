package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"roster"
	"roster/internal/store"

	"github.com/stretchr/testify/require"
)

// actionTests cover starting actions idempotently and finishing them
// with their effects, atomically.
var actionTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Actions/StartIdempotent", testStartAction},
	{"Actions/StartConcurrent", testStartActionConcurrent},
	{"Actions/StartErrors", testStartActionErrors},
	{"Actions/FinishEffects", testFinishAction},
	{"Actions/FinishErrors", testFinishActionErrors},
	{"Actions/FinishAtomic", testFinishActionAtomic},
	{"Actions/FinishAccountUpdate", testFinishActionAccountUpdate},
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
