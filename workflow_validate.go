package roster

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file validates workflow definitions: Normalize, Validate with
// every error's path, and the step graph (next, branches, cycles).

// WorkflowFieldError is one bad field of a workflow definition. Path
// names it as the YAML does: "trigger.cron", "steps[2].team".
type WorkflowFieldError struct {
	Path    string `json:"field"`
	Message string `json:"message"`
}

func (e WorkflowFieldError) Error() string { return e.Path + ": " + e.Message }

// WorkflowErrors is every bad field of a definition, so the editor and
// `roster workflow apply` show them all at once.
type WorkflowErrors []WorkflowFieldError

func (e WorkflowErrors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Error()
	}
	return "invalid workflow: " + strings.Join(parts, "; ")
}

var workflowName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
var stepID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Normalize trims text, lower-cases emails, kinds and ids, and gives steps
// without an id "step1", "step2"... Validate expects a normalized workflow.
func (w *Workflow) Normalize() {
	w.Name = strings.ToLower(strings.TrimSpace(w.Name))
	w.Description = strings.TrimSpace(w.Description)
	w.Trigger.Kind = TriggerKind(strings.ToLower(strings.TrimSpace(string(w.Trigger.Kind))))
	w.Trigger.Cron = strings.TrimSpace(w.Trigger.Cron)
	w.Trigger.License = strings.TrimSpace(w.Trigger.License)
	for i := range w.Conditions {
		c := &w.Conditions[i]
		c.Field = strings.ToLower(strings.TrimSpace(c.Field))
		c.Op = strings.ToLower(strings.TrimSpace(c.Op))
		c.Value = strings.TrimSpace(c.Value)
		for j := range c.Values {
			c.Values[j] = strings.TrimSpace(c.Values[j])
		}
		if c.Field == CondEmailDomain {
			c.Value = strings.ToLower(c.Value)
			for j := range c.Values {
				c.Values[j] = strings.ToLower(c.Values[j])
			}
		}
	}
	if f := w.OnFailure; f != nil {
		f.ID = OnFailureID
		if strings.TrimSpace(string(f.Kind)) == "" {
			f.Kind = StepNotify
		}
		f.normalize()
	}
	for i := range w.Steps {
		s := &w.Steps[i]
		s.ID = strings.ToLower(strings.TrimSpace(s.ID))
		if s.ID == "" {
			s.ID = fmt.Sprintf("step%d", i+1)
		}
		s.normalize()
	}
}

// normalize trims and lower-cases a step's fields but its ID.
func (s *Step) normalize() {
	s.Kind = StepKind(strings.ToLower(strings.TrimSpace(string(s.Kind))))
	s.Next = strings.ToLower(strings.TrimSpace(s.Next))
	s.Team = strings.TrimSpace(s.Team)
	s.Role = strings.ToLower(strings.TrimSpace(s.Role))
	s.ServiceAccount = NormalizeEmail(s.ServiceAccount)
	s.Channel = strings.ToLower(strings.TrimSpace(s.Channel))
	for j := range s.To {
		s.To[j] = NormalizeEmail(s.To[j])
	}
	s.Approver = NormalizeEmail(s.Approver)
	s.Via = strings.ToLower(strings.TrimSpace(s.Via))
	s.OnApprove = strings.ToLower(strings.TrimSpace(s.OnApprove))
	s.OnDeny = strings.ToLower(strings.TrimSpace(s.OnDeny))
	s.OnTimeout = strings.ToLower(strings.TrimSpace(s.OnTimeout))
	if s.Kind == StepInvite && s.Role == "" {
		s.Role = TeamRoleMember
	}
	if s.Kind == StepApproval && s.Via == "" {
		s.Via = ChannelUI
	}
}

