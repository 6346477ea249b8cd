package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"roster"
	"roster/internal/store"
)

// The notification channels' settings saved in the dashboard, sealed by
// internal/notify: the store keeps the bytes it is given.

// channelNames are the channels a row may hold (the table's CHECK too).
var channelNames = map[string]bool{roster.ChannelEmail: true, roster.ChannelSlack: true, roster.ChannelWebhook: true}

// ChannelSettings lists every channel's saved settings, by channel name.
func (db *DB) ChannelSettings(ctx context.Context) ([]roster.ChannelSettings, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT channel, sealed, updated_at, updated_by
		FROM notification_channels ORDER BY channel`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: channel settings: %w", err)
	}
	defer rows.Close()
	var out []roster.ChannelSettings
	for rows.Next() {
		var c roster.ChannelSettings
		if err := rows.Scan(&c.Channel, &c.Sealed, ts(&c.UpdatedAt), &c.UpdatedBy); err != nil {
			return nil, fmt.Errorf("sqlstore: channel settings: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: channel settings: %w", err)
	}
	return out, nil
}

// SaveChannelSettings upserts one channel's settings with its audit
// entry, in one transaction. UpdatedAt is the store's clock.
func (db *DB) SaveChannelSettings(ctx context.Context, c roster.ChannelSettings, audit roster.AuditEntry) error {
	switch {
	case !channelNames[c.Channel]:
		return fmt.Errorf("sqlstore: save channel settings: %q is not email, slack or webhook: %w", c.Channel, store.ErrInvalid)
	case len(c.Sealed) == 0 || c.UpdatedBy == "":
		return fmt.Errorf("sqlstore: save channel settings of %s: the sealed settings and who saved them are required: %w",
			c.Channel, store.ErrInvalid)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notification_channels (channel, sealed, updated_at, updated_by)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (channel) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at,
				updated_by = excluded.updated_by`,
			c.Channel, c.Sealed, tv(db.now()), c.UpdatedBy)
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: save channel settings of %s: %w", c.Channel, err)
	}
	return nil
}

// DeleteChannelSettings removes one channel's settings with its audit
// entry, in one transaction; ErrNotFound when none are saved, and then
// nothing is audited.
func (db *DB) DeleteChannelSettings(ctx context.Context, channel string, audit roster.AuditEntry) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM notification_channels WHERE channel = $1`, channel)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return db.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete channel settings of %s: %w", channel, err)
	}
	return nil
}
