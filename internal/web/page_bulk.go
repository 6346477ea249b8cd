package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store"
	"roster/internal/workflow"
)

// Bulk actions on the users list (page_bulk.go): choosing people (ticked
// on the list, or everyone its filter matches) and an action leads to a
// confirmation page that says first, in sum, what would be done (the
// engine's PreviewBulk: who would run, who is left out and why, what the
// action means, seats and money freed), then lists the people 50 at a
// time; confirming starts a bulk run (workflow.StartBulk) and goes to its
// progress on the runs page.
//
// The confirmation page's address is a stable contract: the Licenses
// page's recommendations and other pages link to it.
//
//	GET /users/bulk?action=<action>&<users filter>[&return=<local path>]
//
//	action=deactivate              deactivate in Miro, freeing the license
//	action=remove_from_all_teams   remove from every team
//	action=remove_from_team&team=<Miro team id>
//	                               remove from that team; team is also the
//	                               users filter's team, so the selection is
//	                               the filter's people in that team
//	action=workflow&workflow=<id>  run the saved workflow <id>
//
// The users filter is the users list's query (q, license, role, team,
// connection, activity, guests, status, sort, desc and any other the list
// takes; cursor and limit are ignored): the selection is everyone it
// matches. return is where "Back" and "Cancel" lead (a local path; the
// users list of the filter by default). show=left_out and from=<n> page
// the people listed.
//
// POST /users/bulk takes the same fields from the users list's form, with
// the people ticked (id, or page_id with all_on_page) or scope=all for
// everyone the filter (the form's filter field, encoded) matches, which
// redirects to the GET address above. POST /users/bulk/start confirms.

// bulkRoutes are the bulk pages' routes, for admins only (viewers see no
// selection); routeList adds them with the workflow pages, whose engine
// runs bulk runs.
func (s *Server) bulkRoutes() []route {
	return []route{
		{"GET", "/users/bulk", admin, s.bulkConfirm},
		{"POST", "/users/bulk", admin, s.bulkChoose},
		{"POST", "/users/bulk/start", admin, s.bulkStart},
	}
}

// bulkParams are a bulk request's fields but its selection.
type bulkParams struct {
	Action   roster.BulkAction
	Team     string // remove_from_team
	Workflow int64  // workflow
	Return   string
	View     workflow.PeopleView
}

// readBulkParams reads a bulk request's fields from a query or a form;
// team is the team to remove from, for remove_from_team only.
func readBulkParams(v url.Values, team string) (bulkParams, error) {
	p := bulkParams{Action: roster.BulkAction(strings.TrimSpace(v.Get("action"))), Return: v.Get("return")}
	if p.Action == roster.BulkRemoveFromTeam {
		if p.Team = strings.TrimSpace(team); p.Team == "" {
			return p, errBadRequest("Choose the team to remove people from. Nothing was started.")
		}
	}
	if p.Action == roster.BulkWorkflow {
		if v.Get("workflow") == "" {
			return p, errBadRequest("Choose the workflow to run. Nothing was started.")
		}
		id, err := strconv.ParseInt(v.Get("workflow"), 10, 64)
		if err != nil || id <= 0 {
			return p, errBadRequest(fmt.Sprintf("Choose the workflow to run (workflow must be a workflow's id, got %q). Nothing was started.", v.Get("workflow")))
		}
		p.Workflow = id
	}
	p.View.LeftOut = v.Get("show") == "left_out"
	if f := v.Get("from"); f != "" {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return p, errBadRequest(fmt.Sprintf("from must be a number of people to skip, got %q.", f))
		}
		p.View.Offset = n
	}
	return p, nil
}

// bulkPage is the confirmation page's data.
type bulkPage struct {
	Page
	Preview workflow.BulkPreview
	Summary summaryView
	// Selection says who was chosen, in words.
	Selection string
	// The selection as the confirm form posts it: the users filter
	// (encoded) or the ids.
	Filter   string
	ByFilter bool
	IDs      []int64
	Params   bulkParams
	Key      string
	Back     string // the way back: return, or the users list
	Confirm  string // the confirm button: "Deactivate 780 people"
	// PeopleNav pages the people (Page.Nav is the site's navigation).
	PeopleNav peopleNav
}

