package web

import (
	"net"
	"net/http"

	"roster"
)

// audit appends an entry to the audit log. A failure to audit is logged,
// not shown: the operator's request itself went through.
func (s *Server) audit(r *http.Request, e roster.AuditEntry) {
	if e.At.IsZero() {
		e.At = s.now()
	}
	if err := s.store.AppendAudit(r.Context(), &e); err != nil {
		s.logger.ErrorContext(r.Context(), "append to the audit log", "kind", e.Kind, "action", e.Action, "error", err)
	}
}

// clientIP is the peer address of a request, for the audit log. roster
// does not trust X-Forwarded-For: it cannot know which proxy to believe.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
