package api

import (
	"time"

	"roster"
	"roster/internal/insights"
	"roster/internal/licenses"
)

// The API's JSON shapes. They are written out rather than tagging the
// domain types, so that the API is a stable contract (openapi.json) and
// nothing secret (a connection's sealed tokens) can leak by a new field.

// Time is a time in JSON: RFC 3339 in UTC, or null when zero.
func timeOf(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

type User struct {
	ID                int64      `json:"id"`
	MiroUserID        string     `json:"miro_user_id"`
	Email             string     `json:"email"`
	Name              string     `json:"name"`
	OrgRole           string     `json:"org_role"`
	AdminRoles        []string   `json:"admin_roles"`
	License           string     `json:"license"`
	LicenseExact      bool       `json:"license_exact"`
	Active            bool       `json:"active"`
	LastActivityAt    *time.Time `json:"last_activity_at"`
	LicenseAssignedAt *time.Time `json:"license_assigned_at"`
	FirstSeenAt       *time.Time `json:"first_seen_at"`
	LastSeenAt        *time.Time `json:"last_seen_at"`
	LeftAt            *time.Time `json:"left_at"`
}

func UserOf(a roster.Account) User {
	roles := a.AdminRoles
	if roles == nil {
		roles = []string{}
	}
	return User{
		ID: a.ID, MiroUserID: a.MiroUserID, Email: a.Email, Name: a.Name, OrgRole: a.OrgRole, AdminRoles: roles,
		License: a.License, LicenseExact: a.LicenseExact, Active: a.Active,
		LastActivityAt: timeOf(a.LastActivityAt), LicenseAssignedAt: timeOf(a.LicenseAssignedAt),
		FirstSeenAt: timeOf(a.FirstSeenAt), LastSeenAt: timeOf(a.LastSeenAt), LeftAt: timeOf(a.LeftAt),
	}
}

type Membership struct {
	TeamID   string `json:"team_id"`
	TeamName string `json:"team_name"`
	Role     string `json:"role"`
}

type UserDetail struct {
	User
	Memberships []Membership `json:"memberships"`
	Changes     []Change     `json:"changes"`
}

type Change struct {
	ID         int64     `json:"id"`
	AccountID  int64     `json:"account_id"`
	MiroUserID string    `json:"miro_user_id"`
	SyncRunID  int64     `json:"sync_run_id"`
	Kind       string    `json:"kind"`
	TeamID     string    `json:"team_id"`
	OldValue   string    `json:"old_value"`
	NewValue   string    `json:"new_value"`
	At         time.Time `json:"at"`
}

func ChangeOf(c roster.Change) Change {
	return Change{ID: c.ID, AccountID: c.AccountID, MiroUserID: c.MiroUserID, SyncRunID: c.SyncRunID,
		Kind: string(c.Kind), TeamID: c.MiroTeamID, OldValue: c.OldValue, NewValue: c.NewValue, At: c.At.UTC()}
}

type Team struct {
	TeamID       string `json:"team_id"`
	OrgID        string `json:"org_id"`
	Name         string `json:"name"`
	ConnectionID int64  `json:"connection_id"`
	Members      int    `json:"members"`
	Admins       int    `json:"admins"`
	Licensed     int    `json:"licensed"`
	Inactive     int    `json:"inactive"`
}

type Capability struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Reason    string `json:"reason"`
}

// Connection is a connection without its tokens or secrets.
type Connection struct {
	ID                  int64        `json:"id"`
	Level               string       `json:"level"`
	OrgID               string       `json:"org_id"`
	OrgName             string       `json:"org_name"`
	TeamID              string       `json:"team_id"`
	TeamName            string       `json:"team_name"`
	InstallerID         string       `json:"installer_id"`
	InstallerName       string       `json:"installer_name"`
	Scopes              []string     `json:"scopes"`
	Enterprise          bool         `json:"enterprise"`
	CompanyAdmin        bool         `json:"company_admin"`
	Status              string       `json:"status"`
	StatusMessage       string       `json:"status_message"`
	SyncIntervalSeconds int64        `json:"sync_interval_seconds"`
	LastSyncAt          *time.Time   `json:"last_sync_at"`
	CreatedAt           *time.Time   `json:"created_at"`
	Capabilities        []Capability `json:"capabilities"`
}

