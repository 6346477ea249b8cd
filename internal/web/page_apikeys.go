package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store"
)

// apiKeysPage is the API keys settings page's data.
type apiKeysPage struct {
	Page
	Keys []roster.APIKey
	Form *form
	// Read, Act and SCIM are the scope boxes' state.
	Read, Act, SCIM bool
	// NewKey is the key just created, shown this once and never again;
	// NewName its name.
	NewKey, NewName string
}

// apiKeysPage lists the API keys (admins only: a key acts as roster).
func (s *Server) apiKeysPage(w http.ResponseWriter, r *http.Request) error {
	f := newForm()
	return s.showAPIKeys(w, r, http.StatusOK, f, true, false, "", "")
}

func (s *Server) showAPIKeys(w http.ResponseWriter, r *http.Request, code int, f *form, read, act bool, newKey, newName string) error {
	return s.showAPIKeysSCIM(w, r, code, f, read, act, false, newKey, newName)
}

func (s *Server) showAPIKeysSCIM(w http.ResponseWriter, r *http.Request, code int, f *form, read, act, scim bool, newKey, newName string) error {
	keys, err := s.store.APIKeys(r.Context())
	if err != nil {
		return fmt.Errorf("list API keys: %w", err)
	}
	p := apiKeysPage{Page: s.page(r, "API keys"), Keys: keys, Form: f, Read: read, Act: act, SCIM: scim, NewKey: newKey, NewName: newName}
	p.Nav = "settings"
	s.render(w, r, code, "apikeys", p)
	return nil
}

// apiKeyCreate makes a key with the chosen scopes and shows it once. The
// page is the POST's own answer (no redirect), so the key is never in a
// URL or history, and render marks it no-store.
func (s *Server) apiKeyCreate(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errBadRequest("The form could not be read.")
	}
	f := newForm()
	name := strings.TrimSpace(r.PostFormValue("name"))
	f.set("name", name)
	switch {
	case name == "":
		f.fail("name", "Name the key after who uses it, like okta-sync.")
	case len(name) > 100:
		f.fail("name", "Keep the name under 100 characters.")
	}
	scopes := r.PostForm["scopes"]
	read, act := slices.Contains(scopes, roster.ScopeRead), slices.Contains(scopes, roster.ScopeAct)
	scim := slices.Contains(scopes, roster.ScopeSCIM)
	for _, sc := range scopes {
		if sc != roster.ScopeRead && sc != roster.ScopeAct && sc != roster.ScopeSCIM {
			f.fail("scopes", "Scopes are read, act and scim.")
		}
	}
	if !read && !act && !scim {
		f.fail("scopes", "Choose read, act, scim or several.")
	}
	if !f.ok() {
		return s.showAPIKeysSCIM(w, r, http.StatusBadRequest, f, read, act, scim, "", "")
	}

	key, shown, hash := httpauth.NewAPIKey()
	k := roster.APIKey{Name: name, Prefix: shown, Hash: hash, CreatedBy: authOf(r).Operator.ID, CreatedAt: s.now()}
	if read {
		k.Scopes = append(k.Scopes, roster.ScopeRead)
	}
	if act {
		k.Scopes = append(k.Scopes, roster.ScopeAct)
	}
	if scim {
		k.Scopes = append(k.Scopes, roster.ScopeSCIM)
	}
	err := s.store.CreateAPIKey(r.Context(), &k)
	if errors.Is(err, store.ErrConflict) {
		f.fail("name", "A key with this name exists; the audit log names keys, so pick another.")
		return s.showAPIKeysSCIM(w, r, http.StatusBadRequest, f, read, act, scim, "", "")
	}
	if err != nil {
		return fmt.Errorf("create an API key: %w", err)
	}
	s.guard.Audit(r, roster.AuditEntry{Actor: authOf(r).Actor(), Kind: "settings", Action: "create_api_key", Target: "API key " + name,
		Result: "ok", Detail: "scopes " + strings.Join(k.Scopes, ", ")})
	return s.showAPIKeys(w, r, http.StatusOK, newForm(), true, false, key, name)
}

// apiKeyDelete deletes a key; programs using it get 401 from then on.
func (s *Server) apiKeyDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound("No such API key.")
	}
	keys, err := s.store.APIKeys(r.Context())
	if err != nil {
		return fmt.Errorf("list API keys: %w", err)
	}
	i := slices.IndexFunc(keys, func(k roster.APIKey) bool { return k.ID == id })
	if i < 0 {
		return errNotFound("No such API key; it may have been deleted already.")
	}
	if err := s.store.DeleteAPIKey(r.Context(), id); err != nil {
		return fmt.Errorf("delete API key %d: %w", id, err)
	}
	s.guard.Audit(r, roster.AuditEntry{Actor: authOf(r).Actor(), Kind: "settings", Action: "delete_api_key", Target: "API key " + keys[i].Name, Result: "ok"})
	http.Redirect(w, r, "/settings/api-keys", http.StatusSeeOther)
	return nil
}