// Validate checks a normalized workflow on its own (the engine also checks
// the connection and its teams) and returns WorkflowErrors naming every
// bad field, or nil; or ctx's error when ctx ends first.
func (w Workflow) Validate(ctx context.Context) error {
	var errs WorkflowErrors
	add := func(path, format string, args ...any) {
		errs = append(errs, WorkflowFieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case w.Name == "":
		add("name", "is required")
	case !workflowName.MatchString(w.Name):
		add("name", "%q must be lower-case letters, digits, - and _ (at most 63)", w.Name)
	}
	if len(w.Description) > 1000 {
		add("description", "is longer than 1000 characters")
	}
	if w.ConnectionID <= 0 {
		add("connection", "is required: the id of the connection the steps act through")
	}
	w.validateTrigger(add)
	for i, c := range w.Conditions {
		validateCondition(fmt.Sprintf("conditions[%d]", i), c, add)
	}
	w.validateSteps(ctx, add)
	if f := w.OnFailure; f != nil {
		if f.Kind != StepNotify {
			add("on_failure.kind", "on_failure is a notify step, not %q", f.Kind)
		} else {
			validateStep(ctx, "on_failure", *f, add)
			if f.Next != "" {
				add("on_failure.next", "on_failure ends the run; it has no next")
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("validate workflow %s: %w", w.Name, err)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (w Workflow) validateTrigger(add func(string, string, ...any)) {
	t := w.Trigger
	switch t.Kind {
	case "":
		add("trigger.kind", "is required: one of %s", kindList(TriggerKinds))
		return
	case TriggerInactive:
		if t.Days < 1 || t.Days > 3650 {
			add("trigger.days", "must be between 1 and 3650 days, not %d", t.Days)
		}
	case TriggerSchedule:
		// The engine parses the line (internal/workflow.ParseCron).
		if t.Cron == "" {
			add("trigger.cron", "is required for a schedule, e.g. \"0 9 * * 1\" or \"@daily\"")
		}
	case TriggerPersonJoined, TriggerPersonLeft, TriggerNewAccount, TriggerLicenseChanged, TriggerManual:
	default:
		add("trigger.kind", "%q is not a trigger: one of %s", t.Kind, kindList(TriggerKinds))
		return
	}
	if t.Kind != TriggerInactive && t.Days != 0 {
		add("trigger.days", "applies only to the inactive trigger")
	}
	if t.Kind != TriggerSchedule && t.Cron != "" {
		add("trigger.cron", "applies only to the schedule trigger")
	}
	if t.Kind != TriggerLicenseChanged && t.License != "" {
		add("trigger.license", "applies only to the license_changed trigger")
	}
}

func validateCondition(path string, c Condition, add func(string, string, ...any)) {
	ops, ok := ConditionOps[c.Field]
	if !ok {
		add(path+".field", "%q is not a condition: one of license, org_role, team, email_domain, inactive_days, guest, department", c.Field)
		return
	}
	if !slices.Contains(ops, c.Op) {
		add(path+".op", "%q does not apply to %s: one of %s", c.Op, c.Field, strings.Join(ops, ", "))
		return
	}
	switch c.Op {
	case "is", "is_not":
		if c.Value == "" {
			add(path+".value", "is required for %s", c.Op)
		}
		if len(c.Values) > 0 {
			add(path+".values", "%s takes value, not values", c.Op)
		}
	case "in", "not_in":
		if len(c.Values) == 0 || slices.Contains(c.Values, "") {
			add(path+".values", "needs one or more non-empty values for %s", c.Op)
		}
		if c.Value != "" {
			add(path+".value", "%s takes values, not value", c.Op)
		}
	case "at_least", "at_most":
		if n, err := strconv.Atoi(c.Value); err != nil || n < 0 {
			add(path+".value", "%q is not a number of days", c.Value)
		}
	}
	if c.Field == CondGuest && c.Value != "true" && c.Value != "false" {
		add(path+".value", "%q is neither true nor false", c.Value)
	}
}

func (w Workflow) validateSteps(ctx context.Context, add func(string, string, ...any)) {
	if len(w.Steps) == 0 {
		add("steps", "a workflow needs at least one step")
		return
	}
	if len(w.Steps) > 50 {
		// Stop here: the graph checks grow with the square of the steps,
		// and a 1 MB editor form holds some 80,000.
		add("steps", "a workflow has at most 50 steps, not %d", len(w.Steps))
		return
	}
	index := map[string]int{}
	for i, s := range w.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		switch {
		case s.ID == StepEnd:
			add(p+".id", "%q is reserved: it ends the run", s.ID)
		case !stepID.MatchString(s.ID):
			add(p+".id", "%q must be lower-case letters, digits, - and _", s.ID)
		case index[s.ID] > 0:
			add(p+".id", "%q is also the id of steps[%d]", s.ID, index[s.ID]-1)
		default:
			index[s.ID] = i + 1
		}
	}
	target := func(path, to string) {
		if to != "" && to != StepEnd && index[to] == 0 {
			add(path, "%q is no step of this workflow (or %q)", to, StepEnd)
		}
	}
	for i, s := range w.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		validateStep(ctx, p, s, add)
		if s.Kind == StepApproval {
			if s.Next != "" {
				add(p+".next", "an approval goes on by on_approve, on_deny and on_timeout")
			}
			target(p+".on_approve", s.OnApprove)
			target(p+".on_deny", s.OnDeny)
			target(p+".on_timeout", s.OnTimeout)
		} else {
			target(p+".next", s.Next)
		}
	}
	if cycle := w.cycle(); cycle != nil {
		add("steps", "the steps loop: %s; a run must always end", strings.Join(cycle, " → "))
	}
}

func validateStep(ctx context.Context, p string, s Step, add func(string, string, ...any)) {
	needsTeam := s.Kind == StepInvite || s.Kind == StepRemove || s.Kind == StepChangeRole
	switch s.Kind {
	case "":
		add(p+".kind", "is required: one of %s", kindList(StepKinds))
		return
	case StepInvite, StepChangeRole:
		if !slices.Contains(AssignableTeamRoles, s.Role) {
			add(p+".role", "%q is not a team role: member or admin", s.Role)
		}
	case StepRemove, StepRemoveAllTeams, StepDeactivate, StepReactivate, StepSignOut:
	case StepNotify:
		switch s.Channel {
		case ChannelEmail:
			if len(s.To) == 0 {
				add(p+".to", "is required for email: addresses, or %q", ApproverManager)
			}
			for _, to := range s.To {
				if to != ApproverManager && !ValidEmail(to) {
					add(p+".to", "%q is not an email address (or %q)", to, ApproverManager)
				}
			}
		case ChannelSlack, ChannelWebhook, ChannelOutbox:
			if len(s.To) > 0 {
				add(p+".to", "applies only to email; %s goes to the configured %s", s.Channel, s.Channel)
			}
		case "":
			add(p+".channel", "is required: outbox, email, slack or webhook")
		default:
			add(p+".channel", "%q is not a channel: outbox, email, slack or webhook", s.Channel)
		}
		if strings.TrimSpace(s.Text) == "" {
			add(p+".text", "is required")
		}
		checkTemplate(ctx, p+".text", s.Text, add)
		checkTemplate(ctx, p+".subject", s.Subject, add)
	case StepApproval:
		if s.Approver == "" {
			add(p+".approver", "is required: an email address, or %q for the person's manager", ApproverManager)
		} else if s.Approver != ApproverManager && !ValidEmail(s.Approver) {
			add(p+".approver", "%q is not an email address (or %q)", s.Approver, ApproverManager)
		}
		if s.Via != ChannelUI && s.Via != ChannelEmail && s.Via != ChannelSlack {
			add(p+".via", "%q is not ui, email or slack", s.Via)
		}
		if s.Timeout <= 0 {
			add(p+".timeout", "is required: how long to wait for an answer, e.g. 72h or 7d")
		} else if time.Duration(s.Timeout) > 90*24*time.Hour {
			add(p+".timeout", "is longer than 90 days")
		}
		checkTemplate(ctx, p+".text", s.Text, add)
	case StepWait:
		if s.Duration <= 0 {
			add(p+".duration", "is required: e.g. 30m, 24h or 7d")
		} else if time.Duration(s.Duration) > 365*24*time.Hour {
			add(p+".duration", "is longer than a year")
		}
	default:
		add(p+".kind", "%q is not a step: one of %s", s.Kind, kindList(StepKinds))
		return
	}
	if needsTeam && s.Team == "" {
		add(p+".team", "is required: the Miro team id")
	}
	if !needsTeam && s.Team != "" {
		add(p+".team", "applies only to invite, remove and change_role")
	}
	if s.Kind != StepInvite && s.Kind != StepChangeRole && s.Role != "" {
		add(p+".role", "applies only to invite and change_role")
	}
	if s.ServiceAccount != "" {
		if s.Kind != StepRemoveAllTeams {
			add(p+".service_account", "applies only to remove_all_teams")
		} else if !ValidEmail(s.ServiceAccount) {
			add(p+".service_account", "%q is not an email address", s.ServiceAccount)
		}
	}
	if s.Kind != StepWait && s.Duration != 0 {
		add(p+".duration", "applies only to wait")
	}
	if s.Kind != StepApproval {
		if s.Timeout != 0 {
			add(p+".timeout", "applies only to approval")
		}
		if s.Approver != "" {
			add(p+".approver", "applies only to approval")
		}
		if s.OnApprove != "" || s.OnDeny != "" || s.OnTimeout != "" {
			add(p, "on_approve, on_deny and on_timeout apply only to approval")
		}
	}
}

// checkTemplate reports a Subject or Text that ParseNotify refuses, or
// that fails to render over sample data.
func checkTemplate(ctx context.Context, path, text string, add func(string, string, ...any)) {
	if text == "" || ctx.Err() != nil {
		return
	}
	t, err := ParseNotify(text)
	if err != nil {
		add(path, "%v", err)
		return
	}
	if _, err := ExecNotify(ctx, t, NotifyData{Steps: []string{""}}); err != nil && ctx.Err() == nil {
		add(path, "%v", err)
	}
}

// NextOf is where a non-approval step goes: its Next, or the following
// step, or the end.
func (w Workflow) NextOf(i int) string {
	s := w.Steps[i]
	if s.Next != "" {
		return s.Next
	}
	if i+1 < len(w.Steps) {
		return w.Steps[i+1].ID
	}
	return StepEnd
}

// Branches are an approval step's targets: approve, deny, timeout.
func (w Workflow) Branches(i int) (approve, deny, timeout string) {
	s := w.Steps[i]
	approve, deny, timeout = s.OnApprove, s.OnDeny, s.OnTimeout
	if approve == "" {
		approve = StepEnd
		if i+1 < len(w.Steps) {
			approve = w.Steps[i+1].ID
		}
	}
	return approve, cmp.Or(deny, StepEnd), cmp.Or(timeout, StepEnd)
}

// StepIndex is the index of the step with id, or -1.
func (w Workflow) StepIndex(id string) int {
	return slices.IndexFunc(w.Steps, func(s Step) bool { return s.ID == id })
}

// cycle returns the step ids of a loop, or nil.
func (w Workflow) cycle() []string {
	const (
		unseen = iota
		open
		done
	)
	state := make([]int, len(w.Steps))
	var path []string
	var visit func(i int) []string
	visit = func(i int) []string {
		state[i] = open
		path = append(path, w.Steps[i].ID)
		var next []string
		if w.Steps[i].Kind == StepApproval {
			a, d, t := w.Branches(i)
			next = []string{a, d, t}
		} else {
			next = []string{w.NextOf(i)}
		}
		for _, id := range next {
			j := w.StepIndex(id)
			if j < 0 {
				continue
			}
			switch state[j] {
			case open:
				return append(slices.Clone(path[slices.Index(path, id):]), id)
			case unseen:
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return nil
	}
	for i := range w.Steps {
		if state[i] == unseen {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}

func kindList[K ~string](ks []K) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
