package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"roster/internal/store"
	"roster/internal/workflow"
)

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
