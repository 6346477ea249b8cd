package web

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"roster"
	"roster/internal/connect"
	"roster/internal/httpauth"
	"roster/internal/miro"
)

// oauthCookie carries one authorization in flight, from the redirect to
// Miro to the callback: the state, the PKCE verifier and the level,
// sealed (AES-GCM, so neither readable nor forgeable), bound to the
// session and short-lived. Keeping it in the browser keeps the web tier
// stateless: the callback may reach any roster process.
const (
	oauthCookie    = "roster_oauth"
	oauthCookieTTL = 10 * time.Minute
	callbackPath   = "/connections/callback"
)

// pendingAuth is the oauthCookie's sealed content.
type pendingAuth struct {
	State    string       `json:"s"`
	Verifier string       `json:"v"`
	Level    roster.Level `json:"l"`
	Session  []byte       `json:"h"` // the session's token hash
	Expires  time.Time    `json:"e"`
}

// connectionNewPage is the "Add connection" page's data.
type connectionNewPage struct {
	Page
	Levels      []connect.Requirement
	CanAdd      bool
	AddReason   string
	RedirectURL string
}

// AuthorizeHref is the link that starts the OAuth flow at a level. It
// carries the CSRF token because it is a GET with an effect (a cookie).
func (p connectionNewPage) AuthorizeHref(l roster.Level) string {
	return "/connections/authorize?level=" + string(l) + "&csrf=" + p.CSRF
}

// connectionNew lets the admin choose the level, listing the permissions
// each needs, before sending them to Miro.
func (s *Server) connectionNew(w http.ResponseWriter, r *http.Request) error {
	data := connectionNewPage{Page: s.page(r, "Add a connection"), Levels: connect.Requirements(), RedirectURL: s.redirectURL(r)}
	data.Nav = "connections"
	data.CanAdd, data.AddReason = s.canAdd(data.Page)
	s.render(w, r, http.StatusOK, "connection_new", data)
	return nil
}

// redirectURL is where Miro sends the admin back. It must match the
// redirect URI registered in the Miro app.
func (s *Server) redirectURL(r *http.Request) string {
	base := s.public
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + callbackPath
}

// connectionAuthorize starts the OAuth flow: it keeps a fresh state and
// PKCE verifier in the sealed cookie and redirects to Miro's consent page.
func (s *Server) connectionAuthorize(w http.ResponseWriter, r *http.Request) error {
	a := authOf(r)
	if ok, why := s.canAdd(s.page(r, "")); !ok {
		return &httpError{Status: http.StatusConflict, Message: "Cannot add a connection: " + why + ".", Href: "/connections", HrefLabel: "Back to connections"}
	}
	if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get(httpauth.CSRFField)), []byte(a.Session.CSRFToken)) != 1 {
		return errCSRF
	}
	level := roster.Level(r.URL.Query().Get("level"))
	if !level.Valid() {
		return &httpError{Status: http.StatusBadRequest, Message: fmt.Sprintf("level: must be %q or %q.", roster.LevelTeam, roster.LevelOrganization), Href: "/connections/new", HrefLabel: "Choose a level"}
	}
	p := pendingAuth{State: miro.NewState(), Verifier: miro.NewVerifier(), Level: level, Session: a.Session.TokenHash, Expires: s.now().Add(oauthCookieTTL)}
	plain, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode the OAuth state: %w", err)
	}
	sealed, err := s.connect.Sealer().Seal(plain)
	if err != nil {
		return fmt.Errorf("seal the OAuth state: %w", err)
	}
	c := s.guard.Cookie(r, oauthCookie, base64.RawURLEncoding.EncodeToString(sealed), oauthCookieTTL)
	c.Path = "/connections"
	http.SetCookie(w, c)
	http.Redirect(w, r, s.connect.AuthCodeURL(s.redirectURL(r), p.State, p.Verifier, ""), http.StatusFound)
	return nil
}

// takePending reads and clears the oauthCookie: each authorization is
// used once. It checks the session, the expiry and the state.
func (s *Server) takePending(w http.ResponseWriter, r *http.Request) (pendingAuth, error) {
	clear := s.guard.Cookie(r, oauthCookie, "", -1)
	clear.Path = "/connections"
	http.SetCookie(w, clear)
	restart := func(msg string) error {
		return &httpError{Status: http.StatusBadRequest, Message: msg, Href: "/connections/new", HrefLabel: "Start again"}
	}
	var p pendingAuth
	c, err := r.Cookie(oauthCookie)
	if err != nil || c.Value == "" {
		return p, restart("This authorization did not start in this browser session, or it was already used or has expired (after 10 minutes). Nothing was saved.")
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return p, restart("The authorization's cookie is damaged. Nothing was saved.")
	}
	plain, err := s.connect.Sealer().Open(sealed)
	if err != nil || json.Unmarshal(plain, &p) != nil {
		return p, restart("The authorization's cookie is damaged or from another roster. Nothing was saved.")
	}
	switch {
	case !bytes.Equal(p.Session, authOf(r).Session.TokenHash):
		return p, restart("This authorization was started in another login session. Nothing was saved.")
	case !s.now().Before(p.Expires):
		return p, restart("This authorization has expired (after 10 minutes). Nothing was saved.")
	case subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(p.State)) != 1:
		return p, restart("Miro's answer does not match the authorization this browser started (wrong state). Nothing was saved.")
	}
	return p, nil
}

