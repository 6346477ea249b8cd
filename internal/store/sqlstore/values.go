package sqlstore

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"roster/internal/store"

	"github.com/jackc/pgx/v5/pgtype"
)

// timeLayout is how times travel to and from the database: fixed width in
// UTC, so SQLite's text order is time order. PostgreSQL parses it into
// TIMESTAMPTZ.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// dbTime is a time.Time column: the zero time is NULL.
type dbTime struct{ t *time.Time }

// tv wraps a time for use as a query argument.
func tv(t time.Time) dbTime { return dbTime{t: &t} }

// ts wraps a destination for Scan.
func ts(t *time.Time) dbTime { return dbTime{t: t} }

func (d dbTime) Value() (driver.Value, error) {
	if d.t == nil || d.t.IsZero() {
		return nil, nil
	}
	return d.t.UTC().Truncate(time.Microsecond).Format(timeLayout), nil
}

// TimestamptzValue lets pgx encode the time in binary directly, rather
// than parse the text Value gives (which costs more than the insert).
func (d dbTime) TimestamptzValue() (pgtype.Timestamptz, error) {
	if d.t == nil || d.t.IsZero() {
		return pgtype.Timestamptz{}, nil
	}
	return pgtype.Timestamptz{Time: d.t.UTC().Truncate(time.Microsecond), Valid: true}, nil
}

func (d dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case time.Time:
		*d.t = v.UTC()
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	default:
		return fmt.Errorf("scan time: unsupported type %T", src)
	}
	return nil
}

func (d dbTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// modernc's own layout, should a value arrive that way.
		t, err = time.Parse("2006-01-02 15:04:05.999999999-07:00", s)
		if err != nil {
			return fmt.Errorf("scan time %q: %w", s, err)
		}
	}
	*d.t = t.UTC()
	return nil
}

// dbList is a []string column stored as a JSON array; empty reads as nil.
type dbList struct{ l *[]string }

func lv(l []string) dbList  { return dbList{l: &l} }
func ls(l *[]string) dbList { return dbList{l: l} }

func (d dbList) Value() (driver.Value, error) {
	if d.l == nil || len(*d.l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(*d.l)
	return string(b), err
}

func (d dbList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*d.l = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan list: unsupported type %T", src)
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("scan list %q: %w", b, err)
	}
	if len(l) == 0 {
		l = nil
	}
	*d.l = l
	return nil
}

// dbBytes is a BLOB/BYTEA column: nil or empty is NULL.
type dbBytes struct{ b *[]byte }

func bv(b []byte) dbBytes  { return dbBytes{b: &b} }
func bs(b *[]byte) dbBytes { return dbBytes{b: b} }

func (d dbBytes) Value() (driver.Value, error) {
	if d.b == nil || len(*d.b) == 0 {
		return nil, nil
	}
	return *d.b, nil
}

func (d dbBytes) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.b = nil
	case []byte:
		if len(v) == 0 {
			*d.b = nil
		} else {
			*d.b = append([]byte(nil), v...)
		}
	case string:
		*d.b = []byte(v)
	default:
		return fmt.Errorf("scan bytes: unsupported type %T", src)
	}
	return nil
}

// params collects a query's arguments and numbers their placeholders
// ($1, $2, ...), which both dialects read.
type params []any

// add appends v and returns its placeholder.
func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// pageLimit is a page's size: def when zero, ErrInvalid outside 1..max.
func pageLimit(limit, def, max int) (int, error) {
	switch {
	case limit == 0:
		return def, nil
	case limit < 0 || limit > max:
		return 0, fmt.Errorf("limit %d is not within 1..%d: %w", limit, max, store.ErrInvalid)
	}
	return limit, nil
}
