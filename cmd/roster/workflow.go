package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"roster"
	"roster/internal/connect"
	"roster/internal/jobs"
	"roster/internal/store"
	"roster/internal/workflow"
)

// workflowCommand is one `roster workflow <sub>`.
type workflowCommand struct {
	name, usage, summary string
	run                  func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// workflowCommands is the explicit list of `roster workflow` subcommands,
// in the order the help shows them.
func workflowCommands() []workflowCommand {
	return []workflowCommand{
		{"apply", "-f FILE", "create or update workflows from YAML (all or none)", runWorkflowApply},
		{"export", "[--name NAME] [-o FILE]", "write the stored workflows as YAML", runWorkflowExport},
		{"template", "NAME --connection N ...", "print a ready workflow (onboarding, offboarding, license-reclaim) to edit and apply", runWorkflowTemplate},
		{"list", "", "list the workflows with their trigger and runs", runWorkflowList},
		{"enable", "NAME", "enable a workflow: its trigger starts runs", runWorkflowEnable},
		{"disable", "NAME", "disable a workflow: its trigger starts nothing (runs going on go on)", runWorkflowDisable},
		{"dry-run", "NAME | -f FILE [--email E ...]", "preview whom a workflow would run for and what each step would do", runWorkflowDryRun},
		{"run", "NAME --email E [--email E ...]", "start a workflow now for the people named", runWorkflowRun},
		{"runs", "[--workflow NAME] [--status S] [--email E]", "list runs, newest first, with counts by status", runWorkflowRuns},
		{"show", "RUN_ID", "show a run and its timeline", runWorkflowShow},
		{"cancel", "RUN_ID", "cancel a run that has not ended", runWorkflowCancel},
		{"approvals", "[--all]", "list approvals waiting for an answer", runWorkflowApprovals},
		{"approve", "APPROVAL_ID", "approve a pending approval", runWorkflowApprove},
		{"deny", "APPROVAL_ID", "deny a pending approval", runWorkflowDeny},
	}
}

// runWorkflow is `roster workflow <subcommand>`: workflow definitions,
// previews, manual runs, their timelines and approvals
// (internal/workflow). Runs are worked by `roster serve`.
func runWorkflow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := workflowCommands()
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	help := len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") || help {
		w := stderr
		if help {
			w = stdout
		}
		fmt.Fprintln(w, "Usage: roster workflow <subcommand> [flags]\n\nWorkflows automate onboarding, offboarding and license reclaim (see docs/workflows.md).\nroster serve evaluates their triggers and works their runs; these commands define,\npreview, start and inspect them.\n\nSubcommands:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range cmds {
			fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.usage, c.summary)
		}
		tw.Flush()
		fmt.Fprintln(w, "\nRun \"roster workflow <subcommand> -h\" for its flags.")
		if !help {
			return usageError{"workflow: no subcommand given; it comes first (" + strings.Join(names, ", ") + ")"}
		}
		return nil
	}
	for _, c := range cmds {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	return usageError{fmt.Sprintf("workflow: unknown subcommand %q (%s)", args[0], strings.Join(names, ", "))}
}

// newWorkflowFlags starts the flag set of `roster workflow <sub>`, with
// the global flags.
func newWorkflowFlags(sub, args, about string, stderr io.Writer) *flagSet {
	fs := newFlagSet("workflow "+sub, args, about, stderr)
	fs.globals()
	return fs
}

// parseWorkflowArgs parses args, whose positional arguments may come
// before, between or after the flags, and returns the positional ones; it
// insists on exactly want of them (want < 0: any number). The flags'
// environment variables are ROSTER_WORKFLOW_<SUB>_<FLAG> unless named.
func parseWorkflowArgs(fs *flagSet, args []string, want int, what string) ([]string, error) {
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := fs.env[f.Name]; !ok {
			up := func(s string) string { return strings.ToUpper(strings.NewReplacer("-", "_", " ", "_").Replace(s)) }
			fs.env[f.Name] = "ROSTER_" + up(fs.name) + "_" + up(f.Name)
		}
	})
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // the parser names the unknown flag
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	if err := fs.parse(flags); err != nil {
		return nil, err
	}
	switch {
	case want >= 0 && len(pos) < want:
		return nil, usageError{fmt.Sprintf("%s: give %s (run \"roster %s -h\")", fs.name, what, fs.name)}
	case want >= 0 && len(pos) > want:
		return nil, usageError{fmt.Sprintf("%s: unexpected argument %q (run \"roster %s -h\")", fs.name, pos[want], fs.name)}
	}
	return pos, nil
}

