package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"roster"
	"roster/internal/directory"
	"roster/internal/store"
)

// apiPerson is a directory person as the API shows it.
type apiPerson struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	ManagerEmail string    `json:"manager_email"`
	Department   string    `json:"department"`
	Status       string    `json:"status"`
	ExternalID   string    `json:"external_id"`
	Aliases      []string  `json:"aliases"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func apiPersonOf(p roster.Person) apiPerson {
	aliases := p.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return apiPerson{ID: p.ID, Email: p.Email, Name: p.Name, ManagerEmail: p.ManagerEmail, Department: p.Department,
		Status: string(p.Status), ExternalID: p.ExternalID, Aliases: aliases, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// apiPeople is GET /api/v1/people: the directory, by id, with cursor
// paging, filtered by status and a search of email, name and department.
func (s *Server) apiPeople(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.PeopleFilter{Status: roster.PersonStatus(q.Get("status")), Search: q.Get("search"), Cursor: q.Get("cursor")}
	if f.Status != "" && !f.Status.Valid() {
		return invalidField("status", "status must be active or left, got %q", f.Status)
	}
	limit, err := parseLimit(q, apiDefaultLimit)
	if err != nil {
		return err
	}
	f.Limit = limit
	page, err := s.store.People(r.Context(), f)
	if errors.Is(err, store.ErrInvalid) {
		return invalidField("cursor", "cursor is not valid; use next_cursor from the previous page, or start without it")
	}
	if err != nil {
		return fmt.Errorf("list people: %w", err)
	}
	out := apiList[apiPerson]{Data: make([]apiPerson, 0, len(page.People)), Total: &page.Total, NextCursor: page.NextCursor}
	for _, p := range page.People {
		out.Data = append(out.Data, apiPersonOf(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// apiImportReport is a CSV import's report.
type apiImportReport struct {
	Rows    int                 `json:"rows"`
	Created int                 `json:"created"`
	Updated int                 `json:"updated"`
	Failed  int                 `json:"failed"`
	Errors  []apiImportRowError `json:"errors"`
}

// apiImportRowError is one problem of one row (the header is row 1).
type apiImportRowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// apiPeopleImport is POST /api/v1/people/import: the directory's CSV
// import, as roster directory import and the directory page run it. The
// CSV comes as the body (Content-Type text/csv) or as the "file" part of
// a multipart upload, at most 10 MB. Each good row is upserted on its
// own; a bad row changes nothing and is in the report's errors; the
// answer is 200 with the report either way. A body that is not this CSV
// at all (no file, not text, a wrong header) writes nothing: 400, 413, or
// 422 for the header.
func (s *Server) apiPeopleImport(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBytes+64<<10)
	if r.ContentLength > maxImportBytes+64<<10 {
		return apiErr(http.StatusRequestEntityTooLarge, "invalid_field", "body", fmt.Sprintf("The CSV is too large: at most %d MB.", maxImportBytes>>20))
	}
	var (
		rep directory.Report
		err error
	)
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case "multipart/form-data":
		_, rep, err = s.importUpload(r)
	case "text/csv", "text/plain":
		// Read whole first: Import keeps reading after a read error, so a
		// body cut off at the limit must not reach it.
		var body []byte
		if body, err = io.ReadAll(r.Body); err == nil {
			rep, err = s.importCSV(r, "the request body", bytes.NewReader(body))
		}
	default:
		return invalidField("body", "send the CSV as the body with Content-Type text/csv, or as the file part of a multipart/form-data upload; got %q", r.Header.Get("Content-Type"))
	}
	var ie *importError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return apiErr(http.StatusRequestEntityTooLarge, "invalid_field", "body", fmt.Sprintf("The CSV is too large: at most %d MB. Nothing was imported.", maxImportBytes>>20))
	case errors.As(err, &ie):
		field := "file"
		if ie.Status == http.StatusUnprocessableEntity {
			field = "header"
		}
		return apiErr(ie.Status, "invalid_field", field, ie.Message)
	case err != nil:
		return err
	}
	out := apiImportReport{Rows: rep.Rows, Created: rep.Created, Updated: rep.Updated, Failed: rep.Failed, Errors: []apiImportRowError{}}
	for _, e := range rep.Errors {
		out.Errors = append(out.Errors, apiImportRowError{Row: e.Row, Field: e.Field, Message: e.Message})
	}
	writeJSON(w, http.StatusOK, apiOne[apiImportReport]{out})
	return nil
}
