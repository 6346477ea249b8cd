// Package roster holds roster's domain: connections to Miro, the accounts,
// teams and memberships a sync finds, the sync runs that found them and the
// changes they saw. Packages around it (store, sync, connect, web) work in
// these terms; this package imports nothing of ours and no I/O.
package roster

import (
	"slices"
	"strings"
	"time"
)

// Level is how a connection reaches Miro.
type Level string

// Connection levels.
const (
	// LevelTeam covers one Miro team; licenses are inferred, there is no usage.
	LevelTeam Level = "team"
	// LevelOrganization covers a whole Enterprise organization.
	LevelOrganization Level = "organization"
)

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return l == LevelTeam || l == LevelOrganization }

// ConnectionStatus is the health of a connection.
type ConnectionStatus string

// Connection statuses.
const (
	StatusActive       ConnectionStatus = "active"       // syncs run
	StatusError        ConnectionStatus = "error"        // the last sync failed; StatusMessage says why
	StatusDisconnected ConnectionStatus = "disconnected" // token revoked; history is kept
)

// Connection is one connection to Miro, at team or organization level.
type Connection struct {
	ID    int64
	Level Level
	// OrgID and OrgName come from GET /v1/oauth-token; OrgID may be empty
	// for a team outside any organization.
	OrgID    string
	OrgName  string
	TeamID   string // the team the app is installed on
	TeamName string
	// InstallerID and InstallerName are the user who installed the app.
	InstallerID   string
	InstallerName string
	Scopes        []string
	// Enterprise and CompanyAdmin are what the connect check found: the
	// org serves /v2/orgs, and the installer is a Company Admin there.
	Enterprise   bool
	CompanyAdmin bool
	// APIBaseURL and SCIMBaseURL point at Miro (or a simulator).
	APIBaseURL  string
	SCIMBaseURL string
	// SealedToken is the sealed (internal/secret) OAuth token pair;
	// SealedSCIMToken the sealed SCIM token, or nil.
	SealedToken     []byte
	SealedSCIMToken []byte
	Status          ConnectionStatus
	StatusMessage   string
	SyncInterval    time.Duration
	LastSyncAt      time.Time // zero before the first successful sync
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// HasScope reports whether the connection was granted scope.
func (c Connection) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// License values. Organization-level syncs store Miro's enum value as is
// (unknown values arrive as "unknown"); team-level syncs infer one of these.
const (
	LicenseFull    = "full"
	LicenseFree    = "free"
	LicenseUnknown = "unknown"
)

// Licenses are every license value Miro's organization API knows, in the
// order settings list their prices and filters offer them.
var Licenses = []string{LicenseFull, "full_trial", "occasional", "advanced", "standard", "basic", LicenseFree, "free_restricted", LicenseUnknown}

// Organization roles, Miro's enum (an unknown value arrives as "unknown").
const (
	OrgRoleInternalAdmin = "organization_internal_admin"
	OrgRoleInternalUser  = "organization_internal_user"
	OrgRoleExternalUser  = "organization_external_user"
	OrgRoleTeamGuest     = "organization_team_guest_user"
	OrgRoleUnknown       = "unknown"
)

// OrgRoles are the organization roles, in the order filters offer them.
var OrgRoles = []string{OrgRoleInternalAdmin, OrgRoleInternalUser, OrgRoleExternalUser, OrgRoleTeamGuest, OrgRoleUnknown}

// GuestOrExternal reports whether an organization role is a guest's or an
// external user's: people who hold no seat of their own, and whom Miro's
// SCIM API cannot deactivate.
func GuestOrExternal(orgRole string) bool {
	return orgRole == OrgRoleTeamGuest || orgRole == OrgRoleExternalUser
}

// Team roles, as memberships hold them.
const (
	TeamRoleMember  = "member"
	TeamRoleAdmin   = "admin"
	TeamRoleNonTeam = "non_team"
)

// TeamRoleName is a team role as Miro's own pages say it: "non-team
// member" for non_team (someone with access to a team's boards who is
// not in the team); an unknown value is shown with spaces.
func TeamRoleName(role string) string {
	switch role {
	case TeamRoleNonTeam:
		return "non-team member"
	case "team_guest":
		return "team guest"
	}
	return strings.ReplaceAll(role, "_", " ")
}

// AssignableTeamRoles are the team roles an action may set.
var AssignableTeamRoles = []string{TeamRoleMember, TeamRoleAdmin}

// Account is one person, however many connections see them. It is matched
// by Miro user id, then by email.
type Account struct {
	ID         int64
	MiroUserID string
	Email      string // lower-case; empty when no connection has told us
	Name       string
	// OrgID is the Miro organization whose data describes the account:
	// its organization-level connection's, else a team-level one's; empty
	// for a team outside any organization. Insights are per OrgID.
	OrgID      string
	OrgRole    string   // Miro org role enum value; empty at team level
	AdminRoles []string // e.g. "prebuilt:User Admin"
	License    string
	// LicenseExact is true when the license came from the organization
	// API, false when a team-level sync inferred it from the team role.
	LicenseExact      bool
	Active            bool
	LastActivityAt    time.Time // zero: never, or unknown at team level
	LicenseAssignedAt time.Time
	FirstSeenAt       time.Time
	// LastSeenAt is the last successful sync that saw the person.
	LastSeenAt time.Time
	// LeftAt is set when no connection sees the person any more; accounts
	// are never deleted.
	LeftAt time.Time
}

// UsageKnown is true when the organization API described the account:
// only it reports activity. An account seen only through team-level
// connections has unknown usage, and is never inactive.
func (a Account) UsageKnown() bool { return a.LicenseExact }

// ActivityAt is when inactivity is measured from: the later of the last
// activity and the license's assignment, or when roster first saw the
// account where Miro gives neither. So a license assigned today to
// someone who has not opened Miro yet is not inactive. The store's SQL
// (sqlstore's activityAt) is the same rule.
func (a Account) ActivityAt() time.Time {
	switch {
	case a.LastActivityAt.IsZero() && a.LicenseAssignedAt.IsZero():
		return a.FirstSeenAt
	case a.LicenseAssignedAt.After(a.LastActivityAt):
		return a.LicenseAssignedAt
	}
	return a.LastActivityAt
}

// Inactive reports whether the account's usage is known and its
// ActivityAt is before cutoff (see InactiveBefore). It is the one
// inactivity rule: the overview, the users filter, the CLI, the API and
// the inactive trigger all apply it.
func (a Account) Inactive(cutoff time.Time) bool {
	at := a.ActivityAt()
	return a.UsageKnown() && !at.IsZero() && at.Before(cutoff)
}

// InactiveBefore is the inactivity cut-off: days before now.
func InactiveBefore(now time.Time, days int) time.Time {
	return now.AddDate(0, 0, -days)
}

// LicenseLabel is the license as people read it, saying whether it is
// exact: "full", or "full (inferred)" when a team-level sync inferred it
// from the team role; "-" when there is none.
func (a Account) LicenseLabel() string {
	switch {
	case a.License == "":
		return "-"
	case a.LicenseExact:
		return a.License
	}
	return a.License + " (inferred)"
}

// Organization is a Miro organization as an organization-level sync saw it.
type Organization struct {
	MiroOrgID             string
	Name                  string
	Plan                  string
	FullLicensesPurchased int
}

// Team is a Miro team.
type Team struct {
	MiroTeamID string
	OrgID      string
	Name       string
}

// Membership is one account's role in one team.
type Membership struct {
	MiroUserID string
	MiroTeamID string
	Role       string // TeamRoleMember, TeamRoleAdmin, TeamRoleNonTeam
}

// SyncSource says which Miro API a sync read.
type SyncSource string

// Sync sources.
const (
	SourceOrganization SyncSource = "v2-organization" // /v2/orgs/... for the whole org
	SourceTeamV2       SyncSource = "v2-team"         // /v2/orgs/.../teams/{team}/members for one team
	SourceLegacyTeam   SyncSource = "v1-legacy-team"  // /v1/teams/{team}/user-connections
)

// SyncStatus is where a sync run stands.
type SyncStatus string

// Sync run statuses.
const (
	SyncRunning   SyncStatus = "running"
	SyncSucceeded SyncStatus = "succeeded"
	SyncFailed    SyncStatus = "failed"
)

// SyncRun is one sync of one connection.
type SyncRun struct {
	ID           int64
	ConnectionID int64
	Source       SyncSource
	Status       SyncStatus
	Error        string
	StartedAt    time.Time
	EndedAt      time.Time
	Pages        int // pages fetched
	APICalls     int
	Credits      int
	Added        int // accounts first seen by this run
	Changed      int // accounts with at least one change row
	Removed      int // accounts marked left
	// UsageNote says why usage data is missing, if it is (e.g. "the
	// connecting user is not a Company Admin").
	UsageNote string
}

// ChangeKind is what changed.
type ChangeKind string

// Change kinds. Each change row is one real change.
const (
	ChangeJoined          ChangeKind = "joined"
	ChangeLeft            ChangeKind = "left"
	ChangeRoleChanged     ChangeKind = "role_changed"
	ChangeLicenseChanged  ChangeKind = "license_changed"
	ChangeDeactivated     ChangeKind = "deactivated"
	ChangeReactivated     ChangeKind = "reactivated"
	ChangeTeamJoined      ChangeKind = "team_joined"
	ChangeTeamLeft        ChangeKind = "team_left"
	ChangeTeamRoleChanged ChangeKind = "team_role_changed"
	// Email and name as Miro returns them: actions look people up by
	// email, so a stale one would miss them.
	ChangeEmailChanged ChangeKind = "email_changed"
	ChangeNameChanged  ChangeKind = "name_changed"
)

// Change is one real change to one account, as one sync saw it.
type Change struct {
	ID         int64
	AccountID  int64
	MiroUserID string
	SyncRunID  int64
	Kind       ChangeKind
	MiroTeamID string // for team changes
	OldValue   string
	NewValue   string
	At         time.Time
}