// listFlag is a repeatable flag whose values may also be separated by
// commas.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// wfApp is a store-backed command's app with its workflow engine, and,
// for commands that start or wake runs, a job runner that only inserts:
// it is never started, so `roster serve` works the jobs.
type wfApp struct {
	*app
	engine *workflow.Engine
	runner *jobs.Runner
}

// openWorkflowApp opens the store and builds the engine; withJobs adds
// the enqueueing job runner, whose step jobs get attempts tries.
func openWorkflowApp(ctx context.Context, fs *flagSet, withJobs bool, attempts int) (*wfApp, error) {
	a, err := openApp(ctx, fs.global, fs.stderr)
	if err != nil {
		return nil, err
	}
	auto := defaultAutomation()
	if attempts > 0 {
		auto.attempts = attempts
	}
	engine, err := newEngine(a, newRunner(a, a.newClients(connect.App{}, &http.Client{})), auto)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("%s: %w", fs.name, err)
	}
	w := &wfApp{app: a, engine: engine}
	if withJobs {
		// The step kind must be registered for River to insert it, so the
		// runner is configured as serve's is; it is never started.
		runner, err := jobs.New(ctx, auto.jobsConfig(jobs.Config{DB: a.db, DSN: a.dsn,
			Syncer: newSyncer(a, a.newClients(connect.App{}, &http.Client{})), Logger: a.logger}, engine))
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("%s: %w", fs.name, err)
		}
		w.runner = runner
		engine.Jobs = runner
	}
	return w, nil
}

// Close closes the job runner, if any, and the store.
func (w *wfApp) Close() error {
	if w.runner != nil {
		w.runner.Close()
	}
	return w.app.Close()
}

// workflowByName reads a stored workflow, saying how to find the names
// when there is none.
func (w *wfApp) workflowByName(ctx context.Context, cmd, name string) (roster.Workflow, error) {
	wf, err := w.store.WorkflowByName(ctx, strings.ToLower(strings.TrimSpace(name)))
	if errors.Is(err, store.ErrNotFound) {
		return wf, fmt.Errorf("%s: no workflow named %s (roster workflow list shows them)", cmd, name)
	}
	if err != nil {
		return wf, fmt.Errorf("%s: %w", cmd, err)
	}
	return wf, nil
}

// printFieldErrors prints each field error of err on its own line, with
// prefix, and reports how many there were (0: err has none).
func printFieldErrors(w io.Writer, prefix string, err error) int {
	var fe roster.WorkflowErrors
	if !errors.As(err, &fe) {
		return 0
	}
	for _, f := range fe {
		fmt.Fprintf(w, "%s%s: %s\n", prefix, f.Path, f.Message)
	}
	return len(fe)
}

// stepAttemptsFlag adds --step-attempts to commands that enqueue step
// jobs: a job's attempts are fixed when it is inserted, so it reads
// ROSTER_STEP_ATTEMPTS, as serve does.
func stepAttemptsFlag(fs *flagSet) *int {
	p := fs.Int("step-attempts", jobs.DefaultStepAttempts, "attempts of the step jobs this command queues before their run fails (serve's --step-attempts applies to the steps after)")
	fs.envName("step-attempts", "ROSTER_STEP_ATTEMPTS")
	return p
}

