package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestOverviewKeptGroups: the overview a process corrects from its kept
// groups as time moves the cut-offs equals a full scan at every step, and
// a sync or an action (another process's, through a second handle on the
// same database) makes it count again.
func TestOverviewKeptGroups(t *testing.T) {
	for _, backend := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}} {
		t.Run(backend.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := backend.dsn(t)
			db := storetest.Open(t, dsn)
			c, err := storetest.SeedDashboard(ctx, db, 2000)
			require.NoError(t, err)
			other := storetest.Open(t, dsn)

			at := func(now time.Time) store.OverviewQuery {
				return store.OverviewQuery{InactiveBefore: roster.InactiveBefore(now, 60), UsedSince: now.AddDate(0, 0, -30)}
			}
			same := func(now time.Time) roster.Overview {
				t.Helper()
				kept, err := db.Overview(ctx, at(now))
				require.NoError(t, err)
				db.ForgetOverview()
				scanned, err := db.Overview(ctx, at(now))
				require.NoError(t, err)
				require.Equal(t, scanned, kept, "at %s", now)
				return kept
			}

			// The seed's activity is hourly over 200 days: every step of
			// 5h17m moves people across both cut-offs, forwards and back.
			now := storetest.SeedAt
			first := same(now)
			scans := db.OverviewScans()
			moved := false
			for i := range 40 {
				step := 5*time.Hour + 17*time.Minute
				if i%7 == 6 {
					step = -3 * step
				}
				now = now.Add(step)
				_, err := db.Overview(ctx, at(now))
				require.NoError(t, err)
				require.Equal(t, scans, db.OverviewScans(), "step %d scanned every account", i)
				o := same(now)
				scans = db.OverviewScans()
				moved = moved || o.FullInactive != first.FullInactive
			}
			require.True(t, moved, "no one crossed the cut-off: the test proves nothing")

			// Another process deactivates someone active: this process
			// counts again and sees it.
			before, err := db.Overview(ctx, at(now))
			require.NoError(t, err)
			page, err := other.ListAccounts(ctx, store.AccountQuery{License: roster.LicenseFull, Status: "active",
				Activity: "active", ActiveSince: roster.InactiveBefore(now, 60), Limit: 1})
			require.NoError(t, err)
			require.Len(t, page.Accounts, 1)
			who := page.Accounts[0]
			a := roster.Action{Key: "deactivate-" + who.MiroUserID, Kind: roster.ActionDeactivate, ConnectionID: c.ID,
				MiroUserID: who.MiroUserID, Email: who.Email, Actor: "operator:test"}
			_, err = other.StartAction(ctx, &a)
			require.NoError(t, err)
			a.Status, a.FinishedAt = roster.ActionSucceeded, now
			require.NoError(t, other.FinishAction(ctx, a, store.ActionEffect{
				AccountUpdate: &roster.Account{MiroUserID: who.MiroUserID, Active: false}},
				roster.AuditEntry{Actor: a.Actor, Kind: "action", Action: string(a.Kind), Result: "ok"}))
			after := same(now)
			require.Equal(t, before.FullActive-1, after.FullActive)
			require.Equal(t, before.Deactivated+1, after.Deactivated)

			// Another process's sync marks someone left: counted again.
			run := roster.SyncRun{ConnectionID: c.ID}
			require.NoError(t, other.StartSyncRun(ctx, &run))
			run.EndedAt = now
			require.NoError(t, other.ApplySync(ctx, &run, store.Diff{Unseen: []string{who.MiroUserID}}))
			require.Equal(t, after.Accounts-1, same(now).Accounts)
		})
	}
}
