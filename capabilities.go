package roster

import (
	"cmp"
	"fmt"
	"strings"
)

// Scopes roster asks Miro for, by what they unlock.
const (
	ScopeOrgRead        = "organizations:read"        // org info, members, licenses, last activity
	ScopeOrgTeamsRead   = "organizations:teams:read"  // teams and team members across the org
	ScopeOrgTeamsWrite  = "organizations:teams:write" // invite, remove, change team role
	ScopeAuditLogsRead  = "auditlogs:read"            // sign-ins and board opens
	ScopeSessionsDelete = "sessions:delete"           // sign a user out everywhere
	ScopeTeamRead       = "team:read"                 // legacy v1 team members
	ScopeTeamWrite      = "team:write"                // legacy v1 invite, remove, change role
)

// Capability names, in the order Capabilities lists them.
const (
	CapSyncUsers  = "sync users and roles"
	CapExactLic   = "exact licenses"
	CapUsage      = "usage data"
	CapAuditUsage = "audit-log usage"
	CapManage     = "invite, remove and change role"
	CapDeactivate = "deactivate and reactivate users"
	CapSignOut    = "sign out of all sessions"
)

// Capability is one thing roster can or cannot do through a connection,
// with the reason in plain words, so that every screen can say why a
// button is missing rather than fail when it is pressed.
type Capability struct {
	Name      string
	Available bool
	// Reason says how the capability is served when available, and what is
	// missing when it is not.
	Reason string
}

// Capabilities derives what the connection allows from its level, scopes
// and the facts the connect check found. It calls nothing.
func (c Connection) Capabilities() []Capability {
	orgAPI, orgWhy := c.orgAPI()
	has := c.HasScope
	team := c.TeamName
	if team == "" {
		team = c.TeamID
	}
	// The organization API covers everything an organization-level
	// connection promises; without it a connection falls back to the
	// legacy v1 API of the one team it is installed on.
	orgRead := orgAPI && has(ScopeOrgRead) && has(ScopeOrgTeamsRead)
	legacyRead, legacyWrite := has(ScopeTeamRead), has(ScopeTeamWrite)

	var caps []Capability
	add := func(name string, ok bool, reason string) {
		caps = append(caps, Capability{Name: name, Available: ok, Reason: reason})
	}

	// Sync users and roles.
	switch {
	case c.Level == LevelOrganization && orgRead:
		add(CapSyncUsers, true, "every member and team of the organization")
	case orgRead: // a team-level connection reads its team through /v2/orgs
		add(CapSyncUsers, true, "members of team "+team+" through the organization API")
	case legacyRead:
		why := "members of team " + team + " only, through the legacy team API"
		if c.Level == LevelOrganization {
			why += ", because " + cmp.Or(orgWhy, missingScopes(c, ScopeOrgRead, ScopeOrgTeamsRead))
		}
		add(CapSyncUsers, true, why)
	case c.Level == LevelOrganization:
		add(CapSyncUsers, false, cmp.Or(orgWhy, missingScopes(c, ScopeOrgRead, ScopeOrgTeamsRead))+", and "+ScopeTeamRead+" is missing for the installed team")
	default:
		add(CapSyncUsers, false, ScopeTeamRead+" is missing, so the legacy team API cannot list members")
	}

	// Exact licenses and usage come from organization members.
	var orgMembersWhy string
	switch {
	case c.Level != LevelOrganization:
		orgMembersWhy = "a team-level connection infers licenses from team roles and sees no usage; connect at organization level"
	case !orgAPI:
		orgMembersWhy = orgWhy
	case !has(ScopeOrgRead):
		orgMembersWhy = missingScopes(c, ScopeOrgRead)
	}
	if orgMembersWhy == "" {
		add(CapExactLic, true, "from the organization's members")
		add(CapUsage, true, "last activity of every member")
	} else {
		add(CapExactLic, false, orgMembersWhy)
		add(CapUsage, false, orgMembersWhy)
	}
	switch {
	case orgMembersWhy != "":
		add(CapAuditUsage, false, orgMembersWhy)
	case !has(ScopeAuditLogsRead):
		add(CapAuditUsage, false, missingScopes(c, ScopeAuditLogsRead)+", so usage comes from last activity only")
	default:
		add(CapAuditUsage, true, "sign-ins and board opens from the audit log")
	}

	// Invite, remove and change role.
	switch {
	case orgAPI && has(ScopeOrgTeamsWrite) && c.Level == LevelOrganization:
		add(CapManage, true, "in every team of the organization")
	case orgAPI && has(ScopeOrgTeamsWrite):
		add(CapManage, true, "in team "+team+" through the organization API")
	case legacyWrite && !(c.Level == LevelOrganization && orgRead):
		add(CapManage, true, "in team "+team+" only, through the legacy team API")
	case c.Level == LevelOrganization && orgAPI:
		add(CapManage, false, missingScopes(c, ScopeOrgTeamsWrite)+", so actions are disabled")
	case c.Level == LevelOrganization:
		add(CapManage, false, orgWhy+", and "+ScopeTeamWrite+" is missing for the installed team")
	default:
		add(CapManage, false, ScopeTeamWrite+" is missing, so the legacy team API cannot change members")
	}

	// Deactivation goes through SCIM, with its own token.
	switch {
	case c.Level != LevelOrganization:
		add(CapDeactivate, false, "deactivation goes through SCIM, which needs an organization-level connection")
	case !c.Enterprise:
		add(CapDeactivate, false, "SCIM needs Miro Enterprise")
	case len(c.SealedSCIMToken) == 0:
		add(CapDeactivate, false, "no SCIM token; add one on the connection's page in the dashboard, or with roster connect --replace --scim-token")
	default:
		add(CapDeactivate, true, "through SCIM")
	}

	// Signing out goes through the organization API.
	switch {
	case !orgAPI:
		add(CapSignOut, false, orgWhy)
	case !has(ScopeSessionsDelete):
		add(CapSignOut, false, missingScopes(c, ScopeSessionsDelete))
	default:
		add(CapSignOut, true, "any member of the organization")
	}
	return caps
}

