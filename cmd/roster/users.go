package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"roster"
	"roster/internal/api"
	"roster/internal/store"
)

// runUsers is `roster users`: the accounts roster knows, filtered.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users", "", "Lists the people roster knows from every connection, one per person, with license\n(exact, or inferred from team roles at team level), role, status and last activity.", stderr)
	fs.globals()
	var (
		format       = fs.String("format", "table", "output format: table, csv or json")
		license      = fs.String("license", "", "only this license: "+strings.Join(roster.Licenses, ", "))
		role         = fs.String("role", "", "only this organization role: "+strings.Join(roster.OrgRoles, ", "))
		team         = fs.String("team", "", "only members of this Miro team: its name or id (see roster teams)")
		inactiveDays = fs.Int("inactive-days", 0, "only people inactive this many days: no activity since the later of their last activity and license\nassignment (first seen where Miro gives neither); people whose usage is unknown (team level) never are")
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
	// The vocabulary the dashboard's filters offer; a value outside it
	// would match no one and print "0 people".
	if *license != "" && !slices.Contains(roster.Licenses, *license) {
		return usageError{fmt.Sprintf("users: --license must be one of %s; got %q", strings.Join(roster.Licenses, ", "), *license)}
	}
	if *role != "" && !slices.Contains(roster.OrgRoles, *role) {
		return usageError{fmt.Sprintf("users: --role must be one of %s (organization roles); got %q", strings.Join(roster.OrgRoles, ", "), *role)}
	}

	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	teamID, err := resolveTeam(ctx, a.store, "users", *team)
	if err != nil {
		return err
	}
	f := store.AccountFilter{
		ConnectionID: *connID, License: *license, OrgRole: *role, MiroTeamID: teamID,
		IncludeLeft: *includeLeft, Limit: *limit,
	}
	if *inactiveDays > 0 {
		f.InactiveSince = roster.InactiveBefore(time.Now(), *inactiveDays)
	}
	accounts, err := a.store.Accounts(ctx, f)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	switch *format {
	case "json":
		return writeUsersJSON(stdout, accounts)
	case "csv":
		return api.NewUsersCSV(stdout).Write(accounts)
	}
	return writeUsersTable(stdout, accounts)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dash(a.Email), dash(a.Name), a.LicenseLabel(), dash(a.OrgRole),
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

// writeUsersJSON writes accounts as the JSON API's users (api.User).
func writeUsersJSON(w io.Writer, accounts []roster.Account) error {
	out := make([]api.User, 0, len(accounts))
	for _, a := range accounts {
		out = append(out, api.UserOf(a))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
