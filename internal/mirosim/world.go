package mirosim

// This file is long because it is the simulated organization's one
// model (members, teams, memberships, boards) with the rules Miro
// enforces on it (last admin, roles, licenses).

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// World methods. Every method assumes the caller holds Sim.mu (the read
// lock for lookups, the write lock for mutations). Semantic refusals are
// returned as *apiError so that handlers can write them unchanged.

// idPrefix makes ids look like Miro's 19-digit numeric ids. The counter is
// zero-padded to a fixed width, so ascending string order is creation order.
const idPrefix = "3458764"

// Org roles, team roles and the licenses the API knows.
const (
	roleAdmin    = "organization_internal_admin"
	roleInternal = "organization_internal_user"
	roleExternal = "organization_external_user"
	roleGuest    = "organization_team_guest_user"

	teamRoleAdmin   = "admin"
	teamRoleMember  = "member"
	teamRoleNonTeam = "non_team"
)

var (
	orgRoles = []string{roleAdmin, roleInternal, roleExternal, roleGuest, "unknown"}
	licenses = []string{"advanced", "standard", "basic", "full", "occasional", "free", "free_restricted", "full_trial", "unknown"}
	// futureValue is the shape of an enum value Miro may add later. The
	// admin endpoints accept one for licenses and org roles, so that tests
	// can show a client keeps working when Miro's enums grow (such answers
	// are, by design, outside today's spec).
	futureValue = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
)

// checkEnum accepts a value of today's enum or a future one.
func checkEnum(field string, known []string, v string) error {
	if slices.Contains(known, v) || futureValue.MatchString(v) {
		return nil
	}
	return errBadRequest(fmt.Sprintf("%s: %q is not a valid value (one of %s, or a lower_snake_case future value)", field, v, strings.Join(known, ", ")))
}

func newWorld() *World {
	return &World{
		Orgs:        make(map[string]*Org),
		Users:       make(map[string]*User),
		usersByMail: make(map[string]*User),
		Teams:       make(map[string]*Team),
		connections: make(map[string]*TeamMember),
		Boards:      make(map[string]*Board),
		Projects:    make(map[string]*Project),

		boardsByTeam: make(map[string][]*Board),
		userTeamIDs:  make(map[string][]string),
	}
}

// newID returns the next Miro-like numeric id.
func (w *World) newID() string {
	w.nextID++
	return fmt.Sprintf("%s%012d", idPrefix, w.nextID)
}

// newBoardID returns the next Miro-like board id ("uXjV...=").
func (w *World) newBoardID() string {
	w.nextID++
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], w.nextID)
	// The low 6 bytes give 8 URL-safe base64 characters, like Miro's
	// 12-character ids; URL-safe so that ids never need escaping in paths.
	return "uXjV" + base64.RawURLEncoding.EncodeToString(b[2:]) + "="
}

// userByEmail finds a user by email, case-insensitively.
func (w *World) userByEmail(email string) *User {
	return w.usersByMail[strings.ToLower(strings.TrimSpace(email))]
}

// teamOf returns the team if it belongs to orgID.
func (w *World) teamOf(orgID, teamID string) (*Team, error) {
	t := w.Teams[teamID]
	if t == nil || t.OrgID != orgID {
		return nil, errNotFound(fmt.Sprintf("team %s not found", teamID))
	}
	return t, nil
}

// userTeams returns the teams the user belongs to, in ascending id order.
func (w *World) userTeams(u *User) []*Team {
	ids := w.userTeamIDs[u.ID]
	out := make([]*Team, 0, len(ids))
	for _, tid := range ids {
		if t := w.Teams[tid]; t != nil {
			out = append(out, t)
		}
	}
	return out
}

// addBoard stores a new board and indexes it.
func (w *World) addBoard(b *Board) {
	w.Boards[b.ID] = b
	w.boardIDs = append(w.boardIDs, b.ID)
	w.boardsByTeam[b.TeamID] = append(w.boardsByTeam[b.TeamID], b)
}

// insertSorted adds id to the ascending slice ids, keeping it sorted.
func insertSorted(ids []string, id string) []string {
	i, found := slices.BinarySearch(ids, id)
	if found {
		return ids
	}
	return slices.Insert(ids, i, id)
}

// removeSorted deletes id from the ascending slice ids.
func removeSorted(ids []string, id string) []string {
	i, found := slices.BinarySearch(ids, id)
	if !found {
		return ids
	}
	return slices.Delete(ids, i, i+1)
}

