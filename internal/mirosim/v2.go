package mirosim

// This file is long because it is the v2 REST surface roster uses, one
// handler per operation of Miro's spec, kept together so that the
// contract test and a reader see it whole.

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// v2 organization, member, team, team member, settings, audit and session
// handlers. Middleware has already checked the token, scope, Company Admin
// role and that {org_id} is the token's org.

// Time formats: the API's RFC 3339 with milliseconds and Z, and the audit
// log's colon-less offset, which Miro's own example uses.
const (
	apiTime   = "2006-01-02T15:04:05.000Z07:00"
	auditTime = "2006-01-02T15:04:05.000-0700"
)

// auditMaxLimit is our cap on GET /v2/audit/logs?limit; Miro states none.
const auditMaxLimit = 500

func fmtTime(t time.Time) string { return t.UTC().Format(apiTime) }

// optTime is nil for the zero time, so that omitempty drops it.
func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := fmtTime(t)
	return &s
}

// queryInt reads an integer query parameter in [lo, hi], or def if absent.
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errBadRequest(fmt.Sprintf("%s: must be an integer from %d to %d, got %q", name, lo, hi, v))
	}
	return n, nil
}

// Opaque cursors are the base64 of the last id on the previous page.
// encodeCursor makes the opaque cursor for the page after id; no id, no
// cursor (the last page).
func encodeCursor(id string) string {
	if id == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 {
		return "", errBadRequest(fmt.Sprintf("cursor: invalid cursor %q", c))
	}
	return string(b), nil
}

func decodeBody(r *http.Request, v any) error {
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(v); err != nil {
		return errBadRequest(fmt.Sprintf("invalid JSON body: %v", err))
	}
	return nil
}

// ---- organization ----

type orgJSON struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	Plan                  string `json:"plan"`
	FullLicensesPurchased int    `json:"fullLicensesPurchased"`
	Type                  string `json:"type"`
}

func (s *Sim) handleGetOrganization(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	org := s.w.Orgs[r.PathValue("org_id")]
	if org == nil {
		writeError(w, errNotFound("organization not found"))
		return
	}
	writeJSON(w, http.StatusOK, orgJSON{org.ID, org.Name, org.Plan, org.FullLicensesPurchased, "organization"})
}

// ---- organization members ----

type adminRoleJSON struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

type memberJSON struct {
	ID                string          `json:"id"`
	Email             string          `json:"email"`
	Role              string          `json:"role"`
	License           string          `json:"license"`
	Active            bool            `json:"active"`
	LastActivityAt    *string         `json:"lastActivityAt,omitempty"`
	LicenseAssignedAt *string         `json:"licenseAssignedAt,omitempty"`
	AdminRoles        []adminRoleJSON `json:"adminRoles,omitempty"`
	Type              string          `json:"type"`
}

func toMember(u *User) memberJSON {
	m := memberJSON{
		ID: u.ID, Email: u.Email, Role: u.Role, License: u.License, Active: u.Active,
		LastActivityAt: optTime(u.LastActivityAt), LicenseAssignedAt: optTime(u.LicenseAssignedAt),
		Type: "organization-member",
	}
	for _, a := range u.AdminRoles {
		m.AdminRoles = append(m.AdminRoles, adminRoleJSON(a))
	}
	return m
}

type membersPage struct {
	Limit  int          `json:"limit"`
	Size   int          `json:"size"`
	Data   []memberJSON `json:"data"`
	Cursor string       `json:"cursor,omitempty"`
	Type   string       `json:"type"`
}

