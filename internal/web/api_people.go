package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"roster"
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
