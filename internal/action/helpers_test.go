package action

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/testkit"
)

// testBundle is the shared kit (a simulator over HTTP, a store, the
// clients) with a Runner wired to it.
type testBundle struct {
	*testkit.Kit
	runner *Runner
}

func setup(t *testing.T, db *sqlstore.DB) *testBundle {
	t.Helper()
	k := testkit.New(t, db, mirosim.Config{Members: 80, Teams: 4, TeamsPerMember: 2})
	return &testBundle{Kit: k, runner: &Runner{Store: db, Clients: k.Clients}}
}

// connect stores a connection for an install, as roster connect would,
// and syncs it so the store knows its teams and people.
func (b *testBundle) connect(t *testing.T, in mirosim.Install, level roster.Level, enterprise, companyAdmin bool) roster.Connection {
	t.Helper()
	c := b.ConnectInstall(t, in, level, enterprise, companyAdmin)
	b.Sync(t, c.ID)
	b.Sim.ResetStats()
	return b.Connection(t, c.ID)
}

// connectKind connects one of the simulator's ready installs and syncs it.
func (b *testBundle) connectKind(t *testing.T, kind string, level roster.Level) roster.Connection {
	t.Helper()
	return b.Synced(t, kind, level)
}

var keys atomic.Int64

// key is a fresh idempotency key.
func key() string { return fmt.Sprintf("test-key-%d", keys.Add(1)) }

// req is a request on conn and team by the test's operator.
func req(conn roster.Connection, teamID string) Request {
	return Request{Key: key(), ConnectionID: conn.ID, MiroTeamID: teamID, Actor: "operator:admin@example.com"}
}

// person is someone in the simulator.
type person struct{ id, email string }

// orgMembers are the organization's active internal members.
func (b *testBundle) orgMembers(t *testing.T) []person {
	t.Helper()
	var out []person
	for m, err := range b.Admin.OrgMembers(context.Background(), b.Info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		if m.Active && m.Role.String() == roster.OrgRoleInternalUser {
			out = append(out, person{m.ID, m.Email})
		}
	}
	return out
}

// teamRoles are a team's members and roles at Miro (v2).
func (b *testBundle) teamRoles(t *testing.T, teamID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for m, err := range b.Admin.TeamMembers(context.Background(), b.Info.OrgID, teamID, "") {
		require.NoError(t, err)
		out[m.ID] = m.Role.String()
	}
	return out
}

// legacyRoles are a team's members and roles at Miro, through the v1 API
// on the install's token.
func (b *testBundle) legacyRoles(t *testing.T, kind, teamID string) map[string]string {
	t.Helper()
	c, err := miro.New(miro.Config{BaseURL: b.Info.APIBaseURL, Token: miro.StaticToken(b.Info.Installs[kind].AccessToken)})
	require.NoError(t, err)
	out := map[string]string{}
	for uc, err := range c.Legacy().TeamUserConnections(context.Background(), teamID) {
		require.NoError(t, err)
		out[string(uc.User.ID)] = uc.Role.String()
	}
	return out
}

// outsider is an organization member who is not in the team.
func (b *testBundle) outsider(t *testing.T, teamID string) person {
	t.Helper()
	in := b.teamRoles(t, teamID)
	for _, p := range b.orgMembers(t) {
		if _, ok := in[p.id]; !ok {
			return p
		}
	}
	t.Fatalf("everyone is in team %s", teamID)
	return person{}
}

// boards maps the team's live boards to their owners, read with kind's token.
func (b *testBundle) boards(t *testing.T, kind, teamID string) map[string]string {
	t.Helper()
	c, err := miro.New(miro.Config{BaseURL: b.Info.APIBaseURL, Token: miro.StaticToken(b.Info.Installs[kind].AccessToken)})
	require.NoError(t, err)
	out := map[string]string{}
	for bd, err := range c.Boards(context.Background(), miro.BoardQuery{TeamID: teamID}) {
		require.NoError(t, err)
		if bd.Owner != nil {
			out[bd.ID] = string(bd.Owner.ID)
		}
	}
	return out
}

// boardOwner is a plain member of the team (not an admin) who owns boards
// there, with those boards.
func (b *testBundle) boardOwner(t *testing.T, kind, teamID string, roles map[string]string) (string, []string) {
	t.Helper()
	owned := map[string][]string{}
	for id, owner := range b.boards(t, kind, teamID) {
		owned[owner] = append(owned[owner], id)
	}
	var owners []string
	for owner := range owned {
		if roles[owner] == roster.TeamRoleMember {
			owners = append(owners, owner)
		}
	}
	require.NotEmpty(t, owners, "team %s has no plain member owning boards", teamID)
	slices.Sort(owners)
	return owners[0], owned[owners[0]]
}

// memberships returns every stored membership of a team.
func (b *testBundle) memberships(t *testing.T, teamID string) map[string]string {
	t.Helper()
	list, err := b.DB.Accounts(context.Background(), store.AccountFilter{MiroTeamID: teamID})
	require.NoError(t, err)
	out := map[string]string{}
	for _, a := range list {
		ms, err := b.DB.AccountMemberships(context.Background(), a.ID)
		require.NoError(t, err)
		for _, m := range ms {
			if m.MiroTeamID == teamID {
				out[m.MiroUserID] = m.Role
			}
		}
	}
	return out
}

// audit returns the connection's audit entries for actions, newest first.
func (b *testBundle) audit(t *testing.T, connID int64) []roster.AuditEntry {
	t.Helper()
	list, err := b.DB.AuditEntries(context.Background(), store.AuditFilter{Kind: "action", ConnectionID: connID})
	require.NoError(t, err)
	return list
}

// observed counts what Runner.Observe is told, as "kind status" (or
// "kind not_run" for a request that recorded nothing).
type observed struct {
	mu sync.Mutex
	n  map[string]int
}

// observe sets r's Observe hook to count into a new observed.
func observe(r *Runner) *observed {
	o := &observed{n: map[string]int{}}
	r.Observe = func(kind roster.ActionKind, a roster.Action, err error) {
		status := string(a.Status)
		if status == "" {
			status = "not_run"
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		o.n[string(kind)+" "+status]++
	}
	return o
}

// take returns the counts so far and starts again.
func (o *observed) take() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.n
	o.n = map[string]int{}
	return n
}
