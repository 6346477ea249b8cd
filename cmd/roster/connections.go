package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"roster"
	"roster/internal/store"
)

// runConnections is `roster connections`: the connections, one line each
// within 80 columns; `roster connections show ID` gives one in full.
func runConnections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "show" {
		return runConnectionShow(ctx, args[1:], stdout, stderr)
	}
	fs := newFlagSet("connections", "", "Lists the Miro connections: id, level, organization or team, status, last sync and how\nmany capabilities each has. \"roster connections show ID\" gives one in full: installer,\nthe status's message, sync interval and each capability with its reason.", stderr)
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
	fmt.Fprintln(tw, "ID\tLEVEL\tORGANIZATION / TEAM\tSTATUS\tLAST SYNC\tCAN")
	for _, c := range conns {
		caps := c.Capabilities()
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d/%d\n", c.ID, c.Level, clip(scopeName(c), 22), clip(string(c.Status), 12),
			formatTime(c.LastSyncAt, "never"), available(caps), len(caps))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, `Details and what each cannot do: roster connections show ID`)
	return err
}

// runConnectionShow is `roster connections show ID`.
func runConnectionShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("connections show", " ID", "Shows one Miro connection in full: what it covers, who installed it, its status and\nthe reason, its syncs, and each capability with why it is or is not available.", stderr)
	fs.globals()
	// The id comes first (flags stop at the first argument that is none).
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := fs.parse(args); err != nil {
			return err
		}
		return usageError{"connections show: give the connection id: roster connections show ID (see roster connections)"}
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError{fmt.Sprintf("connections show: %q is not a connection id (see roster connections)", args[0])}
	}
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	c, err := a.store.Connection(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return usageError{fmt.Sprintf("connections show: no connection %d (see roster connections)", id)}
	}
	if err != nil {
		return fmt.Errorf("connections show: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("id", strconv.FormatInt(c.ID, 10))
	row("level", string(c.Level))
	row("covers", connectionScope(c))
	row("installer", dash(c.InstallerName))
	row("status", connectionStatus(c))
	row("last sync", formatTime(c.LastSyncAt, "never"))
	row("sync every", c.SyncInterval.String())
	row("API", dash(c.APIBaseURL))
	scim := "no SCIM token"
	if len(c.SealedSCIMToken) > 0 {
		scim = c.SCIMBaseURL
	}
	row("SCIM", scim)
	if err := tw.Flush(); err != nil {
		return err
	}
	caps := c.Capabilities()
	fmt.Fprintf(stdout, "\ncapabilities (%d/%d):\n", available(caps), len(caps))
	for _, cp := range caps {
		mark := "no "
		if cp.Available {
			mark = "yes"
		}
		fmt.Fprintf(stdout, "  %s  %s: %s\n", mark, cp.Name, cp.Reason)
	}
	return nil
}

// scopeName is what a connection covers, by name: the organization's or
// the team's (the id when Miro gave no name).
func scopeName(c roster.Connection) string {
	if c.Level == roster.LevelOrganization {
		return cmp.Or(c.OrgName, c.OrgID)
	}
	return cmp.Or(c.TeamName, c.TeamID)
}

// available counts the capabilities a connection has.
func available(caps []roster.Capability) int {
	n := 0
	for _, cp := range caps {
		if cp.Available {
			n++
		}
	}
	return n
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

// formatTime prints t in UTC to the minute, or zero when it is zero.
func formatTime(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
