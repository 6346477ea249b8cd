// Command roster is the single roster binary. Each subcommand lives in its
// own file; this file only dispatches. No logic lives here.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// command is one subcommand. Run receives the arguments after its name.
type command struct {
	Summary string
	Run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is the explicit registry of subcommands.
func commands() map[string]command {
	return map[string]command{
		"version":     {Summary: "print the roster version", Run: runVersion},
		"help":        {Summary: "list the subcommands", Run: runHelp},
		"mirosim":     {Summary: "run the Miro simulator (sandbox and test backend)", Run: runMirosim},
		"migrate":     {Summary: "apply the database migrations", Run: runMigrate},
		"connect":     {Summary: "connect Miro at team or organization level", Run: runConnect},
		"connections": {Summary: "list the Miro connections and what each can do", Run: runConnections},
		"sync":        {Summary: "sync users, roles, licenses and usage from Miro now", Run: runSync},
		"users":       {Summary: "list the people roster knows (table, CSV or JSON)", Run: runUsers},
		"teams":       {Summary: "list the Miro teams: id, name, size, admins and connection", Run: runTeams},
		"serve":       {Summary: "serve HTTP and run the sync scheduler and workers", Run: runServe},
		"demo":        {Summary: "serve the dashboard over an embedded, connected and synced Miro simulator", Run: runDemo},
		"admin":       {Summary: "create dashboard operators (admin create)", Run: runAdmin},
		"directory":   {Summary: "the people who work here: directory import FILE.csv, directory list", Run: runDirectory},
		"contract":    {Summary: "what each Miro organization pays: contract show, contract set", Run: runContract},
		"workflow":    {Summary: "automations: workflow apply, export, template, list, dry-run, run, runs, show, approve...", Run: runWorkflow},
		// Actions on Miro (internal/action).
		"invite": {Summary: "invite an organization member to a Miro team", Run: runInvite},
		"remove": {Summary: "remove a person from a Miro team (says what becomes of their boards)", Run: runRemove},
		"role":   {Summary: "set a person's role in a Miro team (member or admin)", Run: runRole},
		// Organization-wide actions (internal/action).
		"deactivate": {Summary: "deactivate a person through SCIM (frees their license)", Run: runDeactivate},
		"reactivate": {Summary: "reactivate a deactivated person through SCIM", Run: runReactivate},
		"signout":    {Summary: "sign a person out of all Miro sessions", Run: runSignOut},
		"offboard":   {Summary: "remove a person from every team, deactivate and sign them out", Run: runOffboard},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "roster:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError marks a mistake in how roster was invoked (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		_ = runHelp(ctx, nil, stderr, stderr)
		return usageError{"no subcommand given"}
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		return runHelp(ctx, nil, stdout, stderr)
	case "-v", "-version", "--version":
		return runVersion(ctx, nil, stdout, stderr)
	}
	cmd, ok := commands()[name]
	if !ok {
		return usageError{fmt.Sprintf("unknown subcommand %q (run \"roster help\")", name)}
	}
	return cmd.Run(ctx, args[1:], stdout, stderr)
}

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) error {
	_, err := fmt.Fprintln(stdout, "roster", buildVersion())
	return err
}

// buildVersion prefers the -ldflags version, then the module version, then
// the VCS revision recorded by the go command.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}

func runHelp(_ context.Context, _ []string, stdout, _ io.Writer) error {
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(stdout, "roster: SaaS access and license manager (Miro)")
	fmt.Fprintln(stdout, "\nUsage: roster <subcommand> [flags]\n\nSubcommands:")
	for _, n := range names {
		fmt.Fprintf(stdout, "  %-12s %s\n", n, cmds[n].Summary)
	}
	fmt.Fprintln(stdout, "\nRun \"roster <subcommand> -h\" for its flags.")
	return nil
}
