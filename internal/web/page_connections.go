package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"roster"
	"roster/internal/connect"
	"roster/internal/miro"
)

// connectionsPage is the connections list's data.
type connectionsPage struct {
	Page
	Connections []connectionView
	// Flash is the outcome of the last sync-now or disconnect, from the
	// redirect's query (fixed texts only, never echoed input).
	Flash, FlashClass string
	// CanAdd is false when no Miro app is configured; AddReason says why.
	CanAdd    bool
	AddReason string
}

// connectionView is one connection as the list shows it.
type connectionView struct {
	roster.Connection
	Capabilities []capabilityView
	// Sync is its sync, queued, running or last finished (connection_sync.go).
	Sync syncView
	// SyncReason and DisconnectReason are why the buttons are disabled
	// ("" when enabled).
	SyncReason, DisconnectReason string
	// SCIM is the SCIM token's part of the connection's section.
	SCIM scimView
}

// scimView is a connection's SCIM token as its section shows it: the
// state to everyone, the forms to admins.
type scimView struct {
	// Shown is false for team-level connections, which take none.
	Shown bool
	Set   bool
	// Forms is true when an admin may add, replace or remove it here;
	// FormsReason says why not when an admin may not ("" for viewers,
	// who see the state only).
	Forms       bool
	FormsReason string
}

// capabilityView is a capability with, when the dashboard itself can
// fix what is missing, a link to where.
type capabilityView struct {
	roster.Capability
	Href, HrefLabel string
}

// scimFormID is the anchor of a connection's SCIM token form.
func scimFormID(id int64) string { return "scim-" + strconv.FormatInt(id, 10) }

// capabilityViews are c's capabilities for the dashboard: a missing SCIM
// token that can be added on the connections page links to its form
// instead of the command line's advice (not before c is saved).
func capabilityViews(c roster.Connection) []capabilityView {
	caps := c.Capabilities()
	out := make([]capabilityView, len(caps))
	for i, cp := range caps {
		out[i] = capabilityView{Capability: cp}
		if c.ID != 0 && cp.Name == roster.CapDeactivate && !cp.Available && len(c.SealedSCIMToken) == 0 && connect.SCIMUnavailable(c) == "" {
			out[i].Reason = "no SCIM token; an admin can add one on the connection's page"
			out[i].Href, out[i].HrefLabel = "/connections#"+scimFormID(c.ID), "Add a SCIM token"
		}
	}
	return out
}

// Name is how the connection is named on screen.
func (c connectionView) Name() string { return connectionName(c.Connection) }

// Every is the sync interval in plain words: "24 h", "90 min".
func (c connectionView) Every() string {
	switch d := c.SyncInterval; {
	case d <= 0:
		return "24 h (the default)"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	default:
		return d.String()
	}
}

// Disconnected is whether the connection is disconnected, for templates.
func (c connectionView) Disconnected() bool { return c.Status == roster.StatusDisconnected }

// connectionName is "Example Corp (organization)" or "Design team (team)".
func connectionName(c roster.Connection) string {
	name := c.TeamName
	if c.Level == roster.LevelOrganization {
		name = c.OrgName
		if name == "" {
			name = c.OrgID
		}
	}
	if name == "" {
		name = c.TeamID
	}
	return fmt.Sprintf("%s (%s level)", name, c.Level)
}

// flashes are the outcomes the list can announce, by query key.
var flashes = map[string]struct{ text, class string }{
	"queued":        {"Sync of %s queued; it runs in the background, and its progress shows below.", "success"},
	"already":       {"A sync of %s is already queued or running.", "notice"},
	"disconnected":  {"%s is disconnected: its token was revoked at Miro and deleted from roster. Its history is kept.", "success"},
	"dead":          {"%s is disconnected. Miro already held its token invalid (revoked or expired), or it had none; it was deleted from roster. Its history is kept.", "success"},
	"scim_added":    {"%s has a SCIM token now; Miro accepted it. Deactivation and reactivation work.", "success"},
	"scim_replaced": {"%s's SCIM token was replaced; Miro accepted the new one.", "success"},
	"scim_removed":  {"%s's SCIM token was removed from roster. Deactivation and reactivation stop working until one is added again.", "success"},
}

