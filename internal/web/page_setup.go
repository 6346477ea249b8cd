package web

import (
	"errors"
	"fmt"
	"net/http"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store"
)

// setupPage is the data of the first-run page.
type setupPage struct {
	Page
	Form     *form
	FormCSRF string
}

// setupPage shows the form that creates the first admin; once an
// operator exists it sends the browser to the login.
func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) error {
	n, err := s.store.CountOperators(r.Context())
	if err != nil {
		return fmt.Errorf("count operators: %w", err)
	}
	if n > 0 {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "setup", setupPage{Page: s.page(r, "Set up roster"), Form: newForm(), FormCSRF: s.preSessionCSRF(w, r)})
	return nil
}

// setupSubmit creates the first admin and logs them in. It is refused
// once any operator exists.
func (s *Server) setupSubmit(w http.ResponseWriter, r *http.Request) error {
	if !checkPreSessionCSRF(r) {
		return errCSRF
	}
	n, err := s.store.CountOperators(r.Context())
	if err != nil {
		return fmt.Errorf("count operators: %w", err)
	}
	if n > 0 {
		return errForbidden("roster is already set up; log in, or ask an admin for an account.")
	}
	f := newForm()
	email, pw, confirm := roster.NormalizeEmail(r.PostFormValue("email")), r.PostFormValue("password"), r.PostFormValue("confirm")
	switch {
	case len(email) > roster.MaxEmailLength:
		f.fail("email", fmt.Sprintf("An email address is at most %d bytes.", roster.MaxEmailLength))
	case !roster.ValidEmail(email):
		f.set("email", email)
		f.fail("email", "Enter an email address, like admin@example.com.")
	}
	if err := httpauth.CheckPassword(pw, email); err != nil {
		f.fail("password", sentence(err.Error()))
	}
	if confirm != pw {
		f.fail("confirm", "The two passwords differ.")
	}
	if !f.ok() {
		s.render(w, r, http.StatusBadRequest, "setup", setupPage{Page: s.page(r, "Set up roster"), Form: f, FormCSRF: s.preSessionCSRF(w, r)})
		return nil
	}
	hash, err := httpauth.HashPassword(pw, email)
	if err != nil {
		return err
	}
	op := roster.Operator{Email: email, PasswordHash: hash, Role: roster.RoleAdmin, LastLoginAt: s.now()}
	if err := s.store.CreateFirstOperator(r.Context(), &op); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errForbidden("roster is already set up; log in.")
		}
		return fmt.Errorf("create the first admin: %w", err)
	}
	s.guard.Audit(r, roster.AuditEntry{Actor: "operator:" + op.Email, Kind: "auth", Action: "setup", Target: op.Email, Result: "ok", Detail: "created the first admin"})
	if err := s.guard.StartSession(w, r, op); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
