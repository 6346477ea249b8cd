package web

import (
	"errors"
	"net/http"

	"roster/internal/httpauth"
)

// httpError is an error with a status and a message safe to show.
type httpError struct {
	Status  int
	Message string
	// Href, when set, is a way out shown under the message.
	Href, HrefLabel string
}

func (e *httpError) Error() string { return e.Message }

// Errors the handlers return.
var (
	errUnauthorized = &httpError{Status: http.StatusUnauthorized, Message: "Log in first."}
	errCSRF         = &httpError{Status: http.StatusForbidden, Message: "The form has expired or did not come from roster (missing or wrong CSRF token). Reload the page and try again."}
)

func errForbidden(msg string) error  { return &httpError{Status: http.StatusForbidden, Message: msg} }
func errBadRequest(msg string) error { return &httpError{Status: http.StatusBadRequest, Message: msg} }
func errNotFound(msg string) error   { return &httpError{Status: http.StatusNotFound, Message: msg} }

// errorPage is the error page's data.
type errorPage struct {
	Page
	Status          int
	Message         string
	Href, HrefLabel string
}

// statusOf maps an error to its HTTP status and the message to show
// (httpauth.Status for roster's own errors). Only internal errors are
// hidden (and logged) behind a generic message.
func statusOf(err error) (int, string, *httpError) {
	var he *httpError
	if errors.As(err, &he) {
		return he.Status, he.Message, he
	}
	switch code, internal := httpauth.Status(err); {
	case internal:
		return code, httpauth.InternalMessage, nil
	case code == http.StatusNotFound:
		return code, "Not found.", nil
	default:
		return code, err.Error(), nil
	}
}

// fail writes err as an error page (or plain text for htmx and non-HTML
// clients) and logs it when it is roster's fault.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, he := statusOf(err)
	switch {
	case code >= 500 && httpauth.ClientGone(r, err):
		s.logger.InfoContext(r.Context(), "client went away before the answer", "method", r.Method, "path", r.URL.Path)
	case code >= 500:
		s.logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if r.Header.Get("HX-Request") != "" || r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, msg, code)
		return
	}
	data := errorPage{Page: s.page(r, "Error"), Status: code, Message: msg}
	if he != nil {
		data.Href, data.HrefLabel = he.Href, he.HrefLabel
	}
	s.render(w, r, code, "error", data)
}
