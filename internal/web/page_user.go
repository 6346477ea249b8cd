package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/action"
	"roster/internal/store"
)

// userPage is the user page's data: one summary of the person, the
// actions that can work on them behind one menu (admins only), and one
// history; or, when Dialog is set, one action's confirmation.
type userPage struct {
	Page
	Account roster.Account
	// Who names the person in sentences: their name, else their email.
	Who     string
	Summary userSummary
	// Menu is the actions menu; empty for a viewer, who sees no actions.
	Menu    []menuItem
	History userHistory
	// Dialog is one action's confirmation (GET /users/{id}/actions/{kind}),
	// or the same shown again with the errors of its submission.
	Dialog *actionDialog
	// Result is the outcome of the action just run (?done=<key>), and
	// Retry, for a failed organization-wide action, the form that retries
	// it under the same key.
	Result *roster.Action
	Retry  *actionForm
	// AllTeams is the outcome of a removal from every team just run.
	AllTeams *allTeamsView
}

// userSummary is everything the page says about the person, at the top.
type userSummary struct {
	License      string // its name: "Full"
	LicenseExact bool
	// Price is the license's monthly price under the organization's
	// contract (Contract true) or the settings' default prices; Priced is
	// false when none is set for it.
	Price       float64
	Currency    string
	Priced      bool
	Contract    bool
	UsageBilled bool // charged only in a month they use Miro
	// UsageKnown is false when only team-level connections see them;
	// LastActive is zero when they never used Miro.
	UsageKnown bool
	LastActive time.Time
	ActiveAgo  template.HTML // "12 days ago", as a <time>
	OrgName    string
	OrgRole    string // in words
	AdminRoles []string
	Teams      []teamRole
	// Directory is what the directory says: at the company, left, or not
	// in the directory (InDirectory false).
	InDirectory bool
	DirLeft     bool
	DirLeftAt   template.HTML // the day, as a <time>; "" when none was recorded
	Manager     string
	Department  string
	personID    int64 // the directory's, for the history
}

// teamRole is one of the person's teams.
type teamRole struct {
	ID, Name, Role string
}

// userPage shows one person: the summary, the actions menu and the
// history, and the outcome of an action just run.
func (s *Server) userPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := s.loadUserPage(r, id)
	if err != nil {
		return err
	}
	if key := r.URL.Query().Get("done"); key != "" {
		a, err := s.store.ActionByKey(r.Context(), key)
		switch {
		case err == nil:
			p.Result = &a
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("load the action's outcome: %w", err)
		}
		if p.Result != nil && p.Result.Status == roster.ActionFailed {
			p.Retry = p.retryForm(*p.Result)
		}
	}
	s.render(w, r, http.StatusOK, "user", p)
	return nil
}

// pathID reads the {id} of the path.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound("No such user.")
	}
	return id, nil
}

// loadUserPage gathers the user page: the summary, the menu (for an
// admin) and the history.
func (s *Server) loadUserPage(r *http.Request, id int64) (userPage, error) {
	p, plan, err := s.loadPerson(r, id)
	if err != nil {
		return p, err
	}
	if p.CanAct {
		p.Menu = plan.menu(id)
	}
	if p.History, err = s.personHistory(r.Context(), p.Account, p.Summary.personID, plan.teamByID); err != nil {
		return p, err
	}
	return p, nil
}

// loadPerson reads the person and their summary, and plans what can be
// done to them: what the menu offers and each dialog shows.
func (s *Server) loadPerson(r *http.Request, id int64) (userPage, *actionPlan, error) {
	ctx := r.Context()
	acc, err := s.store.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return userPage{}, nil, errNotFound("No such user.")
	}
	if err != nil {
		return userPage{}, nil, fmt.Errorf("load account %d: %w", id, err)
	}
	p := userPage{Page: s.page(r, cmp.Or(acc.Email, acc.Name, acc.MiroUserID)), Account: acc,
		Who: cmp.Or(acc.Name, acc.Email, acc.MiroUserID)}
	p.Nav = "users"
	plan, err := s.planActions(r, acc)
	if err != nil {
		return p, nil, err
	}
	if p.Summary, err = s.summarize(ctx, acc, plan); err != nil {
		return p, nil, err
	}
	return p, plan, nil
}

