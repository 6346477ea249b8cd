package roster

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Person is someone the company's directory says works here (or worked
// here): pushed by an identity provider over SCIM, imported from CSV or
// written through the API. Workflows read it to know who joined and who
// left, and match it to Miro accounts by Email or one of its Aliases.
type Person struct {
	ID           int64
	Email        string // lower-case, unique; SCIM userName
	Name         string
	ManagerEmail string // lower-case; "" when unknown
	Department   string
	Status       PersonStatus
	ExternalID   string   // the identity provider's id (SCIM externalId)
	Aliases      []string // more lower-case emails that match Miro accounts
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// MaxAliases bounds a person's aliases: each is matched against Miro
// accounts and stored as a row.
const MaxAliases = 100

// PersonStatus says whether a person still works here.
type PersonStatus string

// Person statuses.
const (
	PersonActive PersonStatus = "active"
	PersonLeft   PersonStatus = "left"
)

// Valid reports whether s is a known status.
func (s PersonStatus) Valid() bool { return s == PersonActive || s == PersonLeft }

// PersonFieldError is one bad field of a Person, named as the CSV header
// names it (email, name, manager_email, department, status, aliases).
type PersonFieldError struct {
	Field   string
	Message string
}

func (e PersonFieldError) Error() string { return e.Field + ": " + e.Message }

// PersonErrors is every bad field of a Person, so a form or an import
// report can show them all at once.
type PersonErrors []PersonFieldError

func (e PersonErrors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Error()
	}
	return "invalid person: " + strings.Join(parts, "; ")
}

// Normalize lower-cases and trims the emails, trims the other text,
// drops empty and duplicate aliases (and one equal to Email), and sets an
// empty Status to active. Validate expects a normalized person.
func (p *Person) Normalize() {
	p.Email = NormalizeEmail(p.Email)
	p.ManagerEmail = NormalizeEmail(p.ManagerEmail)
	p.Name = strings.TrimSpace(p.Name)
	p.Department = strings.TrimSpace(p.Department)
	p.ExternalID = strings.TrimSpace(p.ExternalID)
	p.Status = PersonStatus(strings.ToLower(strings.TrimSpace(string(p.Status))))
	if p.Status == "" {
		p.Status = PersonActive
	}
	var aliases []string
	seen := map[string]bool{p.Email: true, "": true} // a set: an upload may list a million
	for _, a := range p.Aliases {
		a = NormalizeEmail(a)
		if seen[a] {
			continue
		}
		seen[a] = true
		aliases = append(aliases, a)
	}
	p.Aliases = aliases
}

// Validate checks a normalized person and returns PersonErrors naming
// every bad field, or nil.
func (p Person) Validate() error {
	var errs PersonErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, PersonFieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case p.Email == "":
		add("email", "is required")
	default:
		if err := CheckEmail(p.Email); err != nil {
			add("email", "%v", err)
		}
	}
	// PostgreSQL stores UTF-8 without NUL; a Latin-1 CSV is the usual
	// cause, so say so rather than fail on the write.
	for _, f := range []struct{ field, v string }{{"name", p.Name}, {"department", p.Department}, {"external_id", p.ExternalID}} {
		switch {
		case !utf8.ValidString(f.v):
			add(f.field, "is not UTF-8 text (save a spreadsheet as CSV UTF-8)")
		case strings.IndexByte(f.v, 0) >= 0:
			add(f.field, "holds a NUL character")
		}
	}
	if len(p.Name) > 200 {
		add("name", "is longer than 200 characters")
	}
	if p.ManagerEmail != "" {
		if err := CheckEmail(p.ManagerEmail); err != nil {
			add("manager_email", "%v", err)
		}
	}
	if p.ManagerEmail != "" && p.ManagerEmail == p.Email {
		add("manager_email", "a person cannot be their own manager")
	}
	if len(p.Department) > 200 {
		add("department", "is longer than 200 characters")
	}
	if !p.Status.Valid() {
		add("status", "%q is neither active nor left", p.Status)
	}
	if len(p.Aliases) > MaxAliases {
		add("aliases", "are more than %d (at most %d per person)", MaxAliases, MaxAliases)
	} else {
		for _, a := range p.Aliases {
			if err := CheckEmail(a); err != nil {
				add("aliases", "%v", err)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}
