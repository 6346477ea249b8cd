package main

import (
	"context"
	"io"

	"roster"
	"roster/internal/action"
)

// runReactivate is `roster reactivate`: reactivate a deactivated person
// through SCIM.
func runReactivate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runOrgAction(ctx, "reactivate", roster.ActionReactivate, "Reactivates a deactivated person in the Miro organization through SCIM. It needs an\norganization-level connection with a SCIM token; guests and external users cannot be\nreactivated. Idempotent: run it again with the printed --key to retry safely.",
		args, stdout, stderr, (*action.Runner).Reactivate)
}
