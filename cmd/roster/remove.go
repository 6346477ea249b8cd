package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"roster"
	"roster/internal/action"
)

// runRemove is `roster remove`: remove a person from a team, after saying
// what becomes of their boards.
func runRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("remove", "", "Removes a person from a Miro team. It first prints what becomes of the boards they own\nthere, which depends on the connection: through the organization API they go to the\nteam's admin; through the legacy team API they are deleted with their projects, into the\nteam's trash. It asks for confirmation unless --yes; with no terminal to ask on, it\nrefuses without --yes. The last admin of a team cannot be removed.", stderr)
	fs.globals()
	f := addActionFlags(fs)
	email := fs.String("email", "", "email of the person to remove (roster must know them; or --user)")
	userID := fs.String("user", "", "Miro user id of the person to remove (or --email)")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := f.check("remove"); err != nil {
		return err
	}
	if (*email == "") == (*userID == "") {
		return usageError{"remove: give --email or --user, one of them"}
	}
	// runAction reports a bad request before anyone is asked to confirm it.
	confirm := func(a *app, req action.Request) error {
		conn, err := a.store.Connection(ctx, *f.connID)
		if err != nil {
			return fmt.Errorf("remove: %w", err)
		}
		fmt.Fprintf(stdout, "Remove %s from team %s through connection %d.\nConsequence: %s.\n",
			cmp.Or(*email, "Miro user "+*userID), cmp.Or(*f.team, req.MiroTeamID, conn.TeamID), conn.ID, action.Consequence(conn, roster.ActionRemove))
		if *yes {
			return nil
		}
		if !isTerminal(os.Stdin) {
			return usageError{"remove: not confirmed: there is no terminal to ask on; pass --yes to confirm"}
		}
		if !confirmed(os.Stdin, stdout, "Remove? [y/N] ") {
			return errors.New("remove: not confirmed; nothing was done")
		}
		return nil
	}
	fill := func(req *action.Request) { req.Email, req.MiroUserID = *email, *userID }
	return runAction(ctx, fs, f, stdout, roster.ActionRemove, fill, confirm, func(r *action.Runner, req action.Request) (roster.Action, error) {
		return r.Remove(ctx, req)
	})
}

// isTerminal reports whether f is an interactive terminal: a character
// device other than /dev/null (which is where tests and daemons read).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

// confirmed asks question on out and reads a yes or no from in.
func confirmed(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprint(out, question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
