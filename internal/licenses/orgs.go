package licenses

import (
	"context"
	"fmt"
	"slices"

	"roster"
	"roster/internal/insights"
	"roster/internal/store"
)

// Organization is one Miro organization roster reaches through a
// connection: the organizations a contract can be saved for.
type Organization struct {
	ID   string
	Name string
	// Exact is true when an organization-level connection covers it, so
	// its licenses and usage are Miro's own.
	Exact bool
	// Contract is its saved contract, or the settings' default.
	Contract roster.Contract
	// Summary is its numbers under the contract.
	Summary insights.OrgSummary
	// Synced is false until one of its connections has synced: its
	// numbers are all zero until then.
	Synced bool
}

// Organizations lists the organizations roster's connections reach, by
// name (the overview's order). Teams that belong to no organization have
// no contract of their own: they are not listed.
func (s *Service) Organizations(ctx context.Context) ([]Organization, error) {
	report, err := s.Report(ctx)
	if err != nil {
		return nil, err
	}
	conns, err := s.Store.Connections(ctx)
	if err != nil {
		return nil, fmt.Errorf("load connections: %w", err)
	}
	synced := map[string]bool{}
	for _, c := range conns {
		synced[c.OrgID] = synced[c.OrgID] || !c.LastSyncAt.IsZero()
	}
	var out []Organization
	for _, sum := range report.Summary.Orgs {
		if sum.Org.OrgID == "" {
			continue
		}
		out = append(out, Organization{ID: sum.Org.OrgID, Name: sum.Org.Name, Exact: sum.Org.Exact,
			Contract: sum.Contract, Summary: sum, Synced: synced[sum.Org.OrgID]})
	}
	return out, nil
}

// Organization is one organization roster reaches; an unknown id is
// store.ErrNotFound.
func (s *Service) Organization(ctx context.Context, id string) (Organization, error) {
	orgs, err := s.Organizations(ctx)
	if err != nil {
		return Organization{}, err
	}
	i := slices.IndexFunc(orgs, func(o Organization) bool { return o.ID == id })
	if i < 0 {
		return Organization{}, fmt.Errorf("organization %q: %w", id, store.ErrNotFound)
	}
	return orgs[i], nil
}
