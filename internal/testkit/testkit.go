// Package testkit is the one test bundle roster's packages share: a Miro
// simulator behind a real HTTP server, a real store (SQLite, and
// PostgreSQL when configured), the sealer, the one owner of Miro clients
// and a Syncer, wired as roster serve wires them. Tests of action, jobs,
// mirosync, workflow and the HTTP packages build on it, so that the way a
// connection is stored and synced is written once.
//
// It is for tests only: nothing outside _test.go files imports it (the
// import-rules test holds that).
package testkit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/connect"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/mirosync"
	"roster/internal/secret"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// Kit is one simulated Miro organization and one store, wired together.
type Kit struct {
	Sim    *mirosim.Sim
	Server *httptest.Server
	Info   mirosim.Info
	DB     *sqlstore.DB
	Sealer *secret.Sealer
	// Clients owns the Miro clients, on the simulator's HTTP client with
	// millisecond retries; Syncer syncs through it.
	Clients *connect.Clients
	Syncer  *mirosync.Syncer
	// Admin is the Company Admin's own view of the simulator: the truth
	// tests compare roster's records and actions with.
	Admin *miro.Client

	hc *http.Client
}

// New starts a simulator with cfg over HTTP, stopped when t ends, and
// wires a kit on db.
func New(t testing.TB, db *sqlstore.DB, cfg mirosim.Config) *Kit {
	t.Helper()
	sim, err := mirosim.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	k := Wire(t, db, sim.Info(srv.URL), srv.Client())
	k.Sim, k.Server = sim, srv
	return k
}

// Wire wires a kit on db to the simulator info describes, reached with
// hc: one this process runs (New), or one in another process, whose
// Sim and Server stay nil.
func Wire(t testing.TB, db *sqlstore.DB, info mirosim.Info, hc *http.Client) *Kit {
	t.Helper()
	k := &Kit{Info: info, DB: db, Sealer: NewSealer(t), hc: hc}
	k.Clients = k.NewClients(db)
	k.Syncer = &mirosync.Syncer{Store: db, Clients: k.Clients}
	var err error
	k.Admin, err = miro.New(miro.Config{BaseURL: info.APIBaseURL, HTTPClient: hc,
		Token: miro.StaticToken(info.Installs[mirosim.InstallOrgAdmin].AccessToken), RetryBackoff: time.Millisecond})
	require.NoError(t, err)
	return k
}

// NewClients is an owner of Miro clients on the simulator saving rotated
// tokens to st: the one a second roster process, with its own store,
// would have.
func (k *Kit) NewClients(st connect.TokenSaver) *connect.Clients {
	return &connect.Clients{
		App:   connect.App{ClientID: k.Info.ClientID, ClientSecret: k.Info.ClientSecret, APIBaseURL: k.Info.APIBaseURL},
		Store: st, Sealer: k.Sealer, HTTPClient: k.hc, RetryBackoff: time.Millisecond,
	}
}

// Backends runs fn as parallel subtests on a fresh SQLite store and on a
// fresh PostgreSQL schema (skipped, or failed under
// ROSTER_REQUIRE_POSTGRES=1, when ROSTER_TEST_POSTGRES_URL is not set).
func Backends(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		fn(t, db)
	})
}

// NewSealer is a sealer with a fresh random key.
func NewSealer(t testing.TB) *secret.Sealer {
	t.Helper()
	key, _, err := secret.NewKey()
	require.NoError(t, err)
	return secret.NewSealer(key)
}

// TokenOf is the token roster connect would seal for a simulator install.
func TokenOf(in mirosim.Install) miro.Token {
	t := miro.Token{AccessToken: in.AccessToken, RefreshToken: in.RefreshToken, TeamID: in.TeamID, UserID: in.UserID, Scopes: in.Scopes}
	if in.ExpiresIn > 0 {
		t.Expiry = time.Now().Add(time.Duration(in.ExpiresIn) * time.Second)
	}
	return t
}

// Connect stores a connection for one of the simulator's ready installs,
// as roster connect would: Enterprise unless it is the non-Enterprise
// team, Company Admin for the organization admin's install.
func (k *Kit) Connect(t testing.TB, kind string, level roster.Level) roster.Connection {
	t.Helper()
	return k.ConnectInstall(t, k.Info.Installs[kind], level,
		kind != mirosim.InstallNonEnterpriseTeam, kind == mirosim.InstallOrgAdmin)
}

// ConnectInstall stores a connection for an install: enterprise and
// companyAdmin are what roster connect's checks would have found.
func (k *Kit) ConnectInstall(t testing.TB, in mirosim.Install, level roster.Level, enterprise, companyAdmin bool) roster.Connection {
	t.Helper()
	sealed, err := connect.SealToken(k.Sealer, TokenOf(in))
	require.NoError(t, err)
	c := roster.Connection{
		Level: level, OrgID: in.OrgID, TeamID: in.TeamID, TeamName: "team " + in.TeamID, OrgName: "Example Corp",
		InstallerID: in.UserID, Scopes: in.Scopes, Enterprise: enterprise, CompanyAdmin: companyAdmin,
		APIBaseURL: k.Info.APIBaseURL, SealedToken: sealed, Status: roster.StatusActive,
	}
	require.NoError(t, k.DB.CreateConnection(context.Background(), &c))
	return c
}

// WithSCIM gives conn the simulator's SCIM token, sealed, as roster
// connect --scim-token does, and returns it as stored.
func (k *Kit) WithSCIM(t testing.TB, conn roster.Connection) roster.Connection {
	t.Helper()
	sealed, err := k.Sealer.Seal([]byte(k.Info.SCIMToken))
	require.NoError(t, err)
	conn.SCIMBaseURL, conn.SealedSCIMToken = k.Info.SCIMBaseURL, sealed
	require.NoError(t, k.DB.UpdateConnection(context.Background(), &conn))
	return k.Connection(t, conn.ID)
}

// Sync syncs connection id, requires it to succeed, and returns its run.
func (k *Kit) Sync(t testing.TB, id int64) roster.SyncRun {
	t.Helper()
	run, err := k.Syncer.Sync(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, roster.SyncSucceeded, run.Status, run.Error)
	return run
}

// Synced is Connect then Sync, with the simulator's counters reset after,
// so that a test counts only its own calls. It returns the connection as
// the sync left it.
func (k *Kit) Synced(t testing.TB, kind string, level roster.Level) roster.Connection {
	t.Helper()
	c := k.Connect(t, kind, level)
	k.Sync(t, c.ID)
	k.Sim.ResetStats()
	return k.Connection(t, c.ID)
}

// OrgAndTeam connects and syncs the organization admin's install at
// organization level and the non-Enterprise team's at team level (legacy
// API, inferred licenses): the dashboard's and the API's fixture.
func (k *Kit) OrgAndTeam(t testing.TB) (org, team roster.Connection) {
	t.Helper()
	org = k.Connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	team = k.Connect(t, mirosim.InstallNonEnterpriseTeam, roster.LevelTeam)
	k.Sync(t, org.ID)
	k.Sync(t, team.ID)
	return org, team
}

// Connection reads connection id back from the store.
func (k *Kit) Connection(t testing.TB, id int64) roster.Connection {
	t.Helper()
	c, err := k.DB.Connection(context.Background(), id)
	require.NoError(t, err)
	return c
}

// Calls counts the simulator's calls of one operation.
func (k *Kit) Calls(op string) int { return k.Sim.Stats().ByOperation[op].Calls }
