package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"roster"
)

// runConnections is `roster connections`: the connections and what each
// can do.
func runConnections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("connections", "", "Lists the Miro connections: level, organization or team, installer, status, last\nsync and capabilities.", stderr)
	fs.globals()
	if err := fs.parse(args); err != nil {
		return err
	}
	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	conns, err := a.store.Connections(ctx)
	if err != nil {
		return fmt.Errorf("connections: %w", err)
	}
	if len(conns) == 0 {
		fmt.Fprintln(stdout, `No connections yet. Run "roster connect" to add one.`)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tORGANIZATION / TEAM\tINSTALLER\tSTATUS\tLAST SYNC\tEVERY\tCAPABILITIES")
	for _, c := range conns {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Level, connectionScope(c), c.InstallerName,
			connectionStatus(c), formatTime(c.LastSyncAt, "never"), c.SyncInterval, capabilitySummary(c))
	}
	return tw.Flush()
}

// connectionScope names what a connection covers.
func connectionScope(c roster.Connection) string {
	if c.Level == roster.LevelOrganization {
		return fmt.Sprintf("%s (%s)", c.OrgName, c.OrgID)
	}
	return fmt.Sprintf("%s (%s)", c.TeamName, c.TeamID)
}

func connectionStatus(c roster.Connection) string {
	if c.StatusMessage != "" {
		return fmt.Sprintf("%s: %s", c.Status, c.StatusMessage)
	}
	return string(c.Status)
}

// capabilitySummary reads "7/7" or "5/7, not: usage data, audit-log usage".
func capabilitySummary(c roster.Connection) string {
	caps := c.Capabilities()
	var missing []string
	for _, cp := range caps {
		if !cp.Available {
			missing = append(missing, cp.Name)
		}
	}
	s := fmt.Sprintf("%d/%d", len(caps)-len(missing), len(caps))
	if len(missing) > 0 {
		s += ", not: " + strings.Join(missing, ", ")
	}
	return s
}

// formatTime prints t in UTC to the minute, or zero when it is zero.
func formatTime(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
