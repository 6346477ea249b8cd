package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/store"
)

// The directory (store.Directory): people and their aliases. Emails are
// kept lower-case; an email belongs to at most one person, as its email
// or as an alias, which writes check inside their transaction.

const personColumns = `id, email, name, manager_email, department, status, external_id, created_at, updated_at`

func scanPerson(row interface{ Scan(...any) error }) (roster.Person, error) {
	var p roster.Person
	err := row.Scan(&p.ID, &p.Email, &p.Name, &p.ManagerEmail, &p.Department, &p.Status, &p.ExternalID,
		ts(&p.CreatedAt), ts(&p.UpdatedAt))
	return p, err
}

func personSearch(p roster.Person) string {
	return strings.ToLower(p.Email + " " + p.Name + " " + p.Department)
}

// prepPerson normalizes and validates p, and sorts its aliases as they
// are read back (aliasesOf), so that p after a write is the person a
// read returns.
func prepPerson(p *roster.Person, op string) error {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return fmt.Errorf("sqlstore: %s person %s: %w: %w", op, p.Email, err, store.ErrInvalid)
	}
	slices.Sort(p.Aliases)
	return nil
}

// ownerOf is the id of the person email belongs to (as email or alias),
// or 0.
func ownerOf(ctx context.Context, q querier, email string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM people WHERE lower(email) = $1
		UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = $1`, email).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// claim checks that none of emails belongs to a person other than id.
func claim(ctx context.Context, tx *sql.Tx, id int64, emails []string) error {
	for _, e := range emails {
		owner, err := ownerOf(ctx, tx, e)
		if err != nil {
			return err
		}
		if owner != 0 && owner != id {
			return fmt.Errorf("%s belongs to person %d: %w", e, owner, store.ErrConflict)
		}
	}
	return nil
}

func (db *DB) writeAliases(ctx context.Context, tx *sql.Tx, id int64, aliases []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM person_aliases WHERE person_id = $1`, id); err != nil {
		return err
	}
	for _, a := range aliases {
		if _, err := tx.ExecContext(ctx, `INSERT INTO person_aliases (person_id, email) VALUES ($1, $2)`, id, a); err != nil {
			return db.conflict(err)
		}
	}
	return nil
}

