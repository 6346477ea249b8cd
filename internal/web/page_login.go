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

// loginSubmit checks the password, counts failures and locks the account
// after maxFailedLogins of them in a row.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if !checkPreSessionCSRF(r) {
		return errCSRF
	}
	ctx := r.Context()
	email, pw := roster.NormalizeEmail(r.PostFormValue("email")), r.PostFormValue("password")
	f := newForm()
	f.set("email", email)
	now := s.now()

	op, err := s.store.OperatorByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check, so timing does not tell
		// whether the email exists.
		s.pw.Spend(pw)
		s.guard.Audit(r, roster.AuditEntry{Actor: "system", Kind: "auth", Action: "login_failed", Target: email, Result: "refused", Detail: "no operator with this email, from " + httpauth.ClientIP(r)})
		s.showLogin(w, r, http.StatusUnauthorized, f, msgBadLogin)
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up the operator: %w", err)
	}
	if now.Before(op.LockedUntil) {
		s.guard.Audit(r, roster.AuditEntry{Actor: "system", Kind: "auth", Action: "login_failed", Target: email, Result: "refused", Detail: "account locked until " + op.LockedUntil.UTC().Format(time.RFC3339) + ", from " + httpauth.ClientIP(r)})
		s.showLogin(w, r, http.StatusTooManyRequests, f, msgLocked)
		return nil
	}
	if !s.pw.Match(op.PasswordHash, pw) {
		failed := op.FailedLogins
		if !op.LockedUntil.IsZero() {
			failed = 0 // a lock that ran out starts a fresh count
		}
		failed++
		var lockedUntil time.Time
		if failed >= maxFailedLogins {
			lockedUntil = now.Add(lockDuration)
		}
		if err := s.store.RecordLogin(ctx, op.ID, failed, lockedUntil, op.LastLoginAt); err != nil {
			return fmt.Errorf("record the failed login: %w", err)
		}
		s.guard.Audit(r, roster.AuditEntry{Actor: "system", Kind: "auth", Action: "login_failed", Target: email, Result: "refused", Detail: fmt.Sprintf("wrong password (%d in a row), from %s", failed, httpauth.ClientIP(r))})
		if !lockedUntil.IsZero() {
			s.guard.Audit(r, roster.AuditEntry{Actor: "system", Kind: "auth", Action: "login_locked", Target: email, Result: "refused", Detail: fmt.Sprintf("%d failed logins in a row; locked for 15 minutes", failed)})
			s.showLogin(w, r, http.StatusTooManyRequests, f, msgLocked)
			return nil
		}
		s.showLogin(w, r, http.StatusUnauthorized, f, msgBadLogin)
		return nil
	}

	if err := s.store.RecordLogin(ctx, op.ID, 0, time.Time{}, now); err != nil {
		return fmt.Errorf("record the login: %w", err)
	}
	if err := s.guard.StartSession(w, r, op); err != nil {
		return err
	}
	s.guard.Audit(r, roster.AuditEntry{Actor: "operator:" + op.Email, Kind: "auth", Action: "login", Target: op.Email, Result: "ok", Detail: "from " + httpauth.ClientIP(r)})
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
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
