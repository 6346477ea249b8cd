package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"roster"
	"roster/internal/store"
)

// Meta reads one value of the key-value table.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlstore: meta %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sqlstore: meta %q: %w", key, err)
	}
	return v, nil
}

// SetMeta writes one value of the key-value table.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("sqlstore: set meta %q: %w", key, err)
	}
	return nil
}

const connectionColumns = `id, level, org_id, org_name, team_id, team_name, installer_id, installer_name,
	scopes, enterprise, company_admin, api_base_url, scim_base_url, sealed_token, sealed_scim_token,
	status, status_message, sync_interval_seconds, last_sync_at, created_at, updated_at`

func scanConnection(row interface{ Scan(...any) error }) (roster.Connection, error) {
	var (
		c        roster.Connection
		interval int64
	)
	err := row.Scan(&c.ID, &c.Level, &c.OrgID, &c.OrgName, &c.TeamID, &c.TeamName, &c.InstallerID, &c.InstallerName,
		ls(&c.Scopes), &c.Enterprise, &c.CompanyAdmin, &c.APIBaseURL, &c.SCIMBaseURL, bs(&c.SealedToken), bs(&c.SealedSCIMToken),
		&c.Status, &c.StatusMessage, &interval, ts(&c.LastSyncAt), ts(&c.CreatedAt), ts(&c.UpdatedAt))
	c.SyncInterval = time.Duration(interval) * time.Second
	return c, err
}

// CreateConnection inserts c and sets its ID, CreatedAt and UpdatedAt.
func (db *DB) CreateConnection(ctx context.Context, c *roster.Connection) error {
	if !c.Level.Valid() {
		return fmt.Errorf("sqlstore: create connection: level %q is neither team nor organization", c.Level)
	}
	now := db.now()
	if c.Status == "" {
		c.Status = roster.StatusActive
	}
	var id int64
	err := db.db.QueryRowContext(ctx, `INSERT INTO connections (level, org_id, org_name, team_id, team_name,
		installer_id, installer_name, scopes, enterprise, company_admin, api_base_url, scim_base_url,
		sealed_token, sealed_scim_token, status, status_message, sync_interval_seconds, last_sync_at,
		created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
		RETURNING id`,
		c.Level, c.OrgID, c.OrgName, c.TeamID, c.TeamName, c.InstallerID, c.InstallerName,
		lv(c.Scopes), c.Enterprise, c.CompanyAdmin, c.APIBaseURL, c.SCIMBaseURL,
		bv(c.SealedToken), bv(c.SealedSCIMToken), c.Status, c.StatusMessage, int64(c.SyncInterval/time.Second),
		tv(c.LastSyncAt), tv(now)).Scan(&id)
	if err != nil {
		if db.dialect.isUnique(err) {
			return fmt.Errorf("sqlstore: create connection: a %s-level connection to %s already exists: %w",
				c.Level, levelTarget(c.Level, c.OrgID, c.TeamID), store.ErrConflict)
		}
		return fmt.Errorf("sqlstore: create connection: %w", err)
	}
	c.ID, c.CreatedAt, c.UpdatedAt = id, now, now
	return nil
}

func levelTarget(level roster.Level, orgID, teamID string) string {
	if level == roster.LevelOrganization {
		return "organization " + orgID
	}
	return "team " + teamID
}

// UpdateConnection writes every field of c but ID and CreatedAt.
func (db *DB) UpdateConnection(ctx context.Context, c *roster.Connection) error {
	if !c.Level.Valid() {
		return fmt.Errorf("sqlstore: update connection %d: level %q is neither team nor organization", c.ID, c.Level)
	}
	now := db.now()
	res, err := db.db.ExecContext(ctx, `UPDATE connections SET level = $2, org_id = $3, org_name = $4,
		team_id = $5, team_name = $6, installer_id = $7, installer_name = $8, scopes = $9, enterprise = $10,
		company_admin = $11, api_base_url = $12, scim_base_url = $13, sealed_token = $14,
		sealed_scim_token = $15, status = $16, status_message = $17, sync_interval_seconds = $18,
		last_sync_at = $19, updated_at = $20
		WHERE id = $1`,
		c.ID, c.Level, c.OrgID, c.OrgName, c.TeamID, c.TeamName, c.InstallerID, c.InstallerName,
		lv(c.Scopes), c.Enterprise, c.CompanyAdmin, c.APIBaseURL, c.SCIMBaseURL,
		bv(c.SealedToken), bv(c.SealedSCIMToken), c.Status, c.StatusMessage, int64(c.SyncInterval/time.Second),
		tv(c.LastSyncAt), tv(now))
	if err != nil {
		if db.dialect.isUnique(err) {
			return fmt.Errorf("sqlstore: update connection %d: a %s-level connection to %s already exists: %w",
				c.ID, c.Level, levelTarget(c.Level, c.OrgID, c.TeamID), store.ErrConflict)
		}
		return fmt.Errorf("sqlstore: update connection %d: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: update connection %d: %w", c.ID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlstore: update connection %d: %w", c.ID, store.ErrNotFound)
	}
	c.UpdatedAt = now
	return nil
}

// Connection reads one connection.
func (db *DB) Connection(ctx context.Context, id int64) (roster.Connection, error) {
	c, err := scanConnection(db.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Connection{}, fmt.Errorf("sqlstore: connection %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return roster.Connection{}, fmt.Errorf("sqlstore: connection %d: %w", id, err)
	}
	return c, nil
}

// FindConnection finds the connection of a level to an org or a team.
func (db *DB) FindConnection(ctx context.Context, level roster.Level, orgID, teamID string) (roster.Connection, error) {
	var row *sql.Row
	switch level {
	case roster.LevelOrganization:
		row = db.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections
			WHERE level = 'organization' AND org_id = $1`, orgID)
	case roster.LevelTeam:
		row = db.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections
			WHERE level = 'team' AND team_id = $1`, teamID)
	default:
		return roster.Connection{}, fmt.Errorf("sqlstore: find connection: level %q is neither team nor organization", level)
	}
	c, err := scanConnection(row)
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Connection{}, fmt.Errorf("sqlstore: find %s-level connection to %s: %w",
			level, levelTarget(level, orgID, teamID), store.ErrNotFound)
	}
	if err != nil {
		return roster.Connection{}, fmt.Errorf("sqlstore: find connection: %w", err)
	}
	return c, nil
}

// Connections lists every connection by id.
func (db *DB) Connections(ctx context.Context) ([]roster.Connection, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+connectionColumns+` FROM connections ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: connections: %w", err)
	}
	out, err := scanAll(rows, scanConnection)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: connections: %w", err)
	}
	return out, nil
}

// SaveToken writes a rotated sealed token at once, in its own transaction
// (one statement is one transaction).
func (db *DB) SaveToken(ctx context.Context, connectionID int64, sealed []byte) error {
	res, err := db.db.ExecContext(ctx, `UPDATE connections SET sealed_token = $2, updated_at = $3 WHERE id = $1`,
		connectionID, bv(sealed), tv(db.now()))
	if err != nil {
		return fmt.Errorf("sqlstore: save token of connection %d: %w", connectionID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: save token of connection %d: %w", connectionID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlstore: save token of connection %d: %w", connectionID, store.ErrNotFound)
	}
	return nil
}