// connectionsPage lists every connection with its status, what it can do
// and why not, and its last sync.
func (s *Server) connectionsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	if q.Get("part") == "sync" {
		return s.connectionSyncPart(w, r)
	}
	conns, err := s.store.Connections(ctx)
	if err != nil {
		return fmt.Errorf("load connections: %w", err)
	}
	data := connectionsPage{Page: s.page(r, "Connections")}
	data.CanAdd, data.AddReason = s.canAdd(data.Page)
	queued := s.queuedSyncs(r)
	for _, c := range conns {
		v := connectionView{Connection: c, Capabilities: capabilityViews(c), SCIM: s.scimState(data.Page, c)}
		if v.Sync, err = s.syncState(ctx, c, queued[c.ID]); err != nil {
			return err
		}
		v.SyncReason, v.DisconnectReason = s.connectionReasons(data.Page, c)
		data.Connections = append(data.Connections, v)
	}
	for key, f := range flashes {
		if id, err := strconv.ParseInt(q.Get(key), 10, 64); err == nil {
			for _, c := range conns {
				if c.ID == id {
					data.Flash, data.FlashClass = fmt.Sprintf(f.text, connectionName(c)), f.class
				}
			}
		}
	}
	s.render(w, r, http.StatusOK, "connections", data)
	return nil
}

// canAdd says whether "Add connection" works, and why not.
func (s *Server) canAdd(p Page) (bool, string) {
	switch {
	case !p.CanAct:
		return false, ViewerReason
	case s.connect == nil || !s.connect.App().CanAuthorize():
		return false, "roster serve has no Miro app configured: set ROSTER_MIRO_CLIENT_ID and ROSTER_MIRO_CLIENT_SECRET (or --client-id and --client-secret), or connect with roster connect"
	}
	return true, ""
}

// connectionReasons say why "Sync now" and "Disconnect" are disabled.
func (s *Server) connectionReasons(p Page, c roster.Connection) (syncWhy, disconnectWhy string) {
	switch {
	case !p.CanAct:
		return ViewerReason, ViewerReason
	case c.Status == roster.StatusDisconnected:
		return "the connection is disconnected; connect it again to sync it", "already disconnected"
	}
	if s.jobs == nil {
		syncWhy = "this roster runs no sync workers; use roster sync"
	}
	if s.connect == nil || !s.connect.App().CanAuthorize() {
		disconnectWhy = "roster needs the Miro app's client id and secret (ROSTER_MIRO_CLIENT_ID, ROSTER_MIRO_CLIENT_SECRET) to revoke the token"
	}
	return syncWhy, disconnectWhy
}

// loadConnection reads the {id} of a connection route.
func (s *Server) loadConnection(r *http.Request) (roster.Connection, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return roster.Connection{}, errNotFound("No such connection.")
	}
	c, err := s.store.Connection(r.Context(), id)
	if err != nil {
		return roster.Connection{}, fmt.Errorf("load connection %d: %w", id, err)
	}
	return c, nil
}

