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
	// one transaction. It adds the people it marks left (see
	// Diff.Unseen) to run.Removed, and sets run's fields as recorded. An
	// empty Diff writes no account, membership or change rows. Every
	// successful run also writes its day's license points (see
	// LicenseDays), counting as active the accounts active within the 60
	// days before the run's end; a run that moved seats recomputes its
	// organization's chargeback by team.
	ApplySync(ctx context.Context, run *roster.SyncRun, d Diff) error

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
	// SaveSyncProgress records where a running run stands (with its
	// pages, calls and credits so far); ErrConflict once it has ended,
	// whose end keeps what it recorded.
	SaveSyncProgress(ctx context.Context, runID int64, p SyncProgress) error
	// SyncProgress reads what a run last recorded of its progress.
	SyncProgress(ctx context.Context, runID int64) (SyncProgress, error)
	// Changes lists change rows matching f, oldest first.
	Changes(ctx context.Context, f ChangeFilter) ([]roster.Change, error)

	Operators
	Audit
	Actions
	Insights
	Contracts
	Directory
	Workflows
	BulkRuns
	Notifications
	NotificationChannels
	History
}

// History is what happened to one person, for the user page's history
// (beside the changes syncs saw, Changes, and the workflow runs about
// them, Runs by email).
type History interface {
	// ActionsFor lists the actions on one person, newest first: those
	// naming miroUserID, and those naming email (an invite of someone not
	// yet known names only the email); either may be empty, not both
	// (ErrInvalid). limit 1..500; 0 means 50.
	ActionsFor(ctx context.Context, miroUserID, email string, limit int) ([]roster.Action, error)
	// PersonEventsFor lists one directory person's joined and left events
	// (see PersonEvents), newest first. limit 1..500; 0 means 50.
	PersonEventsFor(ctx context.Context, personID int64, limit int) ([]roster.PersonEvent, error)
}

