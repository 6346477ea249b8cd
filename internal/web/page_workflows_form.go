package web

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/store"
	"roster/internal/workflow"
)

// This file builds the workflow editor's form view: every input named by
// the path the definition's field errors use ("steps[1].team"), so an
// error lands beside its input, and ided "wf-" plus that path
// ("wf-steps-1-team"). workflow.EditYAML reads what it posts.

// formInput is one input of the form.
type formInput struct {
	// Prefix names the row ("Step 2: "), for screen readers: the label
	// is read as "Step 2: Team", seen as "Team".
	Prefix                                       string
	Name, Label, Value, Hint, Error, Placeholder string
	Type                                         string // text, number, email, textarea, select, checkbox
	Options                                      []option
	// Placeholders, on a notification text, are the readable tokens it
	// takes, listed beside it.
	Placeholders []workflow.Placeholder
	// Refresh: changing it changes which inputs the form shows, so the
	// script updates the form at once (without it, Update the form does).
	Refresh bool
}

// ID is the input's element id.
func (i formInput) ID() string { return inputID(i.Name) }

// Described is the ids of its hint and error, for aria-describedby.
func (i formInput) Described() string {
	var ids []string
	if i.Hint != "" {
		ids = append(ids, i.ID()+"-hint")
	}
	if i.Error != "" {
		ids = append(ids, i.ID()+"-error")
	}
	return strings.Join(ids, " ")
}

// inputID is the element id of the input at path: "wf-steps-1-team".
func inputID(path string) string {
	return "wf-" + strings.NewReplacer("[", "-", "]", "", ".", "-").Replace(path)
}

// workflowForm is the form view of the editor.
type workflowForm struct {
	Name, Description, Enabled, Connection, TriggerKind formInput
	TriggerParams                                       []formInput
	Conditions                                          []conditionRow
	Steps                                               []stepRow
	OnFailure                                           *stepRow
	AddStepKind                                         formInput
	Placeholders                                        []workflow.Placeholder
	// Errors are every field error, with the input each belongs to.
	Errors []formError
}

type conditionRow struct {
	Index, Number    int
	Field, Op, Value formInput
	Error            string
}

type stepRow struct {
	Index       int    // -1 for the failure notice
	PathID      string // "wf-steps-1": the row's element id
	Number      int
	Sentence    string
	ID, Kind    formInput
	Fields      []formInput
	Error       string
	First, Last bool
	// Kept are notes on texts the form cannot show (template syntax
	// beyond the placeholders), kept as written.
	Kept    []string
	Preview *notifyPreview
}

// notifyPreview is a notification rendered for a sample person.
type notifyPreview struct {
	Who, Subject, Text, Error string
}

// formError is one field error as the form's summary lists it.
type formError struct {
	Label, Href, Message string
}

