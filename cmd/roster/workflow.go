package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
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
	if fs.notify != nil {
		auto.notify = *fs.notify
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

// plural is one or many, by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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

// runIDArg reads a positive id argument.
func runIDArg(cmd, what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Sprintf("%s: %q is not %s", cmd, s, what)}
	}
	return id, nil
}
