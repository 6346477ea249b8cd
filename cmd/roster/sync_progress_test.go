package main

import (
	"bytes"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/mirosync"
)

// TestSyncSaysWaits: `roster sync` against a tight rate budget says, as
// each long wait starts, how long it waits for Miro's rate limit, and
// counts calls to Miro in plain words, never credits.
func TestSyncSaysWaits(t *testing.T) {
	t.Parallel()
	// 2,500 credits of organization and members against 1,500 per 2 s
	// window: the sync waits for the next window at least once.
	sim, err := mirosim.New(mirosim.Config{Members: 400, Teams: 4, TeamsPerMember: 1, AutoApprove: true,
		RateWindow: 2 * time.Second, RateBudget: 1500})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	e := &e2e{sim: sim, srv: srv, info: sim.Info(srv.URL), dataDir: filepath.Join(t.TempDir(), "data")}
	r := e.roster(t, "connect", "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallOrgAdmin))
	require.NoError(t, r.err, r.stdout+r.stderr)

	r = e.roster(t, "sync")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Regexp(t, `(?m)^connection 1: waiting [0-9] s for Miro's rate limit$`, r.stderr)
	require.Regexp(t, `(?m)^connection 1: synced from v2-organization in .*; [0-9]+ pages, [0-9]+ calls to Miro$`, r.stdout)
	require.NotContains(t, strings.ToLower(r.stdout+r.stderr), "credit")
}

// TestSyncProgressLines: the progress printer's lines, a wait printed as
// it starts even right after a progress line.
func TestSyncProgressLines(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	report := progressPrinter(&out, 3)
	report(mirosync.Progress{Phase: "team members", Pages: 40, Members: 2000, Teams: 30, TeamsDone: 12, APICalls: 41,
		Credits: 9000, EstimatedLeft: 42*time.Second + 300*time.Millisecond})
	report(mirosync.Progress{Phase: "team members", Pages: 41, Waiting: 42 * time.Second, WaitReason: miro.WaitRateLimit})
	report(mirosync.Progress{Phase: "team members", Pages: 41, Waiting: 125 * time.Second, WaitReason: miro.WaitRetryAfter})
	report(mirosync.Progress{Phase: "team members", Pages: 42}) // within the second: not printed
	require.Equal(t, "connection 3: team members: 40 pages, 2000 members, 12/30 teams, 41 calls to Miro, about 42 s left\n"+
		"connection 3: waiting 42 s for Miro's rate limit\n"+
		"connection 3: waiting 2 min 5 s for Miro's request to slow down\n", out.String())
	require.NotContains(t, out.String(), "credit")
}
