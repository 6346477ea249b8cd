package web

import (
	"fmt"
	"net/http"
	"strings"

	"roster"
	"roster/internal/httpauth"
)

// actionDialog is one action's confirmation page: what it does, stated
// once, and one button; or why it cannot work.
type actionDialog struct {
	Kind  string
	Title string
	// Picks are the person's teams to choose from, for a removal or a role
	// change when they are in several and none is chosen yet.
	Picks []teamPick
	// Forms confirm the action, one per connection it goes through
	// (nearly always one).
	Forms []actionForm
	// Unavailable says why the action cannot work, with where to fix it.
	Unavailable, UnavailableHref string
	// Errors are a submission's errors; the action was not run.
	Errors []string
	Back   string // the user page
}

// teamPick is one team to choose in a dialog.
type teamPick struct {
	Name, Role, Href string
	Reason           string // why it cannot be chosen, when it cannot
}

// actionForm is one form posting to an action endpoint, with the
// endpoint's contract: the key made when the page rendered, the
// connection, the team, and confirm (sent by the button).
type actionForm struct {
	Kind         string // a key of userActionKinds
	Action       string // the URL it posts to
	Key          string // a fresh idempotency key
	ConnectionID int64
	Connection   string // the connection in words
	// TeamID is the team when it is fixed; Teams are the choices of an
	// invite to one of several.
	TeamID, TeamName string
	Teams            []option
	Email            string
	Role             string
	Roles            []string // a role to choose, for an invite or a role change
	ServiceAccount   string
	ServiceField     bool // remove-all asks for a service account
	// Statement says what the action does, once.
	Statement string
	Button    string
	Danger    bool
	ButtonID  string // confirm-action on the dialog's first form
	Back      string // the user page, to cancel
	CSRF      string
}

// dialogTitles are each kind's dialog title; %s is the person.
var dialogTitles = map[string]string{
	"invite":      "Invite %s to a team",
	"role":        "Change %s's role in a team",
	"remove":      "Remove %s from a team",
	kindRemoveAll: "Remove %s from every team",
	"deactivate":  "Deactivate %s",
	"reactivate":  "Reactivate %s",
	"signout":     "Sign %s out of every session",
}

// userActionPage is an action's dialog: GET /users/{id}/actions/{kind},
// with ?team= for a team action on one of several teams.
func (s *Server) userActionPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.showDialog(w, r, id, http.StatusOK, nil)
}

// showDialog renders the dialog of the path's kind with code; sub, when
// not nil, is a submission that failed, shown again with its errors.
func (s *Server) showDialog(w http.ResponseWriter, r *http.Request, id int64, code int, sub *submitted) error {
	kind := r.PathValue("kind")
	if _, ok := userActionKinds[kind]; !ok {
		return errNotFound("No such action: " + kind + ".")
	}
	p, plan, err := s.loadPerson(r, id)
	if err != nil {
		return err
	}
	teamID := r.URL.Query().Get("team")
	if sub != nil {
		teamID = sub.teamID
	}
	d := plan.dialog(p, kind, teamID, sub)
	p.Dialog = &d
	p.Title = fmt.Sprintf(dialogTitles[kind], p.Who)
	s.render(w, r, code, "user", p)
	return nil
}