// addMembership puts u into t with role, without any checks.
func (w *World) addMembership(t *Team, u *User, role, actorID string, at time.Time) *TeamMember {
	m := &TeamMember{
		UserID:       u.ID,
		TeamID:       t.ID,
		ConnectionID: w.newID(),
		Role:         role,
		CreatedAt:    at,
		CreatedBy:    actorID,
		ModifiedAt:   at,
		ModifiedBy:   actorID,
	}
	t.members[u.ID] = m
	t.memberIDs = insertSorted(t.memberIDs, u.ID)
	w.userTeamIDs[u.ID] = insertSorted(w.userTeamIDs[u.ID], t.ID)
	w.connections[m.ConnectionID] = m
	return m
}

// dropMembership removes the membership without any checks.
func (w *World) dropMembership(t *Team, m *TeamMember) {
	delete(t.members, m.UserID)
	t.memberIDs = removeSorted(t.memberIDs, m.UserID)
	if ids := removeSorted(w.userTeamIDs[m.UserID], t.ID); len(ids) > 0 {
		w.userTeamIDs[m.UserID] = ids
	} else {
		delete(w.userTeamIDs, m.UserID)
	}
	delete(w.connections, m.ConnectionID)
}

// adminCount is the number of team admins.
func (t *Team) adminCount() int {
	n := 0
	for _, m := range t.members {
		if m.Role == teamRoleAdmin {
			n++
		}
	}
	return n
}

// oldestAdmin is the admin who has been in the team longest, skipping
// exceptID. Miro passes a removed member's boards to this admin.
func (t *Team) oldestAdmin(exceptID string) *TeamMember {
	var best *TeamMember
	for _, m := range t.members {
		if m.Role != teamRoleAdmin || m.UserID == exceptID {
			continue
		}
		if best == nil || m.CreatedAt.Before(best.CreatedAt) ||
			(m.CreatedAt.Equal(best.CreatedAt) && m.UserID < best.UserID) {
			best = m
		}
	}
	return best
}

// isLastAdmin reports whether m is the only admin of t.
func (t *Team) isLastAdmin(m *TeamMember) bool {
	return m.Role == teamRoleAdmin && t.adminCount() == 1
}

func errLastAdmin(t *Team) *apiError {
	return errConflict(fmt.Sprintf("cannot remove or demote the last admin of team %s", t.ID))
}

// record appends an audit event, keeping Audit sorted by CreatedAt.
func (w *World) record(ev AuditEvent) {
	if ev.ID == "" {
		ev.ID = w.newID()
	}
	if ev.ActorType == "" {
		ev.ActorType = "user"
	}
	n := len(w.Audit)
	if n == 0 || !ev.CreatedAt.Before(w.Audit[n-1].CreatedAt) {
		w.Audit = append(w.Audit, ev)
		return
	}
	i := sort.Search(n, func(i int) bool { return w.Audit[i].CreatedAt.After(ev.CreatedAt) })
	w.Audit = slices.Insert(w.Audit, i, ev)
}

// NewUser describes a user to add to an org (admin endpoints, tests).
type NewUser struct {
	Email, GivenName, FamilyName, Role, License string
	TeamIDs                                     []string
	TeamRole                                    string
}

// addUser creates a user in orgID and puts them in u.TeamIDs.
func (w *World) addUser(orgID string, nu NewUser, now time.Time) (*User, error) {
	org := w.Orgs[orgID]
	if org == nil {
		return nil, errNotFound(fmt.Sprintf("organization %s not found", orgID))
	}
	email := strings.ToLower(strings.TrimSpace(nu.Email))
	if email == "" || !strings.Contains(email, "@") {
		return nil, errBadRequest("email: a valid email is required")
	}
	if w.usersByMail[email] != nil {
		return nil, errConflict(fmt.Sprintf("user with email %s already exists", email))
	}
	role := cmp.Or(nu.Role, roleInternal)
	if err := checkEnum("role", orgRoles, role); err != nil {
		return nil, err
	}
	license := cmp.Or(nu.License, "full")
	if err := checkEnum("license", licenses, license); err != nil {
		return nil, err
	}
	teamRole := cmp.Or(nu.TeamRole, teamRoleMember)
	if teamRole != teamRoleMember && teamRole != teamRoleAdmin {
		return nil, errBadRequest("teamRole: must be member or admin")
	}
	var teams []*Team
	for _, tid := range nu.TeamIDs {
		t, err := w.teamOf(orgID, tid)
		if err != nil {
			return nil, err
		}
		teams = append(teams, t)
	}
	given, family := nu.GivenName, nu.FamilyName
	if given == "" && family == "" {
		given, _, _ = strings.Cut(email, "@")
	}
	u := &User{
		ID: w.newID(), OrgID: orgID, Email: email,
		GivenName: given, FamilyName: family,
		Role: role, License: license, Active: true,
		LicenseAssignedAt: now, CreatedAt: now,
	}
	w.Users[u.ID] = u
	w.usersByMail[email] = u
	org.memberIDs = insertSorted(org.memberIDs, u.ID)
	for _, t := range teams {
		r := teamRole
		if role == roleGuest {
			r = teamRoleNonTeam
		}
		w.addMembership(t, u, r, "", now)
	}
	w.record(AuditEvent{OrgID: orgID, Event: "user_created", Category: "users", CreatedAt: now,
		ActorType: "scim_provisioner", ObjectID: u.ID, ObjectName: u.Email})
	return u, nil
}

