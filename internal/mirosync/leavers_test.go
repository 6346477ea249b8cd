package mirosync_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/testkit"
)

// gatedStore is the real store with a gate before ApplySync: every sync
// waits there until the test opens it, so that syncs running at once all
// read their snapshots before any of them applies.
type gatedStore struct {
	store.Store
	arrived chan struct{}
	open    chan struct{}
}

func (g *gatedStore) ApplySync(ctx context.Context, run *roster.SyncRun, d store.Diff) error {
	g.arrived <- struct{}{}
	<-g.open
	return g.Store.ApplySync(ctx, run, d)
}

// TestTwoSyncsLoseTheSameLeaver removes from Miro a person two
// connections see, and syncs both at once, their snapshots both read
// before either applies: each snapshot shows the other connection still
// seeing the person, yet the person must leave, exactly once.
func TestTwoSyncsLoseTheSameLeaver(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		conns func(t *testing.T, b *testBundle, tr truth) (c1, c2 roster.Connection, team2 string)
	}{
		{"two team connections", func(t *testing.T, b *testBundle, tr truth) (roster.Connection, roster.Connection, string) {
			// One person installs on two teams they are both in.
			t1, t2 := b.Info.TeamIDs[0], b.Info.TeamIDs[1]
			installer := memberOfAll(t, b, tr, t1, t2)
			scopes := []string{"boards:read", "team:read"}
			i1, err := b.Sim.MintToken(installer, t1, scopes)
			require.NoError(t, err)
			i2, err := b.Sim.MintToken(installer, t2, scopes)
			require.NoError(t, err)
			return b.connect(t, i1, roster.LevelTeam, true, false), b.connect(t, i2, roster.LevelTeam, true, false), t2
		}},
		{"an organization and a team connection", func(t *testing.T, b *testBundle, _ truth) (roster.Connection, roster.Connection, string) {
			team := b.connectKind(t, mirosim.InstallTeam, roster.LevelTeam)
			return b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization), team, team.TeamID
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
				b := setup(t, smallOrg, db)
				tr := b.readTruth(t)
				c1, c2, team2 := tc.conns(t, b, tr)
				b.Sync(t, c1.ID)
				b.Sync(t, c2.ID)
				// Someone both see, other than the installers.
				var gone string
				for _, id := range pickPeople(b, tr, len(tr.members)) {
					if teamsSet(tr, c1.TeamID)[id] && teamsSet(tr, team2)[id] && id != c1.InstallerID && id != c2.InstallerID {
						gone = id
						break
					}
				}
				require.NotEmpty(t, gone)
				require.NoError(t, b.Sim.RemoveMember(gone))

				gate := &gatedStore{Store: db, arrived: make(chan struct{}, 2), open: make(chan struct{})}
				syncer := *b.Syncer
				syncer.Store = gate
				type result struct {
					run roster.SyncRun
					err error
				}
				results := make(chan result, 2)
				for _, c := range []roster.Connection{c1, c2} {
					go func() {
						run, err := syncer.Sync(context.Background(), c.ID)
						results <- result{run, err}
					}()
				}
				for range 2 {
					select {
					case <-gate.arrived:
					case r := <-results:
						close(gate.open)
						t.Fatalf("a sync ended before applying: %v", r.err)
					}
				}
				close(gate.open)
				removed := 0
				for range 2 {
					r := <-results
					require.NoError(t, r.err)
					removed += r.run.Removed
				}

				a := b.accounts(t)[gone]
				require.False(t, a.LeftAt.IsZero(), "the leaver left")
				require.Equal(t, 1, removed, "counted once")
				left := 0
				for _, c := range []roster.Connection{c1, c2} {
					runs, err := db.SyncRuns(context.Background(), c.ID, 1)
					require.NoError(t, err)
					for _, ch := range b.changes(t, runs[0].ID) {
						if ch.Kind == roster.ChangeLeft {
							require.Equal(t, gone, ch.User)
							left++
						}
					}
				}
				require.Equal(t, 1, left, "one left change")
			})
		})
	}
}