// bulkConfirm is GET /users/bulk: the confirmation of an action for
// everyone a users filter matches. Its parameters are a stable contract
// other pages link to: see the top of this file.
func (s *Server) bulkConfirm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := parseUsersFilter(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := readBulkParams(q, f.Team)
	if err != nil {
		return err
	}
	settings, err := s.store.Settings(ctx)
	if err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	aq := f.query(settings.InactivityDays, s.now())
	aq.Cursor, aq.Limit = "", 0
	f.Cursor, f.Limit = "", defaultUsersPage
	req := workflow.BulkRequest{Action: p.Action, TeamID: p.Team, WorkflowID: p.Workflow,
		Selection: workflow.BulkSelection{Filter: &aq}}
	if req.Description, err = s.filterWords(r, f, settings.InactivityDays); err != nil {
		return err
	}
	back := f.href("/users", "")
	if p.Return != "" {
		back = localPath(p.Return)
	}
	bp := bulkPage{Page: s.page(r, "Confirm"), Selection: "everyone " + strings.TrimPrefix(req.Description, "people "), Filter: f.values().Encode(),
		ByFilter: true, Params: p, Back: back}
	self := func(v workflow.PeopleView) string {
		u := bulkURL(f.values(), p)
		u.Del("show")
		u.Del("from")
		if v.LeftOut {
			u.Set("show", "left_out")
		}
		if v.Offset > 0 {
			u.Set("from", strconv.Itoa(v.Offset))
		}
		return "/users/bulk?" + u.Encode() + "#people"
	}
	return s.showBulk(w, r, bp, req, func(v workflow.PeopleView) navLink { return navLink{Href: self(v)} })
}

// bulkURL is the confirmation page's query for a filter's people.
func bulkURL(filter url.Values, p bulkParams) url.Values {
	u := url.Values{}
	for k, vs := range filter {
		if k != "cursor" && k != "limit" {
			u[k] = vs
		}
	}
	u.Set("action", string(p.Action))
	if p.Action == roster.BulkRemoveFromTeam {
		u.Set("team", p.Team)
	}
	if p.Action == roster.BulkWorkflow {
		u.Set("workflow", strconv.FormatInt(p.Workflow, 10))
	}
	if p.Return != "" {
		u.Set("return", p.Return)
	}
	return u
}

// bulkChoose is POST /users/bulk, the users list's bulk form: everyone
// the filter matches goes to the GET confirmation; people ticked get it
// here (and its pages post the ids again).
func (s *Server) bulkChoose(w http.ResponseWriter, r *http.Request) error {
	form := r.PostForm
	filter, err := url.ParseQuery(form.Get("filter"))
	if err != nil {
		return errBadRequest("The users filter of the form is not valid; reload the users list. Nothing was changed.")
	}
	p, err := readBulkParams(form, form.Get("team"))
	if err != nil {
		return err
	}
	list := "/users"
	if len(filter) > 0 {
		list += "?" + filter.Encode()
	}
	back := localPath(orElse(p.Return, list))
	if form.Get("scope") == "all" {
		if p.Action == roster.BulkRemoveFromTeam && filter.Get("team") != "" && filter.Get("team") != p.Team {
			return &httpError{Status: http.StatusBadRequest, Href: back, HrefLabel: "Back to the users list",
				Message: "The list is filtered by another team than the one to remove people from: filter the list by that team, or tick the people. Nothing was started."}
		}
		http.Redirect(w, r, "/users/bulk?"+bulkURL(filter, p).Encode(), http.StatusSeeOther)
		return nil
	}
	field := "id"
	if form.Get("all_on_page") != "" {
		field = "page_id"
	}
	var ids []int64
	for _, v := range form[field] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return errBadRequest(fmt.Sprintf("%q is not a user id. Nothing was started.", v))
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return &httpError{Status: http.StatusBadRequest, Href: back, HrefLabel: "Back to the users list",
			Message: "No one is selected: tick the people to act on, or \"Select all matching this filter\". Nothing was started."}
	}
	req := workflow.BulkRequest{Action: p.Action, TeamID: p.Team, WorkflowID: p.Workflow,
		Selection: workflow.BulkSelection{AccountIDs: ids}, Description: "people chosen on the users list"}
	bp := bulkPage{Page: s.page(r, "Confirm"), Selection: people(len(ids)) + " chosen on the users list", IDs: ids, Params: p, Back: back}
	fields := bulkFields(bp)
	return s.showBulk(w, r, bp, req, func(v workflow.PeopleView) navLink {
		more := []hiddenField{}
		if v.LeftOut {
			more = append(more, hiddenField{"show", "left_out"})
		}
		if v.Offset > 0 {
			more = append(more, hiddenField{"from", strconv.Itoa(v.Offset)})
		}
		return navLink{Href: "/users/bulk#people", Post: append(slices.Clone(fields), more...)}
	})
}

