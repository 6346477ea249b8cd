package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"roster"
	"roster/internal/miro"
	"roster/internal/store"
)

// App is the registered Miro app and where Miro (or a simulator) lives.
// Both the command line and the dashboard connect through it.
type App struct {
	ClientID     string
	ClientSecret string
	// APIBaseURL is the REST base (miro.DefaultBaseURL for real Miro).
	// AuthURL, TokenURL and SCIMURL default from it: Miro's own for real
	// Miro, <base>/oauth/authorize, <base>/v1/oauth/token and
	// <base>/api/v1/scim for a simulator.
	APIBaseURL string
	AuthURL    string
	TokenURL   string
	SCIMURL    string
}

// defaultSCIMURL is Miro's SCIM base (API-NOTES §1).
const defaultSCIMURL = "https://miro.com/api/v1/scim"

// Resolve checks the base URL and fills the URLs left empty.
func (a App) Resolve() (App, error) {
	base := strings.TrimRight(a.APIBaseURL, "/")
	if base == "" {
		base = miro.DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return a, fmt.Errorf("must be an absolute http(s) URL, got %q", a.APIBaseURL)
	}
	a.APIBaseURL = base
	realMiro := base == miro.DefaultBaseURL
	if a.AuthURL == "" {
		a.AuthURL = miro.DefaultAuthURL
		if !realMiro {
			a.AuthURL = base + "/oauth/authorize"
		}
	}
	if a.TokenURL == "" {
		a.TokenURL = base + "/v1/oauth/token"
	}
	if a.SCIMURL == "" {
		a.SCIMURL = defaultSCIMURL
		if !realMiro {
			a.SCIMURL = base + "/api/v1/scim"
		}
	}
	return a, nil
}

// CanAuthorize reports whether the app can run the OAuth flow and revoke
// tokens: both need the client id and secret.
func (a App) CanAuthorize() bool { return a.ClientID != "" && a.ClientSecret != "" }

// OAuth is the app's OAuth client for one redirect URI.
func (a App) OAuth(redirectURL string, hc *http.Client, logger *slog.Logger) *miro.OAuth {
	return &miro.OAuth{
		ClientID: a.ClientID, ClientSecret: a.ClientSecret, RedirectURL: redirectURL,
		AuthURL: a.AuthURL, TokenURL: a.TokenURL, APIBaseURL: a.APIBaseURL,
		HTTPClient: hc, Logger: logger,
	}
}

// Requirement is what a level needs, for the page or prompt where the
// admin chooses it (DESIGN §1).
type Requirement struct {
	Level   roster.Level
	Summary string
	// Scopes are the permissions the Miro app must be granted.
	Scopes []string
	// Notes are what to know or pick on Miro's page.
	Notes []string
}

// Requirements lists both levels, team (the default) first.
func Requirements() []Requirement {
	return []Requirement{LevelRequirement(roster.LevelTeam), LevelRequirement(roster.LevelOrganization)}
}

// LevelRequirement is what one level needs.
func LevelRequirement(l roster.Level) Requirement {
	if l == roster.LevelOrganization {
		return Requirement{
			Level:   l,
			Summary: "One connection covers the whole organization, every team included, with exact licenses and usage. Needs Miro Enterprise.",
			Scopes:  []string{roster.ScopeOrgRead, roster.ScopeOrgTeamsRead, roster.ScopeOrgTeamsWrite, roster.ScopeAuditLogsRead, roster.ScopeSessionsDelete},
			Notes: []string{
				"Required: " + roster.ScopeOrgRead + ", " + roster.ScopeOrgTeamsRead + " and " + roster.ScopeOrgTeamsWrite + "; " + roster.ScopeAuditLogsRead + " adds sign-ins and board opens to usage, " + roster.ScopeSessionsDelete + " allows signing a user out.",
				"Usage data needs the connecting user to be a Miro Company Admin.",
				"On Miro's page, pick the largest team, which is the organization itself.",
			},
		}
	}
	return Requirement{
		Level:   roster.LevelTeam,
		Summary: "One connection covers one Miro team; connect each team you want to cover. Licenses are inferred from team roles and there is no usage data.",
		Scopes:  []string{roster.ScopeTeamRead, roster.ScopeTeamWrite},
		Notes: []string{
			roster.ScopeTeamRead + " lists the team's members; " + roster.ScopeTeamWrite + " allows invite, remove and role changes.",
			"On Miro's page, pick the team to connect.",
		},
	}
}

// Service runs the steps of connecting and disconnecting that the command
// line and the dashboard share: the authorize URL, the code exchange, the
// check of what a token can do, and revocation. Its Clients holds the
// app (resolved with App.Resolve), the sealer, the HTTP client and the
// logger; revocation goes through the connection's own token source.
type Service struct {
	Store   store.Store
	Clients *Clients
}

// App is the Miro app the service connects through.
func (s *Service) App() App { return s.Clients.App }

// Sealer seals the service's secrets at rest (tokens, and the dashboard's
// OAuth state cookie).
func (s *Service) Sealer() Sealer { return s.Clients.Sealer }

func (s *Service) logger() *slog.Logger     { return s.Clients.logger() }
func (s *Service) httpClient() *http.Client { return s.Clients.httpClient() }

// AuthCodeURL is the link that sends the admin to Miro to install the app;
// state and verifier must be kept until the callback.
func (s *Service) AuthCodeURL(redirectURL, state, verifier, teamID string) string {
	return s.App().OAuth(redirectURL, s.httpClient(), s.logger()).AuthCodeURL(state, verifier, teamID)
}