func (s *Sim) handleListOrgMembers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.RLock()
	defer s.mu.RUnlock()
	org := s.w.Orgs[r.PathValue("org_id")]
	if org == nil {
		writeError(w, errNotFound("organization not found"))
		return
	}
	if q.Has("emails") {
		s.searchMembersByEmail(w, org, q.Get("emails"))
		return
	}
	limit, err := queryInt(r, "limit", 100, 1, 100)
	if err != nil {
		writeError(w, err)
		return
	}
	role, license := q.Get("role"), q.Get("license")
	if role != "" && !slices.Contains(orgRoles, role) {
		writeError(w, errBadRequest(fmt.Sprintf("role: unknown organization role %q", role)))
		return
	}
	if license != "" && !slices.Contains(licenses, license) {
		writeError(w, errBadRequest(fmt.Sprintf("license: unknown license %q", license)))
		return
	}
	var active *bool
	if v := q.Get("active"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, errBadRequest(fmt.Sprintf("active: must be true or false, got %q", v)))
			return
		}
		active = &b
	}
	start := 0
	if c := q.Get("cursor"); c != "" {
		// The cursor is the last member id of the previous page.
		if !isDigits(c) {
			writeError(w, errBadRequest(fmt.Sprintf("cursor: invalid cursor %q", c)))
			return
		}
		start = sort.SearchStrings(org.memberIDs, c)
		if start < len(org.memberIDs) && org.memberIDs[start] == c {
			start++
		}
	}
	data, last := cursorPage(org.memberIDs[start:], limit, func(id string) (memberJSON, bool) {
		u := s.w.Users[id]
		if u == nil || (role != "" && u.Role != role) || (license != "" && u.License != license) ||
			(active != nil && u.Active != *active) {
			return memberJSON{}, false
		}
		return toMember(u), true
	})
	// The org-members cursor is the plain last id, not an opaque token.
	writeJSON(w, http.StatusOK, membersPage{Limit: limit, Size: len(data), Data: data, Cursor: last, Type: "cursor-list"})
}

// searchMembersByEmail answers the emails filter with a bare array, as
// Miro does, ignoring every other filter.
func (s *Sim) searchMembersByEmail(w http.ResponseWriter, org *Org, emails string) {
	var list []string
	for _, e := range strings.Split(emails, ",") {
		if e = strings.TrimSpace(e); e != "" {
			list = append(list, e)
		}
	}
	if len(list) == 0 || len(list) > 10 {
		writeError(w, errBadRequest(fmt.Sprintf("emails: give 1 to 10 comma-separated emails, got %d", len(list))))
		return
	}
	out := []memberJSON{}
	for _, e := range list {
		if u := s.w.userByEmail(e); u != nil && u.OrgID == org.ID {
			out = append(out, toMember(u))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) handleGetOrgMember(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.w.Users[r.PathValue("member_id")]
	if u == nil || u.OrgID != r.PathValue("org_id") {
		writeError(w, errNotFound(fmt.Sprintf("member %s not found", r.PathValue("member_id"))))
		return
	}
	writeJSON(w, http.StatusOK, toMember(u))
}

// ---- teams ----

type teamJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

func toTeam(t *Team) teamJSON { return teamJSON{t.ID, t.Name, "team"} }

type teamsPage struct {
	Limit  int        `json:"limit"`
	Size   int        `json:"size"`
	Data   []teamJSON `json:"data"`
	Cursor string     `json:"cursor,omitempty"`
	Type   string     `json:"type"`
}

// cursorPage collects up to limit items from ids (ascending, starting
// after the previous page) that keep accepts. last is the id of the page's
// last item when more accepted items follow it, and empty on the last page,
// so that a client stops without fetching an empty page.
func cursorPage[T any](ids []string, limit int, keep func(id string) (T, bool)) (items []T, last string) {
	items = []T{}
	lastID := ""
	for _, id := range ids {
		item, ok := keep(id)
		if !ok {
			continue
		}
		if len(items) == limit {
			return items, lastID
		}
		items = append(items, item)
		lastID = id
	}
	return items, ""
}

// pageStart is where a page starts in ascending ids, given an opaque
// cursor holding the last id of the previous page.
func pageStart(ids []string, cursor string) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	last, err := decodeCursor(cursor)
	if err != nil {
		return 0, err
	}
	i := sort.SearchStrings(ids, last)
	if i < len(ids) && ids[i] == last {
		i++
	}
	return i, nil
}

func (s *Sim) handleListTeams(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 100, 1, 100)
	if err != nil {
		writeError(w, err)
		return
	}
	name := strings.ToLower(r.URL.Query().Get("name"))
	s.mu.RLock()
	defer s.mu.RUnlock()
	org := s.w.Orgs[r.PathValue("org_id")]
	if org == nil {
		writeError(w, errNotFound("organization not found"))
		return
	}
	start, err := pageStart(org.teamIDs, r.URL.Query().Get("cursor"))
	if err != nil {
		writeError(w, err)
		return
	}
	data, last := cursorPage(org.teamIDs[start:], limit, func(id string) (teamJSON, bool) {
		t := s.w.Teams[id]
		if t == nil || (name != "" && !strings.Contains(strings.ToLower(t.Name), name)) {
			return teamJSON{}, false
		}
		return toTeam(t), true
	})
	writeJSON(w, http.StatusOK, teamsPage{Limit: limit, Size: len(data), Data: data, Cursor: encodeCursor(last), Type: "cursor-list"})
}

