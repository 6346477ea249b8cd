package directory

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"roster"
	"roster/internal/store"
)

// Service runs SCIM requests against the directory. Its errors are
// *Error (what the client got wrong) or roster's own failures.
type Service struct {
	Store store.Store
	// Location is the users endpoint's URL, for meta.location; optional.
	Location string
}

// storeErr turns a store error into a SCIM error where the client is at
// fault, keeping roster's own failures as they are.
func storeErr(err error) error {
	var pe roster.PersonErrors
	switch {
	case errors.As(err, &pe):
		return badValue("%s", pe.Error())
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: 409, SCIMType: scimTypeUniqueness, Detail: "The userName or one of the emails belongs to another user."}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: 404, Detail: "No such user."}
	case errors.Is(err, store.ErrInvalid):
		return badValue("%s", err.Error())
	}
	return err
}

// managerEmail resolves a manager value: an email as is, or the SCIM id
// of a person in the directory.
func (s *Service) managerEmail(ctx context.Context) func(string) (string, error) {
	return func(v string) (string, error) {
		v = strings.TrimSpace(v)
		if strings.Contains(v, "@") {
			return v, nil
		}
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", badValue("manager.value %q is neither an email nor a user id.", v)
		}
		m, err := s.Store.PersonByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return "", badValue("manager.value %q is no user of this directory.", v)
		}
		if err != nil {
			return "", err
		}
		return m.Email, nil
	}
}

func (s *Service) person(ctx context.Context, id string) (roster.Person, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return roster.Person{}, &Error{Status: 404, Detail: fmt.Sprintf("No user %q.", id)}
	}
	p, err := s.Store.PersonByID(ctx, n)
	if err != nil {
		return roster.Person{}, storeErr(err)
	}
	return p, nil
}

// Get is GET /Users/{id}.
func (s *Service) Get(ctx context.Context, id string) (User, error) {
	p, err := s.person(ctx, id)
	if err != nil {
		return User{}, err
	}
	return UserOf(p, s.Location), nil
}

// Create is POST /Users: 409 uniqueness when the userName exists.
func (s *Service) Create(ctx context.Context, u User) (User, error) {
	var p roster.Person
	if err := u.apply(&p, s.managerEmail(ctx)); err != nil {
		return User{}, err
	}
	p.Normalize()
	if err := p.Validate(); err != nil {
		return User{}, storeErr(err)
	}
	if _, err := s.Store.PersonByEmail(ctx, p.Email); err == nil {
		return User{}, &Error{Status: 409, SCIMType: scimTypeUniqueness, Detail: fmt.Sprintf("A user with userName %s exists.", p.Email)}
	} else if !errors.Is(err, store.ErrNotFound) {
		return User{}, err
	}
	if err := s.Store.UpsertPerson(ctx, &p); err != nil {
		return User{}, storeErr(err)
	}
	return UserOf(p, s.Location), nil
}

// Replace is PUT /Users/{id}.
func (s *Service) Replace(ctx context.Context, id string, u User) (User, error) {
	p, err := s.person(ctx, id)
	if err != nil {
		return User{}, err
	}
	if err := u.apply(&p, s.managerEmail(ctx)); err != nil {
		return User{}, err
	}
	if err := s.Store.UpdatePerson(ctx, &p); err != nil {
		return User{}, storeErr(err)
	}
	return UserOf(p, s.Location), nil
}

// Patch is PATCH /Users/{id}; all operations apply or none.
func (s *Service) Patch(ctx context.Context, id string, pr PatchRequest) (User, error) {
	p, err := s.person(ctx, id)
	if err != nil {
		return User{}, err
	}
	if err := applyPatch(&p, pr.Operations, s.managerEmail(ctx)); err != nil {
		return User{}, err
	}
	if err := s.Store.UpdatePerson(ctx, &p); err != nil {
		return User{}, storeErr(err)
	}
	return UserOf(p, s.Location), nil
}

// Delete is DELETE /Users/{id}.
func (s *Service) Delete(ctx context.Context, id string) (roster.Person, error) {
	p, err := s.person(ctx, id)
	if err != nil {
		return roster.Person{}, err
	}
	if err := s.Store.DeletePerson(ctx, p.ID); err != nil {
		return roster.Person{}, storeErr(err)
	}
	return p, nil
}

// List is GET /Users: startIndex is 1-based; count < 0 means the
// default page size, and count 0 only counts (RFC 7644 §3.4.2.4).
func (s *Service) List(ctx context.Context, filter string, startIndex, count int) (ListResponse, error) {
	f, err := ParseFilter(filter)
	if err != nil {
		return ListResponse{}, err
	}
	if startIndex < 1 {
		startIndex = 1 // RFC 7644 §3.4.2.4: less than 1 is 1
	}
	resp := ListResponse{Schemas: []string{SchemaListResp}, StartIndex: startIndex, Resources: []User{}}
	if f.Attr != "" {
		var p roster.Person
		var err error
		if f.Attr == "userName" {
			p, err = s.Store.PersonByEmail(ctx, f.Value)
			if err == nil && p.Email != roster.NormalizeEmail(f.Value) {
				err = store.ErrNotFound // an alias is not a userName
			}
		} else {
			p, err = s.Store.PersonByExternalID(ctx, f.Value)
		}
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return ListResponse{}, err
		default:
			resp.TotalResults = 1
			if startIndex == 1 && count != 0 {
				resp.Resources = append(resp.Resources, UserOf(p, s.Location))
			}
		}
		resp.ItemsPerPage = len(resp.Resources)
		return resp, nil
	}
	limit := count
	if limit < 0 {
		limit = defaultListCount
	}
	limit = min(limit, maxListCount)
	if limit == 0 {
		page, err := s.Store.People(ctx, store.PeopleFilter{Limit: 1})
		if err != nil {
			return ListResponse{}, err
		}
		resp.TotalResults = page.Total
		return resp, nil
	}
	page, err := s.Store.People(ctx, store.PeopleFilter{Offset: startIndex - 1, Limit: limit})
	if err != nil {
		return ListResponse{}, err
	}
	resp.TotalResults = page.Total
	for _, p := range page.People {
		resp.Resources = append(resp.Resources, UserOf(p, s.Location))
	}
	resp.ItemsPerPage = len(resp.Resources)
	return resp, nil
}
