package roster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDurationRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{time.Second, 90 * time.Second, 10 * time.Minute, 30 * time.Minute, 90 * time.Minute,
		2 * time.Hour, 2*time.Hour + 45*time.Minute, 72 * time.Hour, 7 * 24 * time.Hour, 1500 * time.Millisecond} {
		s := Duration(d).String()
		back, err := ParseDuration(s)
		if err != nil || time.Duration(back) != d {
			t.Errorf("%v: wrote %q, read back %v (%v)", d, s, time.Duration(back), err)
		}
	}
	for _, bad := range []string{"soon", "-1h", "3x", "d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

// paths lists the paths of a definition's field errors.
func paths(t *testing.T, w Workflow) []string {
	t.Helper()
	w.Normalize()
	err := w.Validate(context.Background())
	var fe WorkflowErrors
	if !errors.As(err, &fe) {
		t.Fatalf("Validate() = %v, want WorkflowErrors", err)
	}
	var out []string
	for _, e := range fe {
		out = append(out, e.Path)
	}
	return out
}

func valid() Workflow {
	return Workflow{Name: "offboarding", ConnectionID: 1, Trigger: Trigger{Kind: TriggerPersonLeft},
		Steps: []Step{{ID: "remove", Kind: StepRemoveAllTeams}, {ID: "deactivate", Kind: StepDeactivate}}}
}

func TestValidateWorkflow(t *testing.T) {
	w := valid()
	w.Normalize()
	if err := w.Validate(context.Background()); err != nil {
		t.Fatalf("a valid workflow: %v", err)
	}
	cases := []struct {
		name   string
		change func(w *Workflow)
		want   string
	}{
		{"unknown trigger", func(w *Workflow) { w.Trigger.Kind = "someone_sneezed" }, "trigger.kind"},
		{"schedule without cron", func(w *Workflow) { w.Trigger = Trigger{Kind: TriggerSchedule} }, "trigger.cron"},
		{"cron on another trigger", func(w *Workflow) { w.Trigger.Cron = "@daily" }, "trigger.cron"},
		{"inactive without days", func(w *Workflow) { w.Trigger = Trigger{Kind: TriggerInactive} }, "trigger.days"},
		{"missing team", func(w *Workflow) { w.Steps[0] = Step{ID: "invite", Kind: StepInvite} }, "steps[0].team"},
		{"bad role", func(w *Workflow) { w.Steps[0] = Step{ID: "invite", Kind: StepInvite, Team: "t", Role: "owner"} }, "steps[0].role"},
		{"unknown step", func(w *Workflow) { w.Steps[1].Kind = "fire" }, "steps[1].kind"},
		{"duplicate id", func(w *Workflow) { w.Steps[1].ID = "remove" }, "steps[1].id"},
		{"dangling next", func(w *Workflow) { w.Steps[0].Next = "nowhere" }, "steps[0].next"},
		{"cycle", func(w *Workflow) { w.Steps[1].Next = "remove" }, "steps"},
		{"approval cycle", func(w *Workflow) {
			w.Steps = append(w.Steps, Step{ID: "ask", Kind: StepApproval, Approver: "manager", Timeout: Duration(time.Hour), OnDeny: "ask"})
		}, "steps"},
		{"approval without timeout", func(w *Workflow) {
			w.Steps[0] = Step{ID: "ask", Kind: StepApproval, Approver: "boss@example.com"}
		}, "steps[0].timeout"},
		{"bad template", func(w *Workflow) {
			w.Steps[0] = Step{ID: "tell", Kind: StepNotify, Channel: "webhook", Text: "{{.Nope}}"}
		}, "steps[0].text"},
		{"email without recipients", func(w *Workflow) {
			w.Steps[0] = Step{ID: "tell", Kind: StepNotify, Channel: "email", Text: "hi"}
		}, "steps[0].to"},
		{"bad condition", func(w *Workflow) { w.Conditions = []Condition{{Field: "shoe_size", Op: "is", Value: "9"}} }, "conditions[0].field"},
		{"bad op", func(w *Workflow) { w.Conditions = []Condition{{Field: "license", Op: "at_least", Value: "9"}} }, "conditions[0].op"},
		{"no steps", func(w *Workflow) { w.Steps = nil }, "steps"},
		{"no connection", func(w *Workflow) { w.ConnectionID = 0 }, "connection"},
		{"bad name", func(w *Workflow) { w.Name = "Off Boarding!" }, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := valid()
			c.change(&w)
			got := paths(t, w)
			found := false
			for _, p := range got {
				found = found || p == c.want
			}
			if !found {
				t.Errorf("errors at %v, want one at %s", got, c.want)
			}
		})
	}
	// Every error is reported at once.
	w = valid()
	w.Trigger.Kind = "nope"
	w.Steps[0] = Step{ID: "invite", Kind: StepInvite}
	if got := paths(t, w); len(got) < 2 || !strings.HasPrefix(got[0], "trigger") {
		t.Errorf("errors at %v, want the trigger's and the step's", got)
	}
}

// A definition over the 50-step limit gets that one error: checking the
// graph of its steps grows with their square (20,000 steps took 9 s), and
// one error per step would bury the reason.
func TestTooManyStepsStopsValidation(t *testing.T) {
	w := valid()
	w.Steps = nil
	for i := range 2000 {
		w.Steps = append(w.Steps, Step{ID: fmt.Sprintf("s%d", i), Kind: "fire", Next: "s0"})
	}
	if got := paths(t, w); len(got) != 1 || got[0] != "steps" {
		t.Errorf("errors at %d paths (%.3v), want one at steps", len(got), got)
	}
}