// teamFromPath is the {team_id} of the request, which must be in {org_id}.
func (s *Sim) teamFromPath(r *http.Request) (*Team, error) {
	return s.w.teamOf(r.PathValue("org_id"), r.PathValue("team_id"))
}

func (s *Sim) handleGetTeam(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.teamFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, toTeam(t))
}

// ---- team members ----

type teamMemberJSON struct {
	ID         string  `json:"id"`
	TeamID     string  `json:"teamId"`
	Role       string  `json:"role"`
	CreatedAt  *string `json:"createdAt,omitempty"`
	CreatedBy  string  `json:"createdBy,omitempty"`
	ModifiedAt *string `json:"modifiedAt,omitempty"`
	ModifiedBy string  `json:"modifiedBy,omitempty"`
	Type       string  `json:"type"`
}

func toTeamMember(m *TeamMember) teamMemberJSON {
	return teamMemberJSON{
		ID: m.UserID, TeamID: m.TeamID, Role: m.Role,
		CreatedAt: optTime(m.CreatedAt), CreatedBy: m.CreatedBy,
		ModifiedAt: optTime(m.ModifiedAt), ModifiedBy: m.ModifiedBy,
		Type: "team-member",
	}
}

type teamMembersPage struct {
	Limit  int              `json:"limit"`
	Size   int              `json:"size"`
	Data   []teamMemberJSON `json:"data"`
	Cursor string           `json:"cursor,omitempty"`
	Type   string           `json:"type"`
}

func (s *Sim) handleListTeamMembers(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 100, 1, 100)
	if err != nil {
		writeError(w, err)
		return
	}
	role := r.URL.Query().Get("role")
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.teamFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	start, err := pageStart(t.memberIDs, r.URL.Query().Get("cursor"))
	if err != nil {
		writeError(w, err)
		return
	}
	data, last := cursorPage(t.memberIDs[start:], limit, func(id string) (teamMemberJSON, bool) {
		m := t.members[id]
		if role != "" && m.Role != role {
			return teamMemberJSON{}, false
		}
		return toTeamMember(m), true
	})
	writeJSON(w, http.StatusOK, teamMembersPage{Limit: limit, Size: len(data), Data: data, Cursor: encodeCursor(last), Type: "cursor-list"})
}

func (s *Sim) handleGetTeamMember(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.teamFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	m := t.members[r.PathValue("member_id")]
	if m == nil {
		writeError(w, errNotFound(fmt.Sprintf("member %s not found in team %s", r.PathValue("member_id"), t.ID)))
		return
	}
	writeJSON(w, http.StatusOK, toTeamMember(m))
}

