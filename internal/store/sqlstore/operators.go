package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

const operatorColumns = `id, email, password_hash, role, failed_logins, locked_until, created_at, last_login_at`

func scanOperator(row interface{ Scan(...any) error }) (roster.Operator, error) {
	var o roster.Operator
	err := row.Scan(&o.ID, &o.Email, &o.PasswordHash, &o.Role, &o.FailedLogins, ts(&o.LockedUntil),
		ts(&o.CreatedAt), ts(&o.LastLoginAt))
	return o, err
}

// CreateOperator inserts o with its email lower-cased and sets ID and
// CreatedAt (when zero). ErrConflict when the email is taken.
func (db *DB) CreateOperator(ctx context.Context, o *roster.Operator) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.insertOperator(ctx, tx, o) })
}

// firstOperatorKey is the meta row that CreateFirstOperator claims. Its
// primary key is the lock: a second setup blocks on it, then finds it
// taken, on SQLite and on PostgreSQL alike.
const firstOperatorKey = "first_operator"

// CreateFirstOperator creates o if no operator exists yet, atomically.
func (db *DB) CreateFirstOperator(ctx context.Context, o *roster.Operator) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var key string
		err := tx.QueryRowContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO NOTHING RETURNING key`, firstOperatorKey, roster.NormalizeEmail(o.Email)).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: create the first operator: roster is already set up: %w", store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create the first operator: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators`).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: create the first operator: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("sqlstore: create the first operator: operators exist: %w", store.ErrConflict)
		}
		return db.insertOperator(ctx, tx, o)
	})
}

func (db *DB) insertOperator(ctx context.Context, tx *sql.Tx, o *roster.Operator) error {
	email := roster.NormalizeEmail(o.Email)
	switch {
	case email == "":
		return fmt.Errorf("sqlstore: create operator: email is empty: %w", store.ErrInvalid)
	case !o.Role.Valid():
		return fmt.Errorf("sqlstore: create operator %s: role %q is neither admin nor viewer: %w", email, o.Role, store.ErrInvalid)
	case o.PasswordHash == "":
		return fmt.Errorf("sqlstore: create operator %s: no password hash: %w", email, store.ErrInvalid)
	}
	created := o.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO operators (email, password_hash, role, failed_logins,
		locked_until, created_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		email, o.PasswordHash, o.Role, o.FailedLogins, tv(o.LockedUntil), tv(created), tv(o.LastLoginAt)).Scan(&id)
	if err != nil {
		if db.dialect.isUnique(err) {
			return fmt.Errorf("sqlstore: create operator: %s already exists: %w", email, store.ErrConflict)
		}
		return fmt.Errorf("sqlstore: create operator %s: %w", email, err)
	}
	o.ID, o.Email, o.CreatedAt = id, email, created.UTC().Truncate(time.Microsecond)
	return nil
}

// Operator reads one operator.
func (db *DB) Operator(ctx context.Context, id int64) (roster.Operator, error) {
	o, err := scanOperator(db.db.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("sqlstore: operator %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("sqlstore: operator %d: %w", id, err)
	}
	return o, nil
}

// OperatorByEmail reads the operator with an email, in any case.
func (db *DB) OperatorByEmail(ctx context.Context, email string) (roster.Operator, error) {
	email = roster.NormalizeEmail(email)
	o, err := scanOperator(db.db.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE email = $1`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("sqlstore: operator %s: %w", email, store.ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("sqlstore: operator %s: %w", email, err)
	}
	return o, nil
}

// CountOperators counts operators: none means the setup page is open.
func (db *DB) CountOperators(ctx context.Context) (int, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count operators: %w", err)
	}
	return n, nil
}

// RecordLogin stores the outcome of a login attempt. A zero lastLoginAt
// keeps the stored one, so a failure does not erase the last success.
func (db *DB) RecordLogin(ctx context.Context, id int64, failedLogins int, lockedUntil, lastLoginAt time.Time) error {
	res, err := db.db.ExecContext(ctx, `UPDATE operators SET failed_logins = $2, locked_until = $3,
		last_login_at = COALESCE($4, last_login_at) WHERE id = $1`,
		id, failedLogins, tv(lockedUntil), tv(lastLoginAt))
	if err == nil {
		err = mustAffect(res, "operator", id)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: record login of operator %d: %w", id, err)
	}
	return nil
}

// mustAffect turns an update or delete that touched no row into
// ErrNotFound.
func mustAffect(res sql.Result, what string, id any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s %v: %w", what, id, store.ErrNotFound)
	}
	return nil
}

// CreateSession inserts s (CreatedAt defaults to now) and, while at it,
// deletes the sessions expired by s.CreatedAt, so the table holds only
// live ones. (The caller's clock, not the store's, as Session takes now.)
// ErrNotFound when the operator does not exist; ErrConflict when the
// token hash is taken.
func (db *DB) CreateSession(ctx context.Context, s roster.Session) error {
	if len(s.TokenHash) == 0 || s.ExpiresAt.IsZero() {
		return fmt.Errorf("sqlstore: create session: token hash and expiry are required: %w", store.ErrInvalid)
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, tv(s.CreatedAt)); err != nil {
			return err
		}
		// INSERT ... SELECT from operators: no row means no operator.
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, operator_id, csrf_token, created_at, expires_at)
			SELECT $1, id, $3, $4, $5 FROM operators WHERE id = $2`,
			bv(s.TokenHash), s.OperatorID, s.CSRFToken, tv(s.CreatedAt), tv(s.ExpiresAt))
		if err != nil {
			return db.conflict(err)
		}
		return mustAffect(res, "operator", s.OperatorID)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create session: %w", err)
	}
	return nil
}

