package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"roster"
	"roster/internal/store"
)

// teamNameWidth keeps `roster teams` within 80 columns beside a 19-digit id.
const teamNameWidth = 32

// runTeams is `roster teams`: the teams roster knows, with their ids, so
// that --team can be given by name or id.
func runTeams(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("teams", "", "Lists the Miro teams roster knows, by name: id, name, size (members), admins and the\nconnection that covers each. Commands that take --team accept the name or the id.", stderr)
	fs.globals()
	search := fs.String("search", "", "only teams whose name contains this text (case-insensitive)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if len(*search) > store.MaxSearchLength {
		return usageError{fmt.Sprintf("teams: --search is longer than %d characters", store.MaxSearchLength)}
	}
	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	var teams []roster.TeamStat
	q := store.TeamStatsQuery{Search: *search, Limit: 500}
	for {
		page, err := a.store.TeamStats(ctx, q)
		if err != nil {
			return fmt.Errorf("teams: %w", err)
		}
		teams = append(teams, page.Teams...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if len(teams) == 0 {
		fmt.Fprintln(stdout, `No teams yet. Run "roster sync" after "roster connect".`)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSIZE\tADMINS\tCONNECTION")
	for _, t := range teams {
		conn := "-"
		if t.ConnectionID > 0 {
			conn = strconv.FormatInt(t.ConnectionID, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", t.Team.MiroTeamID, clip(dash(t.Team.Name), teamNameWidth), t.Members, t.Admins, conn)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%d %s\n", len(teams), plural(len(teams), "team", "teams"))
	return err
}

// resolveTeam reads a --team value: a team's Miro id, or its name
// (case-insensitive). An unknown name, or a name several teams share, is
// a usage error listing what would match. A number no team has is passed
// on as an id, for the action layer to judge (a team not synced yet).
func resolveTeam(ctx context.Context, st store.Store, cmd, value string) (string, error) {
	if value == "" {
		return "", nil
	}
	teams, err := st.Teams(ctx, 0)
	if err != nil {
		return "", fmt.Errorf("%s: read the teams: %w", cmd, err)
	}
	var named, similar []roster.Team
	for _, t := range teams {
		switch {
		case t.MiroTeamID == value:
			return t.MiroTeamID, nil
		case strings.EqualFold(t.Name, value):
			named = append(named, t)
		case strings.Contains(strings.ToLower(t.Name), strings.ToLower(value)):
			similar = append(similar, t)
		}
	}
	switch {
	case len(named) == 1:
		return named[0].MiroTeamID, nil
	case len(named) > 1:
		return "", usageError{fmt.Sprintf("%s: --team %q names %d teams; give the id of one:\n%s", cmd, value, len(named), teamList(named))}
	case isDigits(value):
		return value, nil
	case len(similar) > 0 && len(similar) <= 10:
		return "", usageError{fmt.Sprintf("%s: no team is named %q; did you mean one of these?\n%s", cmd, value, teamList(similar))}
	}
	return "", usageError{fmt.Sprintf("%s: no team is named %q and it is not a team id (run \"roster teams\" for the names and ids)", cmd, value)}
}

// teamList is one indented line per team: id, name and organization.
func teamList(teams []roster.Team) string {
	var b strings.Builder
	for _, t := range teams {
		fmt.Fprintf(&b, "  %s  %s", t.MiroTeamID, t.Name)
		if t.OrgID != "" {
			fmt.Fprintf(&b, " (organization %s)", t.OrgID)
		}
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// clip shortens s to at most n characters, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
