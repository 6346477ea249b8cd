package web

import (
	"bufio"
	"context"
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

// maxImportBytes bounds a CSV upload: a directory of 100,000 people is
// about 10 MB.
const maxImportBytes = 10 << 20

// directoryPageSize is how many people a directory page lists.
const directoryPageSize = 50

// bodyLimit is how big a request body a route accepts: the CSV import
// takes an upload, every other form is small.
func bodyLimit(rt route) int64 {
	if rt.Method == http.MethodPost && rt.Path == "/directory/import" {
		return maxImportBytes + 64<<10 // the file, and the multipart framing around it
	}
	return maxFormBytes
}

// errTooLarge is a body over limit.
func errTooLarge(limit int64) error {
	return &httpError{Status: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("The upload is too large: at most %d MB. Nothing was imported.", limit>>20)}
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
		Columns: strings.Join(directory.CSVColumns, ",") + ",aliases", MaxMB: maxImportBytes >> 20}
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
// with nothing written: 400, or 422 for a header Import rejects.
func (s *Server) directoryImport(w http.ResponseWriter, r *http.Request) error {
	name, rep, err := s.importUpload(r)
	var ie *importError
	if errors.As(err, &ie) {
		p, lerr := s.loadDirectory(r)
		if lerr != nil {
			return lerr
		}
		p.ImportError = ie.Message
		s.render(w, r, ie.Status, "directory", p)
		return nil
	}
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "directory_import", directoryImportData{Page: s.page(r, "Directory import"), File: name, Report: rep})
	return nil
}

// importError is an upload refused before any row was written.
type importError struct {
	Status  int
	Message string
}

func (e *importError) Error() string { return e.Message }

// importUpload reads the "file" part of a multipart upload and imports it.
func (s *Server) importUpload(r *http.Request) (string, directory.Report, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return "", directory.Report{}, &importError{http.StatusBadRequest, "Upload the CSV file with the form (multipart/form-data). Nothing was imported."}
	}
	if err := r.ParseMultipartForm(maxImportBytes); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", directory.Report{}, &importError{http.StatusRequestEntityTooLarge, fmt.Sprintf("The upload is too large: at most %d MB. Nothing was imported.", maxImportBytes>>20)}
		}
		return "", directory.Report{}, &importError{http.StatusBadRequest, "The upload could not be read: " + err.Error() + ". Nothing was imported."}
	}
	file, hdr, err := r.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) {
		return "", directory.Report{}, &importError{http.StatusBadRequest, "Choose a CSV file to upload. Nothing was imported."}
	}
	if err != nil {
		return "", directory.Report{}, &importError{http.StatusBadRequest, "The file could not be read: " + err.Error() + ". Nothing was imported."}
	}
	defer file.Close()
	if hdr.Size > maxImportBytes {
		return "", directory.Report{}, &importError{http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is too large: at most %d MB. Nothing was imported.", maxImportBytes>>20)}
	}
	rep, err := s.importCSV(r, hdr.Filename, file)
	return hdr.Filename, rep, err
}

// importCSV checks that in is text and imports it, auditing the import.
// A file Import refuses as a whole (no or wrong header) fails before any
// row is read, so nothing was written: that is a 422.
func (s *Server) importCSV(r *http.Request, name string, in io.Reader) (directory.Report, error) {
	br := bufio.NewReaderSize(in, 512)
	head, _ := br.Peek(512)
	if len(head) == 0 {
		return directory.Report{}, &importError{http.StatusBadRequest, "The file is empty; the first line must be the header " +
			strings.Join(directory.CSVColumns, ",") + "[,aliases]. Nothing was imported."}
	}
	if ct := http.DetectContentType(head); !strings.HasPrefix(ct, "text/") {
		return directory.Report{}, &importError{http.StatusBadRequest, fmt.Sprintf("%s is not a CSV file (it looks like %s); export the sheet as CSV (UTF-8). Nothing was imported.",
			cmpName(name), strings.SplitN(ct, ";", 2)[0])}
	}
	rep, err := directory.Import(r.Context(), s.store, br)
	if err != nil && rep.Rows == 0 && !isContextErr(err) {
		msg := strings.TrimPrefix(err.Error(), "directory: import: ")
		return rep, &importError{http.StatusUnprocessableEntity, "The file was refused: " + msg + ". Nothing was imported."}
	}
	actor := "system"
	if c := callerOf(r); c != nil {
		actor = c.Actor
	} else if a := authOf(r); a != nil {
		actor = a.actor()
	}
	result, detail := "ok", fmt.Sprintf("%s: %d rows: %d created, %d updated, %d failed", cmpName(name), rep.Rows, rep.Created, rep.Updated, rep.Failed)
	switch {
	case err != nil:
		result, detail = "failed", detail+"; stopped: roster's own failure (the rows before it applied)"
	case !rep.OK():
		result = "partial"
	}
	s.audit(r, roster.AuditEntry{Actor: actor, Kind: "directory", Action: "import", Target: cmpName(name), Result: result, Detail: detail})
	if err != nil {
		return rep, fmt.Errorf("import %s: %w", cmpName(name), err)
	}
	return rep, nil
}

// isContextErr reports a cancelled or timed-out request, which is not
// the file's fault.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// cmpName is an upload's name, or a stand-in when it has none.
func cmpName(name string) string {
	if name == "" {
		return "the upload"
	}
	return name
}
