package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// historyTests cover what the user page's history reads about one
// person: the actions on them and their directory events.
var historyTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"History/ActionsFor", testActionsFor},
	{"History/ActionsForErrInvalid", testActionsForInvalid},
	{"History/PersonEventsFor", testPersonEventsFor},
}

func testActionsFor(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	start := func(key string, kind roster.ActionKind, userID, email string) roster.Action {
		t.Helper()
		a := roster.Action{Key: key, Kind: kind, ConnectionID: c.ID, MiroTeamID: "t1", MiroUserID: userID, Email: email,
			Actor: "operator:ada@example.com"}
		if kind == roster.ActionInvite {
			a.Role = roster.TeamRoleMember
		}
		_, err := s.StartAction(ctx(), &a)
		require.NoError(t, err)
		return a
	}
	// Dana: invited before roster knew her (email only), then removed by
	// Miro user id, then signed out by a workflow naming both.
	invite := start("k-invite", roster.ActionInvite, "", "dana@example.com")
	start("k-other", roster.ActionRemove, "u-erin", "erin@example.com")
	remove := start("k-remove", roster.ActionRemove, "u-dana", "")
	signout := start("k-signout", roster.ActionSignOut, "u-dana", "dana@example.com")
	remove.Status, remove.Result = roster.ActionSucceeded, "removed"
	require.NoError(t, s.FinishAction(ctx(), remove, store.ActionEffect{},
		roster.AuditEntry{Actor: remove.Actor, Kind: "action", Action: string(remove.Kind), Result: "ok"}))

	keys := func(as []roster.Action) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Key)
		}
		return out
	}
	got, err := s.ActionsFor(ctx(), "u-dana", "Dana@Example.com", 0)
	require.NoError(t, err)
	require.Equal(t, []string{signout.Key, remove.Key, invite.Key}, keys(got), "newest first, once each, by id or email")
	require.Equal(t, roster.ActionSucceeded, got[1].Status, "with the outcome")
	require.Equal(t, "removed", got[1].Result)
	require.Equal(t, "operator:ada@example.com", got[1].Actor, "and who asked")

	got, err = s.ActionsFor(ctx(), "u-dana", "", 0)
	require.NoError(t, err)
	require.Equal(t, []string{signout.Key, remove.Key}, keys(got), "by Miro user id alone")
	got, err = s.ActionsFor(ctx(), "", "dana@example.com", 0)
	require.NoError(t, err)
	require.Equal(t, []string{signout.Key, invite.Key}, keys(got), "by email alone")
	got, err = s.ActionsFor(ctx(), "u-dana", "dana@example.com", 2)
	require.NoError(t, err)
	require.Equal(t, []string{signout.Key, remove.Key}, keys(got), "the newest within the limit")

	got, err = s.ActionsFor(ctx(), "u-nobody", "nobody@example.com", 0)
	require.NoError(t, err)
	require.Empty(t, got)
}

func testActionsForInvalid(t *testing.T, s store.Store) {
	_, err := s.ActionsFor(ctx(), "", "", 0)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.ActionsFor(ctx(), "u1", "", 501)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.ActionsFor(ctx(), "u1", "", -1)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.PersonEventsFor(ctx(), 1, 501)
	require.ErrorIs(t, err, store.ErrInvalid)
}

func testPersonEventsFor(t *testing.T, s store.Store) {
	ada := roster.Person{Email: "ada@example.com"}
	require.NoError(t, s.UpsertPerson(ctx(), &ada))
	bob := roster.Person{Email: "bob@example.com"}
	require.NoError(t, s.UpsertPerson(ctx(), &bob))
	ada.Status = roster.PersonLeft
	require.NoError(t, s.UpdatePerson(ctx(), &ada))
	bob.Status = roster.PersonLeft
	require.NoError(t, s.UpdatePerson(ctx(), &bob))

	kinds := func(es []roster.PersonEvent) []roster.PersonEventKind {
		var out []roster.PersonEventKind
		for _, e := range es {
			require.Equal(t, ada.ID, e.PersonID)
			require.False(t, e.At.IsZero())
			out = append(out, e.Kind)
		}
		return out
	}
	got, err := s.PersonEventsFor(ctx(), ada.ID, 0)
	require.NoError(t, err)
	require.Equal(t, []roster.PersonEventKind{roster.PersonEventLeft, roster.PersonEventJoined}, kinds(got), "newest first, Ada's only")
	got, err = s.PersonEventsFor(ctx(), ada.ID, 1)
	require.NoError(t, err)
	require.Equal(t, []roster.PersonEventKind{roster.PersonEventLeft}, kinds(got), "the newest within the limit")

	got, err = s.PersonEventsFor(ctx(), 404, 0)
	require.NoError(t, err)
	require.Empty(t, got)
}
