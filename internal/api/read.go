package api

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/insights"
	"roster/internal/store"
)

// API page sizes: the default, and the most one page may ask for.
const (
	apiDefaultLimit = 100
	apiMaxLimit     = 1000
)

// apiUsers is GET /api/v1/users: the users list's search, filters, sort
// and keyset paging, as JSON.
func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) error {
	q, err := s.usersQuery(r, apiDefaultLimit)
	if err != nil {
		return err
	}
	res, err := s.store.ListAccounts(r.Context(), q)
	if err != nil {
		return listError(q, err)
	}
	out := List[User]{Data: make([]User, 0, len(res.Accounts)), Total: &res.Total, TotalIsLowerBound: res.TotalMore,
		NextCursor: res.NextCursor}
	for _, a := range res.Accounts {
		out.Data = append(out.Data, UserOf(a))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// usersQuery reads the users list's query string (the same parameters as
// the dashboard's users page) into the store's query, naming the
// parameter at fault. Activity is measured against the inactivity period.
func (s *Server) usersQuery(r *http.Request, limit int) (store.AccountQuery, error) {
	q := r.URL.Query()
	f := store.AccountQuery{
		Search: strings.TrimSpace(q.Get("q")), Org: q.Get("org"), License: q.Get("license"), OrgRole: q.Get("role"), MiroTeamID: q.Get("team"),
		Activity: q.Get("activity"), Status: q.Get("status"), Directory: q.Get("directory"),
		Sort: cmp.Or(q.Get("sort"), "email"), Cursor: q.Get("cursor"),
	}
	var err error
	if f.ConnectionID, err = parseID("connection", q.Get("connection")); err != nil {
		return f, err
	}
	for name, dst := range map[string]*bool{"guests": &f.Guests, "members": &f.Members, "desc": &f.Desc} {
		if *dst, err = parseBool(q, name); err != nil {
			return f, err
		}
	}
	deact, err := parseBool(q, "deactivated")
	if err != nil {
		return f, err
	}
	// deactivated=true is the older spelling of status=deactivated.
	if deact {
		if f.Status == "active" {
			return f, invalidField("deactivated", "deactivated=true contradicts status=active")
		}
		f.Status = "deactivated"
	}
	if f.Limit, err = parseLimit(q, limit); err != nil {
		return f, err
	}
	var qe *store.QueryError
	if err := f.Check(); errors.As(err, &qe) {
		return f, invalidField(qe.Param, "%s", qe.Error())
	}
	if f.Activity == "active" || f.Activity == "inactive" || f.Activity == "idle" {
		settings, err := s.store.Settings(r.Context())
		if err != nil {
			return f, fmt.Errorf("load settings: %w", err)
		}
		f.ActiveSince = insights.InactiveBefore(s.now(), settings.InactivityDays)
	}
	if f.Activity == "idle" {
		f.UsedSince = insights.UsedSince(s.now())
	}
	return f, nil
}

// listError names a query ListAccounts refused: a cursor edited, or of
// another sort or filter.
func listError(q store.AccountQuery, err error) error {
	switch {
	case errors.Is(err, store.ErrInvalid) && q.Cursor != "":
		return invalidField("cursor", "cursor is not valid: it was changed, or it belongs to another sort or filter; start again without it")
	case errors.Is(err, store.ErrInvalid):
		return apiErr(http.StatusBadRequest, "invalid_field", "", "The users query is not valid: "+err.Error())
	}
	return fmt.Errorf("list accounts: %w", err)
}

// parseBool reads a boolean parameter: true/false, 1/0; absent is false.
func parseBool(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalidField(name, "%s must be true or false, got %q", name, v)
	}
	return b, nil
}

// parseLimit reads ?limit, 1..apiMaxLimit.
func parseLimit(q url.Values, def int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > apiMaxLimit {
		return 0, invalidField("limit", "limit must be a number from 1 to %d, got %q", apiMaxLimit, v)
	}
	return n, nil
}

// parseID reads a positive id parameter (query or path); absent is 0.
func parseID(name, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalidField(name, "%s must be a positive id, got %q", name, v)
	}
	return id, nil
}

