package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"roster"
	"roster/internal/insights"
)

// teamsPage is the teams list's data.
type teamsPage struct {
	Page
	Teams          []roster.TeamStat
	InactivityDays int
}

// teamsPage lists every team with its members, admins, licensed and
// inactive counts; each count links to the users behind it.
func (s *Server) teamsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	settings, err := s.store.Settings(ctx)
	if err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	stats, err := s.store.TeamStats(ctx, insights.InactiveBefore(s.now(), settings.InactivityDays))
	if err != nil {
		return fmt.Errorf("load team stats: %w", err)
	}
	slices.SortFunc(stats, func(a, b roster.TeamStat) int {
		return strings.Compare(strings.ToLower(a.Team.Name), strings.ToLower(b.Team.Name))
	})
	s.render(w, r, http.StatusOK, "teams", teamsPage{Page: s.page(r, "Teams"), Teams: stats, InactivityDays: settings.InactivityDays})
	return nil
}