func ConnectionOf(c roster.Connection) Connection {
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	out := Connection{
		ID: c.ID, Level: string(c.Level), OrgID: c.OrgID, OrgName: c.OrgName, TeamID: c.TeamID, TeamName: c.TeamName,
		InstallerID: c.InstallerID, InstallerName: c.InstallerName, Scopes: scopes,
		Enterprise: c.Enterprise, CompanyAdmin: c.CompanyAdmin, Status: string(c.Status), StatusMessage: c.StatusMessage,
		SyncIntervalSeconds: int64(c.SyncInterval / time.Second), LastSyncAt: timeOf(c.LastSyncAt), CreatedAt: timeOf(c.CreatedAt),
		Capabilities: []Capability{},
	}
	for _, cp := range c.Capabilities() {
		out.Capabilities = append(out.Capabilities, Capability{Name: cp.Name, Available: cp.Available, Reason: cp.Reason})
	}
	return out
}

type SyncRun struct {
	ID           int64      `json:"id"`
	ConnectionID int64      `json:"connection_id"`
	Source       string     `json:"source"`
	Status       string     `json:"status"`
	Error        string     `json:"error"`
	StartedAt    *time.Time `json:"started_at"`
	EndedAt      *time.Time `json:"ended_at"`
	Pages        int        `json:"pages"`
	APICalls     int        `json:"api_calls"`
	Credits      int        `json:"credits"`
	Added        int        `json:"added"`
	Changed      int        `json:"changed"`
	Removed      int        `json:"removed"`
	UsageNote    string     `json:"usage_note"`
}

func SyncRunOf(r roster.SyncRun) SyncRun {
	return SyncRun{ID: r.ID, ConnectionID: r.ConnectionID, Source: string(r.Source), Status: string(r.Status), Error: r.Error,
		StartedAt: timeOf(r.StartedAt), EndedAt: timeOf(r.EndedAt), Pages: r.Pages, APICalls: r.APICalls, Credits: r.Credits,
		Added: r.Added, Changed: r.Changed, Removed: r.Removed, UsageNote: r.UsageNote}
}

type AuditEntry struct {
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	Actor        string    `json:"actor"`
	Kind         string    `json:"kind"`
	Action       string    `json:"action"`
	Target       string    `json:"target"`
	ConnectionID int64     `json:"connection_id"`
	Result       string    `json:"result"`
	Detail       string    `json:"detail"`
	MiroAnswer   string    `json:"miro_answer"`
}

func AuditEntryOf(e roster.AuditEntry) AuditEntry {
	return AuditEntry{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Kind: e.Kind, Action: e.Action, Target: e.Target,
		ConnectionID: e.ConnectionID, Result: e.Result, Detail: e.Detail, MiroAnswer: e.MiroAnswer}
}

type Action struct {
	ID             int64      `json:"id"`
	IdempotencyKey string     `json:"idempotency_key"`
	Kind           string     `json:"kind"`
	ConnectionID   int64      `json:"connection_id"`
	TeamID         string     `json:"team_id"`
	UserID         string     `json:"user_id"`
	Email          string     `json:"email"`
	Role           string     `json:"role"`
	Actor          string     `json:"actor"`
	Status         string     `json:"status"`
	Result         string     `json:"result"`
	MiroAnswer     string     `json:"miro_answer"`
	CreatedAt      *time.Time `json:"created_at"`
	FinishedAt     *time.Time `json:"finished_at"`
}

func ActionOf(a roster.Action) Action {
	return Action{ID: a.ID, IdempotencyKey: a.Key, Kind: string(a.Kind), ConnectionID: a.ConnectionID,
		TeamID: a.MiroTeamID, UserID: a.MiroUserID, Email: a.Email, Role: a.Role, Actor: a.Actor,
		Status: string(a.Status), Result: a.Result, MiroAnswer: a.MiroAnswer,
		CreatedAt: timeOf(a.CreatedAt), FinishedAt: timeOf(a.FinishedAt)}
}

