package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/store"
)

// auditPageSize is how many entries one audit page shows.
const auditPageSize = 50

// auditPage is the audit log's data.
type auditPage struct {
	Page
	Entries  []roster.AuditEntry
	Kind     string
	Target   string // part of the target, e.g. of a person's email
	Who      string // part of the actor
	Kinds    []string
	NextHref string
	// FirstHref links back to the newest entries when this is a later page.
	FirstHref string
}

// auditPage lists the audit log, newest first, with keyset paging.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.AuditFilter{Kind: q.Get("kind"), TargetContains: strings.TrimSpace(q.Get("target")),
		ActorContains: strings.TrimSpace(q.Get("who")), Limit: auditPageSize}
	if f.Kind != "" && !slices.Contains(roster.AuditKinds, f.Kind) {
		return errBadRequest(fmt.Sprintf("kind must be one of %s, got %q.", strings.Join(roster.AuditKinds, ", "), f.Kind))
	}
	if v := q.Get("before"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return errBadRequest(fmt.Sprintf("before must be an audit entry id, got %q.", v))
		}
		f.BeforeID = id
	}
	entries, err := s.store.AuditEntries(r.Context(), f)
	if err != nil {
		return fmt.Errorf("list the audit log: %w", err)
	}
	p := auditPage{Page: s.page(r, "Audit log"), Entries: entries, Kind: f.Kind, Target: f.TargetContains, Who: f.ActorContains, Kinds: roster.AuditKinds}
	link := func(before int64) string {
		v := url.Values{}
		if f.Kind != "" {
			v.Set("kind", f.Kind)
		}
		if f.TargetContains != "" {
			v.Set("target", f.TargetContains)
		}
		if f.ActorContains != "" {
			v.Set("who", f.ActorContains)
		}
		if before > 0 {
			v.Set("before", strconv.FormatInt(before, 10))
		}
		if len(v) == 0 {
			return "/audit"
		}
		return "/audit?" + v.Encode()
	}
	if len(entries) == auditPageSize {
		p.NextHref = link(entries[len(entries)-1].ID)
	}
	if f.BeforeID > 0 {
		p.FirstHref = link(0)
	}
	s.render(w, r, http.StatusOK, "audit", p)
	return nil
}
