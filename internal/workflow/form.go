package workflow

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"roster"
)

// This file is the form editor's model: a workflow as the dashboard's
// form shows it (Form, FormOf), and which inputs each kind of trigger and
// step has. The form posts its inputs under the paths the definition's
// field errors use ("steps[1].team"), and EditYAML (form_yaml.go) writes
// them onto the YAML text, so what the form does not show survives.

// Form is a workflow as the form editor's inputs hold it: every value as
// text, notification texts with readable placeholders ("{email}").
type Form struct {
	Name        string
	Description string
	Enabled     bool
	Connection  string
	Trigger     FormTrigger
	Conditions  []FormCondition
	Steps       []FormStep
	// OnFailure is the notice sent when a run fails; nil for none.
	OnFailure *FormStep
}

// FormTrigger is the trigger's inputs.
type FormTrigger struct {
	Kind, Days, Cron, License string
}

// FormCondition is one condition's row. Value holds "in" and "not_in"'s
// values separated by commas.
type FormCondition struct {
	Field, Op, Value string
}

// FormStep is one step's inputs. To is the recipients separated by
// commas; Subject and Text are readable unless SubjectKept or TextKept.
// ID is "" for a step the YAML gives no id, which runs as DefaultID.
type FormStep struct {
	ID, Kind, Next         string
	Team, Role             string
	ServiceAccount         string
	Channel, To            string
	Subject, Text          string
	Approver, Via, Timeout string
	OnApprove, OnDeny      string
	OnTimeout, Duration    string
	SubjectKept, TextKept  bool   // template syntax beyond the placeholders: kept as written, edited in the YAML view
	DefaultID              string // "step2": the id of a step without one
	OnFailure              bool   // the on_failure notice, not a step of the list
	Index                  int    // in the list; -1 for the on_failure notice
}

// FormOf is w as the form shows it.
func FormOf(w roster.Workflow) Form {
	f := Form{Name: w.Name, Description: w.Description, Enabled: w.Enabled,
		Trigger: FormTrigger{Kind: string(w.Trigger.Kind), Cron: w.Trigger.Cron, License: w.Trigger.License}}
	if w.ConnectionID != 0 {
		f.Connection = strconv.FormatInt(w.ConnectionID, 10)
	}
	if w.Trigger.Days != 0 {
		f.Trigger.Days = strconv.Itoa(w.Trigger.Days)
	}
	for _, c := range w.Conditions {
		v := c.Value
		if len(c.Values) > 0 {
			v = strings.Join(c.Values, ", ")
		}
		f.Conditions = append(f.Conditions, FormCondition{Field: c.Field, Op: c.Op, Value: v})
	}
	for i, s := range w.Steps {
		fs := formStep(s)
		fs.Index, fs.DefaultID = i, fmt.Sprintf("step%d", i+1)
		f.Steps = append(f.Steps, fs)
	}
	if w.OnFailure != nil {
		fs := formStep(*w.OnFailure)
		fs.OnFailure, fs.Index = true, -1
		f.OnFailure = &fs
	}
	return f
}

func formStep(s roster.Step) FormStep {
	fs := FormStep{ID: s.ID, Kind: string(s.Kind), Next: s.Next, Team: s.Team, Role: s.Role, ServiceAccount: s.ServiceAccount,
		Channel: s.Channel, To: strings.Join(s.To, ", "), Approver: s.Approver, Via: s.Via,
		OnApprove: s.OnApprove, OnDeny: s.OnDeny, OnTimeout: s.OnTimeout}
	if s.Timeout != 0 {
		fs.Timeout = s.Timeout.String()
	}
	if s.Duration != 0 {
		fs.Duration = s.Duration.String()
	}
	fs.Subject, fs.SubjectKept = readableOrKept(s.Subject)
	fs.Text, fs.TextKept = readableOrKept(s.Text)
	return fs
}

// Values are the form's inputs by name, as the dashboard's form posts
// them: what EditYAML reads. A text the form cannot show is not among
// them, so it is kept as written.
func (f Form) Values() map[string]string {
	v := map[string]string{"name": f.Name, "description": f.Description, "enabled": strconv.FormatBool(f.Enabled),
		"connection": f.Connection, "trigger.kind": f.Trigger.Kind}
	for _, k := range TriggerFields(roster.TriggerKind(f.Trigger.Kind)) {
		v["trigger."+k] = map[string]string{"days": f.Trigger.Days, "cron": f.Trigger.Cron, "license": f.Trigger.License}[k]
	}
	for i, c := range f.Conditions {
		p := fmt.Sprintf("conditions[%d].", i)
		v[p+"field"], v[p+"op"], v[p+"value"] = c.Field, c.Op, c.Value
	}
	for i, s := range f.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		v[p+".id"], v[p+".kind"] = s.ID, s.Kind
		s.values(p, StepFields(roster.StepKind(s.Kind)), v)
	}
	if f.OnFailure != nil {
		f.OnFailure.values("on_failure", onFailureFields, v)
	}
	return v
}

