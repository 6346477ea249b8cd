package api

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

// Person is a directory person as the API shows it.
type Person struct {
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

func PersonOf(p roster.Person) Person {
	aliases := p.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return Person{ID: p.ID, Email: p.Email, Name: p.Name, ManagerEmail: p.ManagerEmail, Department: p.Department,
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
	out := List[Person]{Data: make([]Person, 0, len(page.People)), Total: &page.Total, NextCursor: page.NextCursor}
	for _, p := range page.People {
		out.Data = append(out.Data, PersonOf(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ImportReport is a CSV import's report.
type ImportReport struct {
	Rows    int              `json:"rows"`
	Created int              `json:"created"`
	Updated int              `json:"updated"`
	Failed  int              `json:"failed"`
	Errors  []ImportRowError `json:"errors"`
}

// ImportRowError is one problem of one row (the header is row 1).
type ImportRowError struct {
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
	limit := int64(directory.MaxImportBytes + 64<<10) // the file, and any multipart framing around it
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength > limit {
		return importRefused(directory.TooLargeError())
	}
	var (
		rep directory.Report
		err error
	)
	actor := callerOf(r).Actor
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case "multipart/form-data":
		if err = r.ParseMultipartForm(directory.MaxImportBytes); err != nil {
			err = directory.UploadError(err)
			break
		}
		var (
			name string
			size int64
			in   io.Reader
		)
		if file, hdr, ferr := r.FormFile("file"); ferr == nil {
			defer file.Close()
			name, size, in = hdr.Filename, hdr.Size, file
		}
		rep, err = directory.ImportUpload(r.Context(), s.store, actor, name, size, in)
	case "text/csv", "text/plain":
		// Read whole first, so that a body over the limit imports nothing.
		var body []byte
		if body, err = io.ReadAll(r.Body); err == nil {
			rep, err = directory.ImportFile(r.Context(), s.store, actor, "the request body", bytes.NewReader(body))
		}
	default:
		return invalidField("body", "send the CSV as the body with Content-Type text/csv, or as the file part of a multipart/form-data upload; got %q", r.Header.Get("Content-Type"))
	}
	var fe *directory.FileError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return importRefused(directory.TooLargeError())
	case errors.As(err, &fe):
		return importRefused(fe)
	case err != nil:
		return err
	}
	out := ImportReport{Rows: rep.Rows, Created: rep.Created, Updated: rep.Updated, Failed: rep.Failed, Errors: []ImportRowError{}}
	for _, e := range rep.Errors {
		out.Errors = append(out.Errors, ImportRowError{Row: e.Row, Field: e.Field, Message: e.Message})
	}
	writeJSON(w, http.StatusOK, One[ImportReport]{out})
	return nil
}

// importRefused is the answer to a file refused before any row was
// written: 413 too large, 422 a header Import refused, 400 otherwise.
func importRefused(fe *directory.FileError) error {
	switch fe.Reason {
	case directory.TooLarge:
		return apiErr(http.StatusRequestEntityTooLarge, "invalid_field", "body", fe.Message)
	case directory.BadHeader:
		return apiErr(http.StatusUnprocessableEntity, "invalid_field", "header", fe.Message)
	}
	return apiErr(http.StatusBadRequest, "invalid_field", "file", fe.Message)
}
