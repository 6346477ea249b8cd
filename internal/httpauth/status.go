package httpauth

import (
	"context"
	"errors"
	"net/http"

	"roster/internal/store"
)

// Status maps an error to an HTTP status: the store's not found is 404,
// its invalid 400, its conflict 409. Anything else is roster's own
// failure, 500: its detail belongs in the log, never in the answer
// (internal is true). Each HTTP package answers the errors of the
// capabilities it calls (an action's bad field, a workflow's) before
// falling back on this map.
func Status(err error) (status int, internal bool) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, false
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, false
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, false
	}
	return http.StatusInternalServerError, true
}

// InternalMessage is what a caller is told of roster's own failure.
const InternalMessage = "Something went wrong on roster's side; the details are in its log."

// ClientGone reports whether err is only the request's own end: the
// client closed the connection, so the failure is theirs to see, not an
// error of roster's to log as one.
func ClientGone(r *http.Request, err error) bool {
	return r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