// UpsertPerson inserts p or updates the person with p's email.
func (db *DB) UpsertPerson(ctx context.Context, p *roster.Person) error {
	if err := prepPerson(p, "upsert"); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var (
			id   int64
			prev roster.PersonStatus // "" for a new person
		)
		err := tx.QueryRowContext(ctx, `SELECT id, status FROM people WHERE lower(email) = $1`+db.forUpdate(), p.Email).
			Scan(&id, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := claim(ctx, tx, id, append([]string{p.Email}, p.Aliases...)); err != nil {
			return err
		}
		now := db.now()
		if id == 0 {
			p.CreatedAt = now
			err = tx.QueryRowContext(ctx, `INSERT INTO people (email, name, manager_email, department, status,
				external_id, search, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
				p.Email, p.Name, p.ManagerEmail, p.Department, p.Status, p.ExternalID, personSearch(*p), tv(now)).Scan(&id)
		} else {
			err = tx.QueryRowContext(ctx, `UPDATE people SET name = $2, manager_email = $3, department = $4,
				status = $5, external_id = $6, search = $7, updated_at = $8 WHERE id = $1 RETURNING created_at`,
				id, p.Name, p.ManagerEmail, p.Department, p.Status, p.ExternalID, personSearch(*p), tv(now)).Scan(ts(&p.CreatedAt))
		}
		if err != nil {
			return db.conflict(err)
		}
		p.ID, p.UpdatedAt = id, now
		if err := personEvent(ctx, tx, id, p.Email, prev, p.Status, now); err != nil {
			return err
		}
		return db.writeAliases(ctx, tx, id, p.Aliases)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: upsert person %s: %w", p.Email, err)
	}
	return nil
}

// UpdatePerson writes p over the person with p.ID.
func (db *DB) UpdatePerson(ctx context.Context, p *roster.Person) error {
	if err := prepPerson(p, "update"); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := claim(ctx, tx, p.ID, append([]string{p.Email}, p.Aliases...)); err != nil {
			return err
		}
		var prev roster.PersonStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM people WHERE id = $1`+db.forUpdate(), p.ID).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("person %d: %w", p.ID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		now := db.now()
		err = tx.QueryRowContext(ctx, `UPDATE people SET email = $2, name = $3, manager_email = $4, department = $5,
			status = $6, external_id = $7, search = $8, updated_at = $9 WHERE id = $1 RETURNING created_at`,
			p.ID, p.Email, p.Name, p.ManagerEmail, p.Department, p.Status, p.ExternalID, personSearch(*p), tv(now)).Scan(ts(&p.CreatedAt))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("person %d: %w", p.ID, store.ErrNotFound)
		}
		if err != nil {
			return db.conflict(err)
		}
		p.UpdatedAt = now
		if err := personEvent(ctx, tx, p.ID, p.Email, prev, p.Status, now); err != nil {
			return err
		}
		return db.writeAliases(ctx, tx, p.ID, p.Aliases)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: update person %s: %w", p.Email, err)
	}
	return nil
}

// aliasesOf fills the aliases of people, by id, each person's sorted
// bytewise whatever the database's collation.
func aliasesOf(ctx context.Context, q querier, people []roster.Person) error {
	if len(people) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(people))
	args := make([]any, len(people))
	marks := make([]string, len(people))
	for i, p := range people {
		idx[p.ID] = i
		args[i] = p.ID
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	rows, err := q.QueryContext(ctx, `SELECT person_id, email FROM person_aliases WHERE person_id IN (`+
		strings.Join(marks, ", ")+`) ORDER BY email`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var e string
		if err := rows.Scan(&id, &e); err != nil {
			return err
		}
		people[idx[id]].Aliases = append(people[idx[id]].Aliases, e)
	}
	for i := range people {
		slices.Sort(people[i].Aliases)
	}
	return rows.Err()
}

func (db *DB) onePerson(ctx context.Context, what, where string, arg any) (roster.Person, error) {
	if s, ok := arg.(string); ok && notText(s) {
		return roster.Person{}, fmt.Errorf("sqlstore: person %q: %w", what, store.ErrNotFound)
	}
	p, err := scanPerson(db.db.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Person{}, fmt.Errorf("sqlstore: person %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return roster.Person{}, fmt.Errorf("sqlstore: person %s: %w", what, err)
	}
	ps := []roster.Person{p}
	if err := aliasesOf(ctx, db.db, ps); err != nil {
		return roster.Person{}, fmt.Errorf("sqlstore: person %s: aliases: %w", what, err)
	}
	return ps[0], nil
}

// PersonByID finds a person by id.
func (db *DB) PersonByID(ctx context.Context, id int64) (roster.Person, error) {
	return db.onePerson(ctx, strconv.FormatInt(id, 10), `id = $1`, id)
}

// PersonByEmail finds the person an email or alias belongs to.
func (db *DB) PersonByEmail(ctx context.Context, email string) (roster.Person, error) {
	e := roster.NormalizeEmail(email)
	return db.onePerson(ctx, e, `id IN (SELECT id FROM people WHERE lower(email) = $1
		UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = $1)`, e)
}

// PersonForAccount matches a Miro account's email to a person.
func (db *DB) PersonForAccount(ctx context.Context, email string) (roster.Person, error) {
	return db.PersonByEmail(ctx, email)
}

// PeopleForAccounts matches many Miro account emails at once.
func (db *DB) PeopleForAccounts(ctx context.Context, emails []string) (map[string]roster.Person, error) {
	keys := make([]string, 0, len(emails))
	seen := map[string]bool{}
	for _, e := range emails {
		if e = roster.NormalizeEmail(e); e != "" && !seen[e] {
			seen[e] = true
			keys = append(keys, e)
		}
	}
	out := make(map[string]roster.Person, len(keys))
	// A read transaction, so that SQLite's one connection is taken once.
	tx, err := db.db.BeginTx(ctx, db.dialect.readTx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: people for accounts: %w", err)
	}
	defer tx.Rollback()
	err = chunks(keys, db.batchSize(1, 0), func(batch []string) error {
		var in strings.Builder
		list(&in, len(batch), 1)
		rows, err := tx.QueryContext(ctx, `SELECT m.email_key, `+qualified("p", personColumns)+`
			FROM (SELECT lower(email) AS email_key, id AS person_id FROM people WHERE lower(email) IN (`+in.String()+`)
			      UNION ALL SELECT lower(email), person_id FROM person_aliases WHERE lower(email) IN (`+in.String()+`)) m
			JOIN people p ON p.id = m.person_id`, anySlice(batch)...)
		if err != nil {
			return err
		}
		byID := map[int64][]string{} // person id → the keys it matched
		var people []roster.Person
		for rows.Next() {
			var key string
			p, err := scanPerson(keyedRow{rows, &key})
			if err != nil {
				rows.Close()
				return err
			}
			if _, ok := byID[p.ID]; !ok {
				people = append(people, p)
			}
			byID[p.ID] = append(byID[p.ID], key)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// A key matches one person at most, so a batch's people fit one query.
		if err := aliasesOf(ctx, tx, people); err != nil {
			return err
		}
		for _, p := range people {
			for _, k := range byID[p.ID] {
				out[k] = p
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: people for accounts: %w", err)
	}
	return out, nil
}

// keyedRow reads one leading column into key, then the rest as row would.
type keyedRow struct {
	row interface{ Scan(...any) error }
	key *string
}

func (k keyedRow) Scan(dest ...any) error { return k.row.Scan(append([]any{k.key}, dest...)...) }

// qualified prefixes each of a column list's columns with a table alias.
func qualified(alias, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// anySlice is strings as query arguments.
func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// PersonByExternalID finds a person by the identity provider's id.
func (db *DB) PersonByExternalID(ctx context.Context, externalID string) (roster.Person, error) {
	if externalID == "" {
		return roster.Person{}, fmt.Errorf("sqlstore: person with no external id: %w", store.ErrNotFound)
	}
	return db.onePerson(ctx, "external id "+externalID, `external_id = $1 ORDER BY id LIMIT 1`, externalID)
}

// People lists a page of people by id.
func (db *DB) People(ctx context.Context, f store.PeopleFilter) (store.PeoplePage, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = 100
	case limit < 0 || limit > 1000:
		return store.PeoplePage{}, fmt.Errorf("sqlstore: people: limit %d is not within 1..1000: %w", limit, store.ErrInvalid)
	}
	if f.Offset < 0 {
		return store.PeoplePage{}, fmt.Errorf("sqlstore: people: offset %d is negative: %w", f.Offset, store.ErrInvalid)
	}
	after, err := decodePeopleCursor(f.Cursor)
	if err != nil {
		return store.PeoplePage{}, fmt.Errorf("sqlstore: people: %w", err)
	}
	if notText(f.Search, string(f.Status)) {
		return store.PeoplePage{}, nil
	}
	var where []string
	var args params
	arg := args.add
	if f.Status != "" {
		where = append(where, `status = `+arg(string(f.Status)))
	}
	if f.Search != "" {
		where = append(where, `search LIKE `+arg("%"+escapeLike(strings.ToLower(f.Search))+"%")+` ESCAPE '\'`)
	}
	cond := "1 = 1"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	var page store.PeoplePage
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM people WHERE `+cond, args...).Scan(&page.Total); err != nil {
		return store.PeoplePage{}, fmt.Errorf("sqlstore: people: count: %w", err)
	}
	q := `SELECT ` + personColumns + ` FROM people WHERE ` + cond + ` AND id > ` + arg(after) +
		` ORDER BY id LIMIT ` + arg(limit+1) + ` OFFSET ` + arg(f.Offset)
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return store.PeoplePage{}, fmt.Errorf("sqlstore: people: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return store.PeoplePage{}, fmt.Errorf("sqlstore: people: %w", err)
		}
		page.People = append(page.People, p)
	}
	if err := rows.Err(); err != nil {
		return store.PeoplePage{}, fmt.Errorf("sqlstore: people: %w", err)
	}
	rows.Close()
	if len(page.People) > limit {
		page.People = page.People[:limit]
		page.NextCursor = encodePeopleCursor(page.People[limit-1].ID)
	}
	if err := aliasesOf(ctx, db.db, page.People); err != nil {
		return store.PeoplePage{}, fmt.Errorf("sqlstore: people: aliases: %w", err)
	}
	return page, nil
}

// A people cursor is "p" and the last id of the previous page.
func encodePeopleCursor(id int64) string { return "p" + strconv.FormatInt(id, 10) }

// decodePeopleCursor is the id a cursor continues after; "" is 0.
func decodePeopleCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "p"), 10, 64)
	if err != nil || !strings.HasPrefix(s, "p") || n < 0 {
		return 0, fmt.Errorf("malformed cursor %q: %w", s, store.ErrInvalid)
	}
	return n, nil
}

// DeletePerson deletes a person and its aliases.
func (db *DB) DeletePerson(ctx context.Context, id int64) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM person_aliases WHERE person_id = $1`, id); err != nil {
			return err
		}
		var (
			email  string
			status roster.PersonStatus
		)
		err := tx.QueryRowContext(ctx, `DELETE FROM people WHERE id = $1 RETURNING email, status`, id).Scan(&email, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("person %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return personEvent(ctx, tx, id, email, status, "", db.now())
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete person: %w", err)
	}
	return nil
}

// SetAliases replaces a person's aliases.
func (db *DB) SetAliases(ctx context.Context, id int64, aliases []string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var email string
		err := tx.QueryRowContext(ctx, `SELECT email FROM people WHERE id = $1`, id).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("person %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		p := roster.Person{Email: email, Aliases: aliases, Status: roster.PersonActive}
		p.Normalize()
		if err := p.Validate(); err != nil {
			return fmt.Errorf("%w: %w", err, store.ErrInvalid)
		}
		if err := claim(ctx, tx, id, p.Aliases); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE people SET updated_at = $2 WHERE id = $1`, id, tv(db.now())); err != nil {
			return err
		}
		return db.writeAliases(ctx, tx, id, p.Aliases)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set aliases of person %d: %w", id, err)
	}
	return nil
}
