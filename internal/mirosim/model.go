package mirosim

import "time"

// The simulator's data model. Everything lives in one World guarded by
// Sim.mu; handlers take the read lock to serve and the write lock to change.
// Field names follow Miro's API so that the HTTP layer is a thin mapping.

// Org is a Miro organization. Only an Enterprise org serves /v2/orgs/...;
// a non-Enterprise org's teams are reachable through the legacy v1 team API.
type Org struct {
	ID                    string
	Name                  string
	Plan                  string // Organization.plan enum, e.g. "company", "business"
	Enterprise            bool
	FullLicensesPurchased int
	// DeactivatedLicense is the license a SCIM deactivation leaves behind:
	// "free" or "free_restricted", depending on the org's configuration.
	DeactivatedLicense string
	// memberIDs holds the org's user ids in ascending order, which is the
	// order of GET /v2/orgs/{org_id}/members (cursor = last id).
	memberIDs []string
	// teamIDs holds the org's team ids in ascending order.
	teamIDs []string
}

// AdminRole is an OrganizationMember.adminRoles entry.
type AdminRole struct {
	Type string // "prebuilt" or "custom"
	Name string
}

// User is an organization member (OrganizationMember) and, for internal
// users, also a SCIM User with the same id.
type User struct {
	ID         string
	OrgID      string
	Email      string // stored lower-case; lookups are case-insensitive
	GivenName  string
	FamilyName string
	Role       string // org role enum, e.g. "organization_internal_user"
	License    string // license enum, e.g. "full"
	Active     bool
	// LastActivityAt is zero when the user never logged in.
	LastActivityAt    time.Time
	LicenseAssignedAt time.Time
	AdminRoles        []AdminRole
	Department        string
	CreatedAt         time.Time
}

// Name is the display name.
func (u *User) Name() string { return u.GivenName + " " + u.FamilyName }

// IsCompanyAdmin reports whether the user is a Company Admin, the role that
// the /v2/orgs/... endpoints require.
func (u *User) IsCompanyAdmin() bool { return u.Role == "organization_internal_admin" }

// Team is a Miro team. members is keyed by user id; memberIDs keeps them in
// ascending id order for stable cursor paging.
type Team struct {
	ID        string
	OrgID     string
	Name      string
	CreatedAt time.Time
	members   map[string]*TeamMember
	memberIDs []string
}

// TeamMember is one user's membership of one team. ConnectionID is the id
// of the same membership in the legacy v1 API (team-user-connection).
type TeamMember struct {
	UserID       string
	TeamID       string
	ConnectionID string
	Role         string // "member", "admin" or "non_team"
	CreatedAt    time.Time
	CreatedBy    string
	ModifiedAt   time.Time
	ModifiedBy   string
}

// Board is a Miro board. A board in a team's trash is invisible to
// GET /v2/boards until it is restored.
type Board struct {
	ID           string
	Name         string
	TeamID       string
	ProjectID    string // empty when the board is in no project
	OwnerID      string
	CreatedByID  string
	CreatedAt    time.Time
	ModifiedAt   time.Time
	LastOpenedAt time.Time
	Trashed      bool
}

// Project is a Miro project (Space) inside a team.
type Project struct {
	ID      string
	Name    string
	TeamID  string
	OwnerID string
	Trashed bool
}

// AuditEvent is one entry of GET /v2/audit/logs.
type AuditEvent struct {
	ID         string
	OrgID      string
	Event      string // e.g. "sign_in_succeeded", "board_opened", "team_member_invited"
	Category   string // e.g. "authentication", "boards", "teams"
	CreatedAt  time.Time
	ActorType  string // "user", "application", "scim_provisioner", "miro_automation"
	ActorID    string
	TeamID     string
	ObjectID   string
	ObjectName string
	Details    map[string]any
}

// World is all the simulator's data.
type World struct {
	Orgs            map[string]*Org
	Users           map[string]*User
	usersByMail     map[string]*User // lower-case email -> user
	Teams           map[string]*Team
	connections     map[string]*TeamMember // legacy connection id -> membership
	Boards          map[string]*Board
	boardIDs        []string // creation order
	Projects        map[string]*Project
	Audit           []AuditEvent // ascending CreatedAt
	nextID          uint64       // source of new ids, see World.newID
	Known           KnownUsers
	EnterpriseOrgID string

	// boardsByTeam lists each team's boards in creation order. GET
	// /v2/boards walks it team by team (ascending team id), which keeps
	// offset paging stable without scanning every board of the org.
	boardsByTeam map[string][]*Board
	// userTeamIDs indexes Team.members by user: each user's team ids in
	// ascending order. addMembership and dropMembership keep it.
	userTeamIDs map[string][]string
}

// KnownUsers names the seeded users and teams that the simulator's ready
// installs use, so that every Config has the same four kinds of install.
type KnownUsers struct {
	// CompanyAdminID is an organization_internal_admin who is admin of
	// EnterpriseTeamID (the org-level Company Admin install).
	CompanyAdminID   string
	EnterpriseTeamID string
	// NonAdminID is an organization_internal_user who is admin of
	// NonAdminTeamID (the org-level non-admin install and the team-level
	// install).
	NonAdminID     string
	NonAdminTeamID string
	// NonEnterpriseOrgID, NonEnterpriseTeamID and NonEnterpriseAdminID are a
	// Business-plan org, its team and that team's admin.
	NonEnterpriseOrgID   string
	NonEnterpriseTeamID  string
	NonEnterpriseAdminID string
}
