package workflow

import (
	"context"
	"fmt"
	"strings"

	"roster"
)

// Acts reports whether w has a step that acts on people in Miro (invite,
// remove, change role, remove from every team, deactivate, reactivate,
// sign out): turning such a workflow on is confirmed first.
func Acts(w roster.Workflow) bool {
	for _, st := range w.Steps {
		if st.Kind.IsAction() {
			return true
		}
	}
	return false
}

// Enabling is what turning a workflow on would do, for its confirmation:
// whom it acts on at once, whom from then on, and what it does to each.
type Enabling struct {
	// Now is how many people it would start runs for at once: those its
	// trigger finds now and whose conditions hold (the dry run's). It is 0
	// for a trigger that waits for what happens from now on: enabling
	// never fires for what happened before.
	Now int
	// NowWords says whom it acts on at once; LaterWords whom from then
	// on; Note what enabling leaves alone, or where a run would stop.
	NowWords, LaterWords, Note string
	// Consequences say what its action steps do to each person.
	Consequences []string
	// Warnings are the dry run's: what cannot run as configured.
	Warnings []string
}

// PreviewEnable says what enabling w would do now, from a dry run over
// its trigger's current candidates. It changes nothing and calls nothing;
// its error is the dry run's (ErrInvalid with the fields, or the store's).
func (e *Engine) PreviewEnable(ctx context.Context, w roster.Workflow) (Enabling, error) {
	d, err := e.Preview(ctx, w, nil)
	if err != nil {
		return Enabling{}, err
	}
	conn, err := e.Store.Connection(ctx, w.ConnectionID)
	if err != nil {
		return Enabling{}, fmt.Errorf("read connection %d: %w", w.ConnectionID, err)
	}
	names, err := e.teamNames(ctx, conn.ID)
	if err != nil {
		return Enabling{}, err
	}
	en := Enabling{Warnings: d.Warnings}
	for _, c := range workflowConsequences(w, conn, names) {
		en.Consequences = append(en.Consequences, c.Text)
	}
	found := d.Total + d.Stopped // their conditions hold: a run would start
	stops := ""
	if d.Stopped > 0 {
		// The dry run counts those whose runs go through apart from
		// those stopped by a step; say both so the numbers agree.
		stops = fmt.Sprintf("Of them, %d would run through; for %d a step cannot run and their runs would stop there (the dry run says why).",
			d.Total, d.Stopped)
	}
	switch t := w.Trigger; t.Kind {
	case roster.TriggerInactive:
		en.Now, en.Note = found, stops
		en.NowWords = fmt.Sprintf("It acts on %s now: accounts with a paid license unused for %d days or more%s.",
			people(found), t.Days, holdWords(w))
		if found == 0 {
			en.NowWords = fmt.Sprintf("It acts on no one now: no account with a paid license has been unused for %d days or more%s.",
				t.Days, holdWords(w))
		}
		en.LaterWords = fmt.Sprintf("After that, it acts on each account as it reaches %d days unused.", t.Days)
	case roster.TriggerSchedule:
		en.Now, en.Note = found, stops
		en.NowWords = fmt.Sprintf("At its next scheduled time it acts on every synced Miro account%s: %s as of now.",
			holdWords(w), people(found))
		en.LaterWords = fmt.Sprintf("Then again at each scheduled time (%s).", t.Cron)
	case roster.TriggerManual:
		en.NowWords = "It acts on no one by itself: only on the people named when someone runs it by hand."
	default:
		event, already := eventWords(t)
		en.NowWords = fmt.Sprintf("It acts on no one now; it will act on %s from now on%s.", event, holdWords(w))
		if found > 0 {
			en.Note = fmt.Sprintf("Enabling leaves alone the %s found already (%s): to act on them, run it by hand from its page.",
				people(found), already)
		}
	}
	if ask := approvalFirst(w); ask != "" {
		en.Note = strings.TrimSpace(en.Note + " Each run asks " + ask + " for approval before it acts.")
	}
	return en, nil
}

// approvalFirst is the approver asked before w's first action step, or
// "" when an action can run without approval.
func approvalFirst(w roster.Workflow) string {
	for _, st := range w.Steps {
		switch {
		case st.Kind == roster.StepApproval:
			return st.Approver
		case st.Kind.IsAction():
			return ""
		}
	}
	return ""
}

// eventWords name what an event trigger acts on from now on ("each
// person who leaves the company"), and those it found before
// ("who left and still hold an active Miro account").
func eventWords(t roster.Trigger) (event, already string) {
	switch t.Kind {
	case roster.TriggerPersonJoined:
		return "each person who joins the company (the directory)", "in the directory with no Miro account"
	case roster.TriggerPersonLeft:
		return "each person who leaves the company (the directory)", "who left and still hold an active Miro account"
	case roster.TriggerNewAccount:
		return "each new Miro account a sync finds outside the directory", "with a Miro account outside the directory"
	case roster.TriggerLicenseChanged:
		to := ""
		if t.License != "" {
			to = " to " + roster.LicenseName(t.License)
		}
		return "each license change" + to + " a sync sees", "whose license changed" + to + " in the last 30 days"
	}
	return "each " + strings.ReplaceAll(string(t.Kind), "_", " ") + " event", "found"
}

// holdWords narrow a set of people to w's conditions, when it has any.
func holdWords(w roster.Workflow) string {
	if len(w.Conditions) == 0 {
		return ""
	}
	return " whose conditions hold"
}

// people is "no one", "1 person" or "12 people".
func people(n int) string {
	switch n {
	case 0:
		return "no one"
	case 1:
		return "1 person"
	}
	return fmt.Sprintf("%d people", n)
}
