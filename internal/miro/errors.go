package miro

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// APIError is an error answer from Miro: its {"status","code","message",
// "type"} body plus the request that got it, so that a log line or a sync
// failure says exactly which call failed and why.
type APIError struct {
	Status    int    // HTTP status
	Code      string // Miro's code, e.g. tokenNotFound, conflict, tooManyRequests
	Message   string // Miro's message
	Type      string // "error"
	Operation string // the spec's operationId, e.g. enterprise-get-organization-members
	Method    string
	Path      string
}

// Error reads like `miro: GET /v2/orgs/1/members: 401 tokenNotFound: token
// is invalid or revoked (reconnect the Miro connection)`.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "miro: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	msg := e.Message
	if e.Status == http.StatusUnauthorized {
		if m, ok := unauthorizedText[e.Code]; ok {
			msg = m
		}
	}
	if msg == "" {
		msg = strings.ToLower(http.StatusText(e.Status))
	}
	if msg != "" {
		b.WriteString(": " + msg)
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(" (" + hint + ")")
	}
	return b.String()
}

// unauthorizedText says in plain words what each 401 code means.
var unauthorizedText = map[string]string{
	"tokenNotFound":    "token is invalid or revoked",
	"tokenNotProvided": "no access token was sent",
	"tokenExpired":     "token has expired and could not be refreshed",
}

// hint tells an operator what to do about the errors that need a person.
func (e *APIError) hint() string {
	switch {
	case e.Status == http.StatusUnauthorized:
		return "reconnect the Miro connection"
	case e.Status == http.StatusForbidden:
		return "check the granted scopes and that the connecting user is a Company Admin"
	}
	return ""
}

// IsNotFound reports whether err is a Miro 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsConflict reports whether err is a Miro 409 (already a member, last admin).
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsRateLimited reports whether err is a Miro 429 that survived the pacer.
func IsRateLimited(err error) bool { return hasStatus(err, http.StatusTooManyRequests) }

// IsForbidden reports whether err is a Miro 403 (missing scope, not a
// Company Admin, not Enterprise).
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// IsUnauthorized reports whether err is a 401: the token is missing, wrong,
// revoked or expired beyond refresh. The connection must be re-authorized.
// A refresh token rejected by the token endpoint (invalid_grant) counts too.
func IsUnauthorized(err error) bool {
	if hasStatus(err, http.StatusUnauthorized) {
		return true
	}
	var oe *OAuthError
	return errors.As(err, &oe) && oe.Code == "invalid_grant"
}

func hasStatus(err error, status int) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status == status
	}
	var se *SCIMError
	if errors.As(err, &se) {
		return se.Status == status
	}
	return false
}

// OAuthError is an error answer from the OAuth token endpoint
// ({"error","error_description"}), e.g. invalid_grant for a refresh token
// that was already rotated away.
type OAuthError struct {
	Status      int
	Code        string // the "error" field
	Description string
	Operation   string // "exchange code", "refresh token", "revoke token"
}

// Error reads like `miro: refresh token: 400 invalid_grant: ...`.
func (e *OAuthError) Error() string {
	s := fmt.Sprintf("miro: %s: %d %s", e.Operation, e.Status, e.Code)
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Code == "invalid_grant" {
		s += " (reconnect the Miro connection)"
	}
	return s
}

// SCIMError is an error answer from Miro's SCIM API
// ({"schemas":[...Error],"status":"404","scimType","detail"}).
type SCIMError struct {
	Status   int
	SCIMType string
	Detail   string
	Method   string
	Path     string
}

// Error reads like `miro scim: PATCH /api/v1/scim/Users/1: 400 invalidValue: ...`.
func (e *SCIMError) Error() string {
	s := fmt.Sprintf("miro scim: %s %s: %d", e.Method, e.Path, e.Status)
	if e.SCIMType != "" {
		s += " " + e.SCIMType
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Status == http.StatusUnauthorized {
		s += " (check the SCIM token)"
	}
	return s
}

// refusal reports whether an answer's status is Miro saying no: a 4xx
// other than 401 (a token to refresh) and 429 (wait), which sending the
// same request again will not change.
func refusal(status int) bool {
	return status >= 400 && status < 500 && status != http.StatusUnauthorized && status != http.StatusTooManyRequests
}

// Refusal reports whether Miro said no for good (see refusal); the
// action layer records such an answer as refused rather than retrying.
func (e *APIError) Refusal() bool { return refusal(e.Status) }

// Forbidden reports a 403: a scope or a role the token lacks.
func (e *APIError) Forbidden() bool { return e.Status == http.StatusForbidden }

// NotFound reports a 404.
func (e *APIError) NotFound() bool { return e.Status == http.StatusNotFound }

// Reason is Miro's message, or the status in words when it gave none.
func (e *APIError) Reason() string {
	if e.Message != "" {
		return e.Message
	}
	return http.StatusText(e.Status)
}

// Refusal reports whether SCIM said no for good (see refusal): a guest,
// an external user, a value it rejects.
func (e *SCIMError) Refusal() bool { return refusal(e.Status) }

// NotFound reports a 404: SCIM has no such user.
func (e *SCIMError) NotFound() bool { return e.Status == http.StatusNotFound }

// Reason is SCIM's detail, or the status in words when it gave none.
func (e *SCIMError) Reason() string {
	if e.Detail != "" {
		return e.Detail
	}
	return http.StatusText(e.Status)
}
