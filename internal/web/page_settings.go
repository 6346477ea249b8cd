package web

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"roster"
)

// settingsPage is the settings form's data.
type settingsPage struct {
	Page
	Form  *form
	Saved bool
	// Prices are the default price inputs, one per license value: what
	// organizations without a contract are priced by.
	Prices []priceField
	// Contracts are the contract forms, one per organization roster
	// reaches (contract_save.go).
	Contracts []contractSection
	// Failure is a refusal no field holds (an organization no connection
	// reaches).
	Failure string
	// Channels are the notification channels' cards
	// (page_settings_channels.go).
	Channels []channelCard
}

// priceField is one license's price input.
type priceField struct {
	License, Label, Name, Value, Error string
}

// Settings limits.
const (
	maxInactivityDays    = 3650
	maxSyncIntervalHours = 720
	maxPrice             = 1_000_000
)

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

// settingsPage shows the settings; viewers see them read-only.
func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) error {
	f, err := s.storedSettingsForm(r)
	if err != nil {
		return err
	}
	return s.showSettings(w, r, http.StatusOK, settingsView{Form: f, Saved: r.URL.Query().Get("saved") != "",
		ContractSaved: r.URL.Query().Get("contract_saved")})
}

// storedSettingsForm is the settings form filled from the store.
func (s *Server) storedSettingsForm(r *http.Request) (*form, error) {
	st, err := s.store.Settings(r.Context())
	if err != nil {
		return nil, fmt.Errorf("load settings: %w", err)
	}
	f := newForm()
	f.set("inactivity_days", strconv.Itoa(st.InactivityDays))
	f.set("currency", st.Currency)
	f.set("sync_interval_hours", strconv.FormatFloat(st.DefaultSyncInterval.Hours(), 'f', -1, 64))
	for l, p := range st.LicensePrices {
		f.set("price_"+l, strconv.FormatFloat(p, 'f', -1, 64))
	}
	return f, nil
}

// settingsView is what one rendering of the settings page shows besides
// the stored values: the settings form (as typed, when refused), a
// contract form as typed with its errors, what was just saved, a refusal.
type settingsView struct {
	Form          *form
	Saved         bool
	ContractSaved string           // the organization whose contract was just saved
	Posted        *contractSection // the contract form just refused, as typed
	Failure       string
	Channel       *channelCard // a channel's card just refused or tested
}

func (s *Server) showSettings(w http.ResponseWriter, r *http.Request, code int, v settingsView) error {
	p := settingsPage{Page: s.page(r, "Settings"), Form: v.Form, Saved: v.Saved, Failure: v.Failure}
	for _, l := range roster.Licenses {
		name := "price_" + l
		p.Prices = append(p.Prices, priceField{License: l, Label: roster.LicenseName(l), Name: name,
			Value: v.Form.Value(name), Error: v.Form.Error(name)})
	}
	var err error
	if p.Contracts, err = s.contractSections(r, v.ContractSaved, v.Posted); err != nil {
		return err
	}
	if p.Channels, err = s.channelCards(r, v.Channel); err != nil {
		return err
	}
	s.render(w, r, code, "settings", p)
	return nil
}

// settingsSubmit validates every field, and saves and audits the
// settings only when all are valid.
func (s *Server) settingsSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	old, err := s.store.Settings(ctx)
	if err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	f := newForm()
	next := roster.Settings{LicensePrices: map[string]float64{}}

	days := strings.TrimSpace(r.PostFormValue("inactivity_days"))
	f.set("inactivity_days", days)
	if n, err := strconv.Atoi(days); err != nil || n < 1 || n > maxInactivityDays {
		f.fail("inactivity_days", fmt.Sprintf("Enter a whole number of days from 1 to %d.", maxInactivityDays))
	} else {
		next.InactivityDays = n
	}

	cur := strings.ToUpper(strings.TrimSpace(r.PostFormValue("currency")))
	f.set("currency", cur)
	if !currencyRe.MatchString(cur) {
		f.fail("currency", "Enter a three-letter currency code, like USD or EUR.")
	} else {
		next.Currency = cur
	}

	hours := strings.TrimSpace(r.PostFormValue("sync_interval_hours"))
	f.set("sync_interval_hours", hours)
	if n, err := strconv.Atoi(hours); err != nil || n < 1 || n > maxSyncIntervalHours {
		f.fail("sync_interval_hours", fmt.Sprintf("Enter a whole number of hours from 1 to %d.", maxSyncIntervalHours))
	} else {
		next.DefaultSyncInterval = time.Duration(n) * time.Hour
	}

	for _, l := range roster.Licenses {
		name := "price_" + l
		v := strings.TrimSpace(r.PostFormValue(name))
		f.set(name, v)
		if v == "" {
			continue // no price: the license costs nothing
		}
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(p) || math.IsInf(p, 0) || p < 0 || p > maxPrice {
			f.fail(name, fmt.Sprintf("Enter a monthly price from 0 to %d, like 16 or 8.50, or leave it empty.", maxPrice))
			continue
		}
		next.LicensePrices[l] = p
	}
	if !f.ok() {
		return s.showSettings(w, r, http.StatusBadRequest, settingsView{Form: f})
	}
	// Prices of licenses this form does not list are kept.
	for l, p := range old.LicensePrices {
		if !slices.Contains(roster.Licenses, l) {
			next.LicensePrices[l] = p
		}
	}
	if err := s.store.SaveSettings(ctx, next); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if diff := settingsDiff(old, next); diff != "" {
		s.guard.Audit(r, roster.AuditEntry{Actor: authOf(r).Actor(), Kind: "settings", Action: "update_settings", Target: "settings", Result: "ok", Detail: diff})
	}
	http.Redirect(w, r, "/settings?saved=1", http.StatusSeeOther)
	return nil
}

// settingsDiff says what changed, for the audit log.
func settingsDiff(a, b roster.Settings) string {
	var out []string
	if a.InactivityDays != b.InactivityDays {
		out = append(out, fmt.Sprintf("inactivity period %d → %d days", a.InactivityDays, b.InactivityDays))
	}
	if a.Currency != b.Currency {
		out = append(out, fmt.Sprintf("currency %s → %s", a.Currency, b.Currency))
	}
	if a.DefaultSyncInterval != b.DefaultSyncInterval {
		out = append(out, fmt.Sprintf("default sync interval %s → %s", a.DefaultSyncInterval, b.DefaultSyncInterval))
	}
	keys := map[string]bool{}
	for l := range a.LicensePrices {
		keys[l] = true
	}
	for l := range b.LicensePrices {
		keys[l] = true
	}
	sorted := make([]string, 0, len(keys))
	for l := range keys {
		sorted = append(sorted, l)
	}
	sort.Strings(sorted)
	price := func(m map[string]float64, l string) string {
		if p, ok := m[l]; ok {
			return strconv.FormatFloat(p, 'f', -1, 64)
		}
		return "none"
	}
	for _, l := range sorted {
		if pa, pb := price(a.LicensePrices, l), price(b.LicensePrices, l); pa != pb {
			out = append(out, fmt.Sprintf("price of %s %s → %s", l, pa, pb))
		}
	}
	return strings.Join(out, "; ")
}