// readInput opens name, or standard input for "-".
func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

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
		team     = fs.String("team", "", "onboarding: the Miro team id to invite to (required for onboarding)")
		channel  = fs.String("notify", "", "where reports go: email, slack or webhook (default: email when --notify-to is given, else webhook)")
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
	case "", roster.ChannelEmail, roster.ChannelSlack, roster.ChannelWebhook:
	default:
		return usageError{fmt.Sprintf("workflow template: --notify must be email, slack or webhook, got %q", *channel)}
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
		id, err := onlyOrgConnection(ctx, w.store)
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
		return usageError{"workflow template: onboarding needs --team, the Miro team id to invite to" + teamChoices(ctx, w.store, conn.ID)}
	}
	wf, err := workflow.Template(name, workflow.TemplateOptions{ConnectionID: conn.ID, Team: *team,
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

// onlyOrgConnection is the id of the only organization-level connection
// that is not disconnected, or a usage error saying to choose.
func onlyOrgConnection(ctx context.Context, st store.Store) (int64, error) {
	conns, err := st.Connections(ctx)
	if err != nil {
		return 0, fmt.Errorf("workflow template: %w", err)
	}
	var ids []string
	var id int64
	for _, c := range conns {
		if c.Level == roster.LevelOrganization && c.Status != roster.StatusDisconnected {
			id = c.ID
			ids = append(ids, strconv.FormatInt(c.ID, 10))
		}
	}
	switch len(ids) {
	case 1:
		return id, nil
	case 0:
		return 0, usageError{"workflow template: --connection is required: there is no organization-level connection to default to (roster connections lists them)"}
	}
	return 0, usageError{"workflow template: --connection is required: one of " + strings.Join(ids, ", ")}
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

// runWorkflowList is `roster workflow list`.
func runWorkflowList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("list", "", "Lists the workflows: id, name, trigger, enabled, steps, connection and runs (live,\nsucceeded, failed).", stderr)
	if _, err := parseWorkflowArgs(fs, args, 0, ""); err != nil {
		return err
	}
	w, err := openWorkflowApp(ctx, fs, false, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	ws, err := w.store.Workflows(ctx)
	if err != nil {
		return fmt.Errorf("workflow list: %w", err)
	}
	if len(ws) == 0 {
		fmt.Fprintln(stdout, `No workflows yet. "roster workflow template offboarding" prints one to start from.`)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTRIGGER\tENABLED\tSTEPS\tCONNECTION\tRUNS (LIVE/SUCCEEDED/FAILED)")
	for _, wf := range ws {
		page, err := w.store.Runs(ctx, store.RunFilter{WorkflowID: wf.ID, Limit: 1})
		if err != nil {
			return fmt.Errorf("workflow list: %w", err)
		}
		c := page.Counts
		enabled := "no"
		if wf.Enabled {
			enabled = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d/%d/%d\n", wf.ID, wf.Name, triggerSummary(wf.Trigger), enabled,
			len(wf.Steps), wf.ConnectionID, c[roster.RunRunning]+c[roster.RunWaiting], c[roster.RunSucceeded], c[roster.RunFailed])
	}
	return tw.Flush()
}

// triggerSummary is a trigger in a few words.
func triggerSummary(t roster.Trigger) string {
	switch t.Kind {
	case roster.TriggerInactive:
		return fmt.Sprintf("inactive %dd", t.Days)
	case roster.TriggerSchedule:
		return "schedule " + t.Cron
	case roster.TriggerLicenseChanged:
		if t.License != "" {
			return "license_changed to " + t.License
		}
	}
	return string(t.Kind)
}

// runWorkflowEnable is `roster workflow enable NAME`.
func runWorkflowEnable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return setWorkflowEnabled(ctx, "enable", args, stdout, stderr, true)
}

// runWorkflowDisable is `roster workflow disable NAME`.
func runWorkflowDisable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return setWorkflowEnabled(ctx, "disable", args, stdout, stderr, false)
}

func setWorkflowEnabled(ctx context.Context, sub string, args []string, stdout, stderr io.Writer, enabled bool) error {
	about := "Enables a workflow: roster serve evaluates its trigger and starts runs. It is checked\n" +
		"again first (the connection may have lost a capability or a team). Its trigger starts\n" +
		"from now: what happened while it was disabled starts nothing (roster workflow dry-run\n" +
		"shows who it would act on; roster workflow run starts runs for them)."
	if !enabled {
		about = "Disables a workflow: its trigger starts no more runs. Runs already going on go on\n(roster workflow cancel stops one)."
	}
	fs := newWorkflowFlags(sub, " NAME", about, stderr)
	pos, err := parseWorkflowArgs(fs, args, 1, "a workflow name")
	if err != nil {
		return err
	}
	cmd := "workflow " + sub
	w, err := openWorkflowApp(ctx, fs, false, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	wf, err := w.workflowByName(ctx, cmd, pos[0])
	if err != nil {
		return err
	}
	if wf.Enabled == enabled {
		fmt.Fprintf(stdout, "%s (id %d) is already %sd\n", wf.Name, wf.ID, sub)
		return nil
	}
	if _, err := w.engine.SetEnabled(ctx, wf, enabled); err != nil {
		if n := printFieldErrors(stderr, wf.Name+": ", err); n > 0 {
			return fmt.Errorf("%s: %s has %d invalid field(s); fix them with roster workflow apply", cmd, wf.Name, n)
		}
		return fmt.Errorf("%s: %w", cmd, err)
	}
	fmt.Fprintf(stdout, "%sd %s (id %d)\n", sub, wf.Name, wf.ID)
	return nil
}

// runWorkflowDryRun is `roster workflow dry-run`.
func runWorkflowDryRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("dry-run", " [NAME]", "Previews a workflow: whom it would run for now and what each step would do for each of\n"+
		"them, marking the steps that would be refused or fail (BLOCKED), and whom its conditions\n"+
		"leave out. It changes nothing and calls nothing. NAME is a stored workflow; -f FILE\n"+
		"previews an unsaved definition instead (with NAME, the document of that name). Without\n"+
		"--email it previews the trigger's current candidates (see docs/workflows.md).", stderr)
	var emails listFlag
	fs.Var(&emails, "email", "preview the person with this `email` instead of the trigger's candidates (repeated or comma-separated)")
	file := fs.String("f", "", "preview the definition in this YAML file (- for standard input) instead of a stored one")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	pos, err := parseWorkflowArgs(fs, args, -1, "")
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError{fmt.Sprintf("workflow dry-run: unexpected argument %q (run \"roster workflow dry-run -h\")", pos[1])}
	}
	if len(pos) == 0 && *file == "" {
		return usageError{"workflow dry-run: give a workflow name or -f FILE"}
	}
	var data []byte
	if *file != "" {
		if data, err = readInput(*file); err != nil {
			return fmt.Errorf("workflow dry-run: %w", err)
		}
	}
	w, err := openWorkflowApp(ctx, fs, false, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	var wf roster.Workflow
	if *file != "" {
		ws, err := workflow.ParseYAML(bytes.NewReader(data))
		if err != nil {
			if printFieldErrors(stderr, "", err) > 0 {
				return fmt.Errorf("workflow dry-run: %s does not parse", *file)
			}
			return fmt.Errorf("workflow dry-run: %w", err)
		}
		switch {
		case len(pos) == 1:
			i := slices.IndexFunc(ws, func(x roster.Workflow) bool {
				return strings.EqualFold(strings.TrimSpace(x.Name), strings.TrimSpace(pos[0]))
			})
			if i < 0 {
				return usageError{fmt.Sprintf("workflow dry-run: %s holds no workflow named %s", *file, pos[0])}
			}
			wf = ws[i]
		case len(ws) > 1:
			return usageError{fmt.Sprintf("workflow dry-run: %s holds %d workflows; name the one to preview", *file, len(ws))}
		default:
			wf = ws[0]
		}
	} else if wf, err = w.workflowByName(ctx, "workflow dry-run", pos[0]); err != nil {
		return err
	}
	d, err := w.engine.Preview(ctx, wf, emails)
	if err != nil {
		label := cmp.Or(strings.ToLower(strings.TrimSpace(wf.Name)), "workflow")
		if n := printFieldErrors(stderr, label+": ", err); n > 0 {
			return fmt.Errorf("workflow dry-run: %s has %d invalid field(s)", label, n)
		}
		return fmt.Errorf("workflow dry-run: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(dryRunToJSON(d))
	}
	printDryRun(stdout, d)
	return nil
}

// printDryRun prints a preview as text.
func printDryRun(w io.Writer, d workflow.DryRun) {
	fmt.Fprintf(w, "Dry run of %s (nothing was changed or called)\n", d.Workflow)
	fmt.Fprintf(w, "Basis: %s\n", d.Basis)
	fmt.Fprintf(w, "Would run for %d %s", d.Total, plural(d.Total, "person", "people"))
	if d.Total > len(d.Runs) {
		fmt.Fprintf(w, " (the first %d shown)", len(d.Runs))
	}
	fmt.Fprintln(w)
	for _, r := range d.Runs {
		fmt.Fprintf(w, "\n%s", r.Email)
		var about []string
		if r.Name != "" {
			about = append(about, r.Name)
		}
		if r.License != "" {
			about = append(about, r.License+" license")
		}
		if len(about) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(about, ", "))
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range r.Steps {
			mark := ""
			if s.Blocked {
				mark = "BLOCKED: "
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s%s\n", s.ID, s.Kind, mark, s.Plan)
		}
		tw.Flush()
	}
	if d.ExcludedTotal > 0 {
		fmt.Fprintf(w, "\nExcluded: %d", d.ExcludedTotal)
		if d.ExcludedTotal > len(d.Excluded) {
			fmt.Fprintf(w, " (the first %d shown)", len(d.Excluded))
		}
		fmt.Fprintln(w)
		for _, x := range d.Excluded {
			fmt.Fprintf(w, "  %s: %s\n", x.Email, x.Reason)
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// dryRunJSON is a preview in --json.
type dryRunJSON struct {
	Workflow      string           `json:"workflow"`
	Basis         string           `json:"basis"`
	Total         int              `json:"total"`
	Runs          []plannedRunJSON `json:"runs"`
	ExcludedTotal int              `json:"excluded_total"`
	Excluded      []exclusionJSON  `json:"excluded"`
}

type plannedRunJSON struct {
	Email   string            `json:"email"`
	Name    string            `json:"name"`
	License string            `json:"license"`
	Steps   []plannedStepJSON `json:"steps"`
}

type plannedStepJSON struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Plan    string `json:"plan"`
	Blocked bool   `json:"blocked"`
}

type exclusionJSON struct {
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

func dryRunToJSON(d workflow.DryRun) dryRunJSON {
	out := dryRunJSON{Workflow: d.Workflow, Basis: d.Basis, Total: d.Total, ExcludedTotal: d.ExcludedTotal,
		Runs: []plannedRunJSON{}, Excluded: exclusionsJSON(d.Excluded)}
	for _, r := range d.Runs {
		pr := plannedRunJSON{Email: r.Email, Name: r.Name, License: r.License, Steps: []plannedStepJSON{}}
		for _, s := range r.Steps {
			pr.Steps = append(pr.Steps, plannedStepJSON{ID: s.ID, Kind: string(s.Kind), Plan: s.Plan, Blocked: s.Blocked})
		}
		out.Runs = append(out.Runs, pr)
	}
	return out
}

func exclusionsJSON(xs []workflow.Exclusion) []exclusionJSON {
	out := []exclusionJSON{}
	for _, x := range xs {
		out = append(out, exclusionJSON{Email: x.Email, Reason: x.Reason})
	}
	return out
}

// readEmailsFile reads emails one a line (or comma-separated); blank
// lines and lines starting with # are skipped.
func readEmailsFile(name string) ([]string, error) {
	data, err := readInput(name)
	if err != nil {
		return nil, err
	}
	var out listFlag
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		_ = out.Set(line)
	}
	return out, sc.Err()
}

// runWorkflowRun is `roster workflow run NAME --email E`.
func runWorkflowRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("run", " NAME", "Starts a workflow now for the people named (directory people or synced Miro accounts),\n"+
		"whatever its trigger and whether or not it is enabled; its conditions still apply, and\n"+
		"the people they leave out are listed with the reason. The runs' first steps are queued:\n"+
		"a running roster serve works them (roster workflow show RUN_ID follows one).", stderr)
	var emails listFlag
	fs.Var(&emails, "email", "a person's `email` to run it for (repeated or comma-separated)")
	file := fs.String("emails-file", "", "a file of emails, one a line (# comments); - reads standard input")
	attempts := stepAttemptsFlag(fs)
	pos, err := parseWorkflowArgs(fs, args, 1, "a workflow name")
	if err != nil {
		return err
	}
	if *attempts < 1 {
		return usageError{fmt.Sprintf("workflow run: --step-attempts must be at least 1, got %d", *attempts)}
	}
	if *file != "" {
		more, err := readEmailsFile(*file)
		if err != nil {
			return fmt.Errorf("workflow run: %w", err)
		}
		emails = append(emails, more...)
	}
	if len(emails) == 0 {
		return usageError{"workflow run: name at least one person with --email or --emails-file"}
	}
	w, err := openWorkflowApp(ctx, fs, true, *attempts)
	if err != nil {
		return err
	}
	defer w.Close()
	wf, err := w.workflowByName(ctx, "workflow run", pos[0])
	if err != nil {
		return err
	}
	res, err := w.engine.RunManual(ctx, wf.ID, emails, cliActor())
	for _, r := range res.Started {
		fmt.Fprintf(stdout, "started run %d for %s\n", r.ID, r.Email)
	}
	for _, x := range res.Excluded {
		fmt.Fprintf(stdout, "excluded %s: %s\n", x.Email, x.Reason)
	}
	if err != nil {
		if printFieldErrors(stderr, wf.Name+": ", err) > 0 {
			return usageError{"workflow run: nothing was started"}
		}
		return fmt.Errorf("workflow run: %w", err)
	}
	fmt.Fprintf(stdout, "%d %s started, %d excluded", len(res.Started), plural(len(res.Started), "run", "runs"), len(res.Excluded))
	if len(res.Started) > 0 {
		fmt.Fprint(stdout, "; a running roster serve works them (roster workflow runs --workflow "+wf.Name+" follows them)")
	}
	fmt.Fprintln(stdout)
	if !wf.Enabled {
		fmt.Fprintf(stdout, "note: %s is disabled: its trigger starts nothing on its own, but these runs go on\n", wf.Name)
	}
	return nil
}

// runWorkflowRuns is `roster workflow runs`.
func runWorkflowRuns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("runs", "", "Lists workflow runs, newest first, with the counts of the matching runs by status\n(the counts ignore --status).", stderr)
	var (
		name   = fs.String("workflow", "", "only the runs of this workflow")
		status = fs.String("status", "", "only runs in this status: running, waiting, succeeded, failed or cancelled")
		email  = fs.String("email", "", "only the runs for this person")
		limit  = fs.Int("limit", 50, "at most this many runs (1-500)")
		before = fs.Int64("before", 0, "only runs with a smaller id (the next page)")
	)
	if _, err := parseWorkflowArgs(fs, args, 0, ""); err != nil {
		return err
	}
	switch roster.RunStatus(*status) {
	case "", roster.RunRunning, roster.RunWaiting, roster.RunSucceeded, roster.RunFailed, roster.RunCancelled:
	default:
		return usageError{fmt.Sprintf("workflow runs: --status must be running, waiting, succeeded, failed or cancelled, got %q", *status)}
	}
	if *limit < 1 || *limit > 500 {
		return usageError{fmt.Sprintf("workflow runs: --limit must be between 1 and 500, got %d", *limit)}
	}
	if *before < 0 {
		return usageError{fmt.Sprintf("workflow runs: --before must be a run id, got %d", *before)}
	}
	w, err := openWorkflowApp(ctx, fs, false, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	f := store.RunFilter{Status: roster.RunStatus(*status), Email: roster.NormalizeEmail(*email), Limit: *limit, BeforeID: *before}
	if *name != "" {
		wf, err := w.workflowByName(ctx, "workflow runs", *name)
		if err != nil {
			return err
		}
		f.WorkflowID = wf.ID
	}
	page, err := w.store.Runs(ctx, f)
	if err != nil {
		return fmt.Errorf("workflow runs: %w", err)
	}
	all := 0
	var counts []string
	for _, s := range []roster.RunStatus{roster.RunRunning, roster.RunWaiting, roster.RunSucceeded, roster.RunFailed, roster.RunCancelled} {
		all += page.Counts[s]
		counts = append(counts, fmt.Sprintf("%d %s", page.Counts[s], s))
	}
	fmt.Fprintf(stdout, "%d %s: %s\n", all, plural(all, "run", "runs"), strings.Join(counts, ", "))
	if len(page.Runs) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWORKFLOW\tEMAIL\tSTATUS\tSTEP\tTRIGGER\tSTARTED\tERROR")
	for _, r := range page.Runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.WorkflowName, r.Email, r.Status, runStepName(r),
			r.Trigger, formatTime(r.CreatedAt, "-"), dash(r.Error))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.NextBefore > 0 {
		fmt.Fprintf(stdout, "more: --before %d\n", page.NextBefore)
	}
	return nil
}

// runStepName is the step a run is at, or "-" once it ended.
func runStepName(r roster.WorkflowRun) string {
	if !r.Status.Live() || r.Position < 0 || r.Position >= len(r.Definition.Steps) {
		return "-"
	}
	return r.Definition.Steps[r.Position].ID
}

// runIDArg reads a positive id argument.
func runIDArg(cmd, what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Sprintf("%s: %q is not %s", cmd, s, what)}
	}
	return id, nil
}

// runWorkflowShow is `roster workflow show RUN_ID`.
func runWorkflowShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("show", " RUN_ID", "Shows a run (workflow, person, status, trigger, times, error) and its timeline: each\n"+
		"step started, with its status, attempts, what it did or why not, where the run went\n"+
		"next and, for waits and approvals, until when. Approvals show their id.", stderr)
	pos, err := parseWorkflowArgs(fs, args, 1, "a run id (roster workflow runs lists them)")
	if err != nil {
		return err
	}
	id, err := runIDArg("workflow show", "a run id", pos[0])
	if err != nil {
		return err
	}
	w, err := openWorkflowApp(ctx, fs, false, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	run, err := w.store.Run(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("workflow show: no run %d (roster workflow runs lists them)", id)
	} else if err != nil {
		return fmt.Errorf("workflow show: %w", err)
	}
	steps, err := w.store.RunSteps(ctx, id)
	if err != nil {
		return fmt.Errorf("workflow show: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "run\t%d\n", run.ID)
	fmt.Fprintf(tw, "workflow\t%s (id %d)\n", run.WorkflowName, run.WorkflowID)
	fmt.Fprintf(tw, "person\t%s\n", run.Email)
	fmt.Fprintf(tw, "status\t%s\n", run.Status)
	if run.Status.Live() {
		fmt.Fprintf(tw, "at step\t%s\n", runStepName(run))
	}
	fmt.Fprintf(tw, "trigger\t%s\n", run.Trigger)
	fmt.Fprintf(tw, "started\t%s\n", formatTime(run.CreatedAt, "-"))
	fmt.Fprintf(tw, "updated\t%s\n", formatTime(run.UpdatedAt, "-"))
	if !run.EndedAt.IsZero() {
		fmt.Fprintf(tw, "ended\t%s\n", formatTime(run.EndedAt, "-"))
	}
	if run.Error != "" {
		fmt.Fprintf(tw, "error\t%s\n", run.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if len(steps) == 0 {
		fmt.Fprintln(stdout, "No step has started yet: a running roster serve works the run.")
		return nil
	}
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tKIND\tSTATUS\tATTEMPTS\tSTARTED\tDETAIL\tBRANCH\tDUE")
	var approvals []string
	for _, s := range steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", s.StepID, s.Kind, s.Status, s.Attempts,
			formatTime(s.StartedAt, "-"), dash(s.Detail), dash(s.Branch), formatTime(s.DueAt, "-"))
		if s.Kind != roster.StepApproval {
			continue
		}
		a, err := w.store.ApprovalFor(ctx, run.ID, s.StepID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return fmt.Errorf("workflow show: %w", err)
		}
		line := fmt.Sprintf("approval %d (step %s): %s; approver %s; expires %s", a.ID, a.StepID, a.Status, a.Approver, formatTime(a.ExpiresAt, "-"))
		if a.Status == roster.ApprovalPending {
			line += fmt.Sprintf("; answer with roster workflow approve %d or deny %d", a.ID, a.ID)
		} else if a.DecidedBy != "" {
			line += fmt.Sprintf("; by %s at %s", a.DecidedBy, formatTime(a.DecidedAt, "-"))
		}
		approvals = append(approvals, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(approvals) > 0 {
		fmt.Fprintln(stdout)
		for _, l := range approvals {
			fmt.Fprintln(stdout, l)
		}
	}
	return nil
}

// runWorkflowCancel is `roster workflow cancel RUN_ID`.
func runWorkflowCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("cancel", " RUN_ID", "Cancels a run that has not ended: its queued step jobs then do nothing. A step working\n"+
		"at that moment finishes its call to Miro (recorded and audited), but the run goes no\nfurther.", stderr)
	pos, err := parseWorkflowArgs(fs, args, 1, "a run id (roster workflow runs lists them)")
	if err != nil {
		return err
	}
	id, err := runIDArg("workflow cancel", "a run id", pos[0])
	if err != nil {
		return err
	}
	w, err := openWorkflowApp(ctx, fs, false, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	run, err := w.engine.Cancel(ctx, id, cliActor())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("workflow cancel: no run %d (roster workflow runs lists them)", id)
	case errors.Is(err, store.ErrConflict):
		if cur, rerr := w.store.Run(ctx, id); rerr == nil {
			return fmt.Errorf("workflow cancel: run %d already ended: %s", id, cur.Status)
		}
		return fmt.Errorf("workflow cancel: run %d already ended", id)
	case err != nil:
		return fmt.Errorf("workflow cancel: %w", err)
	}
	fmt.Fprintf(stdout, "cancelled run %d (%s for %s)\n", run.ID, run.WorkflowName, run.Email)
	return nil
}

// runWorkflowApprovals is `roster workflow approvals`.
func runWorkflowApprovals(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("approvals", "", "Lists the approvals waiting for an answer, newest first (--all: answered ones too).\nroster workflow approve ID or deny ID answers one.", stderr)
	all := fs.Bool("all", false, "list answered and timed-out approvals too")
	limit := fs.Int("limit", 100, "at most this many approvals (1-1000)")
	if _, err := parseWorkflowArgs(fs, args, 0, ""); err != nil {
		return err
	}
	if *limit < 1 || *limit > 1000 {
		return usageError{fmt.Sprintf("workflow approvals: --limit must be between 1 and 1000, got %d", *limit)}
	}
	w, err := openWorkflowApp(ctx, fs, false, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	as, err := w.store.Approvals(ctx, !*all, *limit)
	if err != nil {
		return fmt.Errorf("workflow approvals: %w", err)
	}
	if len(as) == 0 {
		fmt.Fprintln(stdout, "No approvals waiting.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRUN\tWORKFLOW\tPERSON\tSTEP\tAPPROVER\tSTATUS\tEXPIRES\tDECIDED BY")
	for _, a := range as {
		wfName, email := "-", "-"
		if run, err := w.store.Run(ctx, a.RunID); err == nil {
			wfName, email = run.WorkflowName, run.Email
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.RunID, wfName, email, a.StepID, a.Approver,
			a.Status, formatTime(a.ExpiresAt, "-"), dash(a.DecidedBy))
	}
	return tw.Flush()
}

// runWorkflowApprove is `roster workflow approve APPROVAL_ID`.
func runWorkflowApprove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return decideApproval(ctx, "approve", args, stdout, stderr, true)
}

// runWorkflowDeny is `roster workflow deny APPROVAL_ID`.
func runWorkflowDeny(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return decideApproval(ctx, "deny", args, stdout, stderr, false)
}

func decideApproval(ctx context.Context, sub string, args []string, stdout, stderr io.Writer, approve bool) error {
	branch := "approve branch (on_approve, by default the next step)"
	if !approve {
		branch = "deny branch (on_deny, by default the end)"
	}
	fs := newWorkflowFlags(sub, " APPROVAL_ID", fmt.Sprintf("Answers a pending approval as the operator at the command line (audited as cli:<user>),\n"+
		"and wakes its run to take the %s at once; a\nrunning roster serve works it. roster workflow approvals and show list approval ids.", branch), stderr)
	attempts := stepAttemptsFlag(fs)
	pos, err := parseWorkflowArgs(fs, args, 1, "an approval id (roster workflow approvals lists them)")
	if err != nil {
		return err
	}
	cmd := "workflow " + sub
	id, err := runIDArg(cmd, "an approval id", pos[0])
	if err != nil {
		return err
	}
	if *attempts < 1 {
		return usageError{fmt.Sprintf("%s: --step-attempts must be at least 1, got %d", cmd, *attempts)}
	}
	w, err := openWorkflowApp(ctx, fs, true, *attempts)
	if err != nil {
		return err
	}
	defer w.Close()
	if _, err := w.store.Approval(ctx, id); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s: no approval %d (roster workflow approvals lists the pending ones)", cmd, id)
	} else if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	a, err := w.engine.Decide(ctx, id, approve, cliActor())
	if errors.Is(err, workflow.ErrDecided) {
		return fmt.Errorf("%s: approval %d: %w", cmd, id, err)
	} else if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	fmt.Fprintf(stdout, "%s: approval %d of run %d (step %s); a running roster serve takes the run on (roster workflow show %d)\n",
		a.Status, a.ID, a.RunID, a.StepID, a.RunID)
	return nil
}