// orgAPI reports whether /v2/orgs answers this connection, and if not, why.
func (c Connection) orgAPI() (bool, string) {
	switch {
	case c.OrgID == "":
		return false, "the team belongs to no organization"
	case !c.Enterprise:
		return false, "the organization is not on Miro Enterprise"
	case !c.CompanyAdmin:
		return false, "the connecting user is not a Company Admin"
	}
	return true, ""
}

// missingScopes names the scopes of want that were not granted, as
// "granted scopes lack x and y"; "" when all were granted.
func missingScopes(c Connection, want ...string) string {
	var miss []string
	for _, s := range want {
		if !c.HasScope(s) {
			miss = append(miss, s)
		}
	}
	switch len(miss) {
	case 0:
		return ""
	case 1:
		return "granted scopes lack " + miss[0]
	}
	out := "granted scopes lack " + miss[0]
	for _, s := range miss[1 : len(miss)-1] {
		out += ", " + s
	}
	return out + " and " + miss[len(miss)-1]
}

// Usage notes recorded on sync runs that cannot read usage (SyncRun.UsageNote).
const (
	NoteNotCompanyAdmin = "the connecting user is not a Company Admin, so usage data and organization-wide data are unavailable"
	NoteNotEnterprise   = "the organization is not on Miro Enterprise, so usage data and organization-wide data are unavailable"
	NoteNoOrgID         = "the connection records no organization id, so usage data and organization-wide data are unavailable (reconnect it)"
	NoteTeamLevel       = "team-level connection: licenses are inferred from team roles and usage data is unavailable"
	NoteTeamV2          = "team-level connection: usage data is unavailable"
	NoteNoAuditScope    = "granted scopes lack auditlogs:read, so usage comes from lastActivityAt only"
)

// SyncPlan is how a connection is synced: the richest source it can read,
// decided from what connect recorded, before any call is made.
type SyncPlan struct {
	Source SyncSource
	Note   string // why usage or organization-wide data is missing, if it is
	Audit  bool   // enrich usage from audit logs
	Err    error  // no source works
}

// SyncPlan picks the source. An organization-level connection that cannot
// read the organization (not Enterprise, not a Company Admin, scopes
// missing) falls back to its installed team: /v2/orgs would only answer 403.
func (c Connection) SyncPlan() SyncPlan {
	orgAPI, _ := c.orgAPI()
	v2 := orgAPI && c.HasScope(ScopeOrgRead) && c.HasScope(ScopeOrgTeamsRead)
	var note string
	if c.Level == LevelOrganization {
		if v2 {
			p := SyncPlan{Source: SourceOrganization, Audit: c.HasScope(ScopeAuditLogsRead)}
			if !p.Audit {
				p.Note = NoteNoAuditScope
			}
			return p
		}
		switch {
		case !c.Enterprise:
			note = NoteNotEnterprise
		case !c.CompanyAdmin:
			note = NoteNotCompanyAdmin
		case c.OrgID == "":
			note = NoteNoOrgID
		default:
			note = missingScopes(c, ScopeOrgRead, ScopeOrgTeamsRead) + ", so usage data and organization-wide data are unavailable"
		}
	}
	if v2 {
		return SyncPlan{Source: SourceTeamV2, Note: cmp.Or(note, NoteTeamV2)}
	}
	if c.HasScope(ScopeTeamRead) {
		return SyncPlan{Source: SourceLegacyTeam, Note: cmp.Or(note, NoteTeamLevel)}
	}
	return SyncPlan{Err: fmt.Errorf("no way to read team %s: the token needs %s and %s as a Company Admin of an Enterprise organization, or %s; granted scopes: %s",
		c.TeamID, ScopeOrgRead, ScopeOrgTeamsRead, ScopeTeamRead, cmp.Or(strings.Join(c.Scopes, " "), "none"))}
}