// Overview is the overview: the totals that add up across organizations
// (people, seats; money when the organizations share a currency), and
// each organization's numbers.
type Overview struct {
	Accounts         int            `json:"accounts"`
	Deactivated      int            `json:"deactivated"`
	SeatsPurchased   int            `json:"seats_purchased"`
	FullAssigned     int            `json:"full_assigned"`
	FullActive       int            `json:"full_active"`
	FullInactive     int            `json:"full_inactive"`
	FullUsageUnknown int            `json:"full_usage_unknown"`
	UsageUnknown     int            `json:"usage_unknown"`
	NeverActive      int            `json:"never_active"`
	Guests           int            `json:"guests"`
	External         int            `json:"external"`
	Inferred         int            `json:"inferred"`
	ByLicense        map[string]int `json:"by_license"`
	// MonthlyCost and Savings are null when the organizations' currencies
	// differ.
	MonthlyCost    *float64      `json:"monthly_cost"`
	Savings        *Savings      `json:"savings"`
	Currency       string        `json:"currency"`
	Priced         bool          `json:"priced"`
	InactivityDays int           `json:"inactivity_days"`
	InactiveBefore time.Time     `json:"inactive_before"`
	Organizations  []OrgOverview `json:"organizations"`
}

// Savings is the month's waste in three kinds that do not overlap.
type Savings struct {
	Total           float64 `json:"total"`
	UnassignedSeats int     `json:"unassigned_seats"`
	Unassigned      float64 `json:"unassigned"`
	InactiveSeats   int     `json:"inactive_seats"`
	Inactive        float64 `json:"inactive"`
	LeaverSeats     int     `json:"leaver_seats"`
	Leavers         float64 `json:"leavers"`
}

// OrgOverview is one Miro organization's numbers under its contract.
type OrgOverview struct {
	OrgID           string           `json:"org_id"`
	Name            string           `json:"name"`
	Exact           bool             `json:"exact"`
	Accounts        int              `json:"accounts"`
	Deactivated     int              `json:"deactivated"`
	UsageUnknown    int              `json:"usage_unknown"`
	NeverActive     int              `json:"never_active"`
	Guests          int              `json:"guests"`
	External        int              `json:"external"`
	Inferred        int              `json:"inferred"`
	Currency        string           `json:"currency"`
	Priced          bool             `json:"priced"`
	MonthlyCost     float64          `json:"monthly_cost"`
	Utilisation     float64          `json:"utilisation"`
	Savings         Savings          `json:"savings"`
	RenewalOn       *string          `json:"renewal_on"`
	Licenses        []LicenseLine    `json:"licenses"`
	Recommendations []Recommendation `json:"recommendations"`
}

// LicenseLine is one license of one organization.
type LicenseLine struct {
	License       string  `json:"license"`
	Name          string  `json:"name"`
	Purchased     int     `json:"purchased"`
	FromMiro      bool    `json:"purchased_from_miro"`
	Assigned      int     `json:"assigned"`
	Active        int     `json:"active"`
	Inactive      int     `json:"inactive"`
	UsageUnknown  int     `json:"usage_unknown"`
	Leavers       int     `json:"leavers"`
	Unassigned    int     `json:"unassigned"`
	UsageBilled   bool    `json:"usage_billed"`
	UsedThisMonth int     `json:"used_this_month"`
	MonthlyPrice  float64 `json:"monthly_price"`
	MonthlyCost   float64 `json:"monthly_cost"`
	Utilisation   float64 `json:"utilisation"`
}

// Recommendation is one thing to do about the waste.
type Recommendation struct {
	Kind    string            `json:"kind"`
	Title   string            `json:"title"`
	Detail  string            `json:"detail"`
	Count   int               `json:"count"`
	Monthly float64           `json:"monthly_savings"`
	Filter  map[string]string `json:"users_filter"`
	Action  string            `json:"action"`
}