// bulkFields are the hidden fields that post a bulk request's ticked
// selection again (its pages, and the confirm form).
func bulkFields(bp bulkPage) []hiddenField {
	fs := []hiddenField{{"csrf", bp.CSRF}, {"action", string(bp.Params.Action)}}
	if bp.Params.Team != "" {
		fs = append(fs, hiddenField{"team", bp.Params.Team})
	}
	if bp.Params.Workflow != 0 {
		fs = append(fs, hiddenField{"workflow", strconv.FormatInt(bp.Params.Workflow, 10)})
	}
	if bp.Params.Return != "" {
		fs = append(fs, hiddenField{"return", bp.Params.Return})
	}
	for _, id := range bp.IDs {
		fs = append(fs, hiddenField{"id", strconv.FormatInt(id, 10)})
	}
	return fs
}

// showBulk previews the request and renders the confirmation page; link
// makes the address of another page of people.
func (s *Server) showBulk(w http.ResponseWriter, r *http.Request, bp bulkPage, req workflow.BulkRequest, link func(workflow.PeopleView) navLink) error {
	pre, err := s.wf.PreviewBulk(r.Context(), req, bp.Params.View)
	var be *workflow.BulkError
	if errors.As(err, &be) {
		return &httpError{Status: http.StatusBadRequest, Message: be.Message, Href: bp.Back, HrefLabel: "Back"}
	}
	if err != nil {
		return fmt.Errorf("preview the bulk action: %w", err)
	}
	bp.Preview, bp.Key = pre, "web-bulk-"+httpauth.RandomToken()
	bp.Title = "Confirm: " + pre.Words
	bp.Summary = summaryView{Summary: pre.Summary, Selected: "People selected", Would: wouldWords(pre.Action)}
	bp.PeopleNav = newPeopleNav(pre.Summary, bp.Params.View, bp.Summary.Would, link)
	bp.Confirm = confirmWords(pre, pre.Summary.WouldRun)
	s.render(w, r, http.StatusOK, "bulk", bp)
	return nil
}

// wouldWords names those who would run, for a bulk action.
func wouldWords(a roster.BulkAction) string {
	switch a {
	case roster.BulkDeactivate:
		return "Would be deactivated"
	case roster.BulkRemoveFromTeam, roster.BulkRemoveFromAllTeams:
		return "Would be removed"
	}
	return "Would run"
}

// confirmWords is the confirm button: what it does, to how many.
func confirmWords(pre workflow.BulkPreview, n int) string {
	switch pre.Action {
	case roster.BulkDeactivate:
		return "Deactivate " + people(n)
	case roster.BulkRemoveFromTeam:
		return fmt.Sprintf("Remove %s from %s", people(n), pre.Team.Name)
	case roster.BulkRemoveFromAllTeams:
		return fmt.Sprintf("Remove %s from every team", people(n))
	case roster.BulkWorkflow:
		return fmt.Sprintf("Run %s for %s", pre.Workflow.Name, people(n))
	}
	return "Confirm"
}

// people is "1 person" or "1,234 people".
func people(n int) string {
	if n == 1 {
		return "1 person"
	}
	return formatThousands(strconv.Itoa(n)) + " people"
}

