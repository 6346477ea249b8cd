package connect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"roster"
	"roster/internal/store"
)

// DefaultSyncInterval is how often a new connection is synced.
const DefaultSyncInterval = 24 * time.Hour

// AlreadyConnectedError refuses a second organization-level connection to
// one organization: two would sync the same people twice over.
type AlreadyConnectedError struct {
	Existing roster.Connection
}

func (e *AlreadyConnectedError) Error() string {
	return fmt.Sprintf("organization %s (%s) is already connected as connection %d, and roster keeps one connection per organization; to re-authorize it, connect again with --replace",
		e.Existing.OrgName, e.Existing.OrgID, e.Existing.ID)
}

// Is makes errors.Is(err, store.ErrConflict) hold.
func (e *AlreadyConnectedError) Is(target error) bool { return target == store.ErrConflict }

// UnusableError refuses a token for a level it cannot serve, in plain
// words (Report.Unusable); nothing was saved.
type UnusableError struct {
	Reason string
}

func (e *UnusableError) Error() string { return "connect: not saved: " + e.Reason }

// Is makes errors.Is(err, store.ErrInvalid) hold.
func (e *UnusableError) Is(target error) bool { return target == store.ErrInvalid }

// Save stores c, a connection built from a Report with its sealed tokens.
//   - Team level: connecting a team that is already connected updates that
//     connection (tokens, scopes, facts) instead of adding a second one.
//   - Organization level: a second connection to the same organization is
//     refused with an *AlreadyConnectedError; Replace re-authorizes one.
//     A token without the organization read scopes (a team token) is
//     refused with an *UnusableError before anything is looked up, so it
//     never takes the organization's one connection.
//
// created reports whether a new connection was added; c.ID is set either way.
func Save(ctx context.Context, st store.Store, c *roster.Connection) (created bool, err error) {
	if err := validate(c); err != nil {
		return false, err
	}
	orgID, teamID := "", c.TeamID
	if c.Level == roster.LevelOrganization {
		orgID, teamID = c.OrgID, ""
	}
	existing, err := st.FindConnection(ctx, c.Level, orgID, teamID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return create(ctx, st, c)
	case err != nil:
		return false, fmt.Errorf("connect: find the existing connection: %w", err)
	case c.Level == roster.LevelOrganization:
		return false, &AlreadyConnectedError{Existing: existing}
	}
	return false, update(ctx, st, existing, c)
}

// Replace re-authorizes the organization-level connection to c's
// organization in place: same id, same history, new tokens and facts. It
// returns store.ErrNotFound (wrapped) when there is none.
func Replace(ctx context.Context, st store.Store, c *roster.Connection) error {
	if err := validate(c); err != nil {
		return err
	}
	if c.Level != roster.LevelOrganization {
		return fmt.Errorf("connect: replace applies to organization-level connections; a team-level one is updated by connecting it again")
	}
	existing, err := st.FindConnection(ctx, c.Level, c.OrgID, "")
	if err != nil {
		return fmt.Errorf("connect: find the connection to organization %s: %w", c.OrgID, err)
	}
	return update(ctx, st, existing, c)
}

func validate(c *roster.Connection) error {
	switch {
	case !c.Level.Valid():
		return fmt.Errorf("connect: level %q is neither %q nor %q", c.Level, roster.LevelTeam, roster.LevelOrganization)
	case c.TeamID == "":
		return errors.New("connect: the connection has no team id")
	case c.Level == roster.LevelOrganization && c.OrgID == "":
		return errors.New("connect: an organization-level connection needs an organization id")
	case len(c.SealedToken) == 0:
		return errors.New("connect: the connection has no sealed token")
	case c.Level == roster.LevelOrganization && orgReadMissing(c.Scopes) != "":
		return &UnusableError{Reason: teamTokenReason(c.TeamName, c.TeamID, c.Scopes)}
	}
	return nil
}

func create(ctx context.Context, st store.Store, c *roster.Connection) (bool, error) {
	if c.Status == "" {
		c.Status = roster.StatusActive
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	err := st.CreateConnection(ctx, c)
	if errors.Is(err, store.ErrConflict) {
		// Someone connected the same org or team meanwhile; say which.
		orgID, teamID := "", c.TeamID
		if c.Level == roster.LevelOrganization {
			orgID, teamID = c.OrgID, ""
		}
		if existing, ferr := st.FindConnection(ctx, c.Level, orgID, teamID); ferr == nil {
			if c.Level == roster.LevelOrganization {
				return false, &AlreadyConnectedError{Existing: existing}
			}
			return false, fmt.Errorf("connect: team %s (%s) was connected meanwhile as connection %d; connect it again to update it: %w",
				c.TeamName, c.TeamID, existing.ID, err)
		}
	}
	if err != nil {
		return false, fmt.Errorf("connect: save the connection: %w", err)
	}
	return true, nil
}

// update writes c's tokens and facts onto existing, keeping its id,
// history, schedule and, when c brings none, its SCIM token.
func update(ctx context.Context, st store.Store, existing roster.Connection, c *roster.Connection) error {
	next := existing
	next.Level = c.Level
	next.OrgID, next.OrgName = c.OrgID, c.OrgName
	next.TeamID, next.TeamName = c.TeamID, c.TeamName
	next.InstallerID, next.InstallerName = c.InstallerID, c.InstallerName
	next.Scopes = c.Scopes
	next.Enterprise, next.CompanyAdmin = c.Enterprise, c.CompanyAdmin
	if c.APIBaseURL != "" {
		next.APIBaseURL = c.APIBaseURL
	}
	if c.SCIMBaseURL != "" {
		next.SCIMBaseURL = c.SCIMBaseURL
	}
	next.SealedToken = c.SealedToken
	if len(c.SealedSCIMToken) > 0 {
		next.SealedSCIMToken = c.SealedSCIMToken
	}
	if c.SyncInterval != 0 {
		next.SyncInterval = c.SyncInterval
	}
	// A fresh token clears a past error or disconnection.
	next.Status, next.StatusMessage = roster.StatusActive, ""
	if err := st.UpdateConnection(ctx, &next); err != nil {
		return fmt.Errorf("connect: update connection %d: %w", existing.ID, err)
	}
	*c = next
	return nil
}
