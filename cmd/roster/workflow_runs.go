package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"roster"
	"roster/internal/api"
	"roster/internal/notify"
	"roster/internal/store"
)

// runWorkflowRun is `roster workflow run NAME --email E`.
func runWorkflowRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newWorkflowFlags("run", " NAME", "Starts a workflow now for the people named (directory people or synced Miro accounts),\n"+
		"whatever its trigger and whether or not it is enabled; its conditions still apply, and\n"+
		"the people they leave out are listed with the reason. The runs' first steps are queued:\n"+
		"a running roster serve works them (roster workflow show RUN_ID follows one).", stderr)
	var emails listFlag
	fs.Var(&emails, "email", "a person's `email` to run it for (repeated or comma-separated)")
	file := fs.String("emails-file", "", "a file of emails, one a line (# comments); - reads standard input")
	addNotifyFlags(fs, &notify.Config{})
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

// runStepName is the step a run is at, or "-" once it ended (the API's
// step field).
func runStepName(r roster.WorkflowRun) string {
	return dash(api.RunOf(r).Step)
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