// removeUser deletes a user from their org entirely, as SCIM DELETE does:
// they leave every team and their boards and projects pass to the oldest
// admin of each team. The last admin of a team, the org's last Company
// Admin and guests are refused.
func (w *World) removeUser(id string, now time.Time) error {
	u := w.Users[id]
	if u == nil {
		return errNotFound(fmt.Sprintf("user %s not found", id))
	}
	if u.Role == roleGuest {
		return errConflict("guests cannot be deleted")
	}
	org := w.Orgs[u.OrgID]
	if u.IsCompanyAdmin() && u.Active && w.countCompanyAdmins(org) == 1 {
		return errConflict("cannot delete the last Company Admin of the organization")
	}
	teams := w.userTeams(u)
	for _, t := range teams {
		if t.isLastAdmin(t.members[id]) {
			return errLastAdmin(t)
		}
	}
	for _, t := range teams {
		w.reassignContent(t, id)
		w.dropMembership(t, t.members[id])
	}
	org.memberIDs = removeSorted(org.memberIDs, id)
	delete(w.Users, id)
	delete(w.usersByMail, u.Email)
	w.record(AuditEvent{OrgID: u.OrgID, Event: "user_deleted", Category: "users", CreatedAt: now,
		ActorType: "scim_provisioner", ObjectID: id, ObjectName: u.Email})
	return nil
}

// countCompanyAdmins counts the org's active Company Admins.
func (w *World) countCompanyAdmins(org *Org) int {
	n := 0
	for _, id := range org.memberIDs {
		if u := w.Users[id]; u != nil && u.IsCompanyAdmin() && u.Active {
			n++
		}
	}
	return n
}

// reassignContent gives userID's boards and projects in t to t's oldest
// other admin. It does nothing when there is no other admin.
func (w *World) reassignContent(t *Team, userID string) {
	heir := t.oldestAdmin(userID)
	if heir == nil {
		return
	}
	for _, b := range w.boardsByTeam[t.ID] {
		if b.OwnerID == userID {
			b.OwnerID = heir.UserID
		}
	}
	for _, p := range w.Projects {
		if p.TeamID == t.ID && p.OwnerID == userID {
			p.OwnerID = heir.UserID
		}
	}
}

// UserPatch changes a user; nil fields are left alone. It is a raw change
// (admin endpoints, tests): Active does not touch the license, unlike
// setActive.
type UserPatch struct {
	Role, License  *string
	Active         *bool
	LastActivityAt *time.Time
	// LicenseAssignedAt backdates the license's assignment, after a
	// License change (which sets it to now).
	LicenseAssignedAt            *time.Time
	Email, GivenName, FamilyName *string
}

