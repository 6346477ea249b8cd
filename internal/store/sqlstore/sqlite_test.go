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

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return storetest.Open(t, storetest.SQLiteDSN(t))
	})
}

// SQLite keeps times as fixed-width UTC text, so text order is time order.
func TestSQLiteTimeLayout(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	c := roster.Connection{Level: roster.LevelTeam, TeamID: "t1",
		LastSyncAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))}
	require.NoError(t, db.CreateConnection(context.Background(), &c))
	var typ, v string
	require.NoError(t, db.SQL().QueryRow(`SELECT typeof(last_sync_at), last_sync_at FROM connections`).Scan(&typ, &v))
	require.Equal(t, "text", typ)
	require.Equal(t, "2026-01-02T02:04:05.000000Z", v)
}
