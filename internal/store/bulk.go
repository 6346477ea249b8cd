package store

import (
	"context"
	"time"

	"roster"
)

// BulkRuns keeps bulk runs (one action or saved workflow for many people,
// roster.BulkRun) and answers the questions a bulk selection asks of many
// accounts at once, so that neither costs a query per person.
type BulkRuns interface {
	// CreateBulkRun inserts b and sets its ID and CreatedAt, with audit
	// (its ID filled in the detail's "%d") in the same transaction. When a
	// bulk run has b.Key it returns true and fills b with the stored one
	// instead, changing nothing. ErrInvalid for a missing key, actor or
	// selection, or an unknown action.
	CreateBulkRun(ctx context.Context, b *roster.BulkRun, audit roster.AuditEntry) (existed bool, err error)
	// BulkRun reads one bulk run (ErrNotFound).
	BulkRun(ctx context.Context, id int64) (roster.BulkRun, error)
	// FinishBulkStart records that every run of bulk run id was started:
	// its selected and excluded counts, the number of its runs (counted
	// from the runs themselves), and when. ErrNotFound.
	FinishBulkStart(ctx context.Context, id int64, selected, excluded int, at time.Time) (roster.BulkRun, error)
	// BulkRuns lists bulk runs newest first: those with an id below
	// beforeID when it is positive; limit 1..500.
	BulkRuns(ctx context.Context, beforeID int64, limit int) ([]roster.BulkRun, error)
	// BulkRunCounts counts the bulk run's workflow runs by status.
	BulkRunCounts(ctx context.Context, b roster.BulkRun) (map[roster.RunStatus]int, error)
	// BulkRunRuns lists a page of the bulk run's workflow runs, newest
	// first: f's Status, BeforeID and Limit apply, its WorkflowID and
	// Email do not. Counts are by status, ignoring f.Status.
	BulkRunRuns(ctx context.Context, b roster.BulkRun, f RunFilter) (RunPage, error)

	// AccountsByIDs reads the accounts with the ids asked for, by id;
	// missing ids are absent.
	AccountsByIDs(ctx context.Context, ids []int64) (map[int64]roster.Account, error)
	// MembershipsOf lists the team memberships of each account asked for,
	// by account id, each account's by team id.
	MembershipsOf(ctx context.Context, accountIDs []int64) (map[int64][]roster.Membership, error)
	// TeamAdminCounts counts each team's admins among accounts not left,
	// by Miro team id; teams without an admin are absent.
	TeamAdminCounts(ctx context.Context) (map[string]int, error)
}
