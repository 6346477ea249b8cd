package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"roster"
	"roster/internal/directory"
	"roster/internal/store"
)

// The directory page (/directory): who the company says works here, as
// an identity provider (SCIM), a CSV import or the API recorded them,
// each with the Miro account their email or an alias matches; and, for
// admins, the CSV import, which internal/directory.Import runs row by row.

// directoryPageSize is how many people a directory page lists.
const directoryPageSize = 50

// bodyLimit is how big a request body a route accepts: the CSV import
// takes an upload, every other form is small.
func bodyLimit(rt route) int64 {
	if rt.Method == http.MethodPost && rt.Path == "/directory/import" {
		return directory.MaxImportBytes + 64<<10 // the file, and the multipart framing around it
	}
	return maxFormBytes
}

// errTooLarge is a body over the route's limit.
func errTooLarge(rt route) error {
	if rt.Path == "/directory/import" {
		return &httpError{Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("The upload is too large: at most %d MB. Nothing was imported.", directory.MaxImportBytes>>20)}
	}
	return &httpError{Status: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("The form is too large: at most %d KB. Nothing was saved.", bodyLimit(rt)>>10)}
}

// directoryPageData is the directory page's data.
type directoryPageData struct {
	Page
	Search, Status      string
	People              []personRow
	Total               int
	NextHref, FirstHref string
	// The import form: the CSV's columns, the size limit and, after a
	// refused upload, why it was refused (nothing was imported).
	Columns     string
	MaxMB       int
	ImportError string
}

// personRow is one person with the Miro account matching them, if any.
type personRow struct {
	roster.Person
	Account   *roster.Account
	MatchedBy string // the email or alias that matched
}

// directoryImportData is the import report page's data.
type directoryImportData struct {
	Page
	File   string
	Report directory.Report
}

// directoryPage lists the directory: search, status filter, cursor paging.
// An htmx request for the results gets only the "results" fragment.
func (s *Server) directoryPage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDirectory(r)
	if err != nil {
		return err
	}
	if r.Header.Get("HX-Request") != "" && r.Header.Get("HX-Target") == "directory-results" {
		s.renderFragment(w, r, "directory", "results", p)
		return nil
	}
	s.render(w, r, http.StatusOK, "directory", p)
	return nil
}

// loadDirectory reads one page of people and matches their emails and
// aliases to Miro accounts in one query.
func (s *Server) loadDirectory(r *http.Request) (directoryPageData, error) {
	ctx := r.Context()
	q := r.URL.Query()
	p := directoryPageData{Page: s.page(r, "Directory"), Search: strings.TrimSpace(q.Get("q")), Status: q.Get("status"),
		Columns: strings.Join(directory.CSVColumns, ",") + ",aliases", MaxMB: directory.MaxImportBytes >> 20}
	if r.Method != http.MethodGet {
		p.Search, p.Status = "", "" // the page under a refused upload: the first page, unfiltered
	}
	if p.Status != "" && !roster.PersonStatus(p.Status).Valid() {
		return p, errBadRequest(fmt.Sprintf("Unknown status %q: choose active or left.", p.Status))
	}
	cursor := ""
	if r.Method == http.MethodGet {
		cursor = q.Get("cursor")
	}
	page, err := s.store.People(ctx, store.PeopleFilter{Status: roster.PersonStatus(p.Status), Search: p.Search,
		Cursor: cursor, Limit: directoryPageSize})
	if errors.Is(err, store.ErrInvalid) {
		return p, &httpError{Status: http.StatusBadRequest, Message: "The page cursor is not valid: it was changed. Nothing was changed.",
			Href: p.href(""), HrefLabel: "Back to the first page"}
	}
	if err != nil {
		return p, fmt.Errorf("list people: %w", err)
	}
	p.Total = page.Total
	if page.NextCursor != "" {
		p.NextHref = p.href(page.NextCursor)
	}
	if cursor != "" {
		p.FirstHref = p.href("")
	}
	var emails []string
	for _, person := range page.People {
		emails = append(emails, person.Email)
		emails = append(emails, person.Aliases...)
	}
	accounts := map[string]roster.Account{}
	if len(emails) > 0 {
		if accounts, err = s.store.AccountsByEmails(ctx, emails); err != nil {
			return p, fmt.Errorf("match people to Miro accounts: %w", err)
		}
	}
	for _, person := range page.People {
		row := personRow{Person: person}
		for _, e := range append([]string{person.Email}, person.Aliases...) {
			if a, ok := accounts[e]; ok {
				row.Account, row.MatchedBy = &a, e
				break
			}
		}
		p.People = append(p.People, row)
	}
	return p, nil
}

// href is the directory page with the filter and cursor.
func (p directoryPageData) href(cursor string) string {
	v := url.Values{}
	if p.Search != "" {
		v.Set("q", p.Search)
	}
	if p.Status != "" {
		v.Set("status", p.Status)
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if len(v) == 0 {
		return "/directory"
	}
	return "/directory?" + v.Encode()
}

// Filtered reports whether a search or status narrows the list.
func (p directoryPageData) Filtered() bool { return p.Search != "" || p.Status != "" }

// directoryImport imports an uploaded CSV (the format of roster directory
// import) and shows the report: good rows apply, each on its own; a bad
// row changes nothing and is listed with its errors. An upload that is
// not this CSV at all (no file, not text, a wrong header) is refused
// with nothing written: 400, 413 when too large, or 422 for a header
// Import rejects.
func (s *Server) directoryImport(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return s.importRefused(w, r, &directory.FileError{Reason: directory.BadFile,
			Message: "Upload the CSV file with the form (multipart/form-data). Nothing was imported."})
	}
	// wrap's CSRF check has read the form already; this reads it once.
	if err := r.ParseMultipartForm(directory.MaxImportBytes); err != nil {
		return s.importRefused(w, r, directory.UploadError(err))
	}
	var (
		name string
		size int64
		in   io.Reader
	)
	if file, hdr, err := r.FormFile("file"); err == nil {
		defer file.Close()
		name, size, in = hdr.Filename, hdr.Size, file
	}
	rep, err := directory.ImportUpload(r.Context(), s.store, authOf(r).Actor(), name, size, in)
	var fe *directory.FileError
	if errors.As(err, &fe) {
		return s.importRefused(w, r, fe)
	}
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "directory_import", directoryImportData{Page: s.page(r, "Directory import"), File: name, Report: rep})
	return nil
}

// importRefused shows the directory page again with why an upload was
// refused.
func (s *Server) importRefused(w http.ResponseWriter, r *http.Request, fe *directory.FileError) error {
	p, err := s.loadDirectory(r)
	if err != nil {
		return err
	}
	status := http.StatusBadRequest
	var tooBig *http.MaxBytesError
	switch {
	case fe.Reason == directory.TooLarge || errors.As(fe, &tooBig):
		status, fe = http.StatusRequestEntityTooLarge, directory.TooLargeError()
	case fe.Reason == directory.BadHeader:
		status = http.StatusUnprocessableEntity
	}
	p.ImportError = fe.Message
	s.render(w, r, status, "directory", p)
	return nil
}
