package testkit

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// Member is an active internal member that connection connID sees, with
// an email and one to three teams.
func (k *Kit) Member(t testing.TB, connID int64) roster.Account {
	t.Helper()
	return k.member(t, connID, "")
}

// LicensedMember is a Member holding a full license.
func (k *Kit) LicensedMember(t testing.TB, connID int64) roster.Account {
	t.Helper()
	return k.member(t, connID, roster.LicenseFull)
}

func (k *Kit) member(t testing.TB, connID int64, license string) roster.Account {
	t.Helper()
	ctx := context.Background()
	accs, err := k.DB.Accounts(ctx, store.AccountFilter{ConnectionID: connID, OrgRole: roster.OrgRoleInternalUser, License: license})
	require.NoError(t, err)
	for _, a := range accs {
		ms, err := k.DB.AccountMemberships(ctx, a.ID)
		require.NoError(t, err)
		if a.Active && a.Email != "" && len(ms) > 0 && len(ms) < 4 {
			return a
		}
	}
	t.Fatalf("no suitable member of connection %d", connID)
	return roster.Account{}
}

// WithOrgRole is someone of the organization with role and an email.
func (k *Kit) WithOrgRole(t testing.TB, role string) roster.Account {
	t.Helper()
	accs, err := k.DB.Accounts(context.Background(), store.AccountFilter{OrgRole: role})
	require.NoError(t, err)
	for _, a := range accs {
		if a.Email != "" {
			return a
		}
	}
	t.Fatalf("no %s with an email", role)
	return roster.Account{}
}

// TeamMember is someone the store has in team teamID.
func (k *Kit) TeamMember(t testing.TB, teamID string) roster.Account {
	t.Helper()
	res, err := k.DB.ListAccounts(context.Background(), store.AccountQuery{MiroTeamID: teamID, Limit: 5})
	require.NoError(t, err)
	require.NotEmpty(t, res.Accounts, "nobody in team %s", teamID)
	return res.Accounts[0]
}

// MemberOf is an active internal member of team teamID with an email,
// other than account not.
func (k *Kit) MemberOf(t testing.TB, teamID string, not int64) roster.Account {
	t.Helper()
	res, err := k.DB.ListAccounts(context.Background(), store.AccountQuery{MiroTeamID: teamID, Limit: 50})
	require.NoError(t, err)
	for _, a := range res.Accounts {
		if a.ID != not && a.Active && a.Email != "" && a.OrgRole == roster.OrgRoleInternalUser {
			return a
		}
	}
	t.Fatal("no other member in the team")
	return roster.Account{}
}

// TeamOutside is a team of connection connID the account is not in.
func (k *Kit) TeamOutside(t testing.TB, connID int64, acc roster.Account) string {
	t.Helper()
	ctx := context.Background()
	ms, err := k.DB.AccountMemberships(ctx, acc.ID)
	require.NoError(t, err)
	teams, err := k.DB.Teams(ctx, connID)
	require.NoError(t, err)
	for _, tm := range teams {
		if !slices.ContainsFunc(ms, func(m roster.Membership) bool { return m.MiroTeamID == tm.MiroTeamID }) {
			return tm.MiroTeamID
		}
	}
	t.Fatal("the account is in every team")
	return ""
}

// SimRole is a person's role in a team as the simulator has it ("" when
// not a member).
func (k *Kit) SimRole(t testing.TB, teamID, userID string) string {
	t.Helper()
	m, err := k.Admin.TeamMember(context.Background(), k.Info.OrgID, teamID, userID)
	if err != nil {
		return ""
	}
	return m.Role.String()
}

// WriteCalls counts the simulator's calls that change teams.
func (k *Kit) WriteCalls() int {
	st := k.Sim.Stats()
	n := 0
	for _, op := range []string{"enterprise-invite-team-member", "enterprise-update-team-member", "enterprise-delete-team-member", "legacy-invite-team-users"} {
		n += st.ByOperation[op].Calls
	}
	return n
}
