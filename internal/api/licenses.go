package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/licenses"
	"roster/internal/store"
)

// The organizations, their contracts, and the per-organization license
// reports: the summary, the daily trend and chargeback
// (internal/licenses does the work).

// Organization is one Miro organization roster reaches through a
// connection, with its contract.
type Organization struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Exact bool   `json:"exact"`
	// Synced is false until a sync has seen its accounts.
	Synced bool `json:"synced"`
	// SeatsFromMiro is the full licenses purchased as Miro says (0 when it
	// does not say); it wins over the contract's full seats.
	SeatsFromMiro int      `json:"full_seats_from_miro"`
	Contract      Contract `json:"contract"`
}

// Contract is what one organization pays Miro: per license, the seats
// bought and one seat's price per billing period.
type Contract struct {
	OrgID string `json:"org_id"`
	// Saved is false for the default contract: the settings' currency
	// and default prices, monthly, no seats.
	Saved      bool    `json:"saved"`
	Currency   string  `json:"currency"`
	Billing    string  `json:"billing"`
	RenewalOn  *string `json:"renewal_on"`
	RemindDays int     `json:"remind_days"`
	// ReminderSentFor is the renewal date the last reminder went out for.
	ReminderSentFor *string                 `json:"reminder_sent_for"`
	Licenses        map[string]ContractLine `json:"licenses"`
	UpdatedAt       *time.Time              `json:"updated_at"`
}

// ContractLine is one license's line of a contract.
type ContractLine struct {
	Seats int     `json:"seats"`
	Price float64 `json:"price"`
}

func dayOf(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	d := t.UTC().Format(time.DateOnly)
	return &d
}

// ContractOf is a contract's wire form.
func ContractOf(c roster.Contract) Contract {
	out := Contract{OrgID: c.OrgID, Saved: c.Saved, Currency: c.Currency, Billing: string(c.Billing),
		RenewalOn: dayOf(c.RenewalOn), RemindDays: c.RemindDays, ReminderSentFor: dayOf(c.RemindedFor),
		Licenses: map[string]ContractLine{}, UpdatedAt: timeOf(c.UpdatedAt)}
	for l, t := range c.Licenses {
		if t.Seats != 0 || t.Price != 0 {
			out.Licenses[l] = ContractLine{Seats: t.Seats, Price: t.Price}
		}
	}
	return out
}

// OrganizationOf is an organization's wire form.
func OrganizationOf(o licenses.Organization) Organization {
	return Organization{ID: o.ID, Name: o.Name, Exact: o.Exact, Synced: o.Synced,
		SeatsFromMiro: o.Summary.Org.SeatsFromMiro, Contract: ContractOf(o.Contract)}
}