// dialog builds kind's dialog for p: teamID is the team asked for, if
// any; sub a failed submission.
func (plan *actionPlan) dialog(p userPage, kind, teamID string, sub *submitted) actionDialog {
	who := p.Who
	base := fmt.Sprintf("/users/%d", p.Account.ID)
	d := actionDialog{Kind: kind, Title: fmt.Sprintf(dialogTitles[kind], who), Back: base}
	if sub != nil {
		d.Errors = sub.messages()
	}
	form := func(c roster.Connection) actionForm {
		return actionForm{Kind: kind, Action: base + "/actions/" + kind, Key: httpauth.RandomToken(), CSRF: p.CSRF,
			ConnectionID: c.ID, Connection: connLabel(c), Email: p.Account.Email, Back: base, Danger: kind != "invite" && kind != "role" && kind != "reactivate"}
	}
	show, why, _ := plan.availability(kind)
	switch kind {
	case "invite":
		if !show || plan.inviteWhy != "" {
			d.Unavailable = why
			break
		}
		for _, g := range plan.invites {
			if g.why != "" {
				continue
			}
			f := form(g.conn)
			f.Role, f.Roles, f.Button = roster.TeamRoleMember, roster.AssignableTeamRoles, "Invite"
			if len(g.teams) == 1 {
				f.TeamID, f.TeamName = g.teams[0].Value, g.teams[0].Label
				f.Statement = fmt.Sprintf("Adds %s to %s in Miro, with the role you choose.", who, f.TeamName)
			} else {
				f.Teams, f.TeamID = g.teams, g.teams[0].Value
				f.Statement = fmt.Sprintf("Adds %s to the team you choose in Miro, with the role you choose.", who)
			}
			d.Forms = append(d.Forms, f)
		}
		if len(d.Forms) == 0 {
			d.Unavailable = why
		}
	case "role", "remove":
		t, ok := plan.chosenTeam(teamID)
		switch {
		case !show:
			d.Unavailable = why
		case !ok:
			for _, t := range plan.teams {
				d.Picks = append(d.Picks, teamPick{Name: t.name, Role: roster.TeamRoleName(t.role), Reason: t.why,
					Href: fmt.Sprintf("%s/actions/%s?team=%s", base, kind, t.id)})
			}
		case t.why != "":
			d.Unavailable = t.name + ": " + t.why
		default:
			d.Title = fmt.Sprintf(strings.Replace(dialogTitles[kind], "a team", "%s", 1), who, t.name)
			f := form(t.conn)
			f.TeamID, f.TeamName, f.Role = t.id, t.name, t.role
			if kind == "remove" {
				f.Button = "Remove from " + t.name
				f.Statement = fmt.Sprintf("Removes %s from %s. %s", who, t.name, consequence(t.conn))
			} else {
				f.Roles, f.Button = roster.AssignableTeamRoles, "Change role"
				f.Role = roster.TeamRoleAdmin
				if t.role == roster.TeamRoleAdmin {
					f.Role = roster.TeamRoleMember
				}
				f.Statement = fmt.Sprintf("Changes %s's role in %s, now %s, to the role you choose.", who, t.name, roster.TeamRoleName(t.role))
			}
			d.Forms = append(d.Forms, f)
		}
	case kindRemoveAll:
		for _, t := range plan.allTeams {
			if t.why != "" {
				continue
			}
			f := form(t.conn)
			f.ServiceField, f.Button = true, "Remove from every team"
			f.Statement = fmt.Sprintf("Removes %s from %s: every team of theirs this connection covers. %s", who, andList(t.teams),
				strings.Replace(consequence(t.conn), "in this team", "in each team", 1))
			d.Forms = append(d.Forms, f)
		}
		if len(d.Forms) == 0 {
			d.Unavailable = why
		}
	default: // deactivate, reactivate, signout
		t := plan.org[kind]
		if !t.show || t.why != "" {
			d.Unavailable, d.UnavailableHref = t.why, t.href
			break
		}
		f := form(t.conn)
		f.Button = userActionKinds[kind].label
		switch kind {
		case "deactivate":
			f.Statement = fmt.Sprintf("Deactivates %s in the whole organization: they can no longer log in to Miro%s. Reactivate undoes it.",
				who, p.Summary.freedLicense())
		case "reactivate":
			f.Statement = fmt.Sprintf("Reactivates %s: they can log in to Miro again.", who)
		default:
			f.Statement = fmt.Sprintf("Signs %s out of every Miro session on every device; they can log in again at once.", who)
		}
		d.Forms = append(d.Forms, f)
	}
	for i := range d.Forms {
		if sub != nil {
			d.Forms[i].fill(sub)
		}
		if i == 0 {
			d.Forms[i].ButtonID = "confirm-action"
		}
	}
	return d
}

// chosenTeam is the person's team asked for, or their only team.
func (plan *actionPlan) chosenTeam(teamID string) (teamTarget, bool) {
	for _, t := range plan.teams {
		if t.id == teamID {
			return t, true
		}
	}
	if len(plan.teams) == 1 {
		return plan.teams[0], true
	}
	return teamTarget{}, false
}

// freedLicense is what a deactivation does to the person's license, as
// the end of a sentence, with the price it saves when one is set.
func (s userSummary) freedLicense() string {
	switch {
	case s.License == "":
		return ", and their paid license, if any, is freed"
	case s.License == roster.LicenseName(roster.LicenseFree) || s.License == roster.LicenseName("free_restricted"):
		return ""
	case s.Priced && s.UsageBilled:
		return fmt.Sprintf(", and their paid license is freed (%s, %s in a month they use Miro)", s.License, moneyText(s.Price, s.Currency))
	case s.Priced:
		return fmt.Sprintf(", and their paid license is freed (%s, %s a month)", s.License, moneyText(s.Price, s.Currency))
	}
	return ", and their paid license is freed (" + s.License + ")"
}

// fill shows a failed submission's values again on the form it came from.
func (f *actionForm) fill(sub *submitted) {
	if sub.connectionID != f.ConnectionID {
		return
	}
	if v, ok := sub.values["role"]; ok && len(f.Roles) > 0 {
		f.Role = v
	}
	if v, ok := sub.values["team"]; ok && len(f.Teams) > 0 {
		f.TeamID = v
	}
	if v, ok := sub.values["service_account"]; ok {
		f.ServiceAccount = v
	}
}

// messages are a submission's errors, the form's own first.
func (sub *submitted) messages() []string {
	var out []string
	for _, field := range []string{"", "confirm", "team", "email", "role", "service_account"} {
		if e, ok := sub.errors[field]; ok {
			out = append(out, e)
		}
	}
	return out
}

// andList joins names as people write them: "a", "a and b", "a, b and c".
func andList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// humanize is a stored value in words: "non_team" is "non team".
func humanize(s string) string { return strings.ReplaceAll(s, "_", " ") }

// moneyText is an amount with its currency, as the templates' money
// shows it.
func moneyText(amount float64, currency string) string {
	return fmt.Sprintf("%s %s", formatThousands(fmt.Sprintf("%.2f", amount)), currency)
}
