package action

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/sync"
)

// testBundle is one simulator behind a real HTTP server, one store and a
// Runner wired to both.
type testBundle struct {
	sim    *mirosim.Sim
	info   mirosim.Info
	db     *sqlstore.DB
	sealer sync.Sealer
	runner *Runner
	admin  *miro.Client // the Company Admin's view of the simulator, for the truth
}

func setup(t *testing.T, db *sqlstore.DB) *testBundle {
	t.Helper()
	sim, err := mirosim.New(mirosim.Config{Members: 80, Teams: 4, TeamsPerMember: 2})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	k, _, err := secret.NewKey()
	require.NoError(t, err)
	b := &testBundle{sim: sim, info: sim.Info(srv.URL), db: db, sealer: secret.NewSealer(k)}
	b.runner = b.newRunner(srv)
	b.admin, err = miro.New(miro.Config{BaseURL: srv.URL, HTTPClient: srv.Client(),
		Token: miro.StaticToken(b.info.Installs[mirosim.InstallOrgAdmin].AccessToken), RetryBackoff: time.Millisecond})
	require.NoError(t, err)
	return b
}

func (b *testBundle) newRunner(srv *httptest.Server) *Runner {
	return &Runner{Store: b.db, Sealer: b.sealer, HTTPClient: srv.Client(), RetryBackoff: time.Millisecond,
		OAuth: sync.OAuthApp{ClientID: b.info.ClientID, ClientSecret: b.info.ClientSecret}}
}

// connect stores a connection for an install, as roster connect would,
// and syncs it so the store knows its teams and people.
func (b *testBundle) connect(t *testing.T, in mirosim.Install, level roster.Level, enterprise, companyAdmin bool) roster.Connection {
	t.Helper()
	ctx := context.Background()
	tok := miro.Token{AccessToken: in.AccessToken, RefreshToken: in.RefreshToken, TeamID: in.TeamID, UserID: in.UserID,
		Scopes: in.Scopes, Expiry: time.Now().Add(time.Duration(in.ExpiresIn) * time.Second)}
	sealed, err := sync.SealToken(b.sealer, tok)
	require.NoError(t, err)
	c := roster.Connection{
		Level: level, OrgID: in.OrgID, TeamID: in.TeamID, TeamName: "team " + in.TeamID,
		InstallerID: in.UserID, Scopes: in.Scopes, Enterprise: enterprise, CompanyAdmin: companyAdmin,
		APIBaseURL: b.info.APIBaseURL, SealedToken: sealed, Status: roster.StatusActive,
	}
	require.NoError(t, b.db.CreateConnection(ctx, &c))
	s := &sync.Syncer{Store: b.db, Sealer: b.sealer, HTTPClient: b.runner.HTTPClient, OAuth: b.runner.OAuth}
	run, err := s.Sync(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, roster.SyncSucceeded, run.Status)
	c, err = b.db.Connection(ctx, c.ID)
	require.NoError(t, err)
	b.sim.ResetStats()
	return c
}

// connectKind connects one of the simulator's ready installs.
func (b *testBundle) connectKind(t *testing.T, kind string, level roster.Level) roster.Connection {
	t.Helper()
	return b.connect(t, b.info.Installs[kind], level, kind != mirosim.InstallNonEnterpriseTeam, kind == mirosim.InstallOrgAdmin)
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
	for m, err := range b.admin.OrgMembers(context.Background(), b.info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		if m.Active && m.Role.String() == "organization_internal_user" {
			out = append(out, person{m.ID, m.Email})
		}
	}
	return out
}

// teamRoles are a team's members and roles at Miro (v2).
func (b *testBundle) teamRoles(t *testing.T, teamID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for m, err := range b.admin.TeamMembers(context.Background(), b.info.OrgID, teamID, "") {
		require.NoError(t, err)
		out[m.ID] = m.Role.String()
	}
	return out
}

// legacyRoles are a team's members and roles at Miro, through the v1 API
// on the install's token.
func (b *testBundle) legacyRoles(t *testing.T, kind, teamID string) map[string]string {
	t.Helper()
	c, err := miro.New(miro.Config{BaseURL: b.info.APIBaseURL, Token: miro.StaticToken(b.info.Installs[kind].AccessToken)})
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
	c, err := miro.New(miro.Config{BaseURL: b.info.APIBaseURL, Token: miro.StaticToken(b.info.Installs[kind].AccessToken)})
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
	list, err := b.db.Accounts(context.Background(), store.AccountFilter{MiroTeamID: teamID})
	require.NoError(t, err)
	out := map[string]string{}
	for _, a := range list {
		ms, err := b.db.AccountMemberships(context.Background(), a.ID)
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
	list, err := b.db.AuditEntries(context.Background(), store.AuditFilter{Kind: "action", ConnectionID: connID})
	require.NoError(t, err)
	return list
}

// calls counts the simulator's calls of one operation.
func (b *testBundle) calls(op string) int { return b.sim.Stats().ByOperation[op].Calls }

// eachBackend runs fn on a fresh SQLite store, and on PostgreSQL when
// ROSTER_TEST_POSTGRES_URL is set.
func eachBackend(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		fn(t, db)
	})
}