// summarize is the summary: license and its price, activity, the
// organization and teams, and what the directory says.
func (s *Server) summarize(ctx context.Context, acc roster.Account, plan *actionPlan) (userSummary, error) {
	sum := userSummary{License: roster.LicenseName(acc.License), LicenseExact: acc.LicenseExact,
		UsageKnown: acc.UsageKnown(), LastActive: acc.LastActivityAt, AdminRoles: acc.AdminRoles,
		OrgRole: orgRoleWords(acc.OrgRole), UsageBilled: roster.UsageBilled(acc.License)}
	if acc.License == "" || acc.License == roster.LicenseUnknown {
		sum.License = ""
	}

	// The price, under the organization's contract or the default prices,
	// priced as the Licenses page and the bulk runs price a seat.
	c, err := s.licenses.Contract(ctx, acc.OrgID)
	if err != nil {
		return sum, err
	}
	sum.Price, sum.Currency, sum.Contract = c.MonthlyPrice(acc.License), c.Currency, c.Saved
	sum.Priced = c.Licenses[acc.License].Price > 0
	if sum.UsageKnown && !sum.LastActive.IsZero() {
		sum.ActiveAgo = whenHTML(sum.LastActive, daysAgo(s.now(), sum.LastActive))
	}

	if acc.OrgID != "" {
		o, err := s.store.Organization(ctx, acc.OrgID)
		switch {
		case err == nil:
			sum.OrgName = o.Name
		case !errors.Is(err, store.ErrNotFound):
			return sum, fmt.Errorf("load organization %s: %w", acc.OrgID, err)
		}
		for _, c := range plan.conns {
			if sum.OrgName == "" && c.OrgID == acc.OrgID {
				sum.OrgName = c.OrgName
			}
		}
		sum.OrgName = cmp.Or(sum.OrgName, acc.OrgID)
	}
	for _, m := range plan.members {
		sum.Teams = append(sum.Teams, teamRole{ID: m.MiroTeamID, Name: teamName(plan.teamByID, m.MiroTeamID), Role: m.Role})
	}
	slices.SortFunc(sum.Teams, func(a, b teamRole) int { return strings.Compare(a.Name, b.Name) })

	if acc.Email == "" {
		return sum, nil
	}
	person, err := s.store.PersonForAccount(ctx, acc.Email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return sum, nil
	case err != nil:
		return sum, fmt.Errorf("look up %s in the directory: %w", acc.Email, err)
	}
	sum.InDirectory, sum.Manager, sum.Department, sum.personID = true, person.ManagerEmail, person.Department, person.ID
	if person.Status == roster.PersonLeft {
		sum.DirLeft = true
		events, err := s.store.PersonEventsFor(ctx, person.ID, 10)
		if err != nil {
			return sum, fmt.Errorf("load the directory's events: %w", err)
		}
		for _, e := range events { // newest first
			if e.Kind == roster.PersonEventLeft {
				sum.DirLeftAt = whenHTML(e.At, e.At.UTC().Format("Jan 2, 2006"))
				break
			}
		}
	}
	return sum, nil
}

// daysAgo says how long ago t was, in whole days, as people say it.
func daysAgo(now, t time.Time) string {
	days := int(now.Sub(t).Hours() / 24)
	switch {
	case days <= 0:
		return "today"
	case days == 1:
		return "yesterday"
	}
	return plural(days, "day") + " ago"
}

// whenHTML is a moment shown as text (a day, "12 days ago"), with the
// exact instant in datetime= and as a tooltip, as datetimeHTML does.
func whenHTML(t time.Time, text string) template.HTML {
	iso := t.UTC().Format(time.RFC3339)
	return template.HTML(`<time class="when" datetime="` + iso + `" title="` + iso + `">` + template.HTMLEscapeString(text) + `</time>`)
}

// orgRoleWords is a Miro organization role in words.
func orgRoleWords(role string) string {
	switch role {
	case "":
		return ""
	case roster.OrgRoleInternalAdmin:
		return "admin"
	case roster.OrgRoleInternalUser:
		return "member"
	case roster.OrgRoleExternalUser:
		return "external user"
	case roster.OrgRoleTeamGuest:
		return "guest"
	}
	return strings.ReplaceAll(role, "_", " ")
}

// retryForm retries a failed organization-wide action under its key:
// the runner then asks Miro whether it was done before acting again.
// Team actions have none: their dialog carries the team and role again.
func (p *userPage) retryForm(a roster.Action) *actionForm {
	if !p.CanAct {
		return nil
	}
	for _, kind := range orgKindNames {
		if k := userActionKinds[kind]; k.kind == a.Kind && kind != kindRemoveAll {
			return &actionForm{Kind: kind, Button: "Retry: " + strings.ToLower(k.label),
				Action: fmt.Sprintf("/users/%d/actions/%s", p.Account.ID, kind), Key: a.Key, ConnectionID: a.ConnectionID, CSRF: p.CSRF}
		}
	}
	return nil
}

// connectionFor picks the connection that acts on a team: one that may
// manage it if any, else the first that covers it (to say why not).
func connectionFor(conns []roster.Connection, team roster.Team, teamID string) (roster.Connection, bool) {
	var first *roster.Connection
	for i, c := range conns {
		covers := c.Status != roster.StatusDisconnected &&
			((c.Level == roster.LevelTeam && c.TeamID == teamID) ||
				(c.Level == roster.LevelOrganization && c.OrgID != "" && c.OrgID == team.OrgID))
		if !covers {
			continue
		}
		if ok, _ := capability(c, roster.CapManage); ok {
			return c, true
		}
		if first == nil {
			first = &conns[i]
		}
	}
	if first == nil {
		return roster.Connection{}, false
	}
	return *first, true
}

// capability reports whether conn offers the named capability, and why
// not (Connection.Capabilities, the one place that decides).
func capability(conn roster.Connection, name string) (bool, string) {
	for _, c := range conn.Capabilities() {
		if c.Name == name {
			return c.Available, c.Reason
		}
	}
	return false, "unknown capability " + name
}

// teamName is a team's name, or its id when unknown.
func teamName(teams map[string]roster.Team, id string) string {
	if t, ok := teams[id]; ok && t.Name != "" {
		return t.Name
	}
	return id
}

// consequence is what a removal through conn does to the person's
// boards, as a sentence (action.Consequence, the one wording).
func consequence(conn roster.Connection) string {
	return sentence(action.Consequence(conn, roster.ActionRemove))
}