func (s *Sim) handleInviteTeamMember(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, err)
		return
	}
	if strings.TrimSpace(body.Email) == "" {
		writeError(w, errBadRequest("email: is required"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.teamFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	m, err := s.w.inviteToTeam(actorID(r), t.ID, body.Email, cmp.Or(body.Role, teamRoleMember), s.now())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, toTeamMember(m))
}

// actorID is the user the request's token acts as, for audit and
// createdBy fields.
func actorID(r *http.Request) string {
	if g := grantFrom(r); g != nil {
		return g.UserID
	}
	return ""
}

func (s *Sim) handleUpdateTeamMember(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.teamFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	m, err := s.w.setTeamRole(actorID(r), t.ID, r.PathValue("member_id"), body.Role, s.now())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, toTeamMember(m))
}

func (s *Sim) handleDeleteTeamMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.teamFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.w.removeFromTeam(actorID(r), t.ID, r.PathValue("member_id"), removeViaV2, s.now()); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ---- team settings ----

func (s *Sim) handleGetTeamSettings(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.teamFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	// Miro's defaults for a new Enterprise team; the simulator has no
	// settings of its own to change.
	writeJSON(w, http.StatusOK, map[string]any{
		"organizationId":               t.OrgID,
		"teamId":                       t.ID,
		"teamAccountDiscoverySettings": map[string]any{"accountDiscovery": "request"},
		"teamCollaborationSettings":    map[string]any{"coOwnerRole": "enabled"},
		"teamCopyAccessLevelSettings":  map[string]any{"copyAccessLevel": "team_members", "copyAccessLevelLimitation": "anyone"},
		"teamInvitationSettings":       map[string]any{"inviteExternalUsers": "allowed", "whoCanInvite": "admins"},
		"teamSharingPolicySettings": map[string]any{
			"allowListedDomains":        []string{"example-corp.com"},
			"createAssetAccessLevel":    "all_members",
			"defaultBoardAccess":        "private",
			"defaultBoardSharingAccess": "team_members_with_editing_rights",
			"defaultOrganizationAccess": "private",
			"defaultProjectAccess":      "private",
			"moveBoardToAccount":        "allowed",
			"restrictAllowedDomains":    "disabled",
			"sharingOnAccount":          "allowed",
			"sharingOnOrganization":     "allowed",
			"sharingViaPublicLink":      "allowed",
		},
		"type": "team-settings",
	})
}

// ---- audit logs ----

type auditJSON struct {
	ID        string         `json:"id"`
	Context   auditContext   `json:"context"`
	Object    *auditObject   `json:"object,omitempty"`
	CreatedAt string         `json:"createdAt"`
	Details   map[string]any `json:"details,omitempty"`
	CreatedBy auditCreatedBy `json:"createdBy"`
	Event     string         `json:"event"`
	Category  string         `json:"category"`
}

type auditContext struct {
	IP           string       `json:"ip"`
	Team         *auditObject `json:"team,omitempty"`
	Organization auditObject  `json:"organization"`
}

type auditObject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type auditCreatedBy struct {
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

type auditPage struct {
	Type   string      `json:"type"`
	Limit  int         `json:"limit"`
	Size   int         `json:"size"`
	Cursor string      `json:"cursor,omitempty"`
	Data   []auditJSON `json:"data"`
}

func (s *Sim) toAudit(ev *AuditEvent) auditJSON {
	out := auditJSON{
		ID:        ev.ID,
		CreatedAt: ev.CreatedAt.UTC().Format(auditTime),
		Details:   ev.Details,
		CreatedBy: auditCreatedBy{Type: ev.ActorType, ID: ev.ActorID},
		Event:     ev.Event,
		Category:  ev.Category,
		Context:   auditContext{IP: "203.0.113.10", Organization: auditObject{ID: ev.OrgID}},
	}
	if org := s.w.Orgs[ev.OrgID]; org != nil {
		out.Context.Organization.Name = org.Name
	}
	if u := s.w.Users[ev.ActorID]; u != nil {
		out.CreatedBy.Name, out.CreatedBy.Email = u.Name(), u.Email
	}
	if ev.TeamID != "" {
		out.Context.Team = &auditObject{ID: ev.TeamID}
		if t := s.w.Teams[ev.TeamID]; t != nil {
			out.Context.Team.Name = t.Name
		}
	}
	if ev.ObjectID != "" {
		out.Object = &auditObject{ID: ev.ObjectID, Name: ev.ObjectName}
	}
	return out
}

// parseAuditTime reads createdAfter/createdBefore; Miro documents
// "2023-03-30T17:26:50.000Z", and we also take any RFC 3339 time.
func parseAuditTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, errBadRequest(fmt.Sprintf("%s: is required", name))
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errBadRequest(fmt.Sprintf("%s: must be a UTC date-time like 2023-03-30T17:26:50.000Z, got %q", name, v))
	}
	return t, nil
}

