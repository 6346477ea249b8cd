package roster

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Workflow is an automation: when its Trigger fires for a subject (a
// directory person or a Miro account) and every Condition holds, its Steps
// run in order through its connection, as a durable run with a timeline.
// An approval step branches; every other step goes on to Next.
type Workflow struct {
	ID           int64       `json:"id" yaml:"-"`
	Name         string      `json:"name" yaml:"name"`
	Description  string      `json:"description,omitempty" yaml:"description,omitempty"`
	Enabled      bool        `json:"enabled" yaml:"enabled"`
	ConnectionID int64       `json:"connection" yaml:"connection"`
	Trigger      Trigger     `json:"trigger" yaml:"trigger"`
	Conditions   []Condition `json:"conditions,omitempty" yaml:"conditions,omitempty"`
	Steps        []Step      `json:"steps" yaml:"steps"`
	// OnFailure, a notify step, tells someone when a run fails, so a
	// half-done offboarding does not wait unseen in the runs list.
	OnFailure *Step     `json:"on_failure,omitempty" yaml:"on_failure,omitempty"`
	CreatedAt time.Time `json:"created_at" yaml:"-"`
	UpdatedAt time.Time `json:"updated_at" yaml:"-"`
}

// TriggerKind is what starts a workflow's runs.
type TriggerKind string

// Triggers.
const (
	// A directory person joined (was created active, or came back).
	TriggerPersonJoined TriggerKind = "person_joined"
	// A directory person left (status left, or deleted by the IdP).
	TriggerPersonLeft TriggerKind = "person_left"
	// A Miro account holding a paid license was inactive Days days
	// (Account.Inactive).
	TriggerInactive TriggerKind = "inactive"
	// A sync found a new Miro account that matches no directory person.
	TriggerNewAccount TriggerKind = "new_account"
	// A sync saw an account's license change (to License, when set).
	TriggerLicenseChanged TriggerKind = "license_changed"
	// A cron schedule: every account the conditions select.
	TriggerSchedule TriggerKind = "schedule"
	// Someone runs it on chosen people (UI, CLI, API).
	TriggerManual TriggerKind = "manual"
)

// TriggerKinds lists the triggers, in the order forms show them.
var TriggerKinds = []TriggerKind{TriggerPersonJoined, TriggerPersonLeft, TriggerInactive,
	TriggerNewAccount, TriggerLicenseChanged, TriggerSchedule, TriggerManual}

// Trigger says when a workflow runs.
type Trigger struct {
	Kind    TriggerKind `json:"kind" yaml:"kind"`
	Days    int         `json:"days,omitempty" yaml:"days,omitempty"`       // inactive
	Cron    string      `json:"cron,omitempty" yaml:"cron,omitempty"`       // schedule, 5 fields or @daily
	License string      `json:"license,omitempty" yaml:"license,omitempty"` // license_changed: only to this license
}

// Condition is one test of a run's subject; a workflow's conditions must
// all hold. Field is one of ConditionFields; Op one of the ops its field
// takes. "is" and "is_not" compare Value, "in" and "not_in" Values,
// "at_least" and "at_most" the number in Value.
type Condition struct {
	Field  string   `json:"field" yaml:"field"`
	Op     string   `json:"op" yaml:"op"`
	Value  string   `json:"value,omitempty" yaml:"value,omitempty"`
	Values []string `json:"values,omitempty" yaml:"values,omitempty"`
}

// Condition fields.
const (
	CondLicense      = "license"       // the account's license
	CondOrgRole      = "org_role"      // the account's organization role
	CondTeam         = "team"          // a Miro team id the account is in
	CondEmailDomain  = "email_domain"  // the part after @
	CondInactiveDays = "inactive_days" // days inactive by Account.ActivityAt; usage unknown matches nothing
	CondGuest        = "guest"         // "true" for guests and external users
	CondDepartment   = "department"    // the directory person's department
)

// ConditionOps is the ops each condition field takes.
var ConditionOps = map[string][]string{
	CondLicense:      {"is", "is_not", "in", "not_in"},
	CondOrgRole:      {"is", "is_not", "in", "not_in"},
	CondTeam:         {"is", "is_not", "in", "not_in"},
	CondEmailDomain:  {"is", "is_not", "in", "not_in"},
	CondInactiveDays: {"at_least", "at_most"},
	CondGuest:        {"is"},
	CondDepartment:   {"is", "is_not", "in", "not_in"},
}

// StepKind is what a step does.
type StepKind string

// Steps.
const (
	StepInvite         StepKind = "invite"           // to Team as Role
	StepRemove         StepKind = "remove"           // from Team
	StepChangeRole     StepKind = "change_role"      // in Team to Role
	StepRemoveAllTeams StepKind = "remove_all_teams" // every team of the connection
	StepDeactivate     StepKind = "deactivate"       // SCIM; frees the license
	StepReactivate     StepKind = "reactivate"
	StepSignOut        StepKind = "sign_out"
	StepNotify         StepKind = "notify"   // Channel, To, Subject, Text
	StepApproval       StepKind = "approval" // Approver, Via, Timeout; branches
	StepWait           StepKind = "wait"     // Duration
)

// StepKinds lists the steps, in the order forms show them.
var StepKinds = []StepKind{StepInvite, StepRemove, StepChangeRole, StepRemoveAllTeams, StepDeactivate,
	StepReactivate, StepSignOut, StepNotify, StepApproval, StepWait}

// IsAction reports whether the step acts on Miro.
func (k StepKind) IsAction() bool {
	switch k {
	case StepInvite, StepRemove, StepChangeRole, StepRemoveAllTeams, StepDeactivate, StepReactivate, StepSignOut:
		return true
	}
	return false
}

// StepEnd, as a step's Next or branch, ends the run.
const StepEnd = "end"

// Notification channels and the approver that means the subject's manager.
const (
	ChannelEmail    = "email"
	ChannelSlack    = "slack"
	ChannelWebhook  = "webhook"
	ChannelUI       = "ui" // approvals only: answered in the dashboard
	ApproverManager = "manager"
)

// Step is one step of a workflow. Which fields apply depends on Kind.
type Step struct {
	ID   string   `json:"id" yaml:"id"`
	Kind StepKind `json:"kind" yaml:"kind"`
	// Next is the step after this one, or "end"; empty means the
	// following step of the list. Approval steps use the branches instead.
	Next string `json:"next,omitempty" yaml:"next,omitempty"`

	Team           string `json:"team,omitempty" yaml:"team,omitempty"` // Miro team id
	Role           string `json:"role,omitempty" yaml:"role,omitempty"` // member or admin
	ServiceAccount string `json:"service_account,omitempty" yaml:"service_account,omitempty"`

	// Notify: Channel is email, slack or webhook; To are email addresses
	// ("manager" is the subject's manager); Subject and Text are
	// text/template templates over NotifyData.
	Channel string   `json:"channel,omitempty" yaml:"channel,omitempty"`
	To      []string `json:"to,omitempty" yaml:"to,omitempty"`
	Subject string   `json:"subject,omitempty" yaml:"subject,omitempty"`
	Text    string   `json:"text,omitempty" yaml:"text,omitempty"`

	// Approval: Approver is an email or "manager"; Via is ui, email or
	// slack (the UI can always answer); Timeout bounds the wait.
	Approver  string   `json:"approver,omitempty" yaml:"approver,omitempty"`
	Via       string   `json:"via,omitempty" yaml:"via,omitempty"`
	Timeout   Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	OnApprove string   `json:"on_approve,omitempty" yaml:"on_approve,omitempty"` // default: the following step
	OnDeny    string   `json:"on_deny,omitempty" yaml:"on_deny,omitempty"`       // default: end
	OnTimeout string   `json:"on_timeout,omitempty" yaml:"on_timeout,omitempty"` // default: end

	// Wait.
	Duration Duration `json:"duration,omitempty" yaml:"duration,omitempty"`
}

// NotifyData is what notification and approval templates see.
type NotifyData struct {
	Workflow   string
	RunID      int64
	RunURL     string
	Email      string // the subject
	Name       string
	Manager    string
	Department string
	License    string
	Trigger    string // plain words
	// Steps are the run's finished steps so far, one line each.
	Steps []string
	// Error is why the run failed (on_failure only).
	Error string
}

// OnFailureID is the timeline and key id of a workflow's on_failure step.
const OnFailureID = "on-failure"

// Duration is a time.Duration written "90m", "72h" or "30d" in YAML and
// JSON.
type Duration time.Duration

// ParseDuration parses Go durations plus a whole-days form ("30d").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q is not a duration such as 30m, 72h or 7d", s)
		}
		return Duration(time.Duration(d) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 30m, 72h or 7d", s)
	}
	return Duration(d), nil
}

func (d Duration) String() string {
	t := time.Duration(d)
	if t != 0 && t%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", t/(24*time.Hour))
	}
	// time.Duration writes "1h30m0s" and "2h0m0s"; drop the zero units.
	s := t.String()
	if strings.HasSuffix(s, "m0s") || strings.HasSuffix(s, "h0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalText writes d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what ParseDuration reads.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