// connectionSync queues a sync now ("Sync now"). The job is unique per
// connection while queued or running, so asking twice queues one.
func (s *Server) connectionSync(w http.ResponseWriter, r *http.Request) error {
	c, err := s.loadConnection(r)
	if err != nil {
		return err
	}
	if syncWhy, _ := s.connectionReasons(s.page(r, ""), c); syncWhy != "" {
		return &httpError{Status: http.StatusConflict, Message: "Cannot sync " + connectionName(c) + ": " + syncWhy + ".", Href: "/connections", HrefLabel: "Back to connections"}
	}
	queued, err := s.jobs.EnqueueSync(r.Context(), c.ID)
	if err != nil {
		return fmt.Errorf("queue a sync of connection %d: %w", c.ID, err)
	}
	outcome := "already"
	if queued {
		outcome = "queued"
	}
	s.guard.Audit(r, roster.AuditEntry{
		Actor: authOf(r).Actor(), Kind: "sync", Action: "sync_now", Target: fmt.Sprintf("connection %d", c.ID),
		ConnectionID: c.ID, Result: "ok", Detail: map[bool]string{true: "sync queued", false: "a sync was already queued or running"}[queued],
	})
	http.Redirect(w, r, "/connections?"+outcome+"="+strconv.FormatInt(c.ID, 10)+"#connection-"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
	return nil
}

// connectionDisconnect revokes a connection's token at Miro and marks it
// disconnected, keeping its history. The form must be confirmed.
func (s *Server) connectionDisconnect(w http.ResponseWriter, r *http.Request) error {
	c, err := s.loadConnection(r)
	if err != nil {
		return err
	}
	back := func(status int, msg string) error {
		return &httpError{Status: status, Message: msg, Href: "/connections#connection-" + strconv.FormatInt(c.ID, 10), HrefLabel: "Back to connections"}
	}
	if _, why := s.connectionReasons(s.page(r, ""), c); why != "" {
		return back(http.StatusConflict, "Cannot disconnect "+connectionName(c)+": "+why+".")
	}
	if r.PostFormValue("confirm") != "1" {
		return back(http.StatusBadRequest, "confirm: tick the box to confirm the disconnection; nothing was changed.")
	}
	entry := roster.AuditEntry{
		Actor: authOf(r).Actor(), Kind: "connection", Action: "disconnect",
		Target: fmt.Sprintf("connection %d", c.ID), ConnectionID: c.ID,
	}
	done, err := s.connect.Disconnect(r.Context(), c.ID)
	if err != nil {
		entry.Result, entry.Detail = "failed", err.Error()
		s.guard.Audit(r, entry)
		if errors.Is(err, connect.ErrCannotRevoke) {
			s.logger.WarnContext(r.Context(), "disconnect: revoke failed", "connection", c.ID, "error", err)
			return back(http.StatusBadGateway, "Could not disconnect "+connectionName(c)+": "+err.Error())
		}
		return err
	}
	entry.Result = "ok"
	outcome := "disconnected"
	if done.Revoked {
		entry.Detail = "token revoked at Miro; connection marked disconnected, history kept"
	} else {
		outcome = "dead"
		entry.Detail = "Miro already held the token invalid; connection marked disconnected, history kept"
		entry.MiroAnswer = done.MiroAnswer
	}
	s.guard.Audit(r, entry)
	http.Redirect(w, r, "/connections?"+outcome+"="+url.QueryEscape(strconv.FormatInt(c.ID, 10))+"#connection-"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
	return nil
}

// scimState is what c's section shows of its SCIM token.
func (s *Server) scimState(p Page, c roster.Connection) scimView {
	v := scimView{Shown: c.Level == roster.LevelOrganization, Set: len(c.SealedSCIMToken) > 0}
	if !v.Shown || !p.CanAct {
		return v
	}
	v.FormsReason = s.scimReason(c)
	v.Forms = v.FormsReason == ""
	return v
}

// scimReason says why an admin cannot change c's SCIM token here, or "".
func (s *Server) scimReason(c roster.Connection) string {
	if s.connect == nil {
		return "this roster has no Miro connection service; use roster connect --replace --scim-token"
	}
	return connect.SCIMUnavailable(c)
}

// connectionSCIMSet adds or replaces a connection's SCIM token: Miro's
// SCIM API is asked with it first, and only a token it accepts is sealed
// and saved. The token is never echoed, logged or audited.
func (s *Server) connectionSCIMSet(w http.ResponseWriter, r *http.Request) error {
	c, err := s.loadConnection(r)
	if err != nil {
		return err
	}
	id := strconv.FormatInt(c.ID, 10)
	back := func(status int, msg string) error {
		return &httpError{Status: status, Message: msg, Href: "/connections#" + scimFormID(c.ID), HrefLabel: "Back to the SCIM token"}
	}
	if why := s.scimReason(c); why != "" {
		return back(http.StatusConflict, "Cannot set a SCIM token on "+connectionName(c)+": "+why+". Nothing was saved.")
	}
	entry := roster.AuditEntry{Actor: authOf(r).Actor(), Kind: "connection", Action: "scim_token_set",
		Target: "connection " + id, ConnectionID: c.ID}
	done, err := s.connect.SetSCIMToken(r.Context(), c.ID, r.PostFormValue("scim_token"))
	var se *miro.SCIMError
	switch {
	case errors.Is(err, connect.ErrSCIMTokenEmpty):
		return back(http.StatusBadRequest, "scim_token: the field was empty; paste the SCIM token. Nothing was saved.")
	case errors.Is(err, connect.ErrSCIMTokenRefused):
		entry.Result, entry.Detail = "refused", err.Error()
		s.guard.Audit(r, entry)
		answer := ""
		if errors.As(err, &se) {
			answer = fmt.Sprintf(" (Miro answered %d: %s)", se.Status, se.Reason())
		}
		return back(http.StatusBadRequest, "scim_token: Miro did not accept this SCIM token"+answer+". "+
			"Paste the organization's SCIM token whole, as Miro shows it to a Company Admin in the Enterprise integrations settings; "+
			"an OAuth access token does not work here. Nothing was saved.")
	case errors.Is(err, connect.ErrSCIMUnavailable):
		entry.Result, entry.Detail = "refused", err.Error()
		s.guard.Audit(r, entry)
		return back(http.StatusConflict, "Cannot set a SCIM token on "+connectionName(c)+": "+err.Error()+". Nothing was saved.")
	case err != nil:
		entry.Result, entry.Detail = "failed", err.Error()
		s.guard.Audit(r, entry)
		s.logger.WarnContext(r.Context(), "scim token: check failed", "connection", c.ID, "error", err)
		return back(http.StatusBadGateway, "roster could not check the SCIM token with Miro: "+err.Error()+". Nothing was saved; try again.")
	}
	outcome := "scim_added"
	entry.Result, entry.Detail = "ok", "SCIM token added; Miro's SCIM API accepted it ("+done.Saw+")"
	if done.Replaced {
		outcome = "scim_replaced"
		entry.Action, entry.Detail = "scim_token_replace", "SCIM token replaced; Miro's SCIM API accepted it ("+done.Saw+")"
	}
	s.guard.Audit(r, entry)
	http.Redirect(w, r, "/connections?"+outcome+"="+id+"#"+scimFormID(c.ID), http.StatusSeeOther)
	return nil
}

// connectionSCIMRemove deletes a connection's SCIM token, once the admin
// has confirmed that deactivation and reactivation then stop working.
func (s *Server) connectionSCIMRemove(w http.ResponseWriter, r *http.Request) error {
	c, err := s.loadConnection(r)
	if err != nil {
		return err
	}
	id := strconv.FormatInt(c.ID, 10)
	back := func(status int, msg string) error {
		return &httpError{Status: status, Message: msg, Href: "/connections#" + scimFormID(c.ID), HrefLabel: "Back to the SCIM token"}
	}
	switch {
	case s.connect == nil:
		return back(http.StatusConflict, "Cannot remove the SCIM token: "+s.scimReason(c)+".")
	case len(c.SealedSCIMToken) == 0:
		return back(http.StatusConflict, connectionName(c)+" has no SCIM token; nothing was changed.")
	case r.PostFormValue("confirm") != "1":
		return back(http.StatusBadRequest, "confirm: tick the box to confirm that deactivation and reactivation stop working; nothing was changed.")
	}
	entry := roster.AuditEntry{Actor: authOf(r).Actor(), Kind: "connection", Action: "scim_token_remove",
		Target: "connection " + id, ConnectionID: c.ID}
	if _, err := s.connect.RemoveSCIMToken(r.Context(), c.ID); err != nil {
		entry.Result, entry.Detail = "failed", err.Error()
		s.guard.Audit(r, entry)
		return err
	}
	entry.Result, entry.Detail = "ok", "SCIM token removed; deactivation and reactivation stop working"
	s.guard.Audit(r, entry)
	http.Redirect(w, r, "/connections?scim_removed="+id+"#"+scimFormID(c.ID), http.StatusSeeOther)
	return nil
}
