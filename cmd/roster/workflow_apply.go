package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"roster"
	"roster/internal/store"
	"roster/internal/workflow"
)

// runWorkflowApply is `roster workflow apply -f FILE`.
func runWorkflowApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("apply", "", "Creates or updates workflows from a YAML file of one or more documents separated by ---\n"+
		"(the format of docs/workflows.md, and of roster workflow export and template). A workflow\n"+
		"is updated when one of its name exists, created otherwise. Every definition is checked\n"+
		"first, against the store too (the connection, what it can do, its teams): when any is\n"+
		"invalid, every bad field is printed to stderr as \"<workflow>: <field>: <message>\" and\n"+
		"nothing is saved. Runs already started keep the definition they started with.", stderr)
	file := fs.String("f", "", "the YAML file; - reads standard input (required)")
	if _, err := parseWorkflowArgs(fs, args, 0, ""); err != nil {
		return err
	}
	if *file == "" {
		return usageError{"workflow apply: -f FILE is required (- for standard input)"}
	}
	data, err := readInput(*file)
	if err != nil {
		return fmt.Errorf("workflow apply: %w", err)
	}
	w, err := openWorkflowApp(ctx, fs, false, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	// Which names exist already, to say created or updated.
	existed := map[string]bool{}
	if ws, err := workflow.ParseYAML(bytes.NewReader(data)); err == nil {
		for _, wf := range ws {
			name := strings.ToLower(strings.TrimSpace(wf.Name))
			if _, err := w.store.WorkflowByName(ctx, name); err == nil {
				existed[name] = true
			} else if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("workflow apply: %w", err)
			}
		}
	}
	saved, err := w.engine.Apply(ctx, bytes.NewReader(data))
	for _, wf := range saved {
		verb, state := "created", "disabled"
		if existed[wf.Name] {
			verb = "updated"
		}
		if wf.Enabled {
			state = "enabled"
		}
		fmt.Fprintf(stdout, "%s %s (id %d, %s)\n", verb, wf.Name, wf.ID, state)
	}
	if err != nil {
		if n := printFieldErrors(stderr, "", err); n > 0 {
			return fmt.Errorf("workflow apply: %d invalid field(s) in %s; nothing was saved", n, *file)
		}
		return fmt.Errorf("workflow apply: %w", err)
	}
	return nil
}

// runWorkflowExport is `roster workflow export`.
func runWorkflowExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("export", "", "Writes every stored workflow (or the one --name names) as YAML documents, the form\n"+
		"roster workflow apply reads: export, edit, apply.", stderr)
	name := fs.String("name", "", "export only this workflow")
	out := fs.String("o", "", "write to this file (0644) instead of standard output")
	if _, err := parseWorkflowArgs(fs, args, 0, ""); err != nil {
		return err
	}
	w, err := openWorkflowApp(ctx, fs, false, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	if *name != "" {
		if _, err := w.workflowByName(ctx, "workflow export", *name); err != nil {
			return err
		}
	}
	data, err := w.engine.Export(ctx, strings.ToLower(strings.TrimSpace(*name)))
	if err != nil {
		return fmt.Errorf("workflow export: %w", err)
	}
	if len(data) == 0 {
		fmt.Fprintln(stderr, "workflow export: no workflows yet (roster workflow template prints one to start from)")
	}
	if *out == "" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return fmt.Errorf("workflow export: %w", err)
	}
	return nil
}

