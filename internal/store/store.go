// Package store is roster's storage contract: the Store interface and its
// sentinel errors. internal/store/sqlstore implements it for SQLite and
// PostgreSQL (queries shared by both dialects, migrations one folder per
// dialect; its Open picks the backend from a DSN), and
// internal/store/storetest is the conformance suite every backend passes.
package store

import (
	"context"
	"errors"
	"time"

	"roster"
)

// Sentinel errors. Backends wrap them; callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Store is everything roster keeps. Every method is safe for concurrent use.
type Store interface {
	Close() error
	// Ping checks the database is reachable and its migrations applied.
	Ping(ctx context.Context) error

	// Meta reads a value of the key-value table (ErrNotFound when unset);
	// SetMeta writes one. The secret-key check value lives here.
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error

	// CreateConnection inserts c and sets its ID, CreatedAt and UpdatedAt.
	// ErrConflict when an organization-level connection to the same org,
	// or a team-level connection to the same team, exists.
	CreateConnection(ctx context.Context, c *roster.Connection) error
	// UpdateConnection writes every field of c but ID and CreatedAt, and
	// sets UpdatedAt. ErrNotFound when c.ID does not exist.
	UpdateConnection(ctx context.Context, c *roster.Connection) error
	Connection(ctx context.Context, id int64) (roster.Connection, error)
	// FindConnection finds the connection of a level to an org (organization
	// level) or a team (team level). ErrNotFound when there is none.
	FindConnection(ctx context.Context, level roster.Level, orgID, teamID string) (roster.Connection, error)
	Connections(ctx context.Context) ([]roster.Connection, error)
	// SaveToken persists a rotated, sealed token pair at once, in its own
	// transaction, so that a rotation is never lost whatever happens next.
	SaveToken(ctx context.Context, connectionID int64, sealed []byte) error

	// StartSyncRun inserts run with status running and sets its ID.
	StartSyncRun(ctx context.Context, run *roster.SyncRun) error
	// FailSyncRun records a failed run (status, error, end, counters) and
	// sets the connection's status to error. It writes nothing else.
	FailSyncRun(ctx context.Context, run roster.SyncRun) error
	// Snapshot is what a connection saw at its last successful sync.
	Snapshot(ctx context.Context, connectionID int64) (*Snapshot, error)
	// AccountsByMiroIDs and AccountsByEmails look up accounts that other
	// connections (or earlier syncs, for people who left) know, keyed by
	// the Miro user id or lower-case email asked for. Missing keys are absent.
	AccountsByMiroIDs(ctx context.Context, ids []string) (map[string]roster.Account, error)
	AccountsByEmails(ctx context.Context, emails []string) (map[string]roster.Account, error)
	// ApplySync writes d and completes run (status succeeded, EndedAt,
	// counters), sets the connection's LastSyncAt and status active, all in
	// one transaction. An empty Diff writes no account, membership or
	// change rows.
	ApplySync(ctx context.Context, run roster.SyncRun, d Diff) error

	// Accounts lists accounts matching f, ordered by email then id.
	Accounts(ctx context.Context, f AccountFilter) ([]roster.Account, error)
	Account(ctx context.Context, id int64) (roster.Account, error)
	// AccountMemberships lists an account's team memberships.
	AccountMemberships(ctx context.Context, accountID int64) ([]roster.Membership, error)
	// Teams lists teams, those a connection covers when connectionID > 0.
	Teams(ctx context.Context, connectionID int64) ([]roster.Team, error)
	// Organization returns an organization synced at organization level.
	Organization(ctx context.Context, miroOrgID string) (roster.Organization, error)
	// SyncRuns lists a connection's runs, newest first.
	SyncRuns(ctx context.Context, connectionID int64, limit int) ([]roster.SyncRun, error)
	// Changes lists change rows matching f, oldest first.
	Changes(ctx context.Context, f ChangeFilter) ([]roster.Change, error)
}

// Snapshot is the stored state one connection's sync is diffed against.
type Snapshot struct {
	// Organization is nil when the connection has synced no organization.
	Organization *roster.Organization
	// Teams are the teams the connection covers, by Miro team id.
	Teams map[string]roster.Team
	// Accounts are the accounts the connection saw, by Miro user id.
	Accounts map[string]roster.Account
	// SeenElsewhere holds the Miro user ids of Accounts that another
	// connection also sees; they do not leave when this one loses them.
	SeenElsewhere map[string]bool
	// Memberships are the memberships of the covered teams: role by key.
	Memberships map[MembershipKey]string
}

// MembershipKey names one membership.
type MembershipKey struct {
	MiroTeamID string
	MiroUserID string
}

// Diff is what one sync changes. Accounts and changes refer to people by
// Miro user id; the store resolves account ids inside the transaction.
type Diff struct {
	// Organization is upserted when not nil.
	Organization *roster.Organization
	// Teams are upserted (new or renamed) and marked covered by the
	// connection; RemovedTeams are no longer covered by it.
	Teams        []roster.Team
	RemovedTeams []string
	// Accounts with ID 0 are inserted; others have every field updated.
	Accounts []roster.Account
	// Seen are people the connection now sees and did not; Unseen are
	// people it saw and no longer does.
	Seen   []string
	Unseen []string
	// Memberships are upserted; RemovedMemberships deleted.
	Memberships        []roster.Membership
	RemovedMemberships []roster.Membership
	// Changes are inserted; AccountID is resolved from MiroUserID.
	Changes []roster.Change
}

// Empty reports whether d changes nothing.
func (d Diff) Empty() bool {
	return d.Organization == nil && len(d.Teams) == 0 && len(d.RemovedTeams) == 0 &&
		len(d.Accounts) == 0 && len(d.Seen) == 0 && len(d.Unseen) == 0 &&
		len(d.Memberships) == 0 && len(d.RemovedMemberships) == 0 && len(d.Changes) == 0
}

// AccountFilter selects accounts. Zero fields do not filter.
type AccountFilter struct {
	ConnectionID int64  // seen by this connection
	License      string // exact license value
	OrgRole      string // exact org role value
	MiroTeamID   string // member of this team
	// InactiveSince keeps accounts whose last activity is before it, or
	// who never were active.
	InactiveSince time.Time
	IncludeLeft   bool
	Limit         int // 0: no limit
	Offset        int
}

// ChangeFilter selects change rows. Zero fields do not filter.
type ChangeFilter struct {
	AccountID int64
	SyncRunID int64
	Limit     int
}