// pathIDOf reads the {id} of an API path; a malformed one names nothing
// that exists, so it is a 404.
func pathIDOf(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apiErr(http.StatusNotFound, "not_found", "", fmt.Sprintf("No such %s: %q.", what, r.PathValue("id")))
	}
	return id, nil
}

// Cursors of id-keyed lists (changes, audit) carry the last id seen,
// tagged with the list's name so that one list's cursor is refused by
// another. They are opaque to clients.
func encodeIDCursor(list string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + strconv.FormatInt(id, 10)))
}

func decodeIDCursor(list, c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	tag, num, ok := strings.Cut(string(raw), ":")
	id, perr := strconv.ParseInt(num, 10, 64)
	if err != nil || !ok || tag != list || perr != nil || id <= 0 {
		return 0, invalidField("cursor", "cursor is not a cursor of this list; use next_cursor from the previous page, or start without it")
	}
	return id, nil
}

// UserOf is GET /api/v1/users/{id}: one person with memberships and
// change history (oldest first).
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathIDOf(r, "user")
	if err != nil {
		return err
	}
	acc, err := s.store.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apiErr(http.StatusNotFound, "not_found", "", fmt.Sprintf("No user %d.", id))
	}
	if err != nil {
		return fmt.Errorf("load account %d: %w", id, err)
	}
	members, err := s.store.AccountMemberships(ctx, id)
	if err != nil {
		return fmt.Errorf("load memberships: %w", err)
	}
	teams, err := s.store.Teams(ctx, 0)
	if err != nil {
		return fmt.Errorf("list teams: %w", err)
	}
	teamByID := map[string]roster.Team{}
	for _, t := range teams {
		teamByID[t.MiroTeamID] = t
	}
	changes, err := s.store.Changes(ctx, store.ChangeFilter{AccountID: id})
	if err != nil {
		return fmt.Errorf("load the history: %w", err)
	}
	out := UserDetail{User: UserOf(acc), Memberships: []Membership{}, Changes: []Change{}}
	for _, m := range members {
		out.Memberships = append(out.Memberships, Membership{TeamID: m.MiroTeamID, TeamName: cmp.Or(teamByID[m.MiroTeamID].Name, m.MiroTeamID), Role: m.Role})
	}
	for _, c := range changes {
		out.Changes = append(out.Changes, ChangeOf(c))
	}
	writeJSON(w, http.StatusOK, One[UserDetail]{out})
	return nil
}

// apiTeamsMaxLimit is the largest page of GET /api/v1/teams (the store's).
const apiTeamsMaxLimit = 500

