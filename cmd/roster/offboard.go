package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"roster"
	"roster/internal/action"
)

// runOffboard is `roster offboard`: remove a person from every team, then
// deactivate them, then sign them out, each step idempotent under a key
// derived from one run key.
func runOffboard(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("offboard", "", "Offboards a person: removes them from every team of the connection roster knows them in,\nthen deactivates them through SCIM (freeing their license), then signs them out of all\nsessions. Where they are a team's last admin, --service-account is made admin first;\nwithout it that team is skipped and the reason recorded. Every step is idempotent under\nkeys derived from the printed run key: run again with --key to resume. It asks for\nconfirmation unless --yes.", stderr)
	fs.globals()
	f := addActionFlags(fs)
	email := fs.String("email", "", "email of the person to offboard (required; roster must know them)")
	svc := fs.String("service-account", "", "email of the account made admin of teams where the person is the last admin")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := f.check("offboard"); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"offboard: --email is required"}
	}
	if *f.team != "" {
		return usageError{"offboard: --team does not apply: offboarding covers every team"}
	}
	a, err := openApp(ctx, fs.global, fs.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	r := newRunner(a, a.newClients(*f.oauth, &http.Client{}))
	// A bad request is reported before anyone is asked to confirm it.
	check := action.Request{Key: "check", ConnectionID: *f.connID, Email: *email, Actor: cliActor()}
	if err := r.Validate(ctx, roster.ActionSignOut, check); err != nil {
		return printOutcome(stdout, "offboard", roster.Action{}, err)
	}
	fmt.Fprintf(stdout, "Offboard %s through connection %d: remove from every team (service account: %s), deactivate (frees the license), sign out of all sessions.\n",
		*email, *f.connID, cmp.Or(*svc, "none; last-admin teams are skipped"))
	if !*yes {
		if !isTerminal(os.Stdin) {
			return usageError{"offboard: not confirmed: there is no terminal to ask on; pass --yes to confirm"}
		}
		if !confirmed(os.Stdin, stdout, "Offboard? [y/N] ") {
			return errors.New("offboard: not confirmed; nothing was done")
		}
	}
	req, err := f.request(ctx, a, "offboard")
	if err != nil {
		return err
	}
	printKey(stdout, req.Key)
	req.Email = *email
	var problems []string

	teams := req
	teams.Key, teams.ServiceAccountEmail = req.Key+":teams", *svc
	sum, err := r.RemoveFromAllTeams(ctx, teams)
	if err != nil {
		return printOutcome(stdout, "offboard", roster.Action{}, err)
	}
	for _, t := range sum.Teams {
		fmt.Fprintf(stdout, "team %s: %s: %s\n", cmp.Or(t.TeamName, t.MiroTeamID), t.Outcome, t.Reason)
	}
	removed, skipped, failed := sum.Counts()
	fmt.Fprintf(stdout, "teams: %d removed, %d skipped, %d failed\n", removed, skipped, failed)
	if skipped+failed > 0 {
		problems = append(problems, fmt.Sprintf("%d team(s) skipped or failed", skipped+failed))
	}
	for _, step := range []struct {
		name, suffix string
		do           func(context.Context, action.Request) (roster.Action, error)
	}{
		{"deactivate", ":deactivate", r.Deactivate},
		{"sign out", ":signout", r.SignOut},
	} {
		sr := req
		sr.Key = req.Key + step.suffix
		act, err := step.do(ctx, sr)
		fmt.Fprintf(stdout, "%s: ", step.name)
		if err := printOutcome(stdout, step.name, act, err); err != nil {
			if act.ID == 0 {
				fmt.Fprintln(stdout, err)
			}
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("offboard: not complete (%d problem(s)); fix them and run again with --key %s", len(problems), req.Key)
	}
	fmt.Fprintln(stdout, "offboarded "+*email)
	return nil
}
