package directory

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"roster"
	"roster/internal/store"
)

// MaxImportBytes bounds an uploaded CSV: a directory of 100,000 people is
// about 10 MB.
const MaxImportBytes = 10 << 20

// FileError is a file refused before any row was written, in words for
// the person who sent it.
type FileError struct {
	Reason  FileProblem
	Message string
	// Err is why an upload could not be read (a body over the server's
	// limit, a cut connection), for the caller to tell apart.
	Err error
}

func (e *FileError) Error() string { return e.Message }
func (e *FileError) Unwrap() error { return e.Err }

// FileProblem says why a file was refused.
type FileProblem int

const (
	// BadFile: no file, an empty one, or one that is not text.
	BadFile FileProblem = iota
	// BadHeader: Import refused the header, so it read no row.
	BadHeader
	// TooLarge: over MaxImportBytes.
	TooLarge
)

// ImportUpload imports an uploaded file with ImportFile: file is nil when
// the form had none, and size is what the upload declared. The HTTP
// handlers read the form (UploadError for one that cannot be read); the
// rest is here.
func ImportUpload(ctx context.Context, st store.Store, actor, name string, size int64, file io.Reader) (Report, error) {
	switch {
	case file == nil:
		return Report{}, &FileError{Reason: BadFile, Message: "Choose a CSV file to upload. Nothing was imported."}
	case size > MaxImportBytes:
		return Report{}, tooLarge("The file")
	}
	return ImportFile(ctx, st, actor, name, file)
}

// UploadError is an upload whose form could not be read; Err says why
// (a body over the server's limit, a cut connection).
func UploadError(err error) *FileError {
	return &FileError{Reason: BadFile, Message: "The upload could not be read: " + err.Error() + ". Nothing was imported.", Err: err}
}

// TooLargeError is the refusal of an upload over MaxImportBytes.
func TooLargeError() *FileError { return tooLarge("The upload") }

func tooLarge(what string) *FileError {
	return &FileError{Reason: TooLarge, Message: fmt.Sprintf("%s is too large: at most %d MB. Nothing was imported.", what, MaxImportBytes>>20)}
}

// ImportFile checks that in is text, imports it (Import) and audits the
// import as actor's. A file refused as a whole (empty, not text, no or
// wrong header) is a *FileError and wrote nothing.
func ImportFile(ctx context.Context, st store.Store, actor, name string, in io.Reader) (Report, error) {
	name = shownName(name)
	br := bufio.NewReaderSize(in, 512)
	head, _ := br.Peek(512)
	switch {
	case len(head) == 0:
		return Report{}, &FileError{Reason: BadFile, Message: "The file is empty; the first line must be the header " +
			strings.Join(CSVColumns, ",") + "[,aliases]. Nothing was imported."}
	case !looksLikeText(head):
		return Report{}, &FileError{Reason: BadFile, Message: name + " is not a CSV file; export the sheet as CSV (UTF-8). Nothing was imported."}
	}
	rep, err := Import(ctx, st, br)
	if err != nil && rep.Rows == 0 && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		msg := strings.TrimPrefix(err.Error(), "directory: import: ")
		return rep, &FileError{Reason: BadHeader, Message: "The file was refused: " + msg + ". Nothing was imported."}
	}
	result, detail := "ok", fmt.Sprintf("%s: %d rows: %d created, %d updated, %d failed", name, rep.Rows, rep.Created, rep.Updated, rep.Failed)
	switch {
	case err != nil:
		result, detail = "failed", detail+"; stopped: roster's own failure (the rows before it applied)"
	case !rep.OK():
		result = "partial"
	}
	entry := roster.AuditEntry{At: time.Now(), Actor: actor, Kind: "directory", Action: "import", Target: name, Result: result, Detail: detail}
	if aerr := st.AppendAudit(context.WithoutCancel(ctx), &entry); aerr != nil {
		err = errors.Join(err, fmt.Errorf("audit the import: %w", aerr))
	}
	if err != nil {
		return rep, fmt.Errorf("import %s: %w", name, err)
	}
	return rep, nil
}

// maxNameBytes bounds a file's name as messages and the audit log show it.
const maxNameBytes = 200

// shownName is a file's name as messages and the audit log show it: the
// browser sends any bytes, and PostgreSQL stores only UTF-8 without NUL.
func shownName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, "\uFFFD"))
	if len(name) > maxNameBytes {
		cut := maxNameBytes
		for !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut] + "…"
	}
	if strings.TrimSpace(name) == "" {
		return "the upload"
	}
	return name
}

// looksLikeText reports whether the start of a file is text, as browsers
// sniff it (WHATWG MIME sniffing): no byte that only binary files hold.
// A spreadsheet (.xlsx is a zip) or an image fails; a CSV in any
// encoding passes.
func looksLikeText(head []byte) bool {
	for _, b := range head {
		if b <= 0x08 || b == 0x0B || 0x0E <= b && b <= 0x1A || 0x1C <= b && b <= 0x1F {
			return false
		}
	}
	return true
}