// apiOrganizations is GET /api/v1/organizations.
func (s *Server) apiOrganizations(w http.ResponseWriter, r *http.Request) error {
	orgs, err := s.licenses.Organizations(r.Context())
	if err != nil {
		return err
	}
	out := List[Organization]{Data: make([]Organization, 0, len(orgs))}
	for _, o := range orgs {
		out.Data = append(out.Data, OrganizationOf(o))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// organization finds the organization a request names (the path's
// {org_id}, or the org parameter): unknown is a 404 naming field.
func (s *Server) organization(r *http.Request, id, field string) (licenses.Organization, error) {
	if id == "" {
		return licenses.Organization{}, invalidField(field, "%s is required: an organization id from GET %s/organizations", field, Prefix)
	}
	o, err := s.licenses.Organization(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return o, &apiError{Status: http.StatusNotFound, Code: "not_found", Field: field,
			Message: fmt.Sprintf("No connection reaches organization %q; see GET %s/organizations.", id, Prefix)}
	}
	return o, err
}

// apiContract is GET /api/v1/organizations/{org_id}/contract: the saved
// contract, or the default one.
func (s *Server) apiContract(w http.ResponseWriter, r *http.Request) error {
	o, err := s.organization(r, r.PathValue("org_id"), "org_id")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, One[Contract]{ContractOf(o.Contract)})
	return nil
}

// contractBody is PUT .../contract's body: the whole contract.
type contractBody struct {
	Currency   string                     `json:"currency"`
	Billing    string                     `json:"billing"`
	RenewalOn  *string                    `json:"renewal_on"`
	RemindDays int                        `json:"remind_days"`
	Licenses   map[string]json.RawMessage `json:"licenses"`
}

// apiContractPut is PUT /api/v1/organizations/{org_id}/contract: replace
// the organization's contract. licenses.Service checks it
// (roster.Contract.Check), saves and audits it; a bad field changes
// nothing.
func (s *Server) apiContractPut(w http.ResponseWriter, r *http.Request) error {
	o, err := s.organization(r, r.PathValue("org_id"), "org_id")
	if err != nil {
		return err
	}
	org := o.ID
	var body contractBody
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	c := roster.Contract{OrgID: org, Currency: body.Currency, Billing: roster.Billing(body.Billing),
		RemindDays: body.RemindDays, Licenses: map[string]roster.LicenseTerms{}}
	if body.RenewalOn != nil {
		day, err := roster.ParseRenewal(*body.RenewalOn)
		if err != nil {
			return contractProblem(err)
		}
		c.RenewalOn = day
	}
	// Each line on its own, so that an error names its license.
	for _, l := range slices.Sorted(maps.Keys(body.Licenses)) {
		var line ContractLine
		dec := json.NewDecoder(bytes.NewReader(body.Licenses[l]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&line); err != nil {
			field, msg := roster.JSONProblem(err)
			if field == "" {
				return invalidField("licenses."+l, "licenses.%s must be an object with seats and price", l)
			}
			return invalidField("licenses."+l+"."+field, "licenses.%s.%s", l, msg)
		}
		c.Licenses[l] = roster.LicenseTerms{Seats: line.Seats, Price: line.Price}
	}
	if err := s.licenses.SaveContract(r.Context(), c, callerOf(r).Actor); err != nil {
		return contractProblem(err)
	}
	saved, err := s.licenses.Contract(r.Context(), org)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, One[Contract]{ContractOf(saved)})
	return nil
}

// contractProblem names a refused contract's field as the body does:
// "licenses.full.price" for price_full. An organization no connection
// reaches is a 404.
func contractProblem(err error) error {
	var ce *roster.ContractError
	if !errors.As(err, &ce) {
		return err
	}
	field := ce.Field
	if kind, l, ok := strings.Cut(field, "_"); ok && (kind == "seats" || kind == "price") {
		field = "licenses." + l
		if slices.Contains(roster.Licenses, l) {
			field += "." + kind
		}
	}
	if field == "org" {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Field: "org_id", Message: ce.Message}
	}
	return invalidField(field, "%s: %s", field, ce.Message)
}

// apiLicensesOverview is GET /api/v1/insights/licenses?org=: one
// organization's numbers under its contract.
func (s *Server) apiLicensesOverview(w http.ResponseWriter, r *http.Request) error {
	o, err := s.organization(r, r.URL.Query().Get("org"), "org")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, One[OrgOverview]{OrgOverviewOf(o.Summary)})
	return nil
}

// defaultTrendDays is the trend's reach when days is not given.
const defaultTrendDays = 90

// Trend is one organization's licenses day by day.
type Trend struct {
	OrgID    string `json:"org_id"`
	Currency string `json:"currency"`
	Days     int    `json:"days"`
	// Licenses are the licenses any day holds, in Miro's order.
	Licenses []string   `json:"licenses"`
	Points   []TrendDay `json:"points"`
}

// TrendDay is one day: the last sync of that day (UTC).
type TrendDay struct {
	Day string `json:"day"`
	// MonthlyCost is the day's licenses at the contract's current prices.
	MonthlyCost float64                    `json:"monthly_cost"`
	Licenses    map[string]LicenseDayCount `json:"licenses"`
}

// LicenseDayCount is one license on one day.
type LicenseDayCount struct {
	Purchased    int `json:"purchased"`
	Assigned     int `json:"assigned"`
	Active       int `json:"active"`
	Inactive     int `json:"inactive"`
	UsageUnknown int `json:"usage_unknown"`
}

// TrendOf is a trend's wire form.
func TrendOf(t licenses.Trend, days int) Trend {
	out := Trend{OrgID: t.OrgID, Currency: t.Contract.Currency, Days: days, Licenses: t.Licenses, Points: []TrendDay{}}
	if out.Licenses == nil {
		out.Licenses = []string{}
	}
	for _, d := range t.Days {
		p := TrendDay{Day: d.Day.UTC().Format(time.DateOnly), MonthlyCost: d.Cost, Licenses: map[string]LicenseDayCount{}}
		for l, n := range d.Licenses {
			p.Licenses[l] = LicenseDayCount{Purchased: n.Purchased, Assigned: n.Assigned, Active: n.Active,
				Inactive: n.Inactive, UsageUnknown: n.UsageUnknown}
		}
		out.Points = append(out.Points, p)
	}
	return out
}

