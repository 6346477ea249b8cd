package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"roster"
	"roster/internal/store"
)

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