// values adds a step's inputs of fields to v.
func (s FormStep) values(p string, fields []string, v map[string]string) {
	for _, k := range fields {
		if (k == keySubj && s.SubjectKept) || (k == keyText && s.TextKept) {
			continue
		}
		v[p+"."+k] = s.Field(k)
	}
}

// Field is the input of the step's key k ("team", "on_approve").
func (s FormStep) Field(k string) string {
	switch k {
	case keyNext:
		return s.Next
	case keyTeam:
		return s.Team
	case keyRole:
		return s.Role
	case keySA:
		return s.ServiceAccount
	case keyChan:
		return s.Channel
	case keyTo:
		return s.To
	case keySubj:
		return s.Subject
	case keyText:
		return s.Text
	case keyAppr:
		return s.Approver
	case keyVia:
		return s.Via
	case keyTime:
		return s.Timeout
	case keyOnA:
		return s.OnApprove
	case keyOnD:
		return s.OnDeny
	case keyOnT:
		return s.OnTimeout
	case keyDur:
		return s.Duration
	}
	return ""
}

// OnFailureFields are the inputs of the on_failure notice.
func OnFailureFields() []string { return slices.Clone(onFailureFields) }

// readableOrKept is a template's readable text, or "" and true when the
// form cannot show it.
func readableOrKept(tmpl string) (string, bool) {
	r, ok := ReadableText(tmpl)
	if !ok {
		return "", true
	}
	return r, false
}

// Step keys, as the YAML writes them.
const (
	keyNext = "next"
	keyTeam = "team"
	keyRole = "role"
	keySA   = "service_account"
	keyChan = "channel"
	keyTo   = "to"
	keySubj = "subject"
	keyText = "text"
	keyAppr = "approver"
	keyVia  = "via"
	keyTime = "timeout"
	keyOnA  = "on_approve"
	keyOnD  = "on_deny"
	keyOnT  = "on_timeout"
	keyDur  = "duration"
)

// stepKeyOrder is the order of a step's keys, as MarshalYAML writes
// them; a key the form adds goes in its place.
var stepKeyOrder = []string{"id", "kind", keyNext, keyTeam, keyRole, keySA, keyChan, keyTo, keySubj, keyText,
	keyAppr, keyVia, keyTime, keyOnA, keyOnD, keyOnT, keyDur}

var (
	workflowKeyOrder  = []string{"name", "description", "enabled", "connection", "trigger", "conditions", "steps", "on_failure"}
	triggerKeyOrder   = []string{"kind", "days", "cron", "license"}
	conditionKeyOrder = []string{"field", "op", "value", "values"}
)

// StepFields are the keys a step of kind k uses besides its id and kind,
// which are the inputs the form shows for it.
func StepFields(k roster.StepKind) []string {
	switch k {
	case roster.StepInvite, roster.StepChangeRole:
		return []string{keyTeam, keyRole, keyNext}
	case roster.StepRemove:
		return []string{keyTeam, keyNext}
	case roster.StepRemoveAllTeams:
		return []string{keySA, keyNext}
	case roster.StepNotify:
		return []string{keyChan, keyTo, keySubj, keyText, keyNext}
	case roster.StepApproval:
		return []string{keyAppr, keyVia, keyTime, keyText, keyOnA, keyOnD, keyOnT}
	case roster.StepWait:
		return []string{keyDur, keyNext}
	}
	return []string{keyNext}
}

// onFailureFields are the on_failure notice's inputs: a notify step that
// ends the run.
var onFailureFields = []string{keyChan, keyTo, keySubj, keyText}

// TriggerFields are the settings a trigger of kind k takes besides its
// kind.
func TriggerFields(k roster.TriggerKind) []string {
	switch k {
	case roster.TriggerInactive:
		return []string{"days"}
	case roster.TriggerSchedule:
		return []string{"cron"}
	case roster.TriggerLicenseChanged:
		return []string{"license"}
	}
	return nil
}

// stepDefaults are what a new step of kind k starts with, so it needs
// little more than its team or text to validate.
func stepDefaults(k roster.StepKind) [][2]string {
	switch k {
	case roster.StepInvite, roster.StepChangeRole:
		return [][2]string{{keyRole, roster.TeamRoleMember}}
	case roster.StepNotify:
		return [][2]string{{keyChan, roster.ChannelOutbox}}
	case roster.StepApproval:
		return [][2]string{{keyAppr, roster.ApproverManager}, {keyVia, roster.ChannelUI}, {keyTime, "3d"}}
	case roster.StepWait:
		return [][2]string{{keyDur, "1d"}}
	}
	return nil
}

// newStepID is an id for a step of kind k that none of taken has: the
// kind in words ("sign-out"), then "sign-out-2", "sign-out-3"...
func newStepID(k roster.StepKind, taken []string) string {
	base := strings.ReplaceAll(string(k), "_", "-")
	if base == "" {
		base = "step"
	}
	id := base
	for n := 2; slices.Contains(taken, id) || id == roster.StepEnd; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	return id
}

// splitRecipients reads email addresses separated by commas, semicolons
// or spaces.
func splitRecipients(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

// splitValues reads a condition's values separated by commas; a value
// may hold spaces ("Sales Ops").
func splitValues(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
