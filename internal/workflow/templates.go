package workflow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

// TemplateOptions fill a template's blanks.
type TemplateOptions struct {
	ConnectionID int64
	Team         string // onboarding: the Miro team id to invite to
	// NotifyChannel and NotifyTo are where offboarding reports and
	// reclaim denials go: "email" (NotifyTo the addresses), "slack",
	// "webhook" or "outbox" (the dashboard's Sent notifications page,
	// which needs no configuration). Default: email to NotifyTo when
	// given, else the outbox.
	NotifyChannel string
	NotifyTo      []string
	// Approval is how reclaim asks the manager: email, slack or ui.
	Approval string
}

// Templates are the ready workflows, by name.
var Templates = []string{"onboarding", "offboarding", "license-reclaim"}

// Template builds a ready workflow, disabled, for the admin to review and
// enable. It is not saved.
func Template(name string, o TemplateOptions) (roster.Workflow, error) {
	channel := o.NotifyChannel
	if channel == "" {
		channel = roster.ChannelOutbox
		if len(o.NotifyTo) > 0 {
			channel = roster.ChannelEmail
		}
	}
	var to []string
	if channel == roster.ChannelEmail {
		to = o.NotifyTo
	}
	var w roster.Workflow
	switch name {
	case "onboarding":
		w = roster.Workflow{
			Name:        "onboarding",
			Description: "When someone joins the company, invite them to their team in Miro.",
			Trigger:     roster.Trigger{Kind: roster.TriggerPersonJoined},
			Steps: []roster.Step{
				{ID: "invite", Kind: roster.StepInvite, Team: o.Team, Role: "member"},
			},
		}
	case "offboarding":
		w = roster.Workflow{
			Name:        "offboarding",
			Description: "When someone leaves the company, take them out of Miro everywhere, free their license and tell IT.",
			Trigger:     roster.Trigger{Kind: roster.TriggerPersonLeft},
			Steps: []roster.Step{
				{ID: "remove-from-teams", Kind: roster.StepRemoveAllTeams},
				{ID: "deactivate", Kind: roster.StepDeactivate},
				{ID: "sign-out", Kind: roster.StepSignOut},
				{ID: "tell-it", Kind: roster.StepNotify, Channel: channel, To: to,
					Subject: "Offboarded from Miro: {{.Email}}",
					Text:    "{{.Email}} left the company and was offboarded from Miro by workflow {{.Workflow}} (run {{.RunID}}).\n{{range .Steps}}- {{.}}\n{{end}}{{.RunURL}}"},
			},
			OnFailure: failureNotice(channel, to),
		}
	case "license-reclaim":
		via := o.Approval
		if via == "" {
			via = roster.ChannelEmail
		}
		w = roster.Workflow{
			Name:        "license-reclaim",
			Description: "Ask the manager before freeing a full license unused for 90 days.",
			Trigger:     roster.Trigger{Kind: roster.TriggerInactive, Days: 90},
			Conditions:  []roster.Condition{{Field: roster.CondLicense, Op: "is", Value: "full"}},
			Steps: []roster.Step{
				{ID: "ask-manager", Kind: roster.StepApproval, Approver: roster.ApproverManager, Via: via,
					Timeout: roster.Duration(7 * 24 * time.Hour), OnApprove: "deactivate", OnDeny: "tell-denied", OnTimeout: roster.StepEnd,
					Text: "{{.Email}} has not used their full Miro license for 90 days or more. Free it by deactivating them?"},
				{ID: "deactivate", Kind: roster.StepDeactivate, Next: roster.StepEnd},
				{ID: "tell-denied", Kind: roster.StepNotify, Channel: channel, To: to,
					Subject: "License kept: {{.Email}}",
					Text:    "The manager of {{.Email}} chose to keep their full Miro license (workflow {{.Workflow}}, run {{.RunID}})."},
			},
			OnFailure: failureNotice(channel, to),
		}
	default:
		return w, fmt.Errorf("no template %q: one of onboarding, offboarding, license-reclaim", name)
	}
	w.ConnectionID = o.ConnectionID
	return w, nil
}

// NewFromTemplate builds template name as Template does, as a draft the
// editor can save as it is: named so that no workflow has its name yet
// ("offboarding", else "offboarding-2", ...); onboarding inviting to the
// connection's first team when none is given; reclaim asking in the
// dashboard when email cannot send and no way of asking is given. It is
// not saved.
func (e *Engine) NewFromTemplate(ctx context.Context, name string, o TemplateOptions) (roster.Workflow, error) {
	if name == "onboarding" && o.Team == "" {
		teams, err := e.Store.Teams(ctx, o.ConnectionID)
		if err != nil {
			return roster.Workflow{}, fmt.Errorf("read the teams of connection %d: %w", o.ConnectionID, err)
		}
		if len(teams) == 0 {
			return roster.Workflow{}, fmt.Errorf("onboarding invites to a team, and connection %d has no teams yet: sync it first, or choose another connection", o.ConnectionID)
		}
		o.Team = teams[0].MiroTeamID
	}
	if o.Approval == "" && e.viaProblem(roster.ChannelEmail) != "" {
		o.Approval = roster.ChannelUI
	}
	w, err := Template(name, o)
	if err != nil {
		return w, err
	}
	w.Name, err = e.FreeName(ctx, w.Name)
	return w, err
}

// FreeName is base, or base-2, base-3, ...: the first name no workflow
// has yet, for a new draft.
func (e *Engine) FreeName(ctx context.Context, base string) (string, error) {
	name := base
	for n := 2; ; n++ {
		_, err := e.Store.WorkflowByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return name, nil
		}
		if err != nil {
			return "", fmt.Errorf("read workflow %s: %w", name, err)
		}
		name = base + "-" + strconv.Itoa(n)
	}
}

// ErrNoDefaultConnection: DefaultConnection found no connection a
// template could act through by default.
var ErrNoDefaultConnection = errors.New("there is no organization-level connection to default to")

// AmbiguousConnectionError: DefaultConnection found more than one
// connection a template could act through; IDs are the choices.
type AmbiguousConnectionError struct {
	IDs []int64
}

func (e *AmbiguousConnectionError) Error() string {
	ids := make([]string, len(e.IDs))
	for i, id := range e.IDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return "one of " + strings.Join(ids, ", ")
}

// DefaultConnection is the connection a template acts through when none
// is named: the only organization-level connection that is not
// disconnected. With none it returns ErrNoDefaultConnection, with more
// than one an *AmbiguousConnectionError listing them.
func DefaultConnection(conns []roster.Connection) (int64, error) {
	var ids []int64
	for _, c := range conns {
		if c.Level == roster.LevelOrganization && c.Status != roster.StatusDisconnected {
			ids = append(ids, c.ID)
		}
	}
	switch len(ids) {
	case 1:
		return ids[0], nil
	case 0:
		return 0, ErrNoDefaultConnection
	}
	return 0, &AmbiguousConnectionError{IDs: ids}
}

// failureNotice is the templates' on_failure step.
func failureNotice(channel string, to []string) *roster.Step {
	return &roster.Step{ID: roster.OnFailureID, Kind: roster.StepNotify, Channel: channel, To: to,
		Subject: "Workflow failed: {{.Workflow}} for {{.Email}}",
		Text:    "Workflow {{.Workflow}} failed for {{.Email}}: {{.Error}}\n{{range .Steps}}- {{.}}\n{{end}}Look at the run and finish by hand: {{.RunURL}}"}
}