// updateUser applies p to the user.
func (w *World) updateUser(id string, p UserPatch, now time.Time) (*User, error) {
	u := w.Users[id]
	if u == nil {
		return nil, errNotFound(fmt.Sprintf("user %s not found", id))
	}
	if p.Role != nil {
		if err := checkEnum("role", orgRoles, *p.Role); err != nil {
			return nil, err
		}
	}
	if p.License != nil {
		if err := checkEnum("license", licenses, *p.License); err != nil {
			return nil, err
		}
	}
	var email string
	if p.Email != nil {
		email = strings.ToLower(strings.TrimSpace(*p.Email))
		if email == "" || !strings.Contains(email, "@") {
			return nil, errBadRequest("email: a valid email is required")
		}
		if other := w.usersByMail[email]; other != nil && other != u {
			return nil, errConflict(fmt.Sprintf("user with email %s already exists", email))
		}
	}
	if p.Role != nil {
		u.Role = *p.Role
	}
	if p.License != nil && *p.License != u.License {
		u.License = *p.License
		u.LicenseAssignedAt = now
		w.record(AuditEvent{OrgID: u.OrgID, Event: "license_changed", Category: "users", CreatedAt: now,
			ObjectID: u.ID, ObjectName: u.Email, Details: map[string]any{"license": u.License}})
	}
	if p.LicenseAssignedAt != nil {
		u.LicenseAssignedAt = *p.LicenseAssignedAt
	}
	if p.Active != nil {
		u.Active = *p.Active
	}
	if p.LastActivityAt != nil {
		u.LastActivityAt = *p.LastActivityAt
	}
	if p.Email != nil && email != u.Email {
		delete(w.usersByMail, u.Email)
		u.Email = email
		w.usersByMail[email] = u
	}
	if p.GivenName != nil {
		u.GivenName = *p.GivenName
	}
	if p.FamilyName != nil {
		u.FamilyName = *p.FamilyName
	}
	return u, nil
}

func validTeamRole(role string) error {
	if role != teamRoleMember && role != teamRoleAdmin {
		return errBadRequest(fmt.Sprintf("role: must be %q or %q, got %q", teamRoleMember, teamRoleAdmin, role))
	}
	return nil
}

// inviteToTeam adds an existing org member to a team. Like Miro, it cannot
// bring people into the organization.
func (w *World) inviteToTeam(actorID, teamID, email, role string, now time.Time) (*TeamMember, error) {
	if err := validTeamRole(role); err != nil {
		return nil, err
	}
	t := w.Teams[teamID]
	if t == nil {
		return nil, errNotFound(fmt.Sprintf("team %s not found", teamID))
	}
	u := w.userByEmail(email)
	if u == nil || u.OrgID != t.OrgID {
		return nil, errNotFound(fmt.Sprintf("user %s is not a member of the organization", email))
	}
	if t.members[u.ID] != nil {
		return nil, errConflict(fmt.Sprintf("user %s is already a member of team %s", u.Email, t.ID))
	}
	if u.Role == roleGuest {
		role = teamRoleNonTeam // guests never get a full team role
	}
	m := w.addMembership(t, u, role, actorID, now)
	w.record(AuditEvent{OrgID: t.OrgID, Event: "team_member_invited", Category: "teams", CreatedAt: now,
		ActorID: actorID, TeamID: t.ID, ObjectID: u.ID, ObjectName: u.Email, Details: map[string]any{"role": role}})
	return m, nil
}

// setTeamRole changes a member's team role.
func (w *World) setTeamRole(actorID, teamID, userID, role string, now time.Time) (*TeamMember, error) {
	if err := validTeamRole(role); err != nil {
		return nil, err
	}
	t := w.Teams[teamID]
	if t == nil {
		return nil, errNotFound(fmt.Sprintf("team %s not found", teamID))
	}
	m := t.members[userID]
	if m == nil {
		return nil, errNotFound(fmt.Sprintf("user %s is not a member of team %s", userID, teamID))
	}
	if role == m.Role {
		return m, nil
	}
	if role != teamRoleAdmin && t.isLastAdmin(m) {
		return nil, errLastAdmin(t)
	}
	if w.Users[userID] != nil && w.Users[userID].Role == roleGuest {
		return nil, errBadRequest("role: guests cannot be given a team role")
	}
	m.Role, m.ModifiedAt, m.ModifiedBy = role, now, actorID
	w.record(AuditEvent{OrgID: t.OrgID, Event: "team_member_role_changed", Category: "teams", CreatedAt: now,
		ActorID: actorID, TeamID: t.ID, ObjectID: userID, Details: map[string]any{"role": role}})
	return m, nil
}

// removalAPI says which API removed a team member; Miro treats the
// member's boards differently for each.
type removalAPI int

const (
	// removeViaV2 (organization level) reassigns boards to the team's admin.
	removeViaV2 removalAPI = iota
	// removeViaLegacy (v1 team API) sends boards and projects to the trash.
	removeViaLegacy
)

