package workflow

import (
	"context"
	"errors"
	"fmt"

	"roster"
)

// What a dry run warns about: parts of a workflow that cannot run as
// configured, whoever a run is for. Saving refuses an action the
// connection cannot do (Check); a dry run shows it instead, so that a
// workflow whose connection lost a capability since it was saved (a SCIM
// token removed, a scope not granted again) can still be previewed.

// checkPreview is Check for a dry run: the same errors, but an action
// step the connection cannot do, which warnings and the step's plan
// report instead.
func (e *Engine) checkPreview(ctx context.Context, w *roster.Workflow) error {
	err := e.Check(ctx, w)
	var fe roster.WorkflowErrors
	if !errors.As(err, &fe) {
		return err
	}
	conn, cerr := e.Store.Connection(ctx, w.ConnectionID)
	if cerr != nil {
		return err // no such connection: Check said so
	}
	warned := map[string]bool{}
	for i, st := range w.Steps {
		if capabilityProblem(conn, st.Kind) != "" {
			warned[fmt.Sprintf("steps[%d].kind", i)] = true
		}
	}
	var kept roster.WorkflowErrors
	for _, f := range fe {
		if !warned[f.Path] {
			kept = append(kept, f)
		}
	}
	if len(kept) > 0 {
		return fieldErrs(kept)
	}
	return nil
}

// warnings are what cannot run as configured in w through conn, whoever
// a run is for, in plain sentences.
func (e *Engine) warnings(w roster.Workflow, conn roster.Connection) []string {
	var out []string
	for _, st := range w.Steps {
		if problem := capabilityProblem(conn, st.Kind); problem != "" {
			out = append(out, fmt.Sprintf("Step %s cannot run: %s.", st.ID, problem))
		}
		switch st.Kind {
		case roster.StepNotify:
			if problem := e.channelProblem(st.Channel); problem != "" {
				out = append(out, fmt.Sprintf("Step %s cannot send its message by %s: %s.", st.ID, st.Channel, problem))
			}
		case roster.StepApproval:
			if problem := e.viaProblem(st.Via); problem != "" {
				out = append(out, fmt.Sprintf("Step %s cannot ask for approval by %s: %s. "+
					"Ask in the dashboard instead (via: ui), or set up %s.", st.ID, st.Via, problem, st.Via))
			}
		}
	}
	if f := w.OnFailure; f != nil {
		if problem := e.channelProblem(f.Channel); problem != "" {
			out = append(out, fmt.Sprintf("If a run fails, no one is told: its failure notice goes by %s, which cannot send: %s.", f.Channel, problem))
		}
	}
	return out
}

// capabilityProblem is why conn cannot do an action step of kind k, or
// "" when it can (or k is no action).
func capabilityProblem(conn roster.Connection, k roster.StepKind) string {
	name := stepCapability(k)
	if name == "" {
		return ""
	}
	for _, c := range conn.Capabilities() {
		if c.Name != name || c.Available {
			continue
		}
		reason := c.Reason
		if name == roster.CapDeactivate && conn.Level == roster.LevelOrganization && conn.Enterprise && len(conn.SealedSCIMToken) == 0 {
			// The one thing missing is the admin's to add, in the dashboard.
			reason = "no SCIM token: add one on the connection's page"
		}
		return fmt.Sprintf("connection %d cannot %s: %s", conn.ID, name, reason)
	}
	return ""
}

// viaProblem is why an approval cannot be asked by via, or "": the
// dashboard (ui) can always be answered.
func (e *Engine) viaProblem(via string) string {
	if via == roster.ChannelUI {
		return ""
	}
	return e.channelProblem(via)
}

// freedWords end a deactivation's plan with what it frees: a paid
// license ("the"/"their" Full license), or that no seat is freed; never
// "freeing the Free license".
func freedWords(license, article string) string {
	switch {
	case paidSeat(license):
		return fmt.Sprintf(", freeing %s %s license", article, roster.LicenseName(license))
	case license == roster.LicenseFree || license == "free_restricted":
		return " (their license is already free, so no seat is freed)"
	}
	return " (their license is not a paid seat, so no seat is freed)"
}
