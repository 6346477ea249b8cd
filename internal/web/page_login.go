package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store"
)

// Login messages. A wrong email and a wrong password read the same.
const (
	msgBadLogin = "Wrong email or password."
	msgLocked   = "Too many failed attempts. Try again in 15 minutes."
)

// loginPage is the data of the login page.
type loginPage struct {
	Page
	Form     *form
	FormCSRF string
	Next     string
	Message  string
}

// loginPage shows the login form (or the setup on first run).
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	n, err := s.store.CountOperators(r.Context())
	if err != nil {
		return fmt.Errorf("count operators: %w", err)
	}
	if n == 0 {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return nil
	}
	if a, err := s.guard.Session(r); err == nil && a != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	s.showLogin(w, r, http.StatusOK, newForm(), "")
	return nil
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, code int, f *form, msg string) {
	next := r.FormValue("next")
	if next != "" {
		next = localPath(next)
	}
	s.render(w, r, code, "login", loginPage{Page: s.page(r, "Log in"), Form: f, FormCSRF: s.preSessionCSRF(w, r), Next: next, Message: msg})
}

// loginSubmit checks the password. Failures are counted per account and
// address and per address (httpauth.LoginLimiter); known and unknown
// accounts get the same answers, in the same time.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if !checkPreSessionCSRF(r) {
		return errCSRF
	}
	ctx := r.Context()
	raw, pw := r.PostFormValue("email"), r.PostFormValue("password")
	f := newForm()
	if len(raw) > roster.MaxEmailLength {
		// Refused before anything is looked up or written, and not
		// echoed back.
		f.fail("email", fmt.Sprintf("An email address is at most %d bytes.", roster.MaxEmailLength))
		s.showLogin(w, r, http.StatusBadRequest, f, "")
		return nil
	}
	email, addr, now := roster.NormalizeEmail(raw), httpauth.ClientIP(r), s.now()
	f.set("email", email)
	if locked, _ := s.logins.Locked(email, addr, now); locked {
		// The lock was audited when it began; a refused attempt writes
		// nothing, so a flood cannot grow the audit log.
		s.showLogin(w, r, http.StatusTooManyRequests, f, msgLocked)
		return nil
	}

	op, err := s.store.OperatorByEmail(ctx, email)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("look up the operator: %w", err)
	}
	if known && s.pw.Match(op.PasswordHash, pw) {
		s.logins.Succeed(email, addr)
		if err := s.store.RecordLogin(ctx, op.ID, 0, time.Time{}, now); err != nil {
			return fmt.Errorf("record the login: %w", err)
		}
		if err := s.guard.StartSession(w, r, op); err != nil {
			return err
		}
		s.guard.Audit(r, roster.AuditEntry{Actor: "operator:" + op.Email, Kind: "auth", Action: "login", Target: op.Email, Result: "ok", Detail: "from " + addr})
		http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
		return nil
	}
	reason := "wrong password"
	if !known {
		// Spend the same time as a real check, so timing does not tell
		// whether the email exists.
		s.pw.Spend(pw)
		reason = "no operator with this email"
	}
	s.guard.Audit(r, roster.AuditEntry{Actor: "system", Kind: "auth", Action: "login_failed", Target: email, Result: "refused", Detail: reason + ", from " + addr})
	if s.logins.Fail(email, addr, now) {
		s.guard.Audit(r, roster.AuditEntry{Actor: "system", Kind: "auth", Action: "login_locked", Target: email, Result: "refused",
			Detail: fmt.Sprintf("too many failed logins from %s; logins from there refused for %d minutes", addr, int(httpauth.LoginLockout.Minutes()))})
		s.showLogin(w, r, http.StatusTooManyRequests, f, msgLocked)
		return nil
	}
	s.showLogin(w, r, http.StatusUnauthorized, f, msgBadLogin)
	return nil
}

// logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.guard.EndSession(w, r); err != nil {
		return err
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