// orElse is a unless it is empty, else b.
func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// bulkStart is POST /users/bulk/start, the confirm button: it starts the
// bulk run under the key the page was rendered with (a double submit
// starts nothing twice) and shows its progress.
func (s *Server) bulkStart(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	form := r.PostForm
	p, err := readBulkParams(form, form.Get("team"))
	if err != nil {
		return err
	}
	req := workflow.BulkRequest{Action: p.Action, TeamID: p.Team, WorkflowID: p.Workflow, Key: form.Get("key"), Actor: authOf(r).Actor()}
	back := localPath(orElse(p.Return, "/users"))
	if form.Get("selection") == "filter" {
		filter, err := url.ParseQuery(form.Get("filter"))
		if err != nil {
			return errBadRequest("The users filter of the form is not valid; start again from the users list. Nothing was started.")
		}
		fr := r.Clone(ctx)
		fr.URL.RawQuery = filter.Encode()
		f, err := parseUsersFilter(fr)
		if err != nil {
			return err
		}
		settings, err := s.store.Settings(ctx)
		if err != nil {
			return fmt.Errorf("load settings: %w", err)
		}
		aq := f.query(settings.InactivityDays, s.now())
		aq.Cursor, aq.Limit = "", 0
		req.Selection.Filter = &aq
		if req.Description, err = s.filterWords(r, f, settings.InactivityDays); err != nil {
			return err
		}
		back = "/users/bulk?" + bulkURL(filter, p).Encode()
	} else {
		for _, v := range form["id"] {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errBadRequest(fmt.Sprintf("%q is not a user id. Nothing was started.", v))
			}
			req.Selection.AccountIDs = append(req.Selection.AccountIDs, id)
		}
		req.Description = "people chosen on the users list"
	}
	res, err := s.wf.StartBulk(ctx, req)
	var be *workflow.BulkError
	if errors.As(err, &be) {
		status := http.StatusBadRequest
		if be.Conflict {
			status = http.StatusConflict
		}
		return &httpError{Status: status, Message: be.Message, Href: back, HrefLabel: "Back"}
	}
	if err != nil {
		return fmt.Errorf("start the bulk run: %w", err)
	}
	http.Redirect(w, r, fmt.Sprintf("/workflows/runs?bulk=%d", res.Run.ID), http.StatusSeeOther)
	return nil
}

// filterWords says whom a users filter selects, in plain words,
// organizations, teams and connections by name.
func (s *Server) filterWords(r *http.Request, f usersFilter, inactivityDays int) (string, error) {
	team, conn, org := f.Team, "", f.Org
	if f.Org != "" {
		o, err := s.store.Organization(r.Context(), f.Org)
		switch {
		case err == nil && o.Name != "":
			org = o.Name
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return "", fmt.Errorf("load organization %s: %w", f.Org, err)
		}
	}
	if f.Team != "" {
		teams, err := s.store.Teams(r.Context(), 0)
		if err != nil {
			return "", fmt.Errorf("list teams: %w", err)
		}
		for _, t := range teams {
			if t.MiroTeamID == f.Team && t.Name != "" {
				team = t.Name
			}
		}
	}
	if f.Connection > 0 {
		c, err := s.store.Connection(r.Context(), f.Connection)
		switch {
		case err == nil:
			conn = connLabel(c)
		case errors.Is(err, store.ErrNotFound):
			conn = fmt.Sprintf("#%d", f.Connection)
		default:
			return "", fmt.Errorf("load connection %d: %w", f.Connection, err)
		}
	}
	return filterWords(f, inactivityDays, org, team, conn), nil
}