// removeFromTeam takes a user out of a team; the user stays in the org.
func (w *World) removeFromTeam(actorID, teamID, userID string, via removalAPI, now time.Time) error {
	t := w.Teams[teamID]
	if t == nil {
		return errNotFound(fmt.Sprintf("team %s not found", teamID))
	}
	m := t.members[userID]
	if m == nil {
		return errNotFound(fmt.Sprintf("user %s is not a member of team %s", userID, teamID))
	}
	if t.isLastAdmin(m) {
		return errLastAdmin(t)
	}
	details := map[string]any{}
	switch via {
	case removeViaV2:
		w.reassignContent(t, userID)
		details["content"] = "reassigned"
	case removeViaLegacy:
		w.trashContent(t, userID)
		details["content"] = "trashed"
	}
	w.dropMembership(t, m)
	w.record(AuditEvent{OrgID: t.OrgID, Event: "team_member_removed", Category: "teams", CreatedAt: now,
		ActorID: actorID, TeamID: t.ID, ObjectID: userID, Details: details})
	return nil
}

// trashContent moves userID's boards and projects in t to t's trash. A
// trashed project takes its boards with it.
func (w *World) trashContent(t *Team, userID string) {
	trashedProjects := map[string]bool{}
	for _, p := range w.Projects {
		if p.TeamID == t.ID && p.OwnerID == userID && !p.Trashed {
			p.Trashed = true
			trashedProjects[p.ID] = true
		}
	}
	for _, b := range w.boardsByTeam[t.ID] {
		if b.OwnerID == userID || trashedProjects[b.ProjectID] {
			b.Trashed = true
		}
	}
}

// trash lists a team's trashed boards (creation order) and projects (id order).
func (w *World) trash(teamID string) ([]*Board, []*Project) {
	var boards []*Board
	for _, b := range w.boardsByTeam[teamID] {
		if b.Trashed {
			boards = append(boards, b)
		}
	}
	var projects []*Project
	for _, p := range w.Projects {
		if p.TeamID == teamID && p.Trashed {
			projects = append(projects, p)
		}
	}
	slices.SortFunc(projects, func(a, b *Project) int { return strings.Compare(a.ID, b.ID) })
	return boards, projects
}

// restoreFromTrash restores a trashed board, or a trashed project with its
// boards. The content keeps its owner even if they left the team, as a
// board restored from Miro's trash does.
func (w *World) restoreFromTrash(teamID, itemID string) error {
	if b := w.Boards[itemID]; b != nil && b.TeamID == teamID && b.Trashed {
		b.Trashed = false
		return nil
	}
	if p := w.Projects[itemID]; p != nil && p.TeamID == teamID && p.Trashed {
		p.Trashed = false
		for _, b := range w.boardsByTeam[teamID] {
			if b.ProjectID == p.ID {
				b.Trashed = false
			}
		}
		return nil
	}
	return errNotFound(fmt.Sprintf("item %s is not in the trash of team %s", itemID, teamID))
}

// setActive deactivates or reactivates a user with SCIM semantics:
// deactivation releases the license (the org's deactivated license);
// reactivation keeps that license until someone upgrades it.
func (w *World) setActive(userID string, active bool, now time.Time) error {
	u := w.Users[userID]
	if u == nil {
		return errNotFound(fmt.Sprintf("user %s not found", userID))
	}
	switch u.Role {
	case roleGuest:
		return errBadRequest("guests cannot be deactivated or reactivated")
	case roleExternal:
		return errBadRequest("external users cannot be deactivated or reactivated; only internal users of the organization can")
	}
	if u.Active == active {
		return nil
	}
	u.Active = active
	event := "user_activated"
	if !active {
		event = "user_deactivated"
		if org := w.Orgs[u.OrgID]; org != nil && u.License != org.DeactivatedLicense {
			u.License = org.DeactivatedLicense
			u.LicenseAssignedAt = now
		}
	}
	w.record(AuditEvent{OrgID: u.OrgID, Event: event, Category: "users", CreatedAt: now,
		ActorType: "scim_provisioner", ObjectID: u.ID, ObjectName: u.Email})
	return nil
}

// resetSessions signs a user out everywhere. The simulator keeps no
// sessions, so it only checks the user exists; the handler records the
// audit event because this method has no clock.
func (w *World) resetSessions(email string) error {
	if w.userByEmail(email) == nil {
		return errNotFound(fmt.Sprintf("user %s not found", email))
	}
	return nil
}
