package connect

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"roster"
	"roster/internal/miro"
)

// ErrSCIMTokenRefused wraps Miro refusing a SCIM token (wrong, revoked,
// or not a SCIM token at all), as opposed to Miro being unreachable.
var ErrSCIMTokenRefused = errors.New("the SCIM token was refused by Miro")

// ErrSCIMTokenEmpty is a SCIM token left blank; Miro was not asked.
var ErrSCIMTokenEmpty = errors.New("the SCIM token is empty")

// ErrSCIMUnavailable wraps a connection that cannot hold a SCIM token;
// its message says why.
var ErrSCIMUnavailable = errors.New("the connection cannot use a SCIM token")

// SCIMUnavailable says why connection c cannot hold a SCIM token, or ""
// when it can: SCIM acts on a whole Enterprise organization, through a
// live connection.
func SCIMUnavailable(c roster.Connection) string {
	switch {
	case c.Level != roster.LevelOrganization:
		return "SCIM acts on the whole organization, so only an organization-level connection takes a SCIM token"
	case c.Status == roster.StatusDisconnected:
		return "the connection is disconnected; connect it again first"
	case !c.Enterprise:
		return "SCIM needs Miro Enterprise, and this organization is not on it"
	}
	return ""
}

// SCIMChecked is what SetSCIMToken did.
type SCIMChecked struct {
	Connection roster.Connection
	// Replaced is true when the connection had a SCIM token before.
	Replaced bool
	// Saw is what the check call saw, in plain words.
	Saw string
}

// SetSCIMToken checks token against Miro's SCIM API with one call, then
// seals it and saves it on connection id, replacing any it had. A token
// Miro refuses wraps ErrSCIMTokenRefused and a connection that cannot
// hold one ErrSCIMUnavailable, a blank one is ErrSCIMTokenEmpty; nothing
// is saved then.
func (s *Service) SetSCIMToken(ctx context.Context, id int64, token string) (SCIMChecked, error) {
	token = strings.TrimSpace(token)
	conn, err := s.Store.Connection(ctx, id)
	if err != nil {
		return SCIMChecked{}, fmt.Errorf("connect: connection %d: %w", id, err)
	}
	if why := SCIMUnavailable(conn); why != "" {
		return SCIMChecked{}, fmt.Errorf("%w: %s", ErrSCIMUnavailable, why)
	}
	if token == "" {
		return SCIMChecked{}, ErrSCIMTokenEmpty
	}
	base, err := s.scimURL(conn)
	if err != nil {
		return SCIMChecked{}, err
	}
	saw, err := s.CheckSCIM(ctx, base, token)
	if err != nil {
		return SCIMChecked{}, err
	}
	sealed, err := s.Clients.Sealer.Seal([]byte(token))
	if err != nil {
		return SCIMChecked{}, fmt.Errorf("connect: seal the SCIM token: %w", err)
	}
	// Read again after the check, which can take seconds, so that a token
	// rotated meanwhile is not written back over.
	if conn, err = s.Store.Connection(ctx, id); err != nil {
		return SCIMChecked{}, fmt.Errorf("connect: connection %d: %w", id, err)
	}
	if why := SCIMUnavailable(conn); why != "" {
		return SCIMChecked{}, fmt.Errorf("%w: %s", ErrSCIMUnavailable, why)
	}
	out := SCIMChecked{Replaced: len(conn.SealedSCIMToken) > 0, Saw: saw}
	// Sealed as the raw token bytes, as roster connect --scim-token
	// does: SCIM tokens are static, with no refresh pair beside them.
	conn.SCIMBaseURL, conn.SealedSCIMToken = base, sealed
	if err := s.Store.UpdateConnection(ctx, &conn); err != nil {
		return SCIMChecked{}, fmt.Errorf("connect: save connection %d's SCIM token: %w", id, err)
	}
	s.Clients.Forget(id)
	out.Connection = conn
	return out, nil
}

// RemoveSCIMToken deletes connection id's SCIM token: deactivation and
// reactivation stop working until one is added again. Removing none is
// not an error.
func (s *Service) RemoveSCIMToken(ctx context.Context, id int64) (roster.Connection, error) {
	conn, err := s.Store.Connection(ctx, id)
	if err != nil {
		return roster.Connection{}, fmt.Errorf("connect: connection %d: %w", id, err)
	}
	if len(conn.SealedSCIMToken) == 0 {
		return conn, nil
	}
	conn.SealedSCIMToken = nil
	if err := s.Store.UpdateConnection(ctx, &conn); err != nil {
		return roster.Connection{}, fmt.Errorf("connect: remove connection %d's SCIM token: %w", id, err)
	}
	s.Clients.Forget(id)
	return conn, nil
}

// CheckSCIM makes one SCIM call with token at base and says what it saw.
// A refusal wraps ErrSCIMTokenRefused.
func (s *Service) CheckSCIM(ctx context.Context, base, token string) (string, error) {
	sc, err := miro.NewSCIM(miro.SCIMConfig{BaseURL: base, Token: token, HTTPClient: s.httpClient(), Logger: s.logger(),
		MaxRetries: 1, RetryBackoff: s.Clients.RetryBackoff})
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	for _, err := range sc.Users(ctx, "") {
		if err != nil {
			if miro.IsUnauthorized(err) || miro.IsForbidden(err) {
				return "", fmt.Errorf("%w: %w", ErrSCIMTokenRefused, err)
			}
			return "", fmt.Errorf("connect: check the SCIM token at %s: %w", base, err)
		}
		return "it lists the organization's users", nil
	}
	return "the organization has no SCIM users yet", nil
}

// scimURL is where conn's SCIM API lives: the one it was given, else the
// app's, derived from conn's own Miro when that differs (a simulator).
func (s *Service) scimURL(conn roster.Connection) (string, error) {
	if conn.SCIMBaseURL != "" {
		return conn.SCIMBaseURL, nil
	}
	app := s.App()
	if conn.APIBaseURL == "" || strings.TrimRight(conn.APIBaseURL, "/") == app.APIBaseURL {
		return app.SCIMURL, nil
	}
	own, err := App{APIBaseURL: conn.APIBaseURL}.Resolve()
	if err != nil {
		return "", fmt.Errorf("connect: connection %d's Miro URL %w", conn.ID, err)
	}
	return own.SCIMURL, nil
}
