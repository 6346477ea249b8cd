// Package connect checks what a freshly authorized Miro token can do at
// the level the admin asked for, and saves the connection. It speaks to
// Miro only through internal/miro and serves no HTTP itself: the OAuth
// dance (browser, loopback callback) belongs to its callers.
package connect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"roster"
	"roster/internal/miro"
)

// Report is what the connect check learned about a token: the facts a
// roster.Connection keeps, and in plain words what the chosen level
// cannot do with it.
type Report struct {
	Level         roster.Level
	OrgID         string
	OrgName       string
	TeamID        string
	TeamName      string
	InstallerID   string
	InstallerName string
	Scopes        []string
	// Enterprise and CompanyAdmin are known only when the organization
	// API was probed (always at organization level); false otherwise.
	Enterprise   bool
	CompanyAdmin bool
	// Plan and FullLicensesPurchased come from GET /v2/orgs/{org_id} when
	// it answered.
	Plan                  string
	FullLicensesPurchased int
	// Unusable is set when the level cannot work at all with this token
	// (the organization level for a non-Enterprise organization or a team
	// token); Service.Check then refuses it with an *UnusableError and
	// Save would too, so nothing is saved.
	Unusable string
	// Problems are unmet requirements of the level; Notes are smaller
	// things worth knowing.
	Problems []string
	Notes    []string
}

// Connection returns a new connection carrying the report's facts. The
// caller adds URLs and sealed tokens.
func (r Report) Connection() roster.Connection {
	c := roster.Connection{Level: r.Level, Status: roster.StatusActive}
	r.Apply(&c)
	return c
}

// Apply copies the report's facts onto c, leaving everything else alone.
func (r Report) Apply(c *roster.Connection) {
	c.Level = r.Level
	c.OrgID, c.OrgName = r.OrgID, r.OrgName
	c.TeamID, c.TeamName = r.TeamID, r.TeamName
	c.InstallerID, c.InstallerName = r.InstallerID, r.InstallerName
	c.Scopes = slices.Clone(r.Scopes)
	c.Enterprise, c.CompanyAdmin = r.Enterprise, r.CompanyAdmin
}

// ErrTokenRefused wraps Miro refusing the token itself (malformed, revoked
// or expired), as opposed to Miro being unreachable.
var ErrTokenRefused = errors.New("the token was refused by Miro")

// Inspect learns what client's token is bound to (GET /v1/oauth-token),
// probes the organization API once when it matters (GET /v2/orgs/{org_id},
// L3), and checks the requirements of level. Only a refused token or a
// failed call is an error; unmet requirements are Problems.
func Inspect(ctx context.Context, client *miro.Client, level roster.Level) (Report, error) {
	if !level.Valid() {
		return Report{}, fmt.Errorf("connect: level %q is neither %q nor %q", level, roster.LevelTeam, roster.LevelOrganization)
	}
	ti, err := client.TokenInfo(ctx)
	if err != nil {
		if refused(err) {
			return Report{}, fmt.Errorf("%w: %w", ErrTokenRefused, err)
		}
		return Report{}, fmt.Errorf("connect: read the token's context: %w", err)
	}
	r := Report{Level: level, Scopes: slices.Clone(ti.Scopes)}
	slices.Sort(r.Scopes)
	if ti.Organization != nil {
		r.OrgID, r.OrgName = string(ti.Organization.ID), ti.Organization.Name
	}
	if ti.Team != nil {
		r.TeamID, r.TeamName = string(ti.Team.ID), ti.Team.Name
	}
	// createdBy installed the app; user is who the token acts as. They are
	// the same for an OAuth install; prefer the installer.
	for _, u := range []*miro.NamedID{ti.CreatedBy, ti.User} {
		if u != nil && u.ID != "" {
			r.InstallerID, r.InstallerName = string(u.ID), u.Name
			break
		}
	}
	if r.TeamID == "" {
		return Report{}, fmt.Errorf("connect: Miro's token context names no team; the token cannot be used for a connection")
	}

	// The organization API answers the questions the token context does
	// not: is the org on Enterprise, and is the installer a Company Admin.
	// At team level it only matters when the token could use it.
	probe := r.OrgID != "" && (level == roster.LevelOrganization || ti.HasScope(roster.ScopeOrgRead))
	// What a refusal of the organization API said: Miro names the plan
	// when the organization is not on Enterprise; anything else
	// (a missing scope, an unknown reason) leaves the plan unknown.
	notEnterprise, orgRefused, scopeRefused := false, "", ""
	if probe {
		org, err := client.GetOrganization(ctx, r.OrgID)
		var ae *miro.APIError
		switch {
		case err == nil:
			r.Enterprise, r.CompanyAdmin = true, true
			r.Plan, r.FullLicensesPurchased = org.Plan.String(), org.FullLicensesPurchased
			if org.Name != "" {
				r.OrgName = org.Name
			}
		case errors.As(err, &ae) && miro.IsForbidden(err):
			msg := strings.ToLower(ae.Message)
			switch {
			case strings.Contains(msg, "enterprise"):
				notEnterprise = true
			case strings.Contains(msg, "company admin") || strings.Contains(msg, "admin"):
				r.Enterprise = true
			case strings.Contains(msg, "scope"):
				// A scope the token lacks; the level's checks name it.
				scopeRefused = ae.Message
			default:
				orgRefused = ae.Message
			}
		case refused(err):
			return Report{}, fmt.Errorf("%w: %w", ErrTokenRefused, err)
		default:
			return Report{}, fmt.Errorf("connect: probe the organization API: %w", err)
		}
	}

	if level == roster.LevelOrganization {
		r.checkOrganization(notEnterprise, cmp.Or(orgRefused, scopeRefused, "without saying why"))
	} else {
		if orgRefused != "" {
			r.problem("Miro refused the organization API: %s", orgRefused)
		}
		r.checkTeam(probe)
	}
	return r, nil
}

