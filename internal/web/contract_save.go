package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

// contractSection is one organization's contract form on the settings
// page, at #contract-<org id> (the Licenses page links there).
type contractSection struct {
	OrgID, Name string
	Exact       bool
	// Saved is false while the organization is priced by the default
	// prices; JustSaved when this page follows its save.
	Saved, JustSaved bool
	UpdatedAt        time.Time
	Form             *form
	Lines            []contractLine
}

// Anchor is the section's id.
func (c contractSection) Anchor() string { return "contract-" + c.OrgID }

// Input is the id of one of the section's inputs.
func (c contractSection) Input(name string) string { return "contract-" + c.OrgID + "-" + name }

// contractLine is one license's seats and price inputs.
type contractLine struct {
	License, Name          string
	SeatsField             string // "seats_full"
	PriceField             string // "price_full"
	Seats, Price           string
	SeatsError, PriceError string
	// FromMiro is Miro's own purchased count (full license only), shown
	// instead of the seats input; UsageBilled licenses have no seats.
	FromMiro    int
	UsageBilled bool
}

// contractSections are the contract forms of every organization roster
// reaches, filled from the store, but posted (a refused form) as typed.
func (s *Server) contractSections(r *http.Request, justSaved string, posted *contractSection) ([]contractSection, error) {
	orgs, err := s.licenses.Organizations(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]contractSection, 0, len(orgs))
	for _, o := range orgs {
		sec := contractSection{OrgID: o.ID, Name: o.Name, Exact: o.Exact, Saved: o.Contract.Saved,
			JustSaved: o.ID == justSaved, UpdatedAt: o.Contract.UpdatedAt, Form: contractForm(o.Contract)}
		if posted != nil && posted.OrgID == o.ID {
			sec.Form = posted.Form
		}
		for _, l := range roster.Licenses {
			line := contractLine{License: l, Name: roster.LicenseName(l), SeatsField: "seats_" + l, PriceField: "price_" + l,
				UsageBilled: roster.UsageBilled(l)}
			if l == roster.LicenseFull {
				line.FromMiro = o.Summary.Org.SeatsFromMiro
			}
			line.Seats, line.SeatsError = sec.Form.Value(line.SeatsField), sec.Form.Error(line.SeatsField)
			line.Price, line.PriceError = sec.Form.Value(line.PriceField), sec.Form.Error(line.PriceField)
			sec.Lines = append(sec.Lines, line)
		}
		out = append(out, sec)
	}
	return out, nil
}

// contractForm is a contract as its form shows it.
func contractForm(c roster.Contract) *form {
	f := newForm()
	f.set("currency", c.Currency)
	f.set("billing", string(c.Billing))
	if !c.RenewalOn.IsZero() {
		f.set("renewal_on", c.RenewalOn.Format(time.DateOnly))
	}
	if c.RemindDays > 0 {
		f.set("remind_days", strconv.Itoa(c.RemindDays))
	}
	for l, t := range c.Licenses {
		if t.Seats > 0 {
			f.set("seats_"+l, strconv.Itoa(t.Seats))
		}
		if t.Price > 0 {
			f.set("price_"+l, strconv.FormatFloat(t.Price, 'f', -1, 64))
		}
	}
	return f
}

// contractSubmit saves one organization's contract from its form. The
// form's text becomes a roster.Contract here; licenses.Service checks it
// (roster.Contract.Check: the one rule), saves and audits it. A bad field
// is shown beside itself and nothing is saved.
func (s *Server) contractSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	orgID := r.PathValue("org")
	org, err := s.licenses.Organization(ctx, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return s.contractRefused(w, r, nil, fmt.Sprintf("No connection reaches organization %q: nothing was saved.", orgID))
	}
	if err != nil {
		return err
	}

	f := newForm()
	c := roster.Contract{OrgID: orgID, Licenses: map[string]roster.LicenseTerms{}}
	value := func(name string) string {
		v := strings.TrimSpace(r.PostFormValue(name))
		f.set(name, v)
		return v
	}
	c.Currency = strings.ToUpper(value("currency"))
	f.set("currency", c.Currency)
	c.Billing = roster.Billing(value("billing"))
	var ce *roster.ContractError
	if c.RenewalOn, err = roster.ParseRenewal(value("renewal_on")); errors.As(err, &ce) {
		f.fail(ce.Field, ce.Message)
	}
	if v := value("remind_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.fail("remind_days", fmt.Sprintf("Enter a whole number of days from 0 to %d.", roster.MaxRemindDays))
		}
		c.RemindDays = n
	}
	for _, l := range roster.Licenses {
		var t roster.LicenseTerms
		switch {
		case l == roster.LicenseFull && org.Summary.Org.SeatsFromMiro > 0, roster.UsageBilled(l):
			// No input: Miro's count is shown instead, and wins, or the
			// license is billed per month of use. The contract keeps what
			// was entered elsewhere (the API, the CLI).
			t.Seats = org.Contract.Licenses[l].Seats
		default:
			if v := value("seats_" + l); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					f.fail("seats_"+l, fmt.Sprintf("Enter a whole number of seats from 0 to %d, or leave it empty.", roster.MaxSeats))
				}
				t.Seats = n
			}
		}
		if v := value("price_" + l); v != "" {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil {
				f.fail("price_"+l, fmt.Sprintf("Enter a price from 0 to %d, like 16 or 8.50, or leave it empty.", roster.MaxSeatPrice))
			}
			t.Price = p
		}
		if t != (roster.LicenseTerms{}) {
			c.Licenses[l] = t
		}
	}
	if f.ok() {
		err = s.licenses.SaveContract(ctx, c, authOf(r).Actor())
		switch {
		case errors.As(err, &ce) && ce.Field == "org":
			return s.contractRefused(w, r, nil, ce.Message+" Nothing was saved.")
		case errors.As(err, &ce):
			f.fail(ce.Field, ce.Message)
		case err != nil:
			return err
		}
	}
	if !f.ok() {
		return s.contractRefused(w, r, &contractSection{OrgID: orgID, Form: f}, "")
	}
	http.Redirect(w, r, "/settings?contract_saved="+url.QueryEscape(orgID)+"#contract-"+url.PathEscape(orgID), http.StatusSeeOther)
	return nil
}

// contractRefused shows the settings page again with the refused contract
// form as typed (400), or with a failure no field holds (404: an
// organization no connection reaches).
func (s *Server) contractRefused(w http.ResponseWriter, r *http.Request, posted *contractSection, failure string) error {
	f, err := s.storedSettingsForm(r)
	if err != nil {
		return err
	}
	code := http.StatusBadRequest
	if posted == nil {
		code = http.StatusNotFound
	}
	return s.showSettings(w, r, code, settingsView{Form: f, Posted: posted, Failure: failure})
}
