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

// Notifications: every message sent or tried on any channel, one row per
// message key and channel.

const notificationColumns = `id, key, channel, recipients, subject, body, event, run_id, status, attempts, error,
	retry_at, created_at, updated_at`

func scanNotification(row interface{ Scan(...any) error }) (roster.Notification, error) {
	var n roster.Notification
	err := row.Scan(&n.ID, &n.Key, &n.Channel, ls(&n.To), &n.Subject, &n.Text, &n.Event, &n.RunID, &n.Status,
		&n.Attempts, &n.Error, ts(&n.RetryAt), ts(&n.CreatedAt), ts(&n.UpdatedAt))
	return n, err
}

// RecordNotification inserts n, or counts one more attempt at the message
// its key and channel name and writes its latest content and outcome.
func (db *DB) RecordNotification(ctx context.Context, n roster.Notification) (roster.Notification, error) {
	switch {
	case n.Key == "" || n.Channel == "":
		return n, fmt.Errorf("sqlstore: record notification: key and channel are required: %w", store.ErrInvalid)
	case n.Status != roster.NotificationSent && n.Status != roster.NotificationFailed:
		return n, fmt.Errorf("sqlstore: record notification %s: unknown status %q: %w", n.Key, n.Status, store.ErrInvalid)
	}
	at := n.UpdatedAt
	if at.IsZero() {
		at = db.now()
	}
	stored, err := scanNotification(db.db.QueryRowContext(ctx, `INSERT INTO notifications (key, channel, recipients,
			subject, body, event, run_id, status, attempts, error, retry_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $11)
		ON CONFLICT (key, channel) DO UPDATE SET recipients = excluded.recipients,
			subject = excluded.subject, body = excluded.body, event = excluded.event, run_id = excluded.run_id,
			status = excluded.status, attempts = notifications.attempts + 1, error = excluded.error,
			retry_at = excluded.retry_at, updated_at = excluded.updated_at
		RETURNING `+notificationColumns,
		n.Key, n.Channel, lv(n.To), n.Subject, n.Text, n.Event, n.RunID, n.Status, n.Error, tv(n.RetryAt), tv(at)))
	if err != nil {
		return n, fmt.Errorf("sqlstore: record notification %s: %w", n.Key, err)
	}
	return stored, nil
}

// Notification reads one record.
func (db *DB) Notification(ctx context.Context, id int64) (roster.Notification, error) {
	n, err := scanNotification(db.db.QueryRowContext(ctx,
		`SELECT `+notificationColumns+` FROM notifications WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return n, fmt.Errorf("sqlstore: notification %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return n, fmt.Errorf("sqlstore: notification %d: %w", id, err)
	}
	return n, nil
}

// Notifications lists records newest first, keyset-paged by id.
func (db *DB) Notifications(ctx context.Context, beforeID int64, limit int) ([]roster.Notification, error) {
	out, err := newestFirst(ctx, db.db, "notifications", notificationColumns, beforeID, limit, scanNotification)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: notifications: %w", err)
	}
	return out, nil
}

// DueNotifications lists the failed records due for another try.
func (db *DB) DueNotifications(ctx context.Context, now time.Time, maxAttempts, limit int) ([]roster.Notification, error) {
	if limit < 1 || limit > 500 {
		return nil, fmt.Errorf("sqlstore: due notifications: limit %d is not within 1..500: %w", limit, store.ErrInvalid)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE retry_at IS NOT NULL AND retry_at <= $1 AND status = 'failed' AND attempts < $2
		ORDER BY retry_at, id LIMIT $3`, tv(now), maxAttempts, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: due notifications: %w", err)
	}
	out, err := scanAll(rows, scanNotification)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: due notifications: %w", err)
	}
	return out, nil
}
