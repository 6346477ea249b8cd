package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"

	"roster"
	"roster/internal/action"
	"roster/internal/connect"
)

// runInvite is `roster invite`: invite an organization member to a team.
func runInvite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("invite", "", "Invites a member of the Miro organization to a team, as member or admin. A team-level\nconnection acts on its own team only (the default --team); an organization-level one on\nany team of the organization. People outside the organization join it through SCIM or\nyour identity provider, not through a team invite. The action is idempotent: run it again\nwith the printed --key to retry safely.", stderr)
	fs.globals()
	f := addActionFlags(fs)
	email := fs.String("email", "", "email of the person to invite (required)")
	role := fs.String("role", roster.TeamRoleMember, "team role: member or admin")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := f.check("invite"); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"invite: --email is required"}
	}
	fill := func(req *action.Request) { req.Email, req.Role = *email, *role }
	return runAction(ctx, fs, f, stdout, roster.ActionInvite, fill, nil, func(r *action.Runner, req action.Request) (roster.Action, error) {
		return r.Invite(ctx, req)
	})
}

// actionFlags are the flags every action command shares.
type actionFlags struct {
	connID *int64
	team   *string
	key    *string
	oauth  *connect.App
}

func addActionFlags(fs *flagSet) *actionFlags {
	return &actionFlags{
		connID: fs.Int64("connection", 0, "the connection to act through (see roster connections; required)"),
		team:   fs.String("team", "", "Miro team: its name or id (see roster teams); a team-level connection's own team by default"),
		key:    fs.String("key", "", "idempotency key; a new random key when empty. Give a printed key to retry an action safely"),
		oauth:  oauthAppFlags(fs),
	}
}

func (f *actionFlags) check(cmd string) error {
	if *f.connID <= 0 {
		return usageError{fmt.Sprintf("%s: --connection is required (see roster connections)", cmd)}
	}
	return nil
}

// request is the part of an action request the shared flags give, the
// team read by name or id. The key is random unless given, so that two
// runs are two actions; printKey prints it once the request is valid,
// before acting, so that an interrupted run can be retried with it.
func (f *actionFlags) request(ctx context.Context, a *app, cmd string) (action.Request, error) {
	team, err := resolveTeam(ctx, a.store, cmd, *f.team)
	if err != nil {
		return action.Request{}, err
	}
	k := *f.key
	if k == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return action.Request{}, fmt.Errorf("make an action key: %w", err)
		}
		k = "cli-" + hex.EncodeToString(b[:])
	}
	return action.Request{Key: k, ConnectionID: *f.connID, MiroTeamID: team, Actor: cliActor()}, nil
}

// printKey prints an action's key, just before it is attempted.
func printKey(stdout io.Writer, key string) {
	fmt.Fprintf(stdout, "action key %s (to retry safely: --key %s)\n", key, key)
}

// cliActor names the person at the command line in the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return "cli:" + n
	}
	return "cli"
}

// newRunner is the action Runner of every command that acts.
func newRunner(a *app, clients *connect.Clients) *action.Runner {
	return &action.Runner{Store: a.store, Clients: clients, Logger: a.logger}
}

// runAction opens the app, fills the request, validates it (a bad one is
// a usage error, and no key is printed for an action never attempted),
// asks confirm (when set) whether to go on, prints the key, runs do and
// prints the outcome. A refusal or failure exits non-zero after printing.
func runAction(ctx context.Context, fs *flagSet, f *actionFlags, stdout io.Writer, kind roster.ActionKind, fill func(*action.Request),
	confirm func(*app, action.Request) error, do func(*action.Runner, action.Request) (roster.Action, error)) error {
	a, err := openApp(ctx, fs.global, fs.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	req, err := f.request(ctx, a, fs.name)
	if err != nil {
		return err
	}
	fill(&req)
	r := newRunner(a, a.newClients(*f.oauth, &http.Client{}))
	if err := r.Validate(ctx, kind, req); err != nil {
		return printOutcome(stdout, fs.name, roster.Action{}, err)
	}
	if confirm != nil {
		if err := confirm(a, req); err != nil {
			return err
		}
	}
	printKey(stdout, req.Key)
	act, err := do(r, req)
	return printOutcome(stdout, fs.name, act, err)
}

// printOutcome prints what an action came to and returns the command's error.
func printOutcome(stdout io.Writer, cmd string, act roster.Action, err error) error {
	if errors.Is(err, action.ErrInvalid) {
		return usageError{fmt.Sprintf("%s: %v", cmd, err)}
	}
	if act.ID == 0 {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	switch act.Status {
	case roster.ActionSucceeded:
		fmt.Fprintf(stdout, "done: %s\n", act.Result)
	case roster.ActionPending:
		fmt.Fprintln(stdout, "not done yet: another run of this key has not finished")
	default:
		fmt.Fprintf(stdout, "%s: %s\n", act.Status, act.Result)
	}
	if act.MiroAnswer != "" {
		fmt.Fprintf(stdout, "Miro answered: %s\n", act.MiroAnswer)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}