// handleAuditLogs serves the token's org's events with createdAfter <=
// createdAt <= createdBefore, within the last 90 days. The cursor is the
// opaque base64 of the next event's index in World.Audit, which only grows
// by appending, so it stays valid while the simulator runs.
func (s *Sim) handleAuditLogs(w http.ResponseWriter, r *http.Request) {
	after, err := parseAuditTime(r, "createdAfter")
	if err != nil {
		writeError(w, err)
		return
	}
	before, err := parseAuditTime(r, "createdBefore")
	if err != nil {
		writeError(w, err)
		return
	}
	if after.After(before) {
		writeError(w, errBadRequest("createdAfter: must not be later than createdBefore"))
		return
	}
	limit, err := queryInt(r, "limit", 100, 1, auditMaxLimit)
	if err != nil {
		writeError(w, err)
		return
	}
	desc := false
	switch v := r.URL.Query().Get("sorting"); v {
	case "", "ASC":
	case "DESC":
		desc = true
	default:
		writeError(w, errBadRequest(fmt.Sprintf("sorting: must be ASC or DESC, got %q", v)))
		return
	}
	g := grantFrom(r)
	if g == nil {
		writeError(w, errForbidden("no token"))
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if horizon := s.now().Add(-90 * day); after.Before(horizon) {
		after = horizon
	}
	ev := s.w.Audit
	lo := sort.Search(len(ev), func(i int) bool { return !ev[i].CreatedAt.Before(after) })
	hi := sort.Search(len(ev), func(i int) bool { return ev[i].CreatedAt.After(before) })
	i, step := lo, 1
	if desc {
		i, step = hi-1, -1
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		raw, err := decodeCursor(c)
		n, convErr := strconv.Atoi(raw)
		if err != nil || convErr != nil || n < 0 {
			writeError(w, errBadRequest(fmt.Sprintf("cursor: invalid cursor %q", c)))
			return
		}
		i = n
	}
	page := auditPage{Type: "cursor-list", Limit: limit, Data: []auditJSON{}}
	for ; i >= lo && i < hi; i += step {
		if ev[i].OrgID != g.OrgID {
			continue
		}
		if len(page.Data) == limit {
			page.Cursor = encodeCursor(strconv.Itoa(i))
			break
		}
		page.Data = append(page.Data, s.toAudit(&ev[i]))
	}
	page.Size = len(page.Data)
	writeJSON(w, http.StatusOK, page)
}

// ---- sessions ----

func (s *Sim) handleResetSessions(w http.ResponseWriter, r *http.Request) {
	email := r.URL.Query().Get("email")
	if email == "" {
		writeError(w, errBadRequest("email: is required"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.w.userByEmail(email)
	g := grantFrom(r)
	if u == nil || g == nil || u.OrgID != g.OrgID {
		writeError(w, errNotFound(fmt.Sprintf("user %s not found", email)))
		return
	}
	if err := s.w.resetSessions(email); err != nil {
		writeError(w, err)
		return
	}
	s.w.record(AuditEvent{OrgID: u.OrgID, Event: "user_sessions_reset", Category: "authentication",
		CreatedAt: s.now().UTC(), ActorID: g.UserID, ObjectID: u.ID, ObjectName: u.Email})
	// The spec's 200 has no body.
	w.WriteHeader(http.StatusOK)
}
