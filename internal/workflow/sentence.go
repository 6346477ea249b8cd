package workflow

import (
	"cmp"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"roster"
)

// This file says a workflow's parts in words: the names the form's
// selects show, and each step as a sentence ("Remove from team Growth"),
// notification texts with readable placeholders, never template syntax.

// TriggerKindWords are the triggers as the form names them.
var TriggerKindWords = map[roster.TriggerKind]string{
	roster.TriggerPersonJoined:   "Joined the company (directory)",
	roster.TriggerPersonLeft:     "Left the company (directory)",
	roster.TriggerInactive:       "Inactive for N days",
	roster.TriggerNewAccount:     "New Miro account",
	roster.TriggerLicenseChanged: "License changed",
	roster.TriggerSchedule:       "On a schedule",
	roster.TriggerManual:         "Manually",
}

// StepKindWords are the kinds of step as the form names them.
var StepKindWords = map[roster.StepKind]string{
	roster.StepInvite:         "Invite to a team",
	roster.StepRemove:         "Remove from a team",
	roster.StepChangeRole:     "Change the role in a team",
	roster.StepRemoveAllTeams: "Remove from every team",
	roster.StepDeactivate:     "Deactivate (frees the license)",
	roster.StepReactivate:     "Reactivate",
	roster.StepSignOut:        "Sign out of every session",
	roster.StepNotify:         "Send a message",
	roster.StepApproval:       "Ask for approval",
	roster.StepWait:           "Wait",
}

// ConditionFields are the condition fields in the order the form lists
// them, and ConditionFieldWords their names.
var (
	ConditionFields = []string{roster.CondLicense, roster.CondOrgRole, roster.CondTeam, roster.CondEmailDomain,
		roster.CondInactiveDays, roster.CondGuest, roster.CondDepartment}
	ConditionFieldWords = map[string]string{
		roster.CondLicense:      "License",
		roster.CondOrgRole:      "Organization role",
		roster.CondTeam:         "Team",
		roster.CondEmailDomain:  "Email domain",
		roster.CondInactiveDays: "Days inactive",
		roster.CondGuest:        "Guest or external",
		roster.CondDepartment:   "Department",
	}
)

// ConditionOpOrder is every condition operator in the order the form lists
// them, and ConditionOpWords their words.
var (
	ConditionOpOrder = []string{"is", "is_not", "in", "not_in", "at_least", "at_most"}
	ConditionOpWords = map[string]string{"is": "is", "is_not": "is not", "in": "is one of", "not_in": "is none of",
		"at_least": "is at least", "at_most": "is at most"}
)

// ChannelWords are the notification channels, and ViaWords the ways an
// approval asks.
var (
	ChannelWords = map[string]string{
		roster.ChannelOutbox:  "Sent notifications page (outbox)",
		roster.ChannelEmail:   "Email",
		roster.ChannelSlack:   "Slack",
		roster.ChannelWebhook: "Webhook",
	}
	ViaWords = map[string]string{
		roster.ChannelUI:    "In roster only",
		roster.ChannelEmail: "Email",
		roster.ChannelSlack: "Slack",
	}
)

// SentenceContext is what a step's sentence names beyond the step.
type SentenceContext struct {
	// Teams are team names by Miro team id; an unknown id is shown as is.
	Teams map[string]string
	// License is the license the person is known to hold (a condition
	// says so), or "".
	License string
}

// StepSentence is a step as a sentence: "Remove from team Growth",
// "Ask manager for approval by Slack, waiting up to 3 days; approved →
// deactivate, denied → end". An approval's unset branches read as their
// defaults: the next step, and the end.
func StepSentence(s roster.Step, c SentenceContext) string {
	return sentence(s, c, cmp.Or(s.OnApprove, "the next step"), cmp.Or(s.OnDeny, roster.StepEnd), cmp.Or(s.OnTimeout, roster.StepEnd))
}

// StepSentences are w's steps as sentences, each approval's branches
// resolved to the steps they go to, and the license known from w's
// conditions or trigger.
func StepSentences(w roster.Workflow, teams map[string]string) []string {
	c := SentenceContext{Teams: teams, License: KnownLicense(w)}
	out := make([]string, len(w.Steps))
	for i, s := range w.Steps {
		a, d, t := w.Branches(i)
		out[i] = sentence(s, c, a, d, t)
	}
	return out
}

// KnownLicense is the license every person a run of w acts on holds, when
// a condition or the trigger says so; else "".
func KnownLicense(w roster.Workflow) string {
	for _, c := range w.Conditions {
		if c.Field != roster.CondLicense {
			continue
		}
		switch {
		case c.Op == "is":
			return c.Value
		case c.Op == "in" && len(c.Values) == 1:
			return c.Values[0]
		}
	}
	if w.Trigger.Kind == roster.TriggerLicenseChanged {
		return w.Trigger.License
	}
	return ""
}