// refused reports whether Miro refused the token itself: token-info
// answers 400 for a bad token, other endpoints 401.
func refused(err error) bool {
	var ae *miro.APIError
	return miro.IsUnauthorized(err) || (errors.As(err, &ae) && ae.Status == 400)
}

func (r *Report) has(scope string) bool { return slices.Contains(r.Scopes, scope) }

func (r *Report) problem(format string, a ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
}

func (r *Report) note(format string, a ...any) { r.Notes = append(r.Notes, fmt.Sprintf(format, a...)) }

// checkOrganization checks DESIGN §1: the organization level needs the
// organization API (an Enterprise organization and a token granted its
// read scopes); without it the token is refused, so that a wrong first
// attempt never takes the organization's one connection. Then the write
// scope, a Company Admin for usage, and the optional scopes.
func (r *Report) checkOrganization(notEnterprise bool, orgRefused string) {
	switch {
	case r.OrgID == "":
		r.refuse("the team belongs to no Miro organization, so the organization level is unavailable; connect at team level")
		return
	case notEnterprise:
		// Enterprise scopes cannot be granted outside Enterprise, so
		// listing them would only confuse.
		r.refuse("the organization is not on Miro Enterprise, so the organization level is unavailable; connect at team level")
		return
	case orgReadMissing(r.Scopes) != "":
		r.refuse(teamTokenReason(r.TeamName, r.TeamID, r.Scopes))
		return
	case !r.Enterprise:
		r.refuse(fmt.Sprintf("Miro refused the organization API (%s), so the organization level cannot work with this token; connect at team level, or ask Miro why the organization API refuses it", orgRefused))
		return
	}
	if !r.has(roster.ScopeOrgTeamsWrite) {
		r.problem("granted scopes lack %s, so invite, remove and role changes are disabled", roster.ScopeOrgTeamsWrite)
	}
	if !r.CompanyAdmin {
		fallback := "roster will sync only the installed team"
		if !r.has(roster.ScopeTeamRead) {
			fallback = "and without " + roster.ScopeTeamRead + " roster cannot sync the installed team either"
		}
		r.problem("the connecting user is not a Company Admin, so usage data is unavailable (%s)", fallback)
	}
	if !r.has(roster.ScopeAuditLogsRead) {
		r.note("%s is not granted, so usage comes from last activity only, without sign-ins and board opens", roster.ScopeAuditLogsRead)
	}
	if !r.has(roster.ScopeSessionsDelete) {
		r.note("%s is not granted, so signing a user out of all sessions is disabled", roster.ScopeSessionsDelete)
	}
}

// checkTeam checks a team-level connection: it reads its team through the
// organization API when the token can, and the legacy v1 team API
// otherwise (API-NOTES §4).
func (r *Report) checkTeam(probed bool) {
	orgAPI := r.Enterprise && r.CompanyAdmin && r.has(roster.ScopeOrgRead) && r.has(roster.ScopeOrgTeamsRead)
	if !orgAPI && !r.has(roster.ScopeTeamRead) {
		r.problem("%s is missing, so the legacy team API cannot list members", roster.ScopeTeamRead)
	}
	if !(orgAPI && r.has(roster.ScopeOrgTeamsWrite)) && !r.has(roster.ScopeTeamWrite) {
		r.problem("%s is missing, so invite, remove and role changes are disabled", roster.ScopeTeamWrite)
	}
	r.note("at team level licenses are inferred from team roles and there is no usage data")
	if probed && orgAPI {
		r.note("the organization is on Miro Enterprise and the connecting user is a Company Admin: an organization-level connection would cover every team, with exact licenses and usage")
	}
}

// refuse marks the report unusable for reason: nothing may be saved.
func (r *Report) refuse(reason string) {
	r.Unusable = reason
	r.problem("%s", reason)
}

// orgReadMissing names the organization read scopes that scopes lacks,
// as "a and b"; "" when both were granted. Without them an
// organization-level connection cannot read the organization at all.
func orgReadMissing(scopes []string) string {
	return (&Report{Scopes: scopes}).missing(roster.ScopeOrgRead, roster.ScopeOrgTeamsRead)
}

// teamTokenReason says, in plain words, why a token granted only team
// scopes cannot serve the organization level: what the token is, what the
// level needs, and what to do instead.
func teamTokenReason(teamName, teamID string, scopes []string) string {
	team := teamID
	if teamName != "" {
		team = teamName + " (" + teamID + ")"
	}
	granted := "no scopes"
	if len(scopes) > 0 {
		granted = strings.Join(scopes, ", ")
	}
	return fmt.Sprintf("this is a team token: Miro granted it for team %s with %s, but without %s, "+
		"which the organization level needs to read the organization's members, licenses and teams. "+
		"Connect this token at team level instead, or authorize roster again at organization level as a Company Admin "+
		"of the Enterprise organization, granting the organization scopes",
		team, granted, orgReadMissing(scopes))
}

// missing lists the scopes of want that were not granted, as "a and b".
func (r *Report) missing(want ...string) string {
	var miss []string
	for _, s := range want {
		if !r.has(s) {
			miss = append(miss, s)
		}
	}
	switch len(miss) {
	case 0:
		return ""
	case 1:
		return miss[0]
	}
	return strings.Join(miss[:len(miss)-1], ", ") + " and " + miss[len(miss)-1]
}
