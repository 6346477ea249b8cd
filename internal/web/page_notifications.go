package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"roster"
	"roster/internal/store"
)

// notificationsPageSize is how many messages one page of Sent
// notifications shows.
const notificationsPageSize = 50

type notificationsPage struct {
	Page
	workflowNav
	Notifications []roster.Notification
	// NextHref is the next (older) page; FirstHref the newest, shown past
	// the first page.
	NextHref, FirstHref string
	// Resent is the message an admin just sent again, with its outcome.
	Resent *roster.Notification
}

// notificationsPage is GET /workflows/notifications: every message any
// channel sent or tried, newest first, a page at a time (?before=<id>).
// Admins only: an approval request carries its signed links.
func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	before, err := formID("before", q.Get("before"))
	if err != nil {
		return err
	}
	resent, err := formID("resent", q.Get("resent"))
	if err != nil {
		return err
	}
	// One more than shown says whether an older page exists.
	list, err := s.store.Notifications(ctx, before, notificationsPageSize+1)
	if err != nil {
		return fmt.Errorf("list notifications: %w", err)
	}
	p := notificationsPage{Page: s.page(r, "Sent notifications"), workflowNav: workflowNav{"notifications"}}
	if len(list) > notificationsPageSize {
		list = list[:notificationsPageSize]
		p.NextHref = "/workflows/notifications?before=" + strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	if before > 0 {
		p.FirstHref = "/workflows/notifications"
	}
	p.Notifications = list
	if resent > 0 {
		n, err := s.store.Notification(ctx, resent)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("read notification %d: %w", resent, err)
		}
		if err == nil {
			p.Resent = &n
		}
	}
	s.render(w, r, http.StatusOK, "notifications", p)
	return nil
}

// notificationRetry is POST /workflows/notifications/{id}/retry: an admin
// sends a message again under its key (workflow.ResendNotification); the
// page then shows its outcome, which the record keeps either way.
func (s *Server) notificationRetry(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound("No such notification.")
	}
	_, err = s.wf.ResendNotification(r.Context(), id, authOf(r).Actor())
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound(fmt.Sprintf("No notification %d.", id))
	}
	// A channel's failure is recorded on the message and shown there.
	if err != nil {
		s.logger.WarnContext(r.Context(), "notification retry failed", "notification", id, "error", err)
	}
	http.Redirect(w, r, "/workflows/notifications?resent="+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}
