package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/store"
)

// usersPage is the users list's data.
type usersPage struct {
	Page
	Filter   usersFilter
	Accounts []roster.Account
	Total    int
	// TotalMore: a search matched more than Total (store.SearchCountLimit).
	TotalMore bool
	// NextHref is the next page ("" on the last), FirstHref the first
	// page when this is not it, CSVHref the export of the whole filter.
	NextHref, FirstHref, CSVHref string
	InactivityDays               int
	Options                      usersOptions
	// Bulk is the selection and its bar, for admins of a roster that
	// runs workflows (bulk actions run as workflow runs).
	Bulk *usersBulk
}

// RoleWords is an organization role as people say it.
func (usersPage) RoleWords(role string) string {
	if role == "" {
		return "-"
	}
	return orgRoleWords(role)
}

// usersBulk is what the users list's bulk bar offers.
type usersBulk struct {
	// Filter is the list's filter, encoded, for "all matching"; Return
	// the list as it is, for the confirmation's way back.
	Filter, Return string
	Teams          []roster.Team
	Workflows      []option
}

// usersOptions are the choices of the filter form.
type usersOptions struct {
	Licenses    []string
	Roles       []string
	Teams       []roster.Team
	Connections []option
	Sorts       []struct{ Value, Label string }
}

// option is one <option> of a select.
type option struct{ Value, Label string }

// usersPage lists people: search, filters, sort and keyset paging. An
// htmx request for the results gets only the "results" fragment.
func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := parseUsersFilter(r)
	if err != nil {
		return err
	}
	settings, err := s.store.Settings(ctx)
	if err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	res, err := s.store.ListAccounts(ctx, f.query(settings.InactivityDays, s.now()))
	if err != nil {
		return listError(f, err)
	}
	p := usersPage{
		Page: s.page(r, "Users"), Filter: f, Accounts: res.Accounts, Total: res.Total, TotalMore: res.TotalMore,
		CSVHref: f.exportHref(), InactivityDays: settings.InactivityDays,
	}
	if res.NextCursor != "" {
		p.NextHref = f.href("/users", res.NextCursor)
	}
	if f.Cursor != "" {
		p.FirstHref = f.href("/users", "")
	}
	if p.CanAct && s.wf != nil {
		if p.Bulk, err = s.usersBulk(r, f); err != nil {
			return err
		}
	}
	if r.Header.Get("HX-Request") != "" && r.Header.Get("HX-Target") == "users-results" {
		s.renderFragment(w, r, "users", "results", p)
		return nil
	}
	if p.Options, err = s.usersOptions(r); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "users", p)
	return nil
}

// usersBulk loads what the bulk bar offers: the teams to remove people
// from and the saved workflows to run.
func (s *Server) usersBulk(r *http.Request, f usersFilter) (*usersBulk, error) {
	ctx := r.Context()
	filter := f.values()
	filter.Del("limit")
	b := &usersBulk{Filter: filter.Encode(), Return: f.href("/users", f.Cursor)}
	var err error
	if b.Teams, err = s.store.Teams(ctx, 0); err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	slices.SortFunc(b.Teams, func(a, c roster.Team) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(c.Name))
	})
	ws, err := s.store.Workflows(ctx)
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	for _, w := range ws {
		b.Workflows = append(b.Workflows, option{strconv.FormatInt(w.ID, 10), w.Name})
	}
	return b, nil
}

// usersCSVPath is the API's CSV export of the users list: the dashboard
// links to it (a logged-in browser may GET the API), so that the export
// has one writer and one set of columns.
const usersCSVPath = "/api/v1/users.csv"

// usersCSV redirects the dashboard's old export address to the API's,
// with the same filter; the page's own parameters (limit, cursor), which
// the export does not take, are dropped.
func (s *Server) usersCSV(w http.ResponseWriter, r *http.Request) error {
	target := usersCSVPath
	q := r.URL.Query()
	q.Del("limit")
	q.Del("cursor")
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusMovedPermanently)
	return nil
}

// listError explains a refused list query; a cursor the store cannot use
// (edited, or from another sort) gets a way back to the first page.
func listError(f usersFilter, err error) error {
	if !errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("list accounts: %w", err)
	}
	if f.Cursor != "" {
		return &httpError{Status: http.StatusBadRequest,
			Message: "The page cursor is not valid: it was changed, or it belongs to another sort or filter. Nothing was changed.",
			Href:    f.href("/users", ""), HrefLabel: "Back to the first page"}
	}
	return errBadRequest("The users query is not valid: " + err.Error())
}

// usersOptions loads what the filter selects offer.
func (s *Server) usersOptions(r *http.Request) (usersOptions, error) {
	o := usersOptions{Licenses: roster.Licenses, Roles: roster.OrgRoles, Sorts: userSorts}
	var err error
	if o.Teams, err = s.store.Teams(r.Context(), 0); err != nil {
		return o, fmt.Errorf("list teams: %w", err)
	}
	conns, err := s.store.Connections(r.Context())
	if err != nil {
		return o, fmt.Errorf("list connections: %w", err)
	}
	for _, c := range conns {
		o.Connections = append(o.Connections, option{strconv.FormatInt(c.ID, 10), connLabel(c)})
	}
	return o, nil
}

// connLabel names a connection in plain words.
func connLabel(c roster.Connection) string {
	if c.Level == roster.LevelOrganization {
		name := c.OrgName
		if name == "" {
			name = c.OrgID
		}
		return fmt.Sprintf("#%d organization %s", c.ID, name)
	}
	name := c.TeamName
	if name == "" {
		name = c.TeamID
	}
	return fmt.Sprintf("#%d team %s", c.ID, name)
}