// Session finds the session of a token hash that expires after now.
func (db *DB) Session(ctx context.Context, tokenHash []byte, now time.Time) (roster.Session, error) {
	var s roster.Session
	err := db.db.QueryRowContext(ctx, `SELECT token_hash, operator_id, csrf_token, created_at, expires_at
		FROM sessions WHERE token_hash = $1 AND expires_at > $2`, bv(tokenHash), tv(now)).
		Scan(bs(&s.TokenHash), &s.OperatorID, &s.CSRFToken, ts(&s.CreatedAt), ts(&s.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("sqlstore: session: %w", store.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("sqlstore: session: %w", err)
	}
	return s, nil
}

// DeleteSession deletes a session. Deleting one that does not exist (an
// expired one purged, a second logout) is no error.
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, bv(tokenHash)); err != nil {
		return fmt.Errorf("sqlstore: delete session: %w", err)
	}
	return nil
}

const apiKeyColumns = `id, name, prefix, hash, scopes, created_by, created_at, last_used_at`

func scanAPIKey(row interface{ Scan(...any) error }) (roster.APIKey, error) {
	var k roster.APIKey
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, bs(&k.Hash), ls(&k.Scopes), &k.CreatedBy, ts(&k.CreatedAt), ts(&k.LastUsedAt))
	return k, err
}

// CreateAPIKey inserts k and sets ID and CreatedAt (when zero).
// ErrConflict when its name or hash is taken (the audit log names keys),
// ErrNotFound when CreatedBy is no operator, ErrInvalid for an unknown
// scope.
func (db *DB) CreateAPIKey(ctx context.Context, k *roster.APIKey) error {
	if k.Name == "" || len(k.Hash) == 0 {
		return fmt.Errorf("sqlstore: create API key: name and hash are required: %w", store.ErrInvalid)
	}
	for _, s := range k.Scopes {
		if s != roster.ScopeRead && s != roster.ScopeAct && s != roster.ScopeSCIM {
			return fmt.Errorf("sqlstore: create API key %s: unknown scope %q: %w", k.Name, s, store.ErrInvalid)
		}
	}
	created := k.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	var id int64
	err := db.db.QueryRowContext(ctx, `INSERT INTO api_keys (name, prefix, hash, scopes, created_by, created_at, last_used_at)
		SELECT $1, $2, $3, $4, id, $6, $7 FROM operators WHERE id = $5 RETURNING id`,
		k.Name, k.Prefix, bv(k.Hash), lv(k.Scopes), k.CreatedBy, tv(created), tv(k.LastUsedAt)).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlstore: create API key %s: operator %d: %w", k.Name, k.CreatedBy, store.ErrNotFound)
	case err != nil && db.dialect.isUnique(err):
		return fmt.Errorf("sqlstore: create API key: a key named %s (or with the same hash) exists: %w", k.Name, store.ErrConflict)
	case err != nil:
		return fmt.Errorf("sqlstore: create API key %s: %w", k.Name, err)
	}
	k.ID, k.CreatedAt = id, created.UTC().Truncate(time.Microsecond)
	return nil
}

