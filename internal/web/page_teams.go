package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"roster"
	"roster/internal/insights"
	"roster/internal/store"
)

// teamsPage is the teams list's data: one page of teams by name.
type teamsPage struct {
	Page
	Q              string // the name search
	Teams          []roster.TeamStat
	Total          int // teams matching Q
	InactivityDays int
	// NextHref is the next page ("" on the last), FirstHref the first
	// page when this is not it.
	NextHref, FirstHref string
}

// teamsHref is the teams page of search q from cursor on.
func teamsHref(q, cursor string) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if len(v) == 0 {
		return "/teams"
	}
	return "/teams?" + v.Encode()
}

// teamsPage lists a page of teams, searched by name, with their members,
// admins, licensed and inactive counts; each count links to the users
// behind it.
func (s *Server) teamsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if r := []rune(q); len(r) > 200 {
		q = string(r[:200])
	}
	cursor := r.URL.Query().Get("cursor")
	settings, err := s.store.Settings(ctx)
	if err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	res, err := s.store.TeamStats(ctx, store.TeamStatsQuery{
		InactiveBefore: insights.InactiveBefore(s.now(), settings.InactivityDays), Search: q, Cursor: cursor})
	if errors.Is(err, store.ErrInvalid) && cursor != "" {
		return &httpError{Status: http.StatusBadRequest,
			Message: "The page cursor is not valid: it was changed. Nothing was changed.",
			Href:    teamsHref(q, ""), HrefLabel: "Back to the first page"}
	}
	if err != nil {
		return fmt.Errorf("load team stats: %w", err)
	}
	p := teamsPage{Page: s.page(r, "Teams"), Q: q, Teams: res.Teams, Total: res.Total, InactivityDays: settings.InactivityDays}
	if res.NextCursor != "" {
		p.NextHref = teamsHref(q, res.NextCursor)
	}
	if cursor != "" {
		p.FirstHref = teamsHref(q, "")
	}
	s.render(w, r, http.StatusOK, "teams", p)
	return nil
}
