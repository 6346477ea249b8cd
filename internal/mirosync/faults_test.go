package mirosync_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/connect"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/testkit"
)

func TestTransientFaultsAreRetried(t *testing.T) {
	t.Parallel()
	cases := map[string][]mirosim.Fault{
		"429 storm": {{Kind: mirosim.Fault429, Rate: 0.3}},
		"5xx and resets": {
			{Kind: mirosim.Fault500, Rate: 0.1},
			{Kind: mirosim.Fault502, Rate: 0.05},
			{Kind: mirosim.Fault503, Rate: 0.1},
			{Kind: mirosim.FaultReset, Rate: 0.05},
		},
	}
	for name, faults := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
				b := setup(t, smallOrg, db)
				b.Clients.MaxRetries = 10 // fault rates this high can fail a call 6 times in a row
				conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
				tr := b.readTruth(t)
				b.Sim.SetFaults(faults...)
				run := b.Sync(t, conn.ID)
				b.Sim.SetFaults()
				requireMatchesTruth(t, b, conn.ID, tr)
				st := b.Sim.Stats()
				require.Greater(t, st.Calls, run.Pages, "some calls were repeated")
				require.Equal(t, len(tr.members), run.Added)
			})
		})
	}
}

func TestFailedSyncChangesNothing(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		fault mirosim.Fault
		error string
	}{
		"truncated body": {mirosim.Fault{OperationID: "enterprise-get-team-members", Kind: mirosim.FaultTruncate, Rate: 1}, "malformed response body"},
		"persistent 500": {mirosim.Fault{OperationID: "enterprise-get-team-members", Kind: mirosim.Fault500, Rate: 1}, "500 internalError"},
		"audit log 503":  {mirosim.Fault{OperationID: "enterprise-get-audit-logs", Kind: mirosim.Fault503, Rate: 1}, "503"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
				b := setup(t, smallOrg, db)
				ctx := context.Background()
				conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
				tr := b.readTruth(t)
				b.Sync(t, conn.ID)

				// Changes a successful sync would write: a leaver among them.
				p := pickPeople(b, tr, 2)
				require.NoError(t, b.Sim.RemoveMember(p[0]))
				free := "free"
				_, err := b.Sim.UpdateMember(p[1], mirosim.UserPatch{License: &free})
				require.NoError(t, err)
				_, err = b.Sim.AddMember(mirosim.NewUser{Email: "late@example.com", TeamIDs: []string{b.Info.TeamIDs[0]}})
				require.NoError(t, err)

				before := dump(t, db)
				b.Sim.SetFaults(tc.fault)
				run, err := b.Syncer.Sync(ctx, conn.ID)
				b.Sim.SetFaults()
				require.Error(t, err)
				require.Equal(t, roster.SyncFailed, run.Status)
				require.Contains(t, run.Error, tc.error)
				require.Positive(t, run.Pages, "pages done before the failure")
				require.Positive(t, run.APICalls)
				require.Positive(t, run.Credits)
				requireUnchanged(t, before, dump(t, db))

				runs, err := db.SyncRuns(ctx, conn.ID, 1)
				require.NoError(t, err)
				got := runs[0]
				require.Equal(t, roster.SyncFailed, got.Status)
				require.Equal(t, run.Error, got.Error)
				require.Equal(t, run.Pages, got.Pages)
				require.Equal(t, run.APICalls, got.APICalls)
				require.Equal(t, run.Credits, got.Credits)
				entries, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "sync", ConnectionID: conn.ID, Limit: 1})
				require.NoError(t, err)
				require.Len(t, entries, 1)
				require.Equal(t, "failed", entries[0].Result, "the failed sync is audited")
				require.Contains(t, entries[0].Detail, tc.error)
				c, err := db.Connection(ctx, conn.ID)
				require.NoError(t, err)
				require.Equal(t, roster.StatusError, c.Status)
				require.Equal(t, run.Error, c.StatusMessage)

				// Nothing was lost: the next sync sees every change.
				run = b.Sync(t, conn.ID)
				require.Equal(t, 1, run.Added)
				require.Equal(t, 1, run.Removed)
				require.Equal(t, 1, run.Changed)
				require.True(t, b.accounts(t)[p[0]].LeftAt.After(time.Time{}))
			})
		})
	}
}

func TestTokenExpiresMidSync(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		cfg := smallOrg
		cfg.AccessTokenTTL = 2 * time.Second
		b := setup(t, cfg, db)
		ctx := context.Background()
		tr := b.readTruth(t) // before the admin install's own token expires
		admin := b.Info.Installs[mirosim.InstallOrgAdmin]
		in, err := b.Sim.MintToken(admin.UserID, admin.TeamID, nil)
		require.NoError(t, err)
		conn := b.connect(t, in, roster.LevelOrganization, true, true)

		// A slow walk, one team at a time, outlives the token.
		b.Syncer.Concurrency = 1
		b.Sim.SetFaults(mirosim.Fault{OperationID: "enterprise-get-team-members", Kind: mirosim.FaultLatency, Rate: 1, Latency: 250 * time.Millisecond})
		run := b.Sync(t, conn.ID)
		b.Sim.SetFaults()
		require.GreaterOrEqual(t, time.Duration(tr.teamPages)*250*time.Millisecond, 2*time.Second, "the walk must outlast the token")
		require.Positive(t, b.Sim.Stats().ByOperation["oauth-token"].Calls, "the token was refreshed")
		requireMatchesTruth(t, b, conn.ID, tr)
		require.Equal(t, len(tr.members), run.Added)

		// The rotated pair was persisted, sealed.
		stored, err := db.Connection(ctx, conn.ID)
		require.NoError(t, err)
		require.NotEqual(t, conn.SealedToken, stored.SealedToken)
		tok, err := connect.OpenToken(b.Sealer, stored.SealedToken)
		require.NoError(t, err)
		require.NotEqual(t, in.AccessToken, tok.AccessToken)
		require.NotEqual(t, in.RefreshToken, tok.RefreshToken)
		require.NotEmpty(t, tok.RefreshToken)
		require.True(t, tok.Expiring())

		// And it works: the next sync uses it (refreshing again if due).
		run = b.Sync(t, conn.ID)
		require.Zero(t, run.Added+run.Changed+run.Removed)
	})
}
