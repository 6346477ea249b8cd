package roster

import (
	"errors"
	"fmt"
	"time"
)

// This file holds the domain of operating roster: the people who log in to
// it, their sessions and API keys, settings, the audit log, actions on
// Miro, and the overview numbers.

// Role is what an operator may do in roster.
type Role string

// Operator roles.
const (
	RoleAdmin  Role = "admin"  // sees everything, acts, changes settings
	RoleViewer Role = "viewer" // sees everything, cannot act
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleViewer }

// Operator is a person who logs in to roster (not a Miro account).
type Operator struct {
	ID           int64
	Email        string // lower-case, unique
	PasswordHash string // bcrypt
	Role         Role
	// FailedLogins counts consecutive failures; LockedUntil is set when
	// they reach the lock-out threshold.
	FailedLogins int
	LockedUntil  time.Time
	CreatedAt    time.Time
	LastLoginAt  time.Time
}

// Session is a logged-in browser. Only the SHA-256 of its cookie token is
// stored, so a database leak gives no usable session.
type Session struct {
	TokenHash  []byte
	OperatorID int64
	CSRFToken  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// API key scopes.
const (
	ScopeRead = "read" // GET everything
	ScopeAct  = "act"  // run actions and syncs
	ScopeSCIM = "scim" // the SCIM server (/scim/v2): an identity provider's token
)

// APIKey authenticates a program to the JSON API. Only the SHA-256 of the
// key is stored; the key is shown once, at creation.
type APIKey struct {
	ID         int64
	Name       string
	Prefix     string // the key's first characters, to recognise it in lists
	Hash       []byte
	Scopes     []string // ScopeRead, ScopeAct
	CreatedBy  int64    // operator id
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// Settings are the admin's choices that shape insights and schedules.
type Settings struct {
	// InactivityDays is how long without activity makes a licensed user
	// inactive (default 60).
	InactivityDays int
	// LicensePrices is the monthly price of one seat per license value,
	// e.g. {"full": 16}. Licenses without a price cost nothing.
	LicensePrices map[string]float64
	Currency      string // e.g. "USD"
	// DefaultSyncInterval applies to new connections (default 24 h).
	DefaultSyncInterval time.Duration
}

// DefaultSettings are the settings of a new installation.
func DefaultSettings() Settings {
	return Settings{InactivityDays: 60, LicensePrices: map[string]float64{}, Currency: "USD", DefaultSyncInterval: 24 * time.Hour}
}

// AuditEntry is one line of the audit log: every action and sync, who,
// what, when, the result and Miro's answer.
type AuditEntry struct {
	ID int64
	At time.Time
	// Actor is "operator:<email>", "apikey:<name>", "workflow:<name>" or
	// "system" (the scheduler).
	Actor        string
	Kind         string // one of AuditKinds
	Action       string // e.g. "invite_to_team", "sync", "login_failed"
	Target       string // e.g. an email or "connection 3"
	ConnectionID int64  // 0 when none
	Result       string // "ok", "refused", "failed"
	Detail       string // plain words
	MiroAnswer   string // Miro's status, code and message, when Miro answered
}

// AuditKinds are the kinds of audit entry, which the audit log filters on.
var AuditKinds = []string{"action", "sync", "auth", "settings", "connection", "directory", "workflow"}

// ActionKind is an action roster runs on Miro.
type ActionKind string

// Action kinds.
const (
	ActionInvite     ActionKind = "invite_to_team"
	ActionRemove     ActionKind = "remove_from_team"
	ActionChangeRole ActionKind = "change_team_role"
	// Organization-wide actions.
	ActionDeactivate ActionKind = "deactivate_user"
	ActionReactivate ActionKind = "reactivate_user"
	ActionSignOut    ActionKind = "sign_out_all_sessions"
)

// ActionStatus is where an action stands.
type ActionStatus string

// Action statuses.
const (
	ActionPending   ActionStatus = "pending"   // started; Miro may or may not have acted
	ActionSucceeded ActionStatus = "succeeded" // done (or found already done)
	ActionRefused   ActionStatus = "refused"   // Miro or roster said no (last admin, not in org, ...)
	ActionFailed    ActionStatus = "failed"    // could not be done (network, 5xx after retries)
)

// Action is one action on Miro. Key makes it idempotent: running an action
// with a key already used returns the first run's outcome and does nothing.
type Action struct {
	ID           int64
	Key          string
	Kind         ActionKind
	ConnectionID int64
	MiroTeamID   string
	MiroUserID   string // empty for an invite of someone not yet known
	Email        string
	Role         string // team role for invite and change role
	Actor        string // as in AuditEntry
	Status       ActionStatus
	Result       string // plain words
	MiroAnswer   string
	CreatedAt    time.Time
	FinishedAt   time.Time
}

// MaxActionKeyLength bounds an idempotency key. Keys derived from one
// (remove from every team adds ":<team id>:service") stay within what the
// store keeps.
const MaxActionKeyLength = 200

// CheckActionKey says what is wrong with an action's idempotency key, or
// nil: it is required, so that a retry is safe, and at most
// MaxActionKeyLength bytes. Every entry point reaches this one rule.
func CheckActionKey(key string) error {
	switch {
	case key == "":
		return errors.New("is required: an idempotency key makes a retry safe")
	case len(key) > MaxActionKeyLength:
		return fmt.Errorf("must be at most %d characters", MaxActionKeyLength)
	}
	return nil
}

// Overview is the dashboard's headline numbers, computed by the store:
// Orgs per Miro organization, and the fields below summed over them.
// Only people and money add up across organizations; ratios and seats
// are per organization.
type Overview struct {
	Accounts     int // people not left
	Deactivated  int
	SeatsBought  int // full licenses purchased, over synced organizations
	FullAssigned int // active accounts holding a full license
	// FullActive and FullInactive hold a full license and are active or
	// inactive by Account.Inactive; FullUsageUnknown hold one but their
	// usage is unknown (team-level only), so they are neither.
	FullActive       int
	FullInactive     int
	FullUsageUnknown int
	// UsageUnknown are active accounts whose usage is unknown: seen only
	// through team-level connections, which report no activity.
	UsageUnknown int
	// NeverActive are not left, not deactivated, usage known, and never
	// logged in.
	NeverActive int
	Guests      int            // org role organization_team_guest_user
	External    int            // org role organization_external_user
	ByLicense   map[string]int // active accounts per license value
	Inferred    int            // accounts whose license is inferred
	Orgs        []OrgOverview  // by name
}

// OrgOverview is one Miro organization's counts. Accounts belong to the
// organization of Account.OrgID.
type OrgOverview struct {
	OrgID string
	Name  string
	// Exact is true when an organization-level connection covers the
	// organization: licenses and usage are Miro's own. Otherwise only
	// team-level connections see it, and licenses are inferred.
	Exact bool
	// SeatsFromMiro is the full licenses purchased, as Miro says; 0 when
	// Miro does not say.
	SeatsFromMiro int
	Accounts      int // not left
	Deactivated   int
	UsageUnknown  int // not deactivated, usage unknown
	NeverActive   int // not deactivated, usage known, never logged in
	Guests        int
	External      int
	Inferred      int
	Licenses      map[string]LicenseCount // of accounts not deactivated
}

// LicenseCount is how one license is held in one organization, by
// accounts not left and not deactivated.
type LicenseCount struct {
	Assigned int
	// Active and Inactive by Account.Inactive; UsageUnknown neither.
	Active, Inactive, UsageUnknown int
	// UsedThisMonth were active in the last 30 days: what a usage-billed
	// license (UsageBilled) is charged for.
	UsedThisMonth int
	// Leavers are held by people the directory says left.
	Leavers int
	// InactiveLeavers are the leavers also counted in Inactive.
	InactiveLeavers int
	// InactiveGuests are held by guests and external users counted in
	// Inactive, leavers aside: Miro's API cannot deactivate them, so a
	// reclaim leaves them to a review.
	InactiveGuests int
	// NotUsedThisMonth are active by the inactivity rule but not used in
	// the last 30 days.
	NotUsedThisMonth int
}

// Org returns the overview of one organization, and false when none has
// that id.
func (o Overview) Org(id string) (OrgOverview, bool) {
	for _, org := range o.Orgs {
		if org.OrgID == id {
			return org, true
		}
	}
	return OrgOverview{}, false
}

// LicenseDay is one organization's license on one day: the last sync of
// that day (UTC).
type LicenseDay struct {
	Day          time.Time // UTC midnight
	OrgID        string
	License      string
	Purchased    int // full licenses purchased, per Miro; 0 for others
	Assigned     int
	Active       int
	Inactive     int
	UsageUnknown int
}

// TeamStat is one team's counts.
type TeamStat struct {
	Team         Team
	Members      int
	Admins       int
	Licensed     int // members holding a full license
	Inactive     int // licensed members inactive past the cut-off
	ConnectionID int64
}