func savingsOf(s insights.Savings) Savings {
	return Savings{Total: s.Total(), UnassignedSeats: s.UnassignedSeats, Unassigned: s.Unassigned,
		InactiveSeats: s.InactiveSeats, Inactive: s.Inactive, LeaverSeats: s.LeaverSeats, Leavers: s.Leavers}
}

// OrgOverviewOf is one organization's wire form.
func OrgOverviewOf(os insights.OrgSummary) OrgOverview {
	o := os.Org
	out := OrgOverview{OrgID: o.OrgID, Name: o.Name, Exact: o.Exact, Accounts: o.Accounts, Deactivated: o.Deactivated,
		UsageUnknown: o.UsageUnknown, NeverActive: o.NeverActive, Guests: o.Guests, External: o.External,
		Inferred: o.Inferred, Currency: os.Contract.Currency, Priced: os.Priced, MonthlyCost: os.MonthlyCost,
		Utilisation: os.Utilisation, Savings: savingsOf(os.Savings),
		Licenses: []LicenseLine{}, Recommendations: []Recommendation{}}
	if !os.Contract.RenewalOn.IsZero() {
		d := os.Contract.RenewalOn.Format(time.DateOnly)
		out.RenewalOn = &d
	}
	for _, l := range os.Licenses {
		out.Licenses = append(out.Licenses, LicenseLine{License: l.License, Name: l.Name, Purchased: l.Purchased,
			FromMiro: l.FromMiro, Assigned: l.Assigned, Active: l.Active, Inactive: l.Inactive,
			UsageUnknown: l.UsageUnknown, Leavers: l.Leavers, Unassigned: l.Unassigned, UsageBilled: l.UsageBilled,
			UsedThisMonth: l.UsedThisMonth, MonthlyPrice: l.MonthlyPrice, MonthlyCost: l.MonthlyCost, Utilisation: l.Utilisation})
	}
	for _, r := range os.Recommendations {
		out.Recommendations = append(out.Recommendations, Recommendation{Kind: r.Kind, Title: r.Title, Detail: r.Detail,
			Count: r.Count, Monthly: r.Monthly, Filter: r.Filter, Action: r.Action})
	}
	return out
}

// OverviewOf is the overview's wire form.
func OverviewOf(r licenses.Report) Overview {
	o, sum := r.Overview, r.Summary
	by := o.ByLicense
	if by == nil {
		by = map[string]int{}
	}
	out := Overview{
		Accounts: o.Accounts, Deactivated: o.Deactivated, SeatsPurchased: o.SeatsBought, FullAssigned: o.FullAssigned,
		FullActive: o.FullActive, FullInactive: o.FullInactive, FullUsageUnknown: o.FullUsageUnknown, UsageUnknown: o.UsageUnknown,
		NeverActive: o.NeverActive, Guests: o.Guests,
		External: o.External, Inferred: o.Inferred, ByLicense: by,
		Currency: sum.Currency, Priced: sum.Priced, InactivityDays: r.Settings.InactivityDays,
		InactiveBefore: sum.InactiveBefore.UTC(), Organizations: []OrgOverview{},
	}
	if !sum.Mixed {
		cost, savings := sum.MonthlyCost, savingsOf(sum.Savings)
		out.MonthlyCost, out.Savings = &cost, &savings
	}
	for _, os := range sum.Orgs {
		out.Organizations = append(out.Organizations, OrgOverviewOf(os))
	}
	return out
}

// List is a page of a list: data, and the cursor of the next page
// (absent on the last). Total is set where the store counts it;
// TotalIsLowerBound where it stopped counting (a search's matches are
// counted up to 10,000, store.SearchCountLimit).
type List[T any] struct {
	Data              []T    `json:"data"`
	Total             *int   `json:"total,omitempty"`
	TotalIsLowerBound bool   `json:"total_is_lower_bound,omitempty"`
	NextCursor        string `json:"next_cursor,omitempty"`
}

// One is a single object.
type One[T any] struct {
	Data T `json:"data"`
}