// APIKeyByHash finds the key with a hash.
func (db *DB) APIKeyByHash(ctx context.Context, hash []byte) (roster.APIKey, error) {
	k, err := scanAPIKey(db.db.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`, bv(hash)))
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("sqlstore: API key: %w", store.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("sqlstore: API key: %w", err)
	}
	return k, nil
}

// APIKeys lists every key by id.
func (db *DB) APIKeys(ctx context.Context) ([]roster.APIKey, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: API keys: %w", err)
	}
	out, err := scanAll(rows, scanAPIKey)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: API keys: %w", err)
	}
	return out, nil
}

// DeleteAPIKey deletes a key (ErrNotFound when there is none).
func (db *DB) DeleteAPIKey(ctx context.Context, id int64) error {
	res, err := db.db.ExecContext(ctx, `DELETE FROM api_keys WHERE id = $1`, id)
	if err == nil {
		err = mustAffect(res, "API key", id)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete API key: %w", err)
	}
	return nil
}

// TouchAPIKey records the key's last use (ErrNotFound when there is none).
func (db *DB) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	res, err := db.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, tv(at))
	if err == nil {
		err = mustAffect(res, "API key", id)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: touch API key: %w", err)
	}
	return nil
}

// Settings returns the stored settings, or roster.DefaultSettings() when
// none were saved.
func (db *DB) Settings(ctx context.Context) (roster.Settings, error) {
	var (
		s        roster.Settings
		prices   string
		interval int64
	)
	err := db.db.QueryRowContext(ctx, `SELECT inactivity_days, license_prices, currency, default_sync_interval_seconds
		FROM settings WHERE id = 1`).Scan(&s.InactivityDays, &prices, &s.Currency, &interval)
	if errors.Is(err, sql.ErrNoRows) {
		return roster.DefaultSettings(), nil
	}
	if err != nil {
		return s, fmt.Errorf("sqlstore: settings: %w", err)
	}
	if err := json.Unmarshal([]byte(prices), &s.LicensePrices); err != nil {
		return s, fmt.Errorf("sqlstore: settings: license prices: %w", err)
	}
	if s.LicensePrices == nil {
		s.LicensePrices = map[string]float64{}
	}
	s.DefaultSyncInterval = time.Duration(interval) * time.Second
	return s, nil
}

// SaveSettings writes s, refusing (ErrInvalid) values that would make the
// insights meaningless. The sync interval is kept in whole seconds.
func (db *DB) SaveSettings(ctx context.Context, s roster.Settings) error {
	var bad []string
	if s.InactivityDays < 1 {
		bad = append(bad, fmt.Sprintf("inactivity days must be at least 1, not %d", s.InactivityDays))
	}
	if s.Currency == "" {
		bad = append(bad, "currency is empty")
	}
	if s.DefaultSyncInterval < time.Second {
		bad = append(bad, fmt.Sprintf("default sync interval must be at least a second, not %s", s.DefaultSyncInterval))
	}
	for _, l := range slices.Sorted(maps.Keys(s.LicensePrices)) {
		if p := s.LicensePrices[l]; !(p >= 0) || p > 1e9 { // !(p >= 0) also catches NaN
			bad = append(bad, fmt.Sprintf("price of license %q must be a number from 0, not %v", l, p))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("sqlstore: save settings: %s: %w", strings.Join(bad, "; "), store.ErrInvalid)
	}
	prices := s.LicensePrices
	if prices == nil {
		prices = map[string]float64{}
	}
	b, err := json.Marshal(prices)
	if err != nil {
		return fmt.Errorf("sqlstore: save settings: %w", err)
	}
	_, err = db.db.ExecContext(ctx, `INSERT INTO settings (id, inactivity_days, license_prices, currency, default_sync_interval_seconds)
		VALUES (1, $1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET inactivity_days = excluded.inactivity_days, license_prices = excluded.license_prices,
			currency = excluded.currency, default_sync_interval_seconds = excluded.default_sync_interval_seconds`,
		s.InactivityDays, string(b), s.Currency, int64(s.DefaultSyncInterval/time.Second))
	if err != nil {
		return fmt.Errorf("sqlstore: save settings: %w", err)
	}
	return nil
}
