package mirosim

// routes is every endpoint the simulator serves. Levels and scopes are
// taken from each operation's description in Miro's OpenAPI spec; the
// legacy v1 team endpoints and SCIM are not in the v2 spec and use the
// values noted beside them.
func (s *Sim) routes() []route {
	return []route{
		// OAuth (auth.go).
		{Pattern: "GET /oauth/authorize", OperationID: "oauth-authorize", Access: accessPublic, Handle: s.handleAuthorizePage},
		{Pattern: "POST /oauth/authorize", OperationID: "oauth-authorize-approve", Access: accessPublic, Handle: s.handleAuthorizeApprove},
		{Pattern: "POST /v1/oauth/token", OperationID: "oauth-token", Access: accessPublic, Handle: s.handleToken},
		{Pattern: "POST /v2/oauth/revoke", OperationID: "revoke-token-v2", Access: accessPublic, Handle: s.handleRevoke},
		{Pattern: "GET /v1/oauth-token", OperationID: "token-info", Level: L1, Access: accessToken, Handle: s.handleTokenInfo},

		// Organization, members, teams, team members, settings (v2.go).
		{Pattern: "GET /v2/orgs/{org_id}", OperationID: "enterprise-get-organization", Level: L3, Scope: "organizations:read", Access: accessEnterprise, Handle: s.handleGetOrganization},
		{Pattern: "GET /v2/orgs/{org_id}/members", OperationID: "enterprise-get-organization-members", Level: L3, Scope: "organizations:read", Access: accessEnterprise, Handle: s.handleListOrgMembers},
		{Pattern: "GET /v2/orgs/{org_id}/members/{member_id}", OperationID: "enterprise-get-organization-member", Level: L3, Scope: "organizations:read", Access: accessEnterprise, Handle: s.handleGetOrgMember},
		{Pattern: "GET /v2/orgs/{org_id}/teams", OperationID: "enterprise-get-teams", Level: L1, Scope: "organizations:teams:read", Access: accessEnterprise, Handle: s.handleListTeams},
		{Pattern: "GET /v2/orgs/{org_id}/teams/{team_id}", OperationID: "enterprise-get-team", Level: L1, Scope: "organizations:teams:read", Access: accessEnterprise, Handle: s.handleGetTeam},
		{Pattern: "GET /v2/orgs/{org_id}/teams/{team_id}/members", OperationID: "enterprise-get-team-members", Level: L2, Scope: "organizations:teams:read", Access: accessEnterprise, Handle: s.handleListTeamMembers},
		{Pattern: "GET /v2/orgs/{org_id}/teams/{team_id}/members/{member_id}", OperationID: "enterprise-get-team-member", Level: L1, Scope: "organizations:teams:read", Access: accessEnterprise, Handle: s.handleGetTeamMember},
		{Pattern: "POST /v2/orgs/{org_id}/teams/{team_id}/members", OperationID: "enterprise-invite-team-member", Level: L2, Scope: "organizations:teams:write", Access: accessEnterprise, Handle: s.handleInviteTeamMember},
		{Pattern: "PATCH /v2/orgs/{org_id}/teams/{team_id}/members/{member_id}", OperationID: "enterprise-update-team-member", Level: L2, Scope: "organizations:teams:write", Access: accessEnterprise, Handle: s.handleUpdateTeamMember},
		{Pattern: "DELETE /v2/orgs/{org_id}/teams/{team_id}/members/{member_id}", OperationID: "enterprise-delete-team-member", Level: L1, Scope: "organizations:teams:write", Access: accessEnterprise, Handle: s.handleDeleteTeamMember},
		{Pattern: "GET /v2/orgs/{org_id}/teams/{team_id}/settings", OperationID: "enterprise-get-team-settings", Level: L1, Scope: "organizations:teams:read", Access: accessEnterprise, Handle: s.handleGetTeamSettings},

		// Audit logs: the org comes from the token (v2.go).
		{Pattern: "GET /v2/audit/logs", OperationID: "enterprise-get-audit-logs", Level: L2, Scope: "auditlogs:read", Access: accessEnterprise, Handle: s.handleAuditLogs},
		// Sessions reset (v2.go).
		{Pattern: "POST /v2/sessions/reset_all", OperationID: "enterprise-post-user-sessions-reset", Level: L3, Scope: "sessions:delete", Access: accessEnterprise, Handle: s.handleResetSessions},

		// Boards, all plans (boards.go).
		{Pattern: "GET /v2/boards", OperationID: "get-boards", Level: L1, Scope: "boards:read", Access: accessToken, Handle: s.handleListBoards},

		// Legacy v1 team API (legacy.go). Not in the v2 spec; v1 used the
		// team:read / team:write scopes. Levels mirror the v2 equivalents.
		{Pattern: "GET /v1/teams/{team_id}/user-connections", OperationID: "legacy-get-team-user-connections", Level: L1, Scope: "team:read", Access: accessToken, Handle: s.handleLegacyListConnections},
		{Pattern: "POST /v1/teams/{team_id}/invite", OperationID: "legacy-invite-team-users", Level: L2, Scope: "team:write", Access: accessToken, Handle: s.handleLegacyInvite},
		{Pattern: "GET /v1/team-user-connections/{id}", OperationID: "legacy-get-team-user-connection", Level: L1, Scope: "team:read", Access: accessToken, Handle: s.handleLegacyGetConnection},
		{Pattern: "PATCH /v1/team-user-connections/{id}", OperationID: "legacy-update-team-user-connection", Level: L2, Scope: "team:write", Access: accessToken, Handle: s.handleLegacyUpdateConnection},
		{Pattern: "DELETE /v1/team-user-connections/{id}", OperationID: "legacy-delete-team-user-connection", Level: L1, Scope: "team:write", Access: accessToken, Handle: s.handleLegacyDeleteConnection},

		// SCIM 2.0, under Miro's SCIM base /api/v1/scim, with its own token
		// and its own per-30-second limits (scim.go).
		{Pattern: "GET /api/v1/scim/Users", OperationID: "listUsers", Access: accessSCIM, Handle: s.handleSCIMListUsers},
		{Pattern: "GET /api/v1/scim/Users/{id}", OperationID: "getUser", Access: accessSCIM, Handle: s.handleSCIMGetUser},
		{Pattern: "PUT /api/v1/scim/Users/{id}", OperationID: "replaceUser", Access: accessSCIM, Handle: s.handleSCIMReplaceUser},
		{Pattern: "PATCH /api/v1/scim/Users/{id}", OperationID: "patchUser", Access: accessSCIM, Handle: s.handleSCIMPatchUser},
		{Pattern: "DELETE /api/v1/scim/Users/{id}", OperationID: "deleteUser", Access: accessSCIM, Handle: s.handleSCIMDeleteUser},
	}
}
