// Package licenses is what an organization pays Miro and what it uses:
// the overview per organization under its contract, the daily trend,
// chargeback by team or department, contracts and renewal reminders. The
// dashboard, the API and the CLI read it; it does not import net/http.
package licenses

import (
	"context"
	"fmt"
	"slices"
	"time"

	"roster"
	"roster/internal/insights"
	"roster/internal/store"
)

// Service reads and writes licenses and money. Store is required.
type Service struct {
	Store store.Store
	Now   func() time.Time // time.Now when nil
}

// now is the clock in UTC: renewal dates are UTC days, and
// roster.Contract.DaysToRenewal counts from now's own calendar day.
func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Report is the overview under the contracts.
type Report struct {
	Overview roster.Overview
	Summary  insights.Summary
	Settings roster.Settings
	Now      time.Time
}

// Org returns one organization's summary, and false when there is none.
func (r Report) Org(id string) (insights.OrgSummary, bool) {
	i := slices.IndexFunc(r.Summary.Orgs, func(o insights.OrgSummary) bool { return o.Org.OrgID == id })
	if i < 0 {
		return insights.OrgSummary{}, false
	}
	return r.Summary.Orgs[i], true
}

// Report counts everything and prices it.
func (s *Service) Report(ctx context.Context) (Report, error) {
	now := s.now()
	settings, err := s.Store.Settings(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("load settings: %w", err)
	}
	o, err := s.Store.Overview(ctx, store.OverviewQuery{
		InactiveBefore: insights.InactiveBefore(now, settings.InactivityDays),
		UsedSince:      insights.UsedSince(now),
	})
	if err != nil {
		return Report{}, fmt.Errorf("load the overview: %w", err)
	}
	contracts, err := s.contracts(ctx)
	if err != nil {
		return Report{}, err
	}
	return Report{Overview: o, Summary: insights.Summarize(o, contracts, settings, now), Settings: settings, Now: now}, nil
}

func (s *Service) contracts(ctx context.Context) (map[string]roster.Contract, error) {
	list, err := s.Store.Contracts(ctx)
	if err != nil {
		return nil, fmt.Errorf("load contracts: %w", err)
	}
	m := make(map[string]roster.Contract, len(list))
	for _, c := range list {
		m[c.OrgID] = c
	}
	return m, nil
}

// Contract is one organization's contract (the settings' default when
// none is saved).
func (s *Service) Contract(ctx context.Context, orgID string) (roster.Contract, error) {
	c, err := s.Store.Contract(ctx, orgID)
	if err != nil {
		return c, fmt.Errorf("load the contract: %w", err)
	}
	return c, nil
}

// SaveContract checks and saves a contract for an organization roster
// knows, audited as actor's.
func (s *Service) SaveContract(ctx context.Context, c roster.Contract, actor string) error {
	if err := c.Check(); err != nil {
		return err
	}
	if ok, err := s.knownOrg(ctx, c.OrgID); err != nil {
		return err
	} else if !ok {
		return &roster.ContractError{Field: "org", Message: fmt.Sprintf("No connection reaches organization %q.", c.OrgID)}
	}
	c.Saved = true
	audit := roster.AuditEntry{At: s.now(), Actor: actor, Kind: "settings", Action: "save_contract",
		Target: "organization " + c.OrgID, Result: "ok", Detail: describeContract(c)}
	if err := s.Store.SaveContract(ctx, c, audit); err != nil {
		return fmt.Errorf("save the contract: %w", err)
	}
	return nil
}

func (s *Service) knownOrg(ctx context.Context, orgID string) (bool, error) {
	conns, err := s.Store.Connections(ctx)
	if err != nil {
		return false, fmt.Errorf("load connections: %w", err)
	}
	return slices.ContainsFunc(conns, func(c roster.Connection) bool { return c.OrgID == orgID }), nil
}

// describeContract is the audit's plain words for a saved contract.
func describeContract(c roster.Contract) string {
	d := fmt.Sprintf("%s, prices per %s", c.Currency, c.Billing)
	for _, l := range roster.Licenses {
		if t, ok := c.Licenses[l]; ok && (t.Seats > 0 || t.Price > 0) {
			d += fmt.Sprintf("; %s: %d seats at %g", roster.LicenseName(l), t.Seats, t.Price)
		}
	}
	if !c.RenewalOn.IsZero() {
		d += "; renews " + c.RenewalOn.Format(time.DateOnly)
		if c.RemindDays > 0 {
			d += fmt.Sprintf(", reminder %d days before", c.RemindDays)
		}
	}
	return d
}
