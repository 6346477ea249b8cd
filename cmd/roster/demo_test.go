package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

func TestDemoDataDir(t *testing.T) {
	t.Parallel()

	t.Run("ErrNotMadeByDemo", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "roster.db"), []byte("precious"), 0o600))
		_, err := prepareDemoDir(dir, false)
		require.ErrorContains(t, err, "was not made by roster demo")
		b, err := os.ReadFile(filepath.Join(dir, "roster.db"))
		require.NoError(t, err)
		require.Equal(t, "precious", string(b), "nothing was deleted")
	})

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "demo")
		lock, err := prepareDemoDir(dir, false)
		require.NoError(t, err)
		require.NoError(t, lock.Close())
		require.NoError(t, os.WriteFile(filepath.Join(dir, "old"), nil, 0o600))
		lock, err = prepareDemoDir(dir, true)
		require.NoError(t, err)
		require.NoError(t, lock.Close())
		require.FileExists(t, filepath.Join(dir, "old"), "--reuse keeps it")
		lock, err = prepareDemoDir(dir, false)
		require.NoError(t, err)
		require.NoError(t, lock.Close())
		require.NoFileExists(t, filepath.Join(dir, "old"), "a fresh demo")
	})

	// A second demo in the folder of a running one refuses, saying who
	// holds it, and deletes nothing; once the first is gone it starts.
	t.Run("ErrRunning", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "demo")
		first, err := prepareDemoDir(dir, false)
		require.NoError(t, err)
		db := filepath.Join(dir, "roster.db")
		require.NoError(t, os.WriteFile(db, []byte("in use"), 0o600))
		for _, reuse := range []bool{false, true} {
			_, err = prepareDemoDir(dir, reuse)
			require.Error(t, err)
			require.Contains(t, err.Error(), fmt.Sprintf("another roster demo (process %d) is running in %s", os.Getpid(), dir))
			require.Contains(t, err.Error(), "stop it (Ctrl-C) first, or pass another --data-dir")
			require.FileExists(t, db, "the running demo's database is kept")
		}
		require.NoError(t, first.Close())
		second, err := prepareDemoDir(dir, false)
		require.NoError(t, err)
		defer second.Close()
		require.NoFileExists(t, db, "a fresh demo once the first stopped")
	})
}

// TestDemo starts the demo twice on one directory: the first run connects,
// syncs and creates the admin; --reuse re-authorizes the same connections
// against the new simulator and keeps the admin.
func TestDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := demoOptions{dataDir: filepath.Join(t.TempDir(), "demo"), logLevel: "error", members: 60, teams: 4, seed: 5, simListen: "127.0.0.1:0"}
	d, err := startDemo(ctx, o, io.Discard, io.Discard)
	require.NoError(t, err)
	require.NotEmpty(t, d.adminPassword)
	require.Equal(t, roster.LevelOrganization, d.org.Level)
	require.Equal(t, roster.LevelTeam, d.team.Level)
	for _, c := range []roster.Connection{d.org, d.team} {
		got, err := d.app.store.Connection(ctx, c.ID)
		require.NoError(t, err)
		require.False(t, got.LastSyncAt.IsZero(), "connection %d is synced", c.ID)
	}
	set, err := d.app.store.Settings(ctx)
	require.NoError(t, err)
	require.Equal(t, 16.0, set.LicensePrices["full"], "the demo sets example prices so cost shows")
	org, err := d.app.store.Connection(ctx, d.org.ID)
	require.NoError(t, err)
	require.NotEmpty(t, org.SealedSCIMToken, "the organization connection can deactivate")
	left, err := d.app.store.People(ctx, store.PeopleFilter{Status: roster.PersonLeft})
	require.NoError(t, err)
	require.NotZero(t, left.Total, "the directory has leavers for offboarding to preview")
	// Miro gives the organization's members no names: the users list
	// shows the directory's, given and family names.
	people, err := d.app.store.People(ctx, store.PeopleFilter{Limit: 1000})
	require.NoError(t, err)
	require.NotEmpty(t, people.People)
	users, err := d.app.store.ListAccounts(ctx, store.AccountQuery{Limit: 1000})
	require.NoError(t, err)
	shown := map[string]string{}
	for _, a := range users.Accounts {
		shown[a.Email] = a.Name
	}
	for _, p := range people.People {
		require.Regexp(t, `^[A-Z][a-z]+ [A-Z][a-z]+$`, p.Name, p.Email)
		require.Equal(t, p.Name, shown[p.Email], p.Email)
	}
	ws, err := d.app.store.Workflows(ctx)
	require.NoError(t, err)
	require.Len(t, ws, 3)
	for _, w := range ws {
		require.False(t, w.Enabled, "%s is saved disabled", w.Name)
	}
	first := []int64{d.org.ID, d.team.ID}
	d.Close()

	o.reuse = true
	d, err = startDemo(ctx, o, io.Discard, io.Discard)
	require.NoError(t, err)
	defer d.Close()
	require.Empty(t, d.adminPassword, "the admin from the first run is kept")
	require.Equal(t, first, []int64{d.org.ID, d.team.ID})
	conns, err := d.app.store.Connections(ctx)
	require.NoError(t, err)
	require.Len(t, conns, 2)
	ws, err = d.app.store.Workflows(ctx)
	require.NoError(t, err)
	require.Len(t, ws, 3, "a reused demo keeps its workflows")
}
