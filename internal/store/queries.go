package store

import (
	"fmt"
	"roster"
	"slices"
	"strings"
	"time"
)

// The dashboard's and the API's read queries (Insights): their
// parameters, the one rule that checks them, and their pages.

// OverviewQuery are the cut-offs an overview counts by.
type OverviewQuery struct {
	// InactiveBefore is the cut-off of roster.Account.Inactive; zero
	// makes no one active or inactive.
	InactiveBefore time.Time
	// UsedSince is the start of the last 30 days, for
	// LicenseCount.UsedThisMonth; zero counts none.
	UsedSince time.Time
}

// Chargeback groupings.
const (
	ChargebackByTeam       = "team"
	ChargebackByDepartment = "department"
)

// ChargebackQuery is one organization's chargeback.
type ChargebackQuery struct {
	OrgID string
	By    string // ChargebackByTeam or ChargebackByDepartment
}

// ChargebackRow is one team's or department's share. A person in several
// teams is split equally between them, so the teams add up to the
// organization; a department holds each person once.
type ChargebackRow struct {
	Key  string // the team's Miro id, or the department ("" for people the directory does not know)
	Name string
	// People counts the accounts (not left, not deactivated) in the row.
	People int
	// Shares are the license seats the row holds, by license: fractions
	// for teams.
	Shares map[string]float64
}

// TeamStatsQuery is a page of the teams list, ordered by name then team
// id (bytewise on both dialects).
type TeamStatsQuery struct {
	// InactiveBefore is the cut-off of roster.Account.Inactive.
	InactiveBefore time.Time
	Search         string // case-insensitive substring of the team name
	// Cursor continues after the last team of the previous page; it is
	// opaque to callers and ErrInvalid-wrapped when malformed.
	Cursor string
	Limit  int // 1..500; default 50
}

// TeamStatsPage is one page of team stats.
type TeamStatsPage struct {
	Teams      []roster.TeamStat
	Total      int    // teams matching Search, on every page
	NextCursor string // "" on the last page
}

// AccountQuery is a page of the users list. Zero fields do not filter.
type AccountQuery struct {
	// Search is a case-insensitive substring of the email, Miro's name or
	// the directory's name.
	Search string
	// Org is the Miro organization whose data describes the account
	// (roster.Account.OrgID), exactly.
	Org          string
	License      string
	OrgRole      string
	MiroTeamID   string
	ConnectionID int64
	// Activity: "inactive" (roster.Account.Inactive with ActiveSince as
	// the cut-off), "active" (usage known and not inactive; usage unknown
	// is neither), "never" (usage known and no recorded activity at all;
	// needs no ActiveSince), "unknown" (usage unknown: seen only through
	// team-level connections, which report no activity), "idle" (active,
	// but not in use since UsedSince: what an Occasional license would not
	// be billed for), or "" for any. It does not look at the active flag:
	// Status does.
	Activity    string
	ActiveSince time.Time
	UsedSince   time.Time
	// Directory: "left" (the directory says the person left: by email or
	// alias), "not_left" (every one else, the directory knowing them or
	// not), or "" for any.
	Directory string
	Guests    bool // only guests and external users
	// Members: only members (admins and members), not guests or external
	// users, whom Miro's API cannot deactivate. Not with Guests.
	Members bool
	// Status: "active" (the active flag on, not deactivated),
	// "deactivated" (the flag off), or "" for both.
	Status      string
	IncludeLeft bool
	// Sort is "email" (default), "name", "license" or "last_activity";
	// Desc reverses it.
	Sort string
	Desc bool
	// Cursor continues after the last row of the previous page; it is
	// opaque to callers and ErrInvalid-wrapped when malformed.
	Cursor string
	Limit  int // 1..1000; default 50
}

// The values an AccountQuery's Sort, Activity and Status take ("" aside).
var (
	AccountSorts       = []string{"email", "name", "license", "last_activity"}
	AccountActivities  = []string{"active", "inactive", "never", "unknown", "idle"}
	AccountDirectories = []string{"left", "not_left"}
	AccountStatuses    = []string{"active", "deactivated"}
)

// MaxSearchLength bounds a list's search text.
const MaxSearchLength = 200

// QueryError is a bad value of a list query, named as the dashboard's
// and the API's query parameter is (q, activity, status, sort).
type QueryError struct {
	Param  string
	Reason string // continues the name: "must be ..., got ..."
}

func (e *QueryError) Error() string        { return e.Param + " " + e.Reason }
func (e *QueryError) Is(target error) bool { return target == ErrInvalid }

// Check says what is wrong with the query's values, or nil: the one rule
// the users page, its CSV export, the API and the CLI reach. ListAccounts
// checks the cursor and the limit, which only it can read.
func (q AccountQuery) Check() error {
	bad := func(param, format string, args ...any) error {
		return &QueryError{Param: param, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case len(q.Search) > MaxSearchLength:
		return bad("q", "is longer than %d characters", MaxSearchLength)
	case q.Activity != "" && !slices.Contains(AccountActivities, q.Activity):
		return bad("activity", "must be %s, got %q", orList(AccountActivities), q.Activity)
	case q.Directory != "" && !slices.Contains(AccountDirectories, q.Directory):
		return bad("directory", "must be %s, got %q", orList(AccountDirectories), q.Directory)
	case q.Status != "" && !slices.Contains(AccountStatuses, q.Status):
		return bad("status", "must be %s, got %q", orList(AccountStatuses), q.Status)
	case q.Sort != "" && !slices.Contains(AccountSorts, q.Sort):
		return bad("sort", "must be %s, got %q", orList(AccountSorts), q.Sort)
	case q.Guests && q.Members:
		return bad("members", "and guests exclude each other: ask for one")
	}
	return nil
}

// orList is "a, b or c".
func orList(vs []string) string {
	if len(vs) < 2 {
		return strings.Join(vs, "")
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}

// AccountPage is one page of ListAccounts.
type AccountPage struct {
	Accounts []roster.Account
	// Total is the rows matching the query, all pages. A search counts
	// them up to SearchCountLimit: past it, Total is the limit and
	// TotalMore is set.
	Total      int
	TotalMore  bool
	NextCursor string // empty on the last page
}

// SearchCountLimit is how far a search's matches are counted. A search
// most accounts match (the company's domain, two letters) would otherwise
// read every row for its total; past this many, no one reads the number,
// and a bulk action takes no more (workflow.MaxBulkSelection).
const SearchCountLimit = 10_000