// buildWorkflowForm is the form view of text, with errs beside their
// inputs; an input whose posted value could not be written (posted) shows
// it as typed. ok is false when text is not one workflow the form can
// show: the YAML view shows it instead.
func (s *Server) buildWorkflowForm(ctx context.Context, text string, errs roster.WorkflowErrors, posted map[string]string) (*workflowForm, bool, error) {
	ws, err := workflow.ParseYAML(strings.NewReader(text))
	if err != nil || len(ws) != 1 {
		return nil, false, nil
	}
	w := ws[0]
	f := workflow.FormOf(w)
	conns, err := s.store.Connections(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("list connections: %w", err)
	}
	var teams []roster.Team
	if w.ConnectionID > 0 {
		if teams, err = s.store.Teams(ctx, w.ConnectionID); err != nil {
			return nil, false, fmt.Errorf("read the teams of connection %d: %w", w.ConnectionID, err)
		}
	}
	slices.SortFunc(teams, func(a, b roster.Team) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	teamNames := map[string]string{}
	for _, t := range teams {
		teamNames[t.MiroTeamID] = t.Name
	}

	b := formBuilder{errs: map[string]string{}, posted: posted}
	for _, e := range errs {
		p := e.Path
		if strings.HasPrefix(p, "conditions[") && strings.HasSuffix(p, ".values") {
			p = strings.TrimSuffix(p, "s")
		}
		b.errs[p] = strings.TrimPrefix(b.errs[p]+"; "+e.Message, "; ")
	}
	v := &workflowForm{Placeholders: workflow.Placeholders}
	v.Name = b.input("name", "Name", f.Name, "text", "lower-case letters, digits, - and _")
	v.Description = b.input("description", "What it is for", f.Description, "textarea", "")
	v.Enabled = b.input("enabled", "Enabled (runs when its trigger fires)", strconv.FormatBool(f.Enabled), "checkbox", "")
	v.Connection = b.input("connection", "Connection", f.Connection, "select", "the Miro organization or team its steps act in")
	for _, c := range conns {
		v.Connection.Options = append(v.Connection.Options, option{strconv.FormatInt(c.ID, 10), connLabel(c)})
	}
	v.Connection.Options = withCurrent(v.Connection.Options, v.Connection.Value, "connection #%s (gone)")
	v.Connection.Refresh = true

	v.TriggerKind = b.input("trigger.kind", "Runs when", f.Trigger.Kind, "select", "")
	v.TriggerKind.Refresh = true
	for _, k := range roster.TriggerKinds {
		v.TriggerKind.Options = append(v.TriggerKind.Options, option{string(k), workflow.TriggerKindWords[k]})
	}
	v.TriggerKind.Options = withCurrent(v.TriggerKind.Options, v.TriggerKind.Value, "%s (unknown)")
	for _, k := range workflow.TriggerFields(w.Trigger.Kind) {
		switch k {
		case "days":
			v.TriggerParams = append(v.TriggerParams, b.input("trigger.days", "Days without using a paid license", f.Trigger.Days, "number", "1 to 3650"))
		case "cron":
			v.TriggerParams = append(v.TriggerParams, b.input("trigger.cron", "Schedule", f.Trigger.Cron, "text", "five cron fields, e.g. 0 9 * * 1 (Mondays at 9:00), or @daily"))
		case "license":
			in := b.input("trigger.license", "Only changes to", f.Trigger.License, "select", "")
			in.Options = []option{{"", "Any license"}}
			for _, l := range roster.Licenses {
				in.Options = append(in.Options, option{l, roster.LicenseName(l)})
			}
			in.Options = withCurrent(in.Options, in.Value, "%s")
			v.TriggerParams = append(v.TriggerParams, in)
		}
	}

	for i, c := range f.Conditions {
		p := fmt.Sprintf("conditions[%d]", i)
		row := conditionRow{Index: i, Number: i + 1, Error: b.errs[p]}
		row.Field = b.input(p+".field", fmt.Sprintf("Condition %d: field", i+1), c.Field, "select", "")
		row.Field.Refresh = true
		for _, fld := range workflow.ConditionFields {
			row.Field.Options = append(row.Field.Options, option{fld, workflow.ConditionFieldWords[fld]})
		}
		row.Field.Options = withCurrent(row.Field.Options, c.Field, "%s (unknown)")
		row.Op = b.input(p+".op", fmt.Sprintf("Condition %d: test", i+1), c.Op, "select", "")
		ops := roster.ConditionOps[c.Field]
		if ops == nil {
			ops = workflow.ConditionOpOrder
		}
		for _, op := range ops {
			row.Op.Options = append(row.Op.Options, option{op, workflow.ConditionOpWords[op]})
		}
		row.Op.Options = withCurrent(row.Op.Options, c.Op, "%s (unknown)")
		row.Value = b.input(p+".value", fmt.Sprintf("Condition %d: value", i+1), c.Value, "text", conditionHint(c.Field, c.Op))
		v.Conditions = append(v.Conditions, row)
	}

	sentences := workflow.StepSentences(w, teamNames)
	sample, err := s.sampleNotifyData(ctx, w)
	if err != nil {
		return nil, false, err
	}
	ids := make([]string, len(f.Steps))
	for i, st := range f.Steps {
		ids[i] = cmp.Or(st.ID, st.DefaultID)
	}
	for i, st := range f.Steps {
		row := b.stepRow(fmt.Sprintf("steps[%d]", i), st, w.Steps[i], ids, teams)
		row.Number, row.Sentence, row.First, row.Last = i+1, sentences[i], i == 0, i == len(f.Steps)-1
		if w.Steps[i].Kind == roster.StepNotify {
			row.Preview = previewNotify(ctx, w.Steps[i], sample, w, i)
		}
		v.Steps = append(v.Steps, row)
	}
	if f.OnFailure != nil {
		row := b.stepRow("on_failure", *f.OnFailure, *w.OnFailure, ids, teams)
		row.Index = -1
		row.Sentence = workflow.StepSentence(*w.OnFailure, workflow.SentenceContext{Teams: teamNames})
		row.Preview = previewNotify(ctx, *w.OnFailure, sample, w, len(w.Steps))
		v.OnFailure = &row
	}
	v.AddStepKind = formInput{Name: "add-step-kind", Label: "Kind of step to add", Type: "select"}
	for _, k := range roster.StepKinds {
		v.AddStepKind.Options = append(v.AddStepKind.Options, option{string(k), workflow.StepKindWords[k]})
	}
	v.Errors = b.summary(errs)
	return v, true, nil
}

// formBuilder makes inputs, each with its error, and remembers each
// input's label for the summary of errors.
type formBuilder struct {
	errs   map[string]string
	posted map[string]string
	labels map[string]string
}

func (b *formBuilder) input(path, label, value, typ, hint string) formInput {
	in := formInput{Name: path, Label: label, Value: value, Type: typ, Hint: hint, Error: b.errs[path]}
	if row, own, ok := strings.Cut(label, ": "); ok {
		in.Prefix, in.Label = row+": ", strings.ToUpper(own[:1])+own[1:]
	}
	if in.Error != "" {
		if p, ok := b.posted[path]; ok {
			in.Value = p // as typed, when it could not be written
		}
	}
	if b.labels == nil {
		b.labels = map[string]string{}
	}
	b.labels[path] = label
	return in
}

// stepRow is a step's inputs: its id and kind, then its kind's own.
func (b *formBuilder) stepRow(p string, st workflow.FormStep, step roster.Step, ids []string, teams []roster.Team) stepRow {
	name := "The failure notice"
	fields := workflow.OnFailureFields()
	if !st.OnFailure {
		name = fmt.Sprintf("Step %d", st.Index+1)
		fields = workflow.StepFields(step.Kind)
	}
	row := stepRow{Index: st.Index, PathID: inputID(p), Error: b.errs[p]}
	if !st.OnFailure {
		row.ID = b.input(p+".id", name+": name", st.ID, "text", "what Then and an approval's branches go to: lower-case letters, digits, - and _; made from its kind when left empty")
		row.ID.Placeholder = st.DefaultID
		row.Kind = b.input(p+".kind", name+": does", st.Kind, "select", "")
		row.Kind.Refresh = true
		for _, k := range roster.StepKinds {
			row.Kind.Options = append(row.Kind.Options, option{string(k), workflow.StepKindWords[k]})
		}
		row.Kind.Options = withCurrent(row.Kind.Options, st.Kind, "%s (unknown)")
	}
	self := ""
	if !st.OnFailure {
		self = ids[st.Index]
	}
	goTo := func(in formInput, empty string) formInput {
		if in.Value == "" {
			in.Options = append(in.Options, option{"", empty})
		}
		for _, id := range ids {
			if id != self {
				in.Options = append(in.Options, option{id, "Go to step " + id})
			}
		}
		if in.Value != "" || empty != "End the run" {
			in.Options = append(in.Options, option{roster.StepEnd, "End the run"})
		}
		in.Options = withCurrent(in.Options, in.Value, "%s (no such step)")
		return in
	}
	last := st.OnFailure || st.Index == len(ids)-1
	following := "Continue with the next step"
	if last {
		following = "End the run"
	}
	for _, k := range fields {
		path := p + "." + k
		value := st.Field(k)
		var in formInput
		switch k {
		case "team":
			in = b.input(path, name+": team", value, "select", "")
			in.Options = []option{{"", "Choose a team"}}
			for _, t := range teams {
				in.Options = append(in.Options, option{t.MiroTeamID, cmp.Or(t.Name, t.MiroTeamID)})
			}
			in.Options = withCurrent(in.Options, value, "%s (not a team of this connection)")
		case "role":
			in = b.input(path, name+": role", value, "select", "")
			if value == "" {
				in.Options = []option{{"", "Choose a role"}}
			}
			in.Options = append(in.Options, option{roster.TeamRoleMember, "Member"}, option{roster.TeamRoleAdmin, "Admin"})
			in.Options = withCurrent(in.Options, value, "%s (unknown)")
		case "service_account":
			in = b.input(path, name+": service account (optional)", value, "email", "takes over as admin where the person is a team's last admin")
		case "channel":
			in = b.input(path, name+": send by", value, "select", "")
			if value == "" {
				in.Options = []option{{"", "Choose how"}}
			}
			for _, c := range []string{roster.ChannelOutbox, roster.ChannelEmail, roster.ChannelSlack, roster.ChannelWebhook} {
				in.Options = append(in.Options, option{c, workflow.ChannelWords[c]})
			}
			in.Options = withCurrent(in.Options, value, "%s (unknown)")
			in.Refresh = true
		case "to":
			if step.Channel != roster.ChannelEmail && value == "" {
				continue // only email has recipients
			}
			in = b.input(path, name+": to", value, "text", "email addresses, or manager for the person's manager, separated by commas")
		case "subject", "text":
			kept := st.SubjectKept
			label := name + ": subject"
			typ := "text"
			if k == "text" {
				kept, label, typ = st.TextKept, name+": message", "textarea"
				if step.Kind == roster.StepApproval {
					label = name + ": message to the approver (optional)"
				}
			}
			if kept {
				row.Kept = append(row.Kept, fmt.Sprintf("The %s uses template logic the form cannot show; it is kept as written. Edit it in the YAML view.", strings.TrimPrefix(label, name+": ")))
				continue
			}
			in = b.input(path, label, value, typ, "")
			in.Placeholders = workflow.Placeholders
		case "approver":
			in = b.input(path, name+": ask", value, "text", "manager for the person's manager, or an email address")
		case "via":
			in = b.input(path, name+": ask by", value, "select", "they can always answer in roster")
			for _, c := range []string{roster.ChannelUI, roster.ChannelEmail, roster.ChannelSlack} {
				in.Options = append(in.Options, option{c, workflow.ViaWords[c]})
			}
			in.Options = withCurrent(in.Options, value, "%s (unknown)")
		case "timeout":
			in = b.input(path, name+": wait for an answer up to", value, "text", "e.g. 3d, 72h or 90m")
		case "on_approve":
			in = goTo(b.input(path, name+": when approved", value, "select", ""), following)
		case "on_deny":
			in = goTo(b.input(path, name+": when denied", value, "select", ""), "End the run")
		case "on_timeout":
			in = goTo(b.input(path, name+": when no one answers in time", value, "select", ""), "End the run")
		case "duration":
			in = b.input(path, name+": wait for", value, "text", "e.g. 7d, 24h or 30m")
		case "next":
			in = goTo(b.input(path, name+": then", value, "select", ""), following)
		}
		row.Fields = append(row.Fields, in)
	}
	// An error of a key the form does not show for this kind (a team on
	// a notify step) is the row's.
	var more []string
	for path, msg := range b.errs {
		if k, ok := strings.CutPrefix(path, p+"."); ok && !strings.ContainsAny(k, ".[") {
			if _, shown := b.labels[path]; !shown {
				more = append(more, strings.ReplaceAll(k, "_", " ")+": "+msg)
			}
		}
	}
	slices.Sort(more)
	row.Error = strings.Join(append(compact(row.Error), more...), "; ")
	return row
}

// compact is s as a list: none when s is empty.
func compact(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// summary lists errs with the label of the input each belongs to.
func (b *formBuilder) summary(errs roster.WorkflowErrors) []formError {
	var out []formError
	for _, e := range errs {
		p := e.Path
		if strings.HasPrefix(p, "conditions[") && strings.HasSuffix(p, ".values") {
			p = strings.TrimSuffix(p, "s")
		}
		fe := formError{Label: b.labels[p], Message: e.Message}
		if fe.Label != "" {
			fe.Href = "#" + inputID(p)
		} else {
			fe.Label = pathWords(e.Path)
		}
		out = append(out, fe)
	}
	return out
}

// pathWords is an error's path with no input of its own, in words:
// "steps[2].role" is "Step 3, role".
func pathWords(p string) string {
	head, rest := "", p
	var i int
	switch {
	case strings.HasPrefix(p, "steps["):
		if _, err := fmt.Sscanf(p, "steps[%d]", &i); err == nil {
			head, rest = fmt.Sprintf("Step %d", i+1), p[strings.Index(p, "]")+1:]
		}
	case strings.HasPrefix(p, "conditions["):
		if _, err := fmt.Sscanf(p, "conditions[%d]", &i); err == nil {
			head, rest = fmt.Sprintf("Condition %d", i+1), p[strings.Index(p, "]")+1:]
		}
	case strings.HasPrefix(p, "on_failure"):
		head, rest = "The failure notice", strings.TrimPrefix(p, "on_failure")
	case strings.HasPrefix(p, "trigger."):
		head, rest = "When it runs", strings.TrimPrefix(p, "trigger")
	}
	rest = strings.ReplaceAll(strings.TrimPrefix(rest, "."), "_", " ")
	switch {
	case head == "" && rest != "":
		return strings.ToUpper(rest[:1]) + rest[1:]
	case rest != "":
		return head + ", " + rest
	}
	return head
}

// withCurrent adds the value to options when none has it, labelled by
// format, so the form posts back what the YAML holds.
func withCurrent(opts []option, value, format string) []option {
	if slices.ContainsFunc(opts, func(o option) bool { return o.Value == value }) {
		return opts
	}
	if value == "" {
		return append([]option{{"", "Choose…"}}, opts...)
	}
	return append(opts, option{value, fmt.Sprintf(format, value)})
}

// conditionHint says what a condition's value holds.
func conditionHint(field, op string) string {
	if op == "in" || op == "not_in" {
		return "values separated by commas"
	}
	switch field {
	case roster.CondLicense:
		return "e.g. full, occasional or free"
	case roster.CondOrgRole:
		return "e.g. member, admin or guest"
	case roster.CondTeam:
		return "a Miro team id"
	case roster.CondEmailDomain:
		return "e.g. example.com"
	case roster.CondInactiveDays:
		return "a number of days"
	case roster.CondGuest:
		return "true or false"
	}
	return ""
}

// sampleNotifyData is who the form's previews are written for: the first
// person of the directory with an account in the workflow's connection,
// or a made-up one.
func (s *Server) sampleNotifyData(ctx context.Context, w roster.Workflow) (roster.NotifyData, error) {
	d := roster.NotifyData{Workflow: w.Name, RunID: 123, RunURL: "/workflows/runs/123", Email: "alex@example.com",
		Name: "Alex Example", Manager: "manager@example.com", Department: "Sales", License: roster.LicenseFull,
		Trigger: triggerWords(w.Trigger), Error: "Miro refused the change (an example)"}
	if w.ConnectionID <= 0 {
		return d, nil
	}
	page, err := s.store.ListAccounts(ctx, store.AccountQuery{ConnectionID: w.ConnectionID, Status: "active", Limit: 50})
	if err != nil {
		return d, fmt.Errorf("read the accounts of connection %d: %w", w.ConnectionID, err)
	}
	emails := make([]string, len(page.Accounts))
	for i, a := range page.Accounts {
		emails[i] = a.Email
	}
	people, err := s.store.PeopleForAccounts(ctx, emails)
	if err != nil {
		return d, fmt.Errorf("read the directory: %w", err)
	}
	for _, a := range page.Accounts {
		if p, ok := people[strings.ToLower(a.Email)]; ok {
			d.Email, d.Name, d.Manager, d.Department, d.License = a.Email, cmp.Or(p.Name, a.Name), p.ManagerEmail, p.Department, a.License
			break
		}
	}
	return d, nil
}

// previewNotify renders a notify step for the sample person, as if the
// steps before it (before) had succeeded.
func previewNotify(ctx context.Context, st roster.Step, d roster.NotifyData, w roster.Workflow, before int) *notifyPreview {
	for _, prev := range w.Steps[:min(before, len(w.Steps))] {
		d.Steps = append(d.Steps, prev.ID+": succeeded")
	}
	p := &notifyPreview{Who: d.Name + " <" + d.Email + ">"}
	var err error
	if st.Subject != "" {
		if p.Subject, err = roster.RenderNotify(ctx, st.Subject, d); err != nil {
			p.Error = "The subject cannot be shown: " + err.Error()
		}
	}
	if p.Text, err = roster.RenderNotify(ctx, st.Text, d); err != nil {
		p.Error = "The message cannot be shown: " + err.Error()
	}
	return p
}
