package sqlstore

import (
	"context"
	"fmt"
)

// The job processes' heartbeats (table job_processes), for internal/jobs:
// a process counts its beats, and the others watch the count move.

// StartProcess records process id as alive, with no beats yet; an id
// already recorded stays as it is.
func (db *DB) StartProcess(ctx context.Context, id string) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO job_processes (id, beats, started_at) VALUES ($1, 0, $2)
		ON CONFLICT (id) DO NOTHING`, id, tv(db.now()))
	if err != nil {
		return fmt.Errorf("sqlstore: start process %s: %w", id, err)
	}
	return nil
}

// BeatProcess adds a beat to process id. It reports false when the
// process is not recorded: another process took it for dead.
func (db *DB) BeatProcess(ctx context.Context, id string) (bool, error) {
	res, err := db.db.ExecContext(ctx, `UPDATE job_processes SET beats = beats + 1 WHERE id = $1`, id)
	if err != nil {
		return false, fmt.Errorf("sqlstore: beat of process %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: beat of process %s: %w", id, err)
	}
	return n > 0, nil
}

// ProcessBeats returns the beats of every recorded process, by id.
func (db *DB) ProcessBeats(ctx context.Context) (map[string]int64, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, beats FROM job_processes`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: process beats: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var beats int64
		if err := rows.Scan(&id, &beats); err != nil {
			return nil, fmt.Errorf("sqlstore: process beats: %w", err)
		}
		out[id] = beats
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: process beats: %w", err)
	}
	return out, nil
}

// EndProcess forgets process id, which is stopping.
func (db *DB) EndProcess(ctx context.Context, id string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM job_processes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("sqlstore: end process %s: %w", id, err)
	}
	return nil
}

// EndDeadProcess forgets process id if its count is still beats: one
// that beat since is alive after all.
func (db *DB) EndDeadProcess(ctx context.Context, id string, beats int64) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM job_processes WHERE id = $1 AND beats = $2`, id, beats); err != nil {
		return fmt.Errorf("sqlstore: end dead process %s: %w", id, err)
	}
	return nil
}
