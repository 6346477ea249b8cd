package main

import (
	"context"
	"io"

	"roster"
	"roster/internal/action"
)

// runSignOut is `roster signout`: sign a person out of every session.
func runSignOut(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runOrgAction(ctx, "signout", roster.ActionSignOut, "Signs a person out of all their Miro sessions (POST /v2/sessions/reset_all). It needs an\norganization-level connection with the sessions:delete scope. Idempotent: run it again with\nthe printed --key to retry safely.",
		args, stdout, stderr, (*action.Runner).SignOut)
}
