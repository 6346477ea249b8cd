package main

import (
	"context"
	"io"

	"roster"
	"roster/internal/action"
)

// runRole is `roster role`: set a person's role in a team.
func runRole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("role", "", "Sets a person's role in a Miro team: member or admin. The last admin of a team cannot be\ndemoted; make someone else admin first.", stderr)
	fs.globals()
	f := addActionFlags(fs)
	email := fs.String("email", "", "email of the person (roster must know them; or --user)")
	userID := fs.String("user", "", "Miro user id of the person (or --email)")
	role := fs.String("role", "", "the new team role: member or admin (required)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := f.check("role"); err != nil {
		return err
	}
	if (*email == "") == (*userID == "") {
		return usageError{"role: give --email or --user, one of them"}
	}
	if *role == "" {
		return usageError{"role: --role is required: member or admin"}
	}
	fill := func(req *action.Request) { req.Email, req.MiroUserID, req.Role = *email, *userID, *role }
	return runAction(ctx, fs, f, stdout, roster.ActionChangeRole, fill, nil, func(r *action.Runner, req action.Request) (roster.Action, error) {
		return r.ChangeRole(ctx, req)
	})
}
