package workflow_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/workflow"
	"roster/internal/workflow/workflowtest"
)

// bulkBenchPeople is the bulk benchmark's organization: the selection of
// everyone in it (those not left) stays within MaxBulkSelection.
const bulkBenchPeople = 10_000

// BenchmarkBulk previews, then starts, a bulk deactivation of everyone in
// a seeded organization of 10,000 accounts (about 9,900 not left, at the
// limit's scale): the preview's full pass over the filter, a page at a
// time, and the start's pages of StartRuns with their step jobs queued
// (recorded here, not worked: Miro's pace is BenchmarkOffboard1000's to
// measure). It reports people judged a second (preview) and runs
// started a second (start).
func BenchmarkBulk(b *testing.B) {
	ctx := context.Background()
	for _, be := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}} {
		b.Run(be.name, func(b *testing.B) { benchBulk(ctx, b, be.dsn(b)) })
	}
}

// benchBulk is BenchmarkBulk on one backend.
func benchBulk(ctx context.Context, b *testing.B, dsn string) {
	db := storetest.Open(b, dsn)
	conn, err := storetest.SeedDashboard(ctx, db, bulkBenchPeople)
	require.NoError(b, err)
	// What the connect check records of a Company Admin's
	// Enterprise connection with a SCIM token: it can deactivate.
	conn.Enterprise, conn.CompanyAdmin, conn.SealedSCIMToken = true, true, []byte{1}
	conn.Scopes = []string{roster.ScopeOrgRead, roster.ScopeOrgTeamsRead, roster.ScopeOrgTeamsWrite}
	require.NoError(b, db.UpdateConnection(ctx, &conn))
	eng := &workflow.Engine{Store: db, Jobs: &workflowtest.Jobs{}}
	req := workflow.BulkRequest{Action: roster.BulkDeactivate, Actor: "operator:bench@example.com",
		Selection: workflow.BulkSelection{Filter: &store.AccountQuery{Sort: "email"}}, Description: "everyone"}
	b.Run("preview", func(b *testing.B) {
		var n int
		for b.Loop() {
			p, err := eng.PreviewBulk(ctx, req, workflow.PeopleView{})
			require.NoError(b, err)
			n = p.Summary.Considered
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "people/s")
	})
	b.Run("start", func(b *testing.B) {
		var runs, i int
		for b.Loop() {
			i++
			r := req
			r.Key = fmt.Sprintf("bench-%d", i)
			s, err := eng.StartBulk(ctx, r)
			require.NoError(b, err)
			runs = s.Started
		}
		require.NotZero(b, runs)
		b.ReportMetric(float64(runs)*float64(b.N)/b.Elapsed().Seconds(), "runs/s")
	})
}
