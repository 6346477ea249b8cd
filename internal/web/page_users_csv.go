package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// csvPageSize is how many accounts each store query of the export reads.
const csvPageSize = 1000

// usersCSV exports every account matching the current filter (all pages,
// not just the one shown), streamed page by page.
func (s *Server) usersCSV(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := parseUsersFilter(r)
	if err != nil {
		return err
	}
	f.Cursor, f.Limit = "", csvPageSize
	settings, err := s.store.Settings(ctx)
	if err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	q := f.query(settings.InactivityDays, s.now())
	// The first page is read before anything is written, so a refused
	// query is still a proper error page.
	page, err := s.store.ListAccounts(ctx, q)
	if err != nil {
		return listError(f, err)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="roster-users.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "email", "name", "license", "license_exact", "org_role", "active", "last_activity_at", "miro_user_id"})
	for {
		for _, a := range page.Accounts {
			last := ""
			if !a.LastActivityAt.IsZero() {
				last = a.LastActivityAt.UTC().Format(time.RFC3339)
			}
			row := []string{strconv.FormatInt(a.ID, 10), a.Email, a.Name, a.License, strconv.FormatBool(a.LicenseExact),
				a.OrgRole, strconv.FormatBool(a.Active), last, a.MiroUserID}
			for i := range row {
				row[i] = csvSafe(row[i])
			}
			_ = cw.Write(row)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
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