// Exchange trades the callback's code for a token.
func (s *Service) Exchange(ctx context.Context, redirectURL, code, verifier string) (miro.Token, error) {
	tok, err := s.App().OAuth(redirectURL, s.httpClient(), s.logger()).Exchange(ctx, code, verifier)
	if err != nil {
		return miro.Token{}, fmt.Errorf("connect: exchange the authorization code: %w", err)
	}
	return tok, nil
}

// Check inspects tok at level and returns the report and the connection
// to save, with its token sealed. The token's own facts (team, user,
// scopes) are completed from the report. A token the level cannot work
// with at all (Report.Unusable) is refused with an *UnusableError, the
// report still returned so that callers can show what the token is; the
// connection is then empty and nothing is sealed.
func (s *Service) Check(ctx context.Context, tok miro.Token, level roster.Level) (Report, roster.Connection, error) {
	client, err := miro.New(miro.Config{BaseURL: s.App().APIBaseURL, Token: miro.StaticToken(tok.AccessToken), HTTPClient: s.httpClient(), Logger: s.logger()})
	if err != nil {
		return Report{}, roster.Connection{}, fmt.Errorf("connect: %w", err)
	}
	report, err := Inspect(ctx, client, level)
	if err != nil {
		return Report{}, roster.Connection{}, err
	}
	if report.Unusable != "" {
		return report, roster.Connection{}, &UnusableError{Reason: report.Unusable}
	}
	conn := report.Connection()
	conn.APIBaseURL = s.App().APIBaseURL
	if tok.TeamID == "" {
		tok.TeamID = report.TeamID
	}
	if tok.UserID == "" {
		tok.UserID = report.InstallerID
	}
	if len(tok.Scopes) == 0 {
		tok.Scopes = report.Scopes
	}
	if conn.SealedToken, err = SealToken(s.Clients.Sealer, tok); err != nil {
		return Report{}, roster.Connection{}, fmt.Errorf("connect: %w", err)
	}
	return report, conn, nil
}

// Disconnected is what Disconnect did.
type Disconnected struct {
	Connection roster.Connection
	// Revoked is true when Miro revoked the token now; false when Miro
	// already held it invalid (revoked, expired or unknown).
	Revoked bool
	// MiroAnswer is Miro's refusal of an already invalid token.
	MiroAnswer string
}

// ErrCannotRevoke wraps a revocation that did not happen (Miro
// unreachable, or no Miro app configured); nothing was changed.
var ErrCannotRevoke = errors.New("the token could not be revoked at Miro")

// Disconnect revokes connection id's token at Miro and marks the
// connection disconnected, deleting its sealed tokens but keeping its
// history (sync runs, accounts, changes, audit); the scheduler skips it.
// An expired token is refreshed first, since Miro revokes through the
// access token and its refresh token would otherwise stay alive. When
// Miro cannot be asked, nothing changes: a disconnected connection's
// token is dead.
func (s *Service) Disconnect(ctx context.Context, id int64) (Disconnected, error) {
	conn, err := s.Store.Connection(ctx, id)
	if err != nil {
		return Disconnected{}, fmt.Errorf("connect: connection %d: %w", id, err)
	}
	if conn.Status == roster.StatusDisconnected {
		return Disconnected{Connection: conn}, nil
	}
	out := Disconnected{}
	if len(conn.SealedToken) > 0 {
		if !s.App().CanAuthorize() {
			return Disconnected{}, fmt.Errorf("%w: roster has no Miro app client id and secret (ROSTER_MIRO_CLIENT_ID, ROSTER_MIRO_CLIENT_SECRET), which revocation needs; nothing was changed", ErrCannotRevoke)
		}
		if out.Revoked, out.MiroAnswer, err = s.revoke(ctx, conn); err != nil {
			return Disconnected{}, fmt.Errorf("%w: %w; nothing was changed, try again", ErrCannotRevoke, err)
		}
	}
	conn.Status = roster.StatusDisconnected
	conn.StatusMessage = "disconnected; the token was revoked"
	conn.SealedToken, conn.SealedSCIMToken = nil, nil
	if err := s.Store.UpdateConnection(ctx, &conn); err != nil {
		return Disconnected{}, fmt.Errorf("connect: mark connection %d disconnected: %w", id, err)
	}
	s.Clients.Forget(id)
	out.Connection = conn
	return out, nil
}

// revoke revokes conn's token. A token Miro no longer accepts is dead
// already: that is not an error, and its answer is returned. An expired
// token is refreshed first through the connection's token source (the
// rotation saved first), so that the revocation reaches its refresh token
// too.
func (s *Service) revoke(ctx context.Context, conn roster.Connection) (revoked bool, answer string, err error) {
	access, err := s.Clients.AccessToken(ctx, conn)
	if err != nil {
		if dead(err) {
			return false, err.Error(), nil
		}
		return false, "", err
	}
	if err := s.Clients.oauth(conn).Revoke(ctx, access); err != nil {
		if dead(err) {
			return false, err.Error(), nil
		}
		return false, "", err
	}
	return true, "", nil
}

// dead reports whether Miro refused a token as unknown, revoked or
// expired, as opposed to being unreachable or refusing roster's app.
func dead(err error) bool {
	var ae *miro.APIError
	if errors.As(err, &ae) {
		if ae.Code == "invalidClient" {
			return false
		}
		return ae.Status == http.StatusNotFound || ae.Status == http.StatusUnauthorized || ae.Status == http.StatusBadRequest
	}
	var oe *miro.OAuthError
	return errors.As(err, &oe) && oe.Code == "invalid_grant"
}
