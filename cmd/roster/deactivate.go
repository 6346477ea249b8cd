package main

import (
	"context"
	"io"

	"roster"
	"roster/internal/action"
)

// runDeactivate is `roster deactivate`: deactivate a person through SCIM,
// which frees their paid license.
func runDeactivate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runOrgAction(ctx, "deactivate", roster.ActionDeactivate, "Deactivates a person in the Miro organization through SCIM, which frees their paid\nlicense. It needs an organization-level connection with a SCIM token (roster connect\n--scim-token); guests and external users cannot be deactivated. Idempotent: run it again\nwith the printed --key to retry safely.",
		args, stdout, stderr, (*action.Runner).Deactivate)
}

// runOrgAction is a command that acts on one person in the whole
// organization: deactivate, reactivate, signout.
func runOrgAction(ctx context.Context, name string, kind roster.ActionKind, help string, args []string, stdout, stderr io.Writer,
	do func(*action.Runner, context.Context, action.Request) (roster.Action, error)) error {
	fs := newFlagSet(name, "", help, stderr)
	fs.globals()
	f := addActionFlags(fs)
	email := fs.String("email", "", "email of the person (roster must know them; or --user)")
	userID := fs.String("user", "", "Miro user id of the person (or --email)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := f.check(name); err != nil {
		return err
	}
	if (*email == "") == (*userID == "") {
		return usageError{name + ": give --email or --user, one of them"}
	}
	fill := func(req *action.Request) { req.Email, req.MiroUserID = *email, *userID }
	return runAction(ctx, fs, f, stdout, kind, fill, nil, func(r *action.Runner, req action.Request) (roster.Action, error) {
		return do(r, ctx, req)
	})
}