// Operators are the people who log in to roster, their sessions and API
// keys, and the settings they choose.
type Operators interface {
	// CreateOperator inserts o (email lower-cased) and sets ID and
	// CreatedAt; ErrConflict when the email is taken.
	CreateOperator(ctx context.Context, o *roster.Operator) error
	// CreateFirstOperator creates o only when no operator exists yet, as
	// one atomic step, so that two first-run setups racing each other make
	// one admin; ErrConflict for the other.
	CreateFirstOperator(ctx context.Context, o *roster.Operator) error
	Operator(ctx context.Context, id int64) (roster.Operator, error)
	OperatorByEmail(ctx context.Context, email string) (roster.Operator, error)
	CountOperators(ctx context.Context) (int, error)
	// RecordLogin stores the outcome of a login attempt: failed logins
	// and lock-out, or a success (FailedLogins 0, LastLoginAt).
	RecordLogin(ctx context.Context, id int64, failedLogins int, lockedUntil, lastLoginAt time.Time) error

	CreateSession(ctx context.Context, s roster.Session) error
	// Session finds an unexpired session by token hash (ErrNotFound).
	Session(ctx context.Context, tokenHash []byte, now time.Time) (roster.Session, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error

	CreateAPIKey(ctx context.Context, k *roster.APIKey) error
	APIKeyByHash(ctx context.Context, hash []byte) (roster.APIKey, error)
	APIKeys(ctx context.Context) ([]roster.APIKey, error)
	DeleteAPIKey(ctx context.Context, id int64) error
	TouchAPIKey(ctx context.Context, id int64, at time.Time) error

	// Settings returns the stored settings, or roster.DefaultSettings().
	Settings(ctx context.Context) (roster.Settings, error)
	SaveSettings(ctx context.Context, s roster.Settings) error
}

// Audit is the audit log: every action and sync.
type Audit interface {
	// AppendAudit inserts e and sets its ID (and At when zero).
	AppendAudit(ctx context.Context, e *roster.AuditEntry) error
	// AuditEntries lists entries matching f, newest first.
	AuditEntries(ctx context.Context, f AuditFilter) ([]roster.AuditEntry, error)
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	Kind         string
	ConnectionID int64
	Target       string // exact
	// TargetContains and ActorContains match a case-insensitive part of
	// the target or the actor, for people searching the log by hand.
	TargetContains string
	ActorContains  string
	BeforeID       int64 // keyset paging: entries with a smaller id
	Limit          int   // 0: all
}

// Actions records actions on Miro so that each runs once per key.
type Actions interface {
	// StartAction inserts a (status pending) and sets ID and CreatedAt.
	// When an action with a.Key exists it returns true and fills a with
	// the stored action instead, changing nothing.
	StartAction(ctx context.Context, a *roster.Action) (existed bool, err error)
	// FinishAction, in one transaction, writes a's status, result, Miro
	// answer and FinishedAt, applies effect to the store (so the
	// dashboard shows the action at once; the next sync confirms it) and
	// appends audit.
	FinishAction(ctx context.Context, a roster.Action, effect ActionEffect, audit roster.AuditEntry) error
	ActionByKey(ctx context.Context, key string) (roster.Action, error)
	// ActionCounts counts the recorded actions by kind and status, every
	// process's (serve's, the CLI's, workflows'), for /metrics.
	ActionCounts(ctx context.Context) ([]ActionCount, error)
}

// ActionCount is how many recorded actions have one kind and status.
type ActionCount struct {
	Kind   roster.ActionKind
	Status roster.ActionStatus
	N      int
}

// ActionEffect is what a finished action changes in the store. Zero
// fields change nothing.
type ActionEffect struct {
	// Membership is upserted (invite, role change). An invite of a person
	// the store does not know yet also needs Account.
	Membership *roster.Membership
	Account    *roster.Account
	// RemoveMembership is deleted (remove from team).
	RemoveMembership *MembershipKey
	// AccountUpdate sets the Active flag and the License (when not empty)
	// of the known account with its MiroUserID (deactivate, reactivate);
	// an unknown account is no error.
	AccountUpdate *roster.Account
}

// Insights are the dashboard's queries.
type Insights interface {
	// Overview counts accounts, per organization and in total.
	Overview(ctx context.Context, q OverviewQuery) (roster.Overview, error)
	// LicenseDays are the daily license points of one organization (all
	// when orgID is ""), from since on, oldest first.
	LicenseDays(ctx context.Context, orgID string, since time.Time) ([]roster.LicenseDay, error)
	// Chargeback is what each team or department of one organization
	// holds, by license.
	Chargeback(ctx context.Context, q ChargebackQuery) ([]ChargebackRow, error)
	// TeamStats is one page of the teams list, by name, with each team's
	// members, admins, licensed and inactive counts; only the page's
	// teams are counted.
	TeamStats(ctx context.Context, q TeamStatsQuery) (TeamStatsPage, error)
	// ListAccounts is the users page: search, filters, sort and keyset
	// paging; it must stay fast at 100,000 accounts.
	ListAccounts(ctx context.Context, q AccountQuery) (AccountPage, error)
}

// Contracts are what each organization pays.
type Contracts interface {
	// Contract is the organization's saved contract, or
	// roster.DefaultContract from the settings when none is saved.
	Contract(ctx context.Context, orgID string) (roster.Contract, error)
	// Contracts are every saved contract.
	Contracts(ctx context.Context) ([]roster.Contract, error)
	// SaveContract checks (roster.Contract.Check) and saves c, and
	// records audit in the same transaction.
	SaveContract(ctx context.Context, c roster.Contract, audit roster.AuditEntry) error
	// MarkReminded records that the reminder for renewal was sent, and
	// reports false when another process already did (or the renewal
	// date changed meanwhile): exactly one reminder per renewal date.
	MarkReminded(ctx context.Context, orgID string, renewal time.Time) (bool, error)
	// ReleaseReminder undoes MarkReminded when the reminder could not be
	// sent, so that it is tried again.
	ReleaseReminder(ctx context.Context, orgID string, renewal time.Time) error
}

// Stamp is t as the store keeps it: UTC, to the millisecond (zero stays
// zero), so that a time handed back to a caller equals the one read back.
func Stamp(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// ErrInvalid marks a bad argument, such as a malformed cursor, a limit
// out of range, or a value a method refuses to store (an unknown role,
// scope or action kind, a negative price).
var ErrInvalid = errors.New("invalid")

// SyncProgress is where a running sync stands, as the process running it
// last recorded (at most about once a second), for pages in any process.
type SyncProgress struct {
	Phase                                               string // "" before the first page
	Pages, Members, Teams, TeamsDone, APICalls, Credits int
	// WaitingUntil is when the sync's wait for Miro's limits ends, zero
	// when it is not waiting; WaitReason says what it waits for.
	WaitingUntil time.Time
	WaitReason   string
	// EstimatedLeft is the time left, in whole seconds; 0 while unknown.
	EstimatedLeft time.Duration
	// At is when it was recorded; zero when the run recorded none.
	At time.Time
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
	// connection also saw when the snapshot was read (whether someone
	// left is decided later, by ApplySync; see Diff.Unseen).
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
	// people it saw and no longer does. Of Unseen, the store marks left
	// (LeftAt and LastSeenAt, and a left change) those no connection
	// sees any more. It decides that inside its transaction, not the
	// caller from a snapshot: two connections losing the same person at
	// once would each still see the other's sighting there.
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
	Org          string // of this Miro organization (roster.Account.OrgID)
	License      string // exact license value
	OrgRole      string // exact org role value
	MiroTeamID   string // member of this team
	// InactiveSince keeps accounts inactive by roster.Account.Inactive
	// with it as the cut-off.
	InactiveSince time.Time
	IncludeLeft   bool
	Limit         int // 0: no limit
	Offset        int
}

// ChangeFilter selects change rows. Zero fields do not filter.
type ChangeFilter struct {
	AccountID int64
	SyncRunID int64
	AfterID   int64 // keyset paging: changes with a larger id
	Limit     int
}

// Directory is who works here: people pushed by an identity provider
// (SCIM), imported from CSV or written through the API, and how they
// match Miro accounts.
type Directory interface {
	// UpsertPerson inserts p, or updates the person with p's email (all
	// fields but ID and CreatedAt), normalizing p first; it sets p's ID,
	// CreatedAt and UpdatedAt, and replaces the aliases with p.Aliases.
	// ErrInvalid when p does not validate; ErrConflict when one of its
	// emails is another person's email or alias.
	UpsertPerson(ctx context.Context, p *roster.Person) error
	// UpdatePerson writes every field of p but CreatedAt (the email may
	// change) and replaces its aliases. ErrNotFound, ErrInvalid,
	// ErrConflict as UpsertPerson.
	UpdatePerson(ctx context.Context, p *roster.Person) error
	PersonByID(ctx context.Context, id int64) (roster.Person, error)
	// PersonByEmail finds the person whose email or alias is email,
	// case-insensitively. ErrNotFound when none.
	PersonByEmail(ctx context.Context, email string) (roster.Person, error)
	// PersonByExternalID finds a person by the identity provider's id.
	PersonByExternalID(ctx context.Context, externalID string) (roster.Person, error)
	// People is one page of the directory, ordered by id.
	People(ctx context.Context, f PeopleFilter) (PeoplePage, error)
	// DeletePerson deletes a person and its aliases; ErrNotFound.
	DeletePerson(ctx context.Context, id int64) error
	// SetAliases replaces a person's aliases. ErrNotFound for an unknown
	// id, ErrConflict when an alias is another person's email or alias.
	SetAliases(ctx context.Context, id int64, aliases []string) error
	// PersonForAccount is the person a Miro account's email belongs to,
	// by email or alias, case-insensitively; ErrNotFound when none.
	PersonForAccount(ctx context.Context, email string) (roster.Person, error)
	// PeopleForAccounts is PersonForAccount for many emails at once: the
	// person of each email that matches one, by its lower-case email.
	PeopleForAccounts(ctx context.Context, emails []string) (map[string]roster.Person, error)
}

// PeopleFilter selects a page of people. Zero fields do not filter.
type PeopleFilter struct {
	Status roster.PersonStatus
	Search string // case-insensitive substring of email, name or department
	// Cursor continues after the previous page; opaque, ErrInvalid when
	// malformed.
	Cursor string
	Offset int // people skipped after the cursor (SCIM's startIndex)
	Limit  int // 1..1000; default 100
}

// PeoplePage is one page of people.
type PeoplePage struct {
	People     []roster.Person
	Total      int    // people matching Status and Search
	NextCursor string // "" on the last page
}

// Workflows keeps workflow definitions, their runs with timelines, and
// approvals, and the directory's joined and left events the triggers read.
type Workflows interface {
	// CreateWorkflow inserts w and sets ID, CreatedAt and UpdatedAt;
	// ErrConflict when the name is taken. The trigger cursor starts at the
	// current end of the directory events and changes, so a new workflow
	// does not fire for the past.
	CreateWorkflow(ctx context.Context, w *roster.Workflow) error
	// UpdateWorkflow writes every field of w but ID and CreatedAt and sets
	// UpdatedAt; ErrNotFound, ErrConflict (name). Runs already started keep
	// the definition they started with. The trigger restarts at the
	// current end (as CreateWorkflow's) when its kind changes or a
	// disabled workflow is enabled: enabling never fires for the past.
	UpdateWorkflow(ctx context.Context, w *roster.Workflow) error
	Workflow(ctx context.Context, id int64) (roster.Workflow, error)
	WorkflowByName(ctx context.Context, name string) (roster.Workflow, error)
	// Workflows lists every workflow by name.
	Workflows(ctx context.Context) ([]roster.Workflow, error)
	// DeleteWorkflow deletes a workflow; its runs stay (ErrNotFound).
	DeleteWorkflow(ctx context.Context, id int64) error
	// TriggerState is a workflow's trigger bookkeeping: the last directory
	// event or change id its trigger consumed, and a schedule's next time.
	TriggerState(ctx context.Context, workflowID int64) (cursor int64, nextFire time.Time, err error)
	SetTriggerState(ctx context.Context, workflowID int64, cursor int64, nextFire time.Time) error

	// StartRuns inserts runs (status running, position 0, generation 1),
	// skipping any whose workflow already has a run with its TriggerKey,
	// and returns those inserted, with ID, CreatedAt and UpdatedAt set, in
	// one transaction with an audit entry per run.
	StartRuns(ctx context.Context, runs []roster.WorkflowRun, actor string) ([]roster.WorkflowRun, error)
	Run(ctx context.Context, id int64) (roster.WorkflowRun, error)
	// Runs lists runs matching f, newest first.
	Runs(ctx context.Context, f RunFilter) (RunPage, error)
	// ClaimStep leases a live run's step at position and generation to
	// the caller until leaseUntil, when no unexpired lease holds it. ok is
	// false, with nothing changed, when the run ended, moved on, was
	// re-dispatched (another generation) or is leased.
	ClaimStep(ctx context.Context, runID int64, position, generation int, leaseUntil, now time.Time) (run roster.WorkflowRun, ok bool, err error)
	// RenewLease extends the lease of a run still at generation.
	RenewLease(ctx context.Context, runID int64, generation int, leaseUntil time.Time) (bool, error)
	// UpdateRun, in one transaction and only when the run is still at
	// generation (else ok false, nothing written), writes run's Status,
	// Position, Generation, LeaseUntil, Error, EndedAt and UpdatedAt,
	// upserts step (by run and step id) when not nil and appends audit
	// when not nil.
	UpdateRun(ctx context.Context, run roster.WorkflowRun, generation int, step *roster.RunStep, audit *roster.AuditEntry) (ok bool, err error)
	// RunSteps is a run's timeline, in the order the steps started.
	RunSteps(ctx context.Context, runID int64) ([]roster.RunStep, error)
	// StaleRuns are live runs whose lease expired before leaseBefore, or
	// which hold no lease and were last updated before idleBefore: their
	// job died or was never enqueued. Oldest first.
	StaleRuns(ctx context.Context, leaseBefore, idleBefore time.Time, limit int) ([]roster.WorkflowRun, error)
	// CancelRun ends a live run as cancelled with reason, bumping its
	// generation so its queued jobs do nothing, and audits it. ErrNotFound;
	// ErrConflict when the run already ended.
	CancelRun(ctx context.Context, id int64, reason string, audit roster.AuditEntry) (roster.WorkflowRun, error)

	// CreateApproval inserts a pending approval and sets ID and CreatedAt;
	// ErrConflict when the run's step already has one (which it fills a
	// with instead).
	CreateApproval(ctx context.Context, a *roster.Approval) error
	Approval(ctx context.Context, id int64) (roster.Approval, error)
	// ApprovalFor is the approval of a run's step (ErrNotFound).
	ApprovalFor(ctx context.Context, runID int64, stepID string) (roster.Approval, error)
	// DecideApproval records a pending approval's answer (approved,
	// denied or timed_out) and audits it; ErrConflict, with the stored
	// approval, when it was already decided.
	DecideApproval(ctx context.Context, id int64, status roster.ApprovalStatus, by string, at time.Time, audit roster.AuditEntry) (roster.Approval, error)
	// Approvals lists approvals, pending ones only when pendingOnly,
	// newest first.
	Approvals(ctx context.Context, pendingOnly bool, limit int) ([]roster.Approval, error)
	// CountWaitingApprovals counts the pending approvals whose run is
	// live (running or waiting): those someone can still answer, for the
	// navigation's badge on every page.
	CountWaitingApprovals(ctx context.Context) (int, error)

	// PersonEvents lists directory events after afterID, oldest first.
	// UpsertPerson, UpdatePerson and DeletePerson write them in their own
	// transaction: joined when a person is created active or comes back,
	// left when one turns left or is deleted while active.
	PersonEvents(ctx context.Context, afterID int64, limit int) ([]roster.PersonEvent, error)
}

// RunFilter selects runs. Zero fields do not filter.
type RunFilter struct {
	WorkflowID int64
	Status     roster.RunStatus
	Email      string // exact, lower-case
	BeforeID   int64  // keyset paging: runs with a smaller id
	Limit      int    // 1..500; default 50
}

// RunPage is one page of runs.
type RunPage struct {
	Runs       []roster.WorkflowRun
	Total      int   // runs matching the filter, all pages
	NextBefore int64 // BeforeID of the next page; 0 on the last
	// Counts are the matching runs by status, ignoring Status.
	Counts map[roster.RunStatus]int
}

// Notifications keeps every message sent or tried on any channel
// (roster.Notification): the outbox channel's only delivery, and the
// dashboard's Sent notifications page.
type Notifications interface {
	// RecordNotification records one attempt at sending n, keyed by
	// n.Key and n.Channel: the first inserts it (Attempts 1, CreatedAt),
	// a later one updates its content, status, error and RetryAt and
	// counts the attempt. It returns the stored record. ErrInvalid for a missing key
	// or channel, or an unknown status.
	RecordNotification(ctx context.Context, n roster.Notification) (roster.Notification, error)
	// Notification reads one record (ErrNotFound).
	Notification(ctx context.Context, id int64) (roster.Notification, error)
	// Notifications lists records newest first: those with an id below
	// beforeID when it is positive; limit 1..500.
	Notifications(ctx context.Context, beforeID int64, limit int) ([]roster.Notification, error)
	// DueNotifications lists failed records whose RetryAt has come by now
	// and which have had fewer than maxAttempts attempts, longest due
	// first; limit 1..500.
	DueNotifications(ctx context.Context, now time.Time, maxAttempts, limit int) ([]roster.Notification, error)
}

// NotificationChannels keeps the channels' settings saved in the
// dashboard, sealed by internal/notify (roster.ChannelSettings).
type NotificationChannels interface {
	// ChannelSettings lists every channel's saved settings.
	ChannelSettings(ctx context.Context) ([]roster.ChannelSettings, error)
	// SaveChannelSettings inserts or replaces one channel's settings
	// (UpdatedAt is the store's clock) and appends audit, in one
	// transaction. ErrInvalid for an unknown channel, no sealed settings
	// or no UpdatedBy.
	SaveChannelSettings(ctx context.Context, c roster.ChannelSettings, audit roster.AuditEntry) error
	// DeleteChannelSettings removes one channel's settings and appends
	// audit, in one transaction; ErrNotFound when none are saved.
	DeleteChannelSettings(ctx context.Context, channel string, audit roster.AuditEntry) error
}
