package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"roster/internal/store"
)

// maxBatchRows caps the rows of one multi-row statement: past a few hundred
// rows the statement's size costs more than the round trips it saves.
const maxBatchRows = 500

// batchSize is how many rows of ncols placeholders (plus fixed ones) fit in
// one statement.
func (db *DB) batchSize(ncols, fixed int) int {
	return max(1, min(maxBatchRows, (db.dialect.maxParams-fixed)/ncols))
}

// placeholders writes "($s,$s+1,...),(...)" for rows of ncols, numbered
// from first.
func placeholders(b *strings.Builder, rows, ncols, first int) {
	n := first
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range ncols {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			n++
		}
		b.WriteByte(')')
	}
}

// list writes "$first,...,$first+n-1" for an IN list.
func list(b *strings.Builder, n, first int) {
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(first + i))
	}
}

// batchTx is a write transaction that prepares each distinct statement
// once: full batches repeat one text, and parsing a statement with
// thousands of $N placeholders costs SQLite more than running it.
type batchTx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

func newBatchTx(tx *sql.Tx) *batchTx { return &batchTx{Tx: tx, stmts: map[string]*sql.Stmt{}} }

func (b *batchTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := b.stmts[query]; ok {
		return st, nil
	}
	st, err := b.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	b.stmts[query] = st
	return st, nil
}

func (b *batchTx) exec(ctx context.Context, query string, args ...any) error {
	st, err := b.stmt(ctx, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

func (b *batchTx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := b.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// close releases the prepared statements (before commit or rollback).
func (b *batchTx) close() {
	for _, st := range b.stmts {
		st.Close()
	}
}

// insertRows runs "head VALUES (...),(...) tail" over n rows in batches;
// row(i) appends the arguments of row i.
func (db *DB) insertRows(ctx context.Context, tx *batchTx, head, tail string, ncols, n int, row func(args []any, i int) []any) error {
	size := db.batchSize(ncols, 0)
	args := make([]any, 0, size*ncols)
	for start := 0; start < n; start += size {
		end := min(n, start+size)
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		placeholders(&b, end-start, ncols, 1)
		b.WriteString(" ")
		b.WriteString(tail)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(args, i)
		}
		if err := tx.exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// chunks calls fn on consecutive pieces of s of at most size elements.
func chunks[T any](s []T, size int, fn func([]T) error) error {
	for start := 0; start < len(s); start += size {
		if err := fn(s[start:min(len(s), start+size)]); err != nil {
			return err
		}
	}
	return nil
}

// scanAll reads every row with scan and closes rows.
func scanAll[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// newestFirst lists up to limit rows of table (its columns, read by
// scan), newest first, keyset-paged by id: those before beforeID when it
// is not 0. A limit outside 1..500 is ErrInvalid.
func newestFirst[T any](ctx context.Context, db *sql.DB, table, columns string, beforeID int64, limit int,
	scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	if limit < 1 || limit > 500 {
		return nil, fmt.Errorf("limit %d is not within 1..500: %w", limit, store.ErrInvalid)
	}
	q := `SELECT ` + columns + ` FROM ` + table
	args := []any{limit}
	if beforeID > 0 {
		q += ` WHERE id < $2`
		args = append(args, beforeID)
	}
	rows, err := db.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scan)
}
