package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"roster/internal/insights"
	"roster/internal/store"
)

// usersFilter is the users list's query string: the search, filters and
// sort shared by the page, its htmx fragment and the CSV export.
type usersFilter struct {
	Q          string
	Org        string // Miro organization id
	Directory  string // "left", "not_left" or ""
	License    string
	Role       string
	Team       string // Miro team id
	Connection int64
	Activity   string // "active", "inactive", "never", "unknown" or ""
	Guests     bool   // only guests and external users
	Members    bool   // only members: not guests or external users
	Status     string // "active", "deactivated" or ""
	Sort       string // "email", "name", "license", "last_activity"
	Desc       bool
	Cursor     string
	Limit      int
}

// userSorts are the sorts the list offers, in menu order.
var userSorts = []struct{ Value, Label string }{
	{"email", "Email"}, {"name", "Name"}, {"license", "License"}, {"last_activity", "Last activity"},
}

// Page sizes of the users list.
const (
	defaultUsersPage = 50
	maxUsersPage     = 500
)

// parseUsersFilter reads the query string; a malformed value is a 400
// that names the parameter.
func parseUsersFilter(r *http.Request) (usersFilter, error) {
	q := r.URL.Query()
	f := usersFilter{
		Q:         strings.TrimSpace(q.Get("q")),
		Org:       q.Get("org"),
		Directory: q.Get("directory"),
		License:   q.Get("license"),
		Role:      q.Get("role"),
		Team:      q.Get("team"),
		Activity:  q.Get("activity"),
		Guests:    q.Get("guests") != "",
		Members:   q.Get("members") != "",
		Status:    q.Get("status"),
		Sort:      q.Get("sort"),
		Desc:      q.Get("desc") != "",
		Cursor:    q.Get("cursor"),
		Limit:     defaultUsersPage,
	}
	if v := q.Get("connection"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, errBadRequest("connection must be a connection id, got " + strconv.Quote(v) + ".")
		}
		f.Connection = id
	}
	f.Sort = cmp.Or(f.Sort, "email")
	if err := f.query(0, time.Time{}).Check(); err != nil {
		return f, errBadRequest(err.Error() + ".")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxUsersPage {
			return f, errBadRequest("limit must be a number from 1 to " + strconv.Itoa(maxUsersPage) + ".")
		}
		f.Limit = n
	}
	return f, nil
}

// query is the store query of the filter, with activity measured against
// the inactivity period.
func (f usersFilter) query(inactivityDays int, now time.Time) store.AccountQuery {
	q := store.AccountQuery{
		Search: f.Q, Org: f.Org, License: f.License, OrgRole: f.Role, MiroTeamID: f.Team, ConnectionID: f.Connection,
		Activity: f.Activity, Guests: f.Guests, Members: f.Members, Status: f.Status, Directory: f.Directory,
		Sort: f.Sort, Desc: f.Desc, Cursor: f.Cursor, Limit: f.Limit,
	}
	if f.Activity == "active" || f.Activity == "inactive" || f.Activity == "idle" {
		q.ActiveSince = insights.InactiveBefore(now, inactivityDays)
	}
	if f.Activity == "idle" {
		q.UsedSince = insights.UsedSince(now)
	}
	return q
}

// values encodes the filter without its cursor; the defaults are left
// out so links stay short.
func (f usersFilter) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", f.Q)
	set("org", f.Org)
	set("directory", f.Directory)
	set("license", f.License)
	set("role", f.Role)
	set("team", f.Team)
	if f.Connection > 0 {
		v.Set("connection", strconv.FormatInt(f.Connection, 10))
	}
	set("activity", f.Activity)
	if f.Guests {
		v.Set("guests", "1")
	}
	if f.Members {
		v.Set("members", "1")
	}
	set("status", f.Status)
	if f.Sort != "email" {
		v.Set("sort", f.Sort)
	}
	if f.Desc {
		v.Set("desc", "1")
	}
	if f.Limit != defaultUsersPage {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	return v
}

// href is path with the filter, plus a cursor when not empty.
func (f usersFilter) href(path, cursor string) string {
	v := f.values()
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// exportHref is the API's CSV export of the filter: the whole filter, not
// a page, so without the page size.
func (f usersFilter) exportHref() string {
	f.Limit = defaultUsersPage
	return f.href(usersCSVPath, "")
}

// Filtered reports whether any filter or search is set, for templates.
func (f usersFilter) Filtered() bool {
	return f.Q != "" || f.Org != "" || f.Directory != "" || f.License != "" || f.Role != "" || f.Team != "" || f.Connection > 0 ||
		f.Activity != "" || f.Guests || f.Members || f.Status != ""
}