func sentence(s roster.Step, c SentenceContext, approve, deny, timeout string) string {
	team := func() string {
		if n := c.Teams[s.Team]; n != "" {
			return "team " + n
		}
		if s.Team == "" {
			return "a team (none chosen)"
		}
		return "team " + s.Team
	}
	var out string
	switch s.Kind {
	case roster.StepInvite:
		out = fmt.Sprintf("Invite to %s as %s", team(), cmp.Or(s.Role, roster.TeamRoleMember))
	case roster.StepRemove:
		out = "Remove from " + team()
	case roster.StepChangeRole:
		out = fmt.Sprintf("Make %s of %s", cmp.Or(s.Role, "member"), team())
	case roster.StepRemoveAllTeams:
		out = "Remove from every team"
		if s.ServiceAccount != "" {
			out += " (" + s.ServiceAccount + " takes over where they are the last admin)"
		}
	case roster.StepDeactivate:
		out = "Deactivate in the organization"
		if c.License != "" {
			out = "Deactivate (frees a " + roster.LicenseName(c.License) + " license)"
		}
	case roster.StepReactivate:
		out = "Reactivate in the organization"
	case roster.StepSignOut:
		out = "Sign out of every Miro session"
	case roster.StepNotify:
		out = notifySentence(s)
	case roster.StepApproval:
		via := map[string]string{roster.ChannelEmail: " by email", roster.ChannelSlack: " by Slack"}[s.Via]
		if via == "" {
			via = " in roster"
		}
		out = fmt.Sprintf("Ask %s for approval%s, waiting up to %s; approved → %s, denied → %s",
			cmp.Or(s.Approver, "(no one chosen)"), via, DurationWords(s.Timeout), approve, deny)
		if timeout != roster.StepEnd {
			out += ", no answer → " + timeout
		}
		return out
	case roster.StepWait:
		out = "Wait " + DurationWords(s.Duration)
	default:
		out = fmt.Sprintf("Unknown kind of step %q", s.Kind)
	}
	switch s.Next {
	case "":
	case roster.StepEnd:
		out += ", then end"
	default:
		out += ", then go to " + s.Next
	}
	return out
}

// notifySentence is "Send by email to manager: “Offboarded: {email}”".
func notifySentence(s roster.Step) string {
	var out string
	switch s.Channel {
	case roster.ChannelEmail:
		out = "Send by email to " + cmp.Or(strings.Join(s.To, ", "), "(no one)")
	case roster.ChannelSlack:
		out = "Send to Slack"
	case roster.ChannelWebhook:
		out = "Send to the webhook"
	case roster.ChannelOutbox:
		out = "Send to the Sent notifications page"
	default:
		out = "Send a message"
	}
	what := s.Subject
	if strings.TrimSpace(what) == "" {
		what, _, _ = strings.Cut(strings.TrimSpace(s.Text), "\n")
	}
	what = strings.TrimSpace(readableSummary(what))
	if what == "" {
		return out
	}
	if utf8.RuneCountInString(what) > 80 {
		what = string([]rune(what)[:79]) + "…"
	}
	return out + ": “" + what + "”"
}

// ConditionSentence is a condition in words: "License is Full".
func ConditionSentence(c roster.Condition, teams map[string]string) string {
	field := cmp.Or(ConditionFieldWords[c.Field], c.Field)
	op := cmp.Or(ConditionOpWords[c.Op], c.Op)
	value := func(v string) string {
		switch c.Field {
		case roster.CondLicense:
			return roster.LicenseName(v)
		case roster.CondTeam:
			return cmp.Or(teams[v], v)
		}
		return v
	}
	if c.Op == "in" || c.Op == "not_in" {
		vs := make([]string, len(c.Values))
		for i, v := range c.Values {
			vs[i] = value(v)
		}
		return fmt.Sprintf("%s %s %s", field, op, strings.Join(vs, ", "))
	}
	if c.Field == roster.CondInactiveDays {
		return fmt.Sprintf("%s %s %s", field, op, c.Value)
	}
	return fmt.Sprintf("%s %s %s", field, op, value(c.Value))
}

// DurationWords is a duration as people say it: "3 days", "1 hour",
// "90 minutes", "1 hour 30 minutes".
func DurationWords(d roster.Duration) string {
	t := time.Duration(d)
	if t <= 0 {
		return "no time"
	}
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	day := 24 * time.Hour
	if t%day == 0 {
		return unit(int64(t/day), "day")
	}
	if t%time.Hour == 0 {
		return unit(int64(t/time.Hour), "hour")
	}
	if t%time.Minute == 0 {
		if t < 2*time.Hour {
			return unit(int64(t/time.Minute), "minute")
		}
		return unit(int64(t/time.Hour), "hour") + " " + unit(int64(t%time.Hour/time.Minute), "minute")
	}
	return d.String()
}