// apiTeams is GET /api/v1/teams: a page of teams by name, searched by
// name, with their counts and keyset paging.
func (s *Server) apiTeams(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	search := strings.TrimSpace(q.Get("q"))
	if len(search) > 200 {
		return invalidField("q", "q is longer than 200 characters")
	}
	limit := apiDefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > apiTeamsMaxLimit {
			return invalidField("limit", "limit must be a number from 1 to %d, got %q", apiTeamsMaxLimit, v)
		}
		limit = n
	}
	settings, err := s.store.Settings(ctx)
	if err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	res, err := s.store.TeamStats(ctx, store.TeamStatsQuery{InactiveBefore: insights.InactiveBefore(s.now(), settings.InactivityDays),
		Search: search, Cursor: q.Get("cursor"), Limit: limit})
	if errors.Is(err, store.ErrInvalid) {
		return invalidField("cursor", "cursor is not valid: it was changed; use next_cursor from the previous page, or start again without it")
	}
	if err != nil {
		return fmt.Errorf("load team stats: %w", err)
	}
	out := List[Team]{Data: make([]Team, 0, len(res.Teams)), Total: &res.Total, NextCursor: res.NextCursor}
	for _, t := range res.Teams {
		out.Data = append(out.Data, Team{TeamID: t.Team.MiroTeamID, OrgID: t.Team.OrgID, Name: t.Team.Name,
			ConnectionID: t.ConnectionID, Members: t.Members, Admins: t.Admins, Licensed: t.Licensed, Inactive: t.Inactive})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// apiConnections is GET /api/v1/connections, with each connection's
// capabilities in plain words and never its tokens.
func (s *Server) apiConnections(w http.ResponseWriter, r *http.Request) error {
	conns, err := s.store.Connections(r.Context())
	if err != nil {
		return fmt.Errorf("list connections: %w", err)
	}
	out := List[Connection]{Data: make([]Connection, 0, len(conns))}
	for _, c := range conns {
		out.Data = append(out.Data, ConnectionOf(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// apiSyncRuns is GET /api/v1/connections/{id}/sync-runs: the newest runs first.
func (s *Server) apiSyncRuns(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathIDOf(r, "connection")
	if err != nil {
		return err
	}
	limit, err := parseLimit(r.URL.Query(), apiDefaultLimit)
	if err != nil {
		return err
	}
	if _, err := s.store.Connection(ctx, id); errors.Is(err, store.ErrNotFound) {
		return apiErr(http.StatusNotFound, "not_found", "", fmt.Sprintf("No connection %d.", id))
	} else if err != nil {
		return fmt.Errorf("load connection %d: %w", id, err)
	}
	runs, err := s.store.SyncRuns(ctx, id, limit)
	if err != nil {
		return fmt.Errorf("list sync runs: %w", err)
	}
	out := List[SyncRun]{Data: make([]SyncRun, 0, len(runs))}
	for _, run := range runs {
		out.Data = append(out.Data, SyncRunOf(run))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// apiChanges is GET /api/v1/changes: change rows, oldest first, by
// account and sync run, with keyset paging.
func (s *Server) apiChanges(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f store.ChangeFilter
	var err error
	if f.AccountID, err = parseID("account", q.Get("account")); err != nil {
		return err
	}
	if f.SyncRunID, err = parseID("sync_run", q.Get("sync_run")); err != nil {
		return err
	}
	if f.AfterID, err = decodeIDCursor("changes", q.Get("cursor")); err != nil {
		return err
	}
	limit, err := parseLimit(q, apiDefaultLimit)
	if err != nil {
		return err
	}
	f.Limit = limit + 1 // one more tells whether a next page exists
	changes, err := s.store.Changes(r.Context(), f)
	if err != nil {
		return fmt.Errorf("list changes: %w", err)
	}
	writeJSON(w, http.StatusOK, idPage(changes, limit, "changes", func(c roster.Change) int64 { return c.ID }, ChangeOf))
	return nil
}

// idPage turns the limit+1 items fetched into one page, with the cursor of
// its last item when more follow.
func idPage[T, J any](items []T, limit int, cursorKind string, id func(T) int64, toJSON func(T) J) List[J] {
	out := List[J]{Data: make([]J, 0, min(len(items), limit))}
	if len(items) > limit {
		items = items[:limit]
		out.NextCursor = encodeIDCursor(cursorKind, id(items[limit-1]))
	}
	for _, it := range items {
		out.Data = append(out.Data, toJSON(it))
	}
	return out
}

// getOverview is GET /api/v1/insights/overview: the numbers per
// organization under its contract, and the totals that add up.
func (s *Server) getOverview(w http.ResponseWriter, r *http.Request) error {
	report, err := s.licenses.Report(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, One[Overview]{OverviewOf(report)})
	return nil
}

// AuditEntryOf is GET /api/v1/audit: the audit log, newest first, with
// keyset paging and an optional kind.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.AuditFilter{Kind: q.Get("kind")}
	if f.Kind != "" && !slices.Contains(roster.AuditKinds, f.Kind) {
		return invalidField("kind", "kind must be one of %s, got %q", strings.Join(roster.AuditKinds, ", "), f.Kind)
	}
	var err error
	if f.ConnectionID, err = parseID("connection", q.Get("connection")); err != nil {
		return err
	}
	if f.BeforeID, err = decodeIDCursor("audit", q.Get("cursor")); err != nil {
		return err
	}
	limit, err := parseLimit(q, apiDefaultLimit)
	if err != nil {
		return err
	}
	f.Limit = limit + 1
	entries, err := s.store.AuditEntries(r.Context(), f)
	if err != nil {
		return fmt.Errorf("list the audit log: %w", err)
	}
	writeJSON(w, http.StatusOK, idPage(entries, limit, "audit", func(e roster.AuditEntry) int64 { return e.ID }, AuditEntryOf))
	return nil
}
