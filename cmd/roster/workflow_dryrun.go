package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"roster"
	"roster/internal/api"
	"roster/internal/notify"
	"roster/internal/workflow"
)

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
	addNotifyFlags(fs, &notify.Config{})
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
		return enc.Encode(api.DryRunOf(d))
	}
	printDryRun(stdout, d)
	return nil
}

// printDryRun prints a preview as text.
func printDryRun(w io.Writer, d workflow.DryRun) {
	fmt.Fprintf(w, "Dry run of %s (nothing was changed or called)\n", d.Workflow)
	fmt.Fprintf(w, "Basis: %s\n", d.Basis)
	for _, warning := range d.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warning)
	}
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
