package api

import (
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"roster"
)

// csvPageSize is how many accounts each store query of the export reads.
const csvPageSize = 1000

// usersCSV is GET /api/v1/users.csv: every account matching the users
// query (all pages, not one), streamed page by page. The dashboard's
// "Export CSV" links here.
func (s *Server) usersCSV(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q, err := s.usersQuery(r, csvPageSize)
	if err != nil {
		return err
	}
	q.Cursor = ""
	// The first page is read before anything is written, so a refused
	// query is still a proper error answer.
	page, err := s.store.ListAccounts(ctx, q)
	if err != nil {
		return listError(q, err)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="roster-users.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	out := NewUsersCSV(w)
	for {
		if err := out.Write(page.Accounts); err != nil {
			return nil // the client went away; nothing more to say to it
		}
		if page.NextCursor == "" {
			return nil
		}
		q.Cursor = page.NextCursor
		if page, err = s.store.ListAccounts(ctx, q); err != nil {
			// Half a file has gone out: the status cannot change, so log
			// and cut the file short.
			s.logger.ErrorContext(ctx, "export users: next page", "error", err)
			return nil
		}
	}
}

// UserCSVHeader is the users CSV's header: User's JSON fields, in order.
// The dashboard's export, the API's and `roster users --format csv` all
// write it, through UsersCSV.
var UserCSVHeader = []string{"id", "miro_user_id", "email", "name", "org_role", "admin_roles", "license", "license_exact",
	"active", "last_activity_at", "license_assigned_at", "first_seen_at", "last_seen_at", "left_at"}

// UsersCSV writes people as CSV: UserCSVHeader, then one row per account.
type UsersCSV struct {
	w      *csv.Writer
	header bool
}

// NewUsersCSV writes to w.
func NewUsersCSV(w io.Writer) *UsersCSV { return &UsersCSV{w: csv.NewWriter(w)} }

// Write writes accounts (the header first, once) and flushes them.
func (u *UsersCSV) Write(accounts []roster.Account) error {
	if !u.header {
		u.header = true
		_ = u.w.Write(UserCSVHeader)
	}
	for _, a := range accounts {
		_ = u.w.Write(UserOf(a).csvRecord())
	}
	u.w.Flush()
	return u.w.Error()
}

// csvRecord is the user's row, in UserCSVHeader's order, every cell
// guarded by csvSafe.
func (u User) csvRecord() []string {
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	row := []string{strconv.FormatInt(u.ID, 10), u.MiroUserID, u.Email, u.Name, u.OrgRole, strings.Join(u.AdminRoles, ";"),
		u.License, strconv.FormatBool(u.LicenseExact), strconv.FormatBool(u.Active), ts(u.LastActivityAt),
		ts(u.LicenseAssignedAt), ts(u.FirstSeenAt), ts(u.LastSeenAt), ts(u.LeftAt)}
	for i := range row {
		row[i] = csvSafe(row[i])
	}
	return row
}

// csvSafe defuses a cell a spreadsheet would run as a formula (CSV
// injection): one starting with = + - @, a tab or a carriage return gets
// a leading apostrophe. encoding/csv does the quoting.
func csvSafe(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}