// runWorkflowTemplate is `roster workflow template NAME`.
func runWorkflowTemplate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("template", " NAME", "Prints a ready workflow as YAML, disabled and not saved, to review, edit and apply\n"+
		"(roster workflow apply -f FILE), then enable. NAME is one of "+strings.Join(workflow.Templates, ", ")+":\n"+
		"  onboarding       person joined → invite to --team\n"+
		"  offboarding      person left → remove from every team, deactivate, sign out, notify\n"+
		"  license-reclaim  full license inactive 90 days → ask the manager (--approval), then\n"+
		"                   deactivate, or notify when denied", stderr)
	var (
		connID   = fs.Int64("connection", 0, "the connection the steps act through (default: the only organization-level connection)")
		team     = fs.String("team", "", "onboarding: the Miro team to invite to, its name or id (required for onboarding; see roster teams)")
		channel  = fs.String("notify", "", "where reports go: outbox, email, slack or webhook (default: email when --notify-to is given, else the outbox, read under Workflows → Sent notifications)")
		approval = fs.String("approval", "", "license-reclaim: how the manager is asked: email (default), slack or ui")
		to       listFlag
	)
	fs.Var(&to, "notify-to", "`emails` for --notify email, comma-separated or repeated")
	pos, err := parseWorkflowArgs(fs, args, 1, "a template name ("+strings.Join(workflow.Templates, ", ")+")")
	if err != nil {
		return err
	}
	name := pos[0]
	if !slices.Contains(workflow.Templates, name) {
		return usageError{fmt.Sprintf("workflow template: no template %q: one of %s", name, strings.Join(workflow.Templates, ", "))}
	}
	switch *channel {
	case "", roster.ChannelOutbox, roster.ChannelEmail, roster.ChannelSlack, roster.ChannelWebhook:
	default:
		return usageError{fmt.Sprintf("workflow template: --notify must be outbox, email, slack or webhook, got %q", *channel)}
	}
	if *channel == roster.ChannelEmail && len(to) == 0 {
		return usageError{"workflow template: --notify email needs --notify-to addresses"}
	}
	if len(to) > 0 && *channel != "" && *channel != roster.ChannelEmail {
		return usageError{fmt.Sprintf("workflow template: --notify-to applies only to --notify email; %s goes to the configured %s", *channel, *channel)}
	}
	switch *approval {
	case "", roster.ChannelEmail, roster.ChannelSlack, roster.ChannelUI:
	default:
		return usageError{fmt.Sprintf("workflow template: --approval must be email, slack or ui, got %q", *approval)}
	}
	if *approval != "" && name != "license-reclaim" {
		return usageError{"workflow template: --approval applies only to license-reclaim"}
	}
	if *team != "" && name != "onboarding" {
		return usageError{"workflow template: --team applies only to onboarding"}
	}
	if (*channel != "" || len(to) > 0) && name == "onboarding" {
		return usageError{"workflow template: onboarding sends no notification; --notify and --notify-to do not apply"}
	}
	w, err := openWorkflowApp(ctx, fs, false, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	if *connID == 0 {
		id, err := defaultConnection(ctx, w.store)
		if err != nil {
			return err
		}
		*connID = id
	}
	conn, err := w.store.Connection(ctx, *connID)
	if errors.Is(err, store.ErrNotFound) {
		return usageError{fmt.Sprintf("workflow template: no connection %d (roster connections lists them)", *connID)}
	} else if err != nil {
		return fmt.Errorf("workflow template: %w", err)
	}
	if name == "onboarding" && *team == "" {
		return usageError{"workflow template: onboarding needs --team, the Miro team to invite to" + teamChoices(ctx, w.store, conn.ID)}
	}
	teamID, err := resolveTeam(ctx, w.store, "workflow template", *team)
	if err != nil {
		return err
	}
	wf, err := workflow.Template(name, workflow.TemplateOptions{ConnectionID: conn.ID, Team: teamID,
		NotifyChannel: *channel, NotifyTo: to, Approval: *approval})
	if err != nil {
		return usageError{"workflow template: " + err.Error()}
	}
	data, err := workflow.MarshalYAML([]roster.Workflow{wf})
	if err != nil {
		return fmt.Errorf("workflow template: %w", err)
	}
	fmt.Fprintf(stdout, "# The %s template, not saved and disabled. Review it, then:\n#   roster workflow apply -f FILE && roster workflow dry-run %s && roster workflow enable %s\n", name, wf.Name, wf.Name)
	if _, err := stdout.Write(data); err != nil {
		return err
	}
	// Say now what apply would refuse, e.g. a connection without SCIM.
	check := wf
	if err := w.engine.Check(ctx, &check); err != nil {
		if printFieldErrors(stderr, "note: "+wf.Name+": ", err) == 0 {
			return fmt.Errorf("workflow template: %w", err)
		}
		fmt.Fprintln(stderr, "note: as printed, roster workflow apply would refuse it; fix the fields above first")
	}
	return nil
}

// defaultConnection is the connection a template acts through when
// --connection is not given (workflow.DefaultConnection), or a usage
// error saying to choose.
func defaultConnection(ctx context.Context, st store.Store) (int64, error) {
	conns, err := st.Connections(ctx)
	if err != nil {
		return 0, fmt.Errorf("workflow template: %w", err)
	}
	id, err := workflow.DefaultConnection(conns)
	var amb *workflow.AmbiguousConnectionError
	switch {
	case errors.Is(err, workflow.ErrNoDefaultConnection):
		return 0, usageError{"workflow template: --connection is required: " + err.Error() + " (roster connections lists them)"}
	case errors.As(err, &amb):
		return 0, usageError{"workflow template: --connection is required: " + err.Error()}
	case err != nil:
		return 0, fmt.Errorf("workflow template: %w", err)
	}
	return id, nil
}

// teamChoices lists a connection's teams for an error message.
func teamChoices(ctx context.Context, st store.Store, connID int64) string {
	teams, err := st.Teams(ctx, connID)
	if err != nil || len(teams) == 0 {
		return fmt.Sprintf(" (connection %d has no synced teams: run roster sync)", connID)
	}
	var list []string
	for i, t := range teams {
		if i == 20 {
			list = append(list, fmt.Sprintf("and %d more", len(teams)-20))
			break
		}
		list = append(list, fmt.Sprintf("%s (%s)", t.MiroTeamID, t.Name))
	}
	return fmt.Sprintf("; the teams of connection %d: %s", connID, strings.Join(list, ", "))
}
