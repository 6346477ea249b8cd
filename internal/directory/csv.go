package directory

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"roster"
	"roster/internal/store"
)

// CSVColumns are the import's required columns, in any order; an
// "aliases" column (emails separated by ';') may follow.
var CSVColumns = []string{"email", "name", "manager_email", "department", "status"}

// RowError is one problem of one row: its line number in the file (the
// header is row 1, the first person row 2), the column, and why.
type RowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e RowError) String() string { return fmt.Sprintf("row %d: %s: %s", e.Row, e.Field, e.Message) }

// Report is what an import did: rows read, people created and updated,
// and every bad row's problems. A row with an error changed nothing.
type Report struct {
	Rows    int        `json:"rows"`
	Created int        `json:"created"`
	Updated int        `json:"updated"`
	Failed  int        `json:"failed"` // rows with at least one error
	Errors  []RowError `json:"errors"`
}

// OK reports whether every row applied.
func (r Report) OK() bool { return r.Failed == 0 }

// Import reads a CSV of people and upserts each good row by email, each
// in its own transaction; a bad row is reported and skipped, so the good
// rows still apply and no row is half-written. The error is for a file
// that cannot be read as this CSV at all (no or wrong header) or for
// roster's own failures.
func Import(ctx context.Context, st store.Store, r io.Reader) (Report, error) {
	var rep Report
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return rep, fmt.Errorf("directory: import: the file is empty; the header is %s[,aliases]", strings.Join(CSVColumns, ","))
	}
	if err != nil {
		return rep, fmt.Errorf("directory: import: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; dup {
			return rep, fmt.Errorf("directory: import: column %q appears twice", h)
		}
		col[h] = i
	}
	var missing []string
	for _, c := range CSVColumns {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return rep, fmt.Errorf("directory: import: the header lacks %s; it must be %s[,aliases]",
			strings.Join(missing, ", "), strings.Join(CSVColumns, ","))
	}
	for h := range col {
		if !slices.Contains(CSVColumns, h) && h != "aliases" {
			return rep, fmt.Errorf("directory: import: unknown column %q; the header is %s[,aliases]", h, strings.Join(CSVColumns, ","))
		}
	}
	seen := map[string]int{} // email → row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rep.Rows++
		fail := func(errs ...RowError) {
			rep.Failed++
			rep.Errors = append(rep.Errors, errs...)
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				// The reader itself failed (not a bad row): reading on
				// would fail forever.
				rep.Rows--
				return rep, fmt.Errorf("directory: import: read row %d: %w", rep.Rows+2, err)
			}
			fail(RowError{Row: pe.Line, Field: "row", Message: err.Error()})
			continue
		}
		// Only a record read whole has field positions.
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			fail(RowError{Row: line, Field: "row", Message: fmt.Sprintf("has %d fields, the header %d", len(rec), len(header))})
			continue
		}
		get := func(c string) string {
			if i, ok := col[c]; ok {
				return rec[i]
			}
			return ""
		}
		p := roster.Person{Email: get("email"), Name: get("name"), ManagerEmail: get("manager_email"),
			Department: get("department"), Status: roster.PersonStatus(get("status"))}
		if a := strings.TrimSpace(get("aliases")); a != "" {
			p.Aliases = strings.Split(a, ";")
		}
		p.Normalize()
		if err := p.Validate(); err != nil {
			var pe roster.PersonErrors
			if !errors.As(err, &pe) {
				return rep, err
			}
			var errs []RowError
			for _, fe := range pe {
				errs = append(errs, RowError{Row: line, Field: fe.Field, Message: fe.Message})
			}
			fail(errs...)
			continue
		}
		if first, dup := seen[p.Email]; dup {
			fail(RowError{Row: line, Field: "email", Message: fmt.Sprintf("%s is already on row %d", p.Email, first)})
			continue
		}
		seen[p.Email] = line
		_, err = st.PersonByEmail(ctx, p.Email)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return rep, fmt.Errorf("directory: import: row %d: %w", line, err)
		}
		err = st.UpsertPerson(ctx, &p)
		switch {
		case errors.Is(err, store.ErrConflict):
			fail(conflictError(ctx, st, line, p))
			continue
		case errors.Is(err, store.ErrInvalid):
			fail(RowError{Row: line, Field: "row", Message: err.Error()})
			continue
		case err != nil:
			return rep, fmt.Errorf("directory: import: row %d: %w", line, err)
		}
		if exists {
			rep.Updated++
		} else {
			rep.Created++
		}
	}
	return rep, nil
}

// conflictError says which of a row's emails belongs to someone else.
func conflictError(ctx context.Context, st store.Store, line int, p roster.Person) RowError {
	if o, err := st.PersonByEmail(ctx, p.Email); err == nil && o.Email != p.Email {
		return RowError{Row: line, Field: "email", Message: fmt.Sprintf("%s is an alias of %s", p.Email, o.Email)}
	}
	for _, a := range p.Aliases {
		if o, err := st.PersonByEmail(ctx, a); err == nil && o.Email != p.Email {
			return RowError{Row: line, Field: "aliases", Message: fmt.Sprintf("%s belongs to %s", a, o.Email)}
		}
	}
	return RowError{Row: line, Field: "email", Message: "an email of this row belongs to another person"}
}
