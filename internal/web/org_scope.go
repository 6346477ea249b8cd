package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"roster"
	"roster/internal/insights"
	"roster/internal/licenses"
)

// orgScope is the Miro organization a page is about, among those roster
// knows: every license number is one organization's, under its contract.
type orgScope struct {
	Report licenses.Report
	// Org is the chosen organization; Found is false when no organization
	// has synced yet.
	Org   insights.OrgSummary
	Found bool
	// Choices are every organization for the selector, the chosen one
	// marked.
	Choices []orgChoice
}

// orgChoice is one organization in the selector.
type orgChoice struct {
	ID, Label string
	Exact     bool
	Selected  bool
}

// Several reports whether there is more than one organization to choose.
func (sc orgScope) Several() bool { return len(sc.Choices) > 1 }

// Currency is the chosen organization's contract currency.
func (sc orgScope) Currency() string { return sc.Org.Contract.Currency }

// Name is the chosen organization's name (its id when it has none).
func (sc orgScope) Name() string { return orgName(sc.Org.Org) }

// ContractHref is where the chosen organization's contract is entered.
func (sc orgScope) ContractHref() string { return contractHref(sc.Org.Org.OrgID) }

// contractHref is the contract form of one organization in the settings.
func contractHref(orgID string) string { return "/settings#contract-" + orgID }

func orgName(o roster.OrgOverview) string {
	if o.Name != "" {
		return o.Name
	}
	return o.OrgID
}

// scopeOrg reads the ?org= parameter: a Miro organization id, by default
// the first organization an organization-level connection covers (its
// numbers are exact), else the first. An unknown id is a 400 that says
// which organizations there are.
func (s *Server) scopeOrg(r *http.Request) (orgScope, error) {
	rep, err := s.licenses.Report(r.Context())
	if err != nil {
		return orgScope{}, err
	}
	sc := orgScope{Report: rep}
	orgs := rep.Summary.Orgs
	want := r.URL.Query().Get("org")
	i := slices.IndexFunc(orgs, func(o insights.OrgSummary) bool { return o.Org.OrgID == want })
	switch {
	case want != "" && i < 0:
		return sc, unknownOrg(want, orgs, r.URL.Path)
	case len(orgs) == 0:
		return sc, nil
	case i < 0:
		i = max(0, slices.IndexFunc(orgs, func(o insights.OrgSummary) bool { return o.Org.Exact }))
	}
	sc.Org, sc.Found = orgs[i], true
	names := map[string]int{}
	for _, o := range orgs {
		names[orgName(o.Org)]++
	}
	for j, o := range orgs {
		label := orgName(o.Org)
		if names[label] > 1 {
			label += " (" + o.Org.OrgID + ")"
		}
		if !o.Org.Exact {
			label += ", team-level only"
		}
		sc.Choices = append(sc.Choices, orgChoice{ID: o.Org.OrgID, Label: label, Exact: o.Org.Exact, Selected: j == i})
	}
	return sc, nil
}

// unknownOrg is the 400 for an organization id roster does not know.
func unknownOrg(id string, orgs []insights.OrgSummary, path string) error {
	msg := fmt.Sprintf("No Miro organization with id %q is connected to roster.", id)
	if len(orgs) > 0 {
		var known []string
		for _, o := range orgs {
			known = append(known, orgName(o.Org)+" ("+o.Org.OrgID+")")
		}
		msg += " Known organizations: " + strings.Join(known, ", ") + "."
	} else {
		msg += " No organization has synced yet."
	}
	return &httpError{Status: http.StatusBadRequest, Message: msg, Href: path, HrefLabel: "Show the default organization"}
}

// usersLink is the users list filtered by pairs of query parameters.
func usersLink(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return "/users"
	}
	return "/users?" + q.Encode()
}

// usersFilterLink is the users list with a recommendation's filter.
func usersFilterLink(filter map[string]string) string {
	q := url.Values{}
	for k, v := range filter {
		q.Set(k, v)
	}
	return "/users?" + q.Encode()
}

// keptField is a parameter the organization selector carries over.
type keptField struct{ Name, Value string }

// ago is a time as "3 hours ago", for the last syncs.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}