// filterWords is Server.filterWords with the organization's, the team's
// and the connection's names: "people in Example Corp with a Full
// license, inactive for 60 days or more, not deactivated".
func filterWords(f usersFilter, inactivityDays int, org, team, conn string) string {
	var parts []string
	add := func(ok bool, s string) {
		if ok {
			parts = append(parts, s)
		}
	}
	add(f.License != "", "with a "+roster.LicenseName(f.License)+" license")
	add(f.Q != "", fmt.Sprintf("matching the search %q", f.Q))
	add(f.Role != "", "with the org role "+usersPage{}.RoleWords(f.Role))
	add(f.Team != "", "in team "+team)
	add(f.Connection > 0, "seen by connection "+conn)
	switch f.Activity {
	case "inactive":
		parts = append(parts, fmt.Sprintf("inactive for %d days or more", inactivityDays))
	case "active":
		parts = append(parts, fmt.Sprintf("active in the last %d days", inactivityDays))
	case "never":
		parts = append(parts, "who never logged in")
	case "unknown":
		parts = append(parts, "whose usage is unknown (seen only at team level)")
	case "idle":
		parts = append(parts, "active but not using Miro in the last 30 days")
	case "":
	default:
		parts = append(parts, "with activity "+f.Activity)
	}
	switch f.Directory {
	case "left":
		parts = append(parts, "who left the company (per the directory)")
	case "not_left":
		parts = append(parts, "still at the company (per the directory)")
	}
	add(f.Guests, "who are guests or external users")
	add(f.Members, "who are members (not guests or external users)")
	switch f.Status {
	case "active":
		parts = append(parts, "not deactivated")
	case "deactivated":
		parts = append(parts, "who are deactivated")
	}
	words := "people"
	if f.Org != "" {
		words += " in " + org
	}
	if len(parts) == 0 && f.Org == "" {
		return "people on the users list (no filter)"
	}
	if len(parts) > 0 {
		words += " " + strings.Join(parts, ", ")
	}
	return words
}

// summaryView is a Summary as the "summary" template shows it.
type summaryView struct {
	workflow.Summary
	Selected string // the first count's label: "People selected"
	Would    string // the second's: "Would be deactivated"
}

// SeatsTotal is how many seats would be freed, of every license.
func (v summaryView) SeatsTotal() int {
	n := 0
	for _, s := range v.Seats {
		n += s.Seats
	}
	return n
}

// PricesKnown reports whether every freed license has a price, so the
// money can be shown.
func (v summaryView) PricesKnown() bool { return len(v.PricesMissing) == 0 }

// peopleNav is the list of people's tabs (would run, left out) and pager.
// Each link is an address, or (Post set) a small form posting the fields,
// for a selection too big for an address or not saved anywhere.
type peopleNav struct {
	Tabs       []navLink
	Prev, Next *navLink
	Range      string // "1–50 of 780"
}

// navLink is a link of the people's navigation.
type navLink struct {
	Label   string
	Href    string
	Current bool
	Post    []hiddenField
}

// hiddenField is one hidden input of a posted link.
type hiddenField struct{ Name, Value string }

// newPeopleNav builds the people's tabs and pager for a summary's counts.
func newPeopleNav(sum workflow.Summary, view workflow.PeopleView, would string, link func(workflow.PeopleView) navLink) peopleNav {
	size := view.Limit
	if size <= 0 {
		size = workflow.DefaultPeoplePage
	}
	tab := func(label string, leftOut bool, n int) navLink {
		l := link(workflow.PeopleView{LeftOut: leftOut})
		l.Label, l.Current = fmt.Sprintf("%s (%s)", label, formatThousands(strconv.Itoa(n))), view.LeftOut == leftOut
		return l
	}
	nav := peopleNav{Tabs: []navLink{tab(would, false, sum.WouldRun), tab("Left out", true, sum.LeftOut)}}
	total := sum.WouldRun
	if view.LeftOut {
		total = sum.LeftOut
	}
	if total == 0 {
		return nav
	}
	from := min(view.Offset, total)
	nav.Range = fmt.Sprintf("%s–%s of %s", formatThousands(strconv.Itoa(from+1)), formatThousands(strconv.Itoa(min(from+size, total))),
		formatThousands(strconv.Itoa(total)))
	if from > 0 {
		l := link(workflow.PeopleView{LeftOut: view.LeftOut, Offset: max(0, from-size)})
		l.Label = fmt.Sprintf("« Previous %d", size)
		nav.Prev = &l
	}
	if from+size < total {
		l := link(workflow.PeopleView{LeftOut: view.LeftOut, Offset: from + size})
		l.Label = fmt.Sprintf("Next %d »", min(size, total-from-size))
		nav.Next = &l
	}
	return nav
}
