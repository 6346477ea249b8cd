package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"roster"
	"roster/internal/store"
)

// runUsers is `roster users`: the accounts roster knows, filtered.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users", "", "Lists the people roster knows from every connection, one per person, with license\n(exact, or inferred from team roles at team level), role, status and last activity.", stderr)
	fs.globals()
	var (
		format       = fs.String("format", "table", "output format: table, csv or json")
		license      = fs.String("license", "", "only this license, e.g. full, free, occasional")
		role         = fs.String("role", "", "only this organization role, e.g. organization_internal_admin")
		team         = fs.String("team", "", "only members of this Miro team id")
		inactiveDays = fs.Int("inactive-days", 0, "only people with no activity for this many days (or never)")
		connID       = fs.Int64("connection", 0, "only people this connection sees")
		includeLeft  = fs.Bool("include-left", false, "include people who left (no connection sees them any more)")
		limit        = fs.Int("limit", 0, "at most this many people; 0 for all")
	)
	if err := fs.parse(args); err != nil {
		return err
	}
	switch *format {
	case "table", "csv", "json":
	default:
		return usageError{fmt.Sprintf("users: --format must be table, csv or json, got %q", *format)}
	}
	if *inactiveDays < 0 {
		return usageError{"users: --inactive-days must not be negative"}
	}
	if *limit < 0 {
		return usageError{"users: --limit must not be negative"}
	}
	if *connID < 0 {
		return usageError{"users: --connection must be a connection id"}
	}

	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	f := store.AccountFilter{
		ConnectionID: *connID, License: *license, OrgRole: *role, MiroTeamID: *team,
		IncludeLeft: *includeLeft, Limit: *limit,
	}
	if *inactiveDays > 0 {
		f.InactiveSince = time.Now().AddDate(0, 0, -*inactiveDays)
	}
	accounts, err := a.store.Accounts(ctx, f)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	switch *format {
	case "json":
		return writeUsersJSON(stdout, accounts)
	case "csv":
		return writeUsersCSV(stdout, accounts)
	}
	return writeUsersTable(stdout, accounts)
}

// licenseLabel says whether the license is exact: "full" or "full (inferred)".
func licenseLabel(a roster.Account) string {
	if a.License == "" {
		return "-"
	}
	if a.LicenseExact {
		return a.License
	}
	return a.License + " (inferred)"
}

func statusLabel(a roster.Account) string {
	switch {
	case !a.LeftAt.IsZero():
		return "left"
	case !a.Active:
		return "deactivated"
	}
	return "active"
}

func writeUsersTable(w io.Writer, accounts []roster.Account) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tLICENSE\tORG ROLE\tSTATUS\tLAST ACTIVITY\tMIRO USER ID")
	for _, a := range accounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dash(a.Email), dash(a.Name), licenseLabel(a), dash(a.OrgRole),
			statusLabel(a), formatTime(a.LastActivityAt, "-"), a.MiroUserID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d people\n", len(accounts))
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// userJSON is one account in --format json and csv.
type userJSON struct {
	ID                int64      `json:"id"`
	MiroUserID        string     `json:"miroUserId"`
	Email             string     `json:"email"`
	Name              string     `json:"name"`
	OrgRole           string     `json:"orgRole"`
	AdminRoles        []string   `json:"adminRoles"`
	License           string     `json:"license"`
	LicenseExact      bool       `json:"licenseExact"`
	Active            bool       `json:"active"`
	LastActivityAt    *time.Time `json:"lastActivityAt"`
	LicenseAssignedAt *time.Time `json:"licenseAssignedAt"`
	FirstSeenAt       *time.Time `json:"firstSeenAt"`
	LastSeenAt        *time.Time `json:"lastSeenAt"`
	LeftAt            *time.Time `json:"leftAt"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func toUserJSON(a roster.Account) userJSON {
	roles := a.AdminRoles
	if roles == nil {
		roles = []string{}
	}
	return userJSON{
		ID: a.ID, MiroUserID: a.MiroUserID, Email: a.Email, Name: a.Name, OrgRole: a.OrgRole, AdminRoles: roles,
		License: a.License, LicenseExact: a.LicenseExact, Active: a.Active,
		LastActivityAt: timePtr(a.LastActivityAt), LicenseAssignedAt: timePtr(a.LicenseAssignedAt),
		FirstSeenAt: timePtr(a.FirstSeenAt), LastSeenAt: timePtr(a.LastSeenAt), LeftAt: timePtr(a.LeftAt),
	}
}

func writeUsersJSON(w io.Writer, accounts []roster.Account) error {
	out := make([]userJSON, 0, len(accounts))
	for _, a := range accounts {
		out = append(out, toUserJSON(a))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeUsersCSV(w io.Writer, accounts []roster.Account) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "miro_user_id", "email", "name", "org_role", "admin_roles", "license", "license_exact",
		"active", "last_activity_at", "license_assigned_at", "first_seen_at", "last_seen_at", "left_at"})
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, a := range accounts {
		_ = cw.Write([]string{strconv.FormatInt(a.ID, 10), a.MiroUserID, csvSafe(a.Email), csvSafe(a.Name), a.OrgRole,
			csvSafe(strings.Join(a.AdminRoles, ";")), a.License, strconv.FormatBool(a.LicenseExact), strconv.FormatBool(a.Active),
			ts(a.LastActivityAt), ts(a.LicenseAssignedAt), ts(a.FirstSeenAt), ts(a.LastSeenAt), ts(a.LeftAt)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a name such as "=cmd()" as a
// formula (CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