// connectionReportPage is the callback's answer: what the new connection
// can do, and whether it was saved.
type connectionReportPage struct {
	Page
	Report       connect.Report
	Connection   roster.Connection
	Capabilities []capabilityView
	Saved        bool
	Created      bool
	Refusal      string
	SyncQueued   bool
}

// connectionCallback finishes the OAuth flow: it checks the state,
// exchanges the code, inspects what the token can do at the chosen level,
// shows it, and saves the connection unless the level cannot work or
// the organization is already connected.
func (s *Server) connectionCallback(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if ok, why := s.canAdd(s.page(r, "")); !ok {
		return &httpError{Status: http.StatusConflict, Message: "Cannot add a connection: " + why + ".", Href: "/connections", HrefLabel: "Back to connections"}
	}
	p, err := s.takePending(w, r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	entry := roster.AuditEntry{Actor: authOf(r).Actor(), Kind: "connection", Action: "connect", Target: string(p.Level) + " level"}
	failed := func(status int, msg string) error {
		entry.Result, entry.Detail = "refused", msg
		s.guard.Audit(r, entry)
		return &httpError{Status: status, Message: msg, Href: "/connections/new", HrefLabel: "Start again"}
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			return failed(http.StatusBadRequest, "The authorization was denied in Miro. Nothing was saved.")
		}
		return failed(http.StatusBadGateway, "Miro returned the error "+e+" instead of an authorization. Nothing was saved.")
	}
	if q.Get("code") == "" {
		return failed(http.StatusBadRequest, "Miro's answer carried no authorization code. Nothing was saved.")
	}
	tok, err := s.connect.Exchange(ctx, s.redirectURL(r), q.Get("code"), p.Verifier)
	if err != nil {
		s.logger.WarnContext(ctx, "connect: exchange failed", "error", err)
		return failed(http.StatusBadGateway, "Miro did not accept the authorization code: "+err.Error()+". Nothing was saved.")
	}
	report, conn, err := s.connect.Check(ctx, tok, p.Level)
	var unusable *connect.UnusableError
	if errors.As(err, &unusable) {
		// The level cannot work with this token: say what the token is and
		// why, and save nothing, so the organization's slot stays free.
		data := connectionReportPage{Page: s.page(r, "New connection"), Report: report, Refusal: "Not saved: " + unusable.Reason + "."}
		data.Nav = "connections"
		entry.Result, entry.Detail = "refused", data.Refusal
		s.guard.Audit(r, entry)
		s.render(w, r, http.StatusOK, "connection_report", data)
		return nil
	}
	if err != nil {
		s.logger.WarnContext(ctx, "connect: inspect failed", "error", err)
		return failed(http.StatusBadGateway, "roster could not read what the token can do: "+err.Error()+". Nothing was saved.")
	}

	data := connectionReportPage{Page: s.page(r, "New connection"), Report: report, Connection: conn, Capabilities: capabilityViews(conn)}
	data.Nav = "connections"
	entry.Target = connectionName(conn)
	created, err := s.save(r, &conn)
	switch {
	case errors.As(err, new(*refusal)):
		data.Refusal = err.Error()
		entry.Result, entry.Detail = "refused", data.Refusal
	case err != nil:
		return err
	default:
		data.Saved, data.Created, data.Connection = true, created, conn
		data.Capabilities = capabilityViews(conn) // now with its id
		entry.Result, entry.ConnectionID = "ok", conn.ID
		entry.Target = fmt.Sprintf("connection %d", conn.ID)
		entry.Detail = "connected " + connectionName(conn) + " with scopes " + fmt.Sprint(conn.Scopes)
		if len(report.Problems) > 0 {
			entry.Detail += "; problems: " + fmt.Sprint(report.Problems)
		}
		if s.jobs != nil {
			// The first sync starts at once; later ones follow the schedule.
			if data.SyncQueued, err = s.jobs.EnqueueSync(ctx, conn.ID); err != nil {
				s.logger.ErrorContext(ctx, "connect: queue the first sync", "connection", conn.ID, "error", err)
			}
		}
	}
	s.guard.Audit(r, entry)
	s.render(w, r, http.StatusOK, "connection_report", data)
	return nil
}

// refusal is a connection that is not saved, in plain words.
type refusal struct{ msg string }

func (e *refusal) Error() string { return e.msg }

// save stores the new connection (connect.Save): a team connected again
// is updated, and an organization that is already connected is refused
// unless its connection is disconnected or failing, which this
// re-authorizes in place, keeping its id and history.
func (s *Server) save(r *http.Request, conn *roster.Connection) (created bool, err error) {
	created, err = connect.Save(r.Context(), s.store, conn)
	var already *connect.AlreadyConnectedError
	var unusable *connect.UnusableError
	if errors.As(err, &unusable) {
		return false, &refusal{"Not saved: " + unusable.Reason + "."}
	}
	if errors.As(err, &already) {
		if already.Existing.Status == roster.StatusActive {
			return false, &refusal{fmt.Sprintf("Not saved: organization %s is already connected (connection %d), and roster keeps one connection per organization. Disconnect it first to connect it again.",
				already.Existing.OrgName, already.Existing.ID)}
		}
		err = connect.Replace(r.Context(), s.store, conn)
	}
	if err != nil {
		return false, fmt.Errorf("save the connection: %w", err)
	}
	return created, nil
}