// apiTrend is GET /api/v1/insights/trend?org=&days=: one organization's
// daily points, oldest first.
func (s *Server) apiTrend(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	days := defaultTrendDays
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > licenses.TrendDays {
			return invalidField("days", "days must be a whole number from 1 to %d, got %q", licenses.TrendDays, v)
		}
		days = n
	}
	o, err := s.organization(r, q.Get("org"), "org")
	if err != nil {
		return err
	}
	t, err := s.licenses.Trend(r.Context(), o.ID, days)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, One[Trend]{TrendOf(t, days)})
	return nil
}

// Chargeback is one organization's monthly cost by team or department.
type Chargeback struct {
	OrgID    string           `json:"org_id"`
	By       string           `json:"by"`
	Currency string           `json:"currency"`
	People   int              `json:"people"`
	Total    float64          `json:"monthly_total"`
	Lines    []ChargebackLine `json:"lines"`
}

// ChargebackLine is one team's or department's share.
type ChargebackLine struct {
	// Key is the team's Miro id or the department; "" for the catch-all
	// rows (no team, not in the directory, seats held by nobody).
	Key    string  `json:"key"`
	Label  string  `json:"label"`
	People int     `json:"people"`
	Seats  float64 `json:"seats"`
	Cost   float64 `json:"monthly_cost"`
	// Licenses are the seats held by license (fractions for teams).
	Licenses map[string]float64 `json:"licenses"`
}

// ChargebackOf is a chargeback's wire form.
func ChargebackOf(cb licenses.Chargeback) Chargeback {
	out := Chargeback{OrgID: cb.OrgID, By: cb.By, Currency: cb.Contract.Currency, People: cb.People, Total: cb.Total,
		Lines: []ChargebackLine{}}
	for _, l := range cb.Lines {
		shares := l.Shares
		if shares == nil {
			shares = map[string]float64{}
		}
		out.Lines = append(out.Lines, ChargebackLine{Key: l.Key, Label: l.Label, People: l.People, Seats: l.Seats,
			Cost: l.Cost, Licenses: shares})
	}
	return out
}

// ChargebackCSVHeader is the chargeback CSV's columns.
var ChargebackCSVHeader = []string{"key", "label", "people", "seats", "monthly_cost", "currency"}

// WriteChargebackCSV writes cb as CSV, every cell guarded by csvSafe (a
// team's name comes from Miro).
func WriteChargebackCSV(w *csv.Writer, cb Chargeback) error {
	_ = w.Write(ChargebackCSVHeader)
	for _, l := range cb.Lines {
		row := []string{l.Key, l.Label, strconv.Itoa(l.People), strconv.FormatFloat(l.Seats, 'f', 2, 64),
			strconv.FormatFloat(l.Cost, 'f', 2, 64), cb.Currency}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		_ = w.Write(row)
	}
	w.Flush()
	return w.Error()
}

// apiChargeback is GET /api/v1/insights/chargeback?org=&by=: JSON, or CSV
// when asked by format=csv or Accept: text/csv.
func (s *Server) apiChargeback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	by := q.Get("by")
	if by == "" {
		by = store.ChargebackByTeam
	}
	if by != store.ChargebackByTeam && by != store.ChargebackByDepartment {
		return invalidField("by", "by must be %s or %s, got %q", store.ChargebackByTeam, store.ChargebackByDepartment, by)
	}
	asCSV, err := wantsCSV(r)
	if err != nil {
		return err
	}
	o, err := s.organization(r, q.Get("org"), "org")
	if err != nil {
		return err
	}
	cb, err := s.licenses.Chargeback(r.Context(), o.Summary, by)
	if err != nil {
		return err
	}
	out := ChargebackOf(cb)
	if !asCSV {
		writeJSON(w, http.StatusOK, One[Chargeback]{out})
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="roster-chargeback-%s-%s.csv"`, csvFileWord(o.ID), by))
	w.Header().Set("Cache-Control", "no-store")
	_ = WriteChargebackCSV(csv.NewWriter(w), out)
	return nil
}

// wantsCSV reads format (json or csv), then the Accept header.
func wantsCSV(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, invalidField("format", "format must be json or csv, got %q", f)
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
			return true, nil
		}
	}
	return false, nil
}

// csvFileWord keeps a file name to letters, digits and dashes.
func csvFileWord(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
}
