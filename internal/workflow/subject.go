package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

// subject is whom a run is for: a directory person, a Miro account, or
// both, matched by email or alias.
type subject struct {
	Email   string
	Person  *roster.Person
	Account *roster.Account
	teams   []string // Miro team ids, loaded once by teamsOf
	loaded  bool
}

// paidLicenses are the licenses a seat is paid for: the inactive trigger
// looks only at these.
var paidLicenses = []string{roster.LicenseFull, "occasional"}

// subjectForPerson finds a person's Miro account by email or alias.
func (e *Engine) subjectForPerson(ctx context.Context, p roster.Person) (*subject, error) {
	s := &subject{Email: p.Email, Person: &p}
	emails := append([]string{p.Email}, p.Aliases...)
	accs, err := e.Store.AccountsByEmails(ctx, emails)
	if err != nil {
		return nil, fmt.Errorf("look up the Miro account of %s: %w", p.Email, err)
	}
	for _, em := range emails {
		if a, ok := accs[em]; ok {
			s.Account = &a
			break
		}
	}
	return s, nil
}

// subjectForAccount finds an account's directory person.
func (e *Engine) subjectForAccount(ctx context.Context, a roster.Account) (*subject, error) {
	s := &subject{Email: a.Email, Account: &a}
	if a.Email == "" {
		return s, nil
	}
	p, err := e.Store.PersonForAccount(ctx, a.Email)
	switch {
	case err == nil:
		s.Person = &p
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("look up the directory person of %s: %w", a.Email, err)
	}
	return s, nil
}

// subjectsForAccounts is subjectForAccount for many accounts, with one
// directory lookup per batch instead of one per account. Accounts without
// an email are left out: there is nothing to act on or report.
func (e *Engine) subjectsForAccounts(ctx context.Context, accs []roster.Account) ([]*subject, error) {
	emails := make([]string, 0, len(accs))
	for _, a := range accs {
		if a.Email != "" {
			emails = append(emails, a.Email)
		}
	}
	people, err := e.Store.PeopleForAccounts(ctx, emails)
	if err != nil {
		return nil, fmt.Errorf("look up the directory people of %d accounts: %w", len(emails), err)
	}
	out := make([]*subject, 0, len(emails))
	for _, a := range accs {
		if a.Email == "" {
			continue
		}
		s := &subject{Email: a.Email, Account: &a}
		if p, ok := people[roster.NormalizeEmail(a.Email)]; ok {
			s.Person = &p
		}
		out = append(out, s)
	}
	return out, nil
}

// subjectForEmail is a manual run's subject: a person, an account, or
// both; an error wrapping store.ErrNotFound when roster knows neither.
func (e *Engine) subjectForEmail(ctx context.Context, email string) (*subject, error) {
	email = roster.NormalizeEmail(email)
	p, err := e.Store.PersonByEmail(ctx, email)
	switch {
	case err == nil:
		return e.subjectForPerson(ctx, p)
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("look up %s in the directory: %w", email, err)
	}
	accs, err := e.Store.AccountsByEmails(ctx, []string{email})
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", email, err)
	}
	a, ok := accs[email]
	if !ok {
		return nil, fmt.Errorf("%w: neither the directory nor any synced Miro account has %s", store.ErrNotFound, email)
	}
	return e.subjectForAccount(ctx, a)
}

// teamsOf loads the subject's Miro teams once.
func (e *Engine) teamsOf(ctx context.Context, s *subject) ([]string, error) {
	if s.loaded || s.Account == nil {
		return s.teams, nil
	}
	ms, err := e.Store.AccountMemberships(ctx, s.Account.ID)
	if err != nil {
		return nil, fmt.Errorf("read the teams of %s: %w", s.Email, err)
	}
	for _, m := range ms {
		s.teams = append(s.teams, m.MiroTeamID)
	}
	s.loaded = true
	return s.teams, nil
}

// inactiveDays is how many whole days the account has been inactive at
// now, measured from roster.Account.ActivityAt (the one inactivity rule);
// ok is false when that is unknown: usage unknown (team-level only) or no
// time at all.
func inactiveDays(a *roster.Account, now time.Time) (days int, ok bool) {
	if a == nil || !a.UsageKnown() || a.ActivityAt().IsZero() {
		return 0, false
	}
	return int(now.Sub(a.ActivityAt()) / (24 * time.Hour)), true
}

// holds reports whether every condition holds for s, and when one does
// not, which, in plain words.
func (e *Engine) holds(ctx context.Context, conds []roster.Condition, s *subject, now time.Time) (bool, string, error) {
	for _, c := range conds {
		ok, err := e.holdsOne(ctx, c, s, now)
		if err != nil {
			return false, "", err
		}
		if !ok {
			return false, fmt.Sprintf("does not meet the condition %q", describeCondition(c)), nil
		}
	}
	return true, "", nil
}

func (e *Engine) holdsOne(ctx context.Context, c roster.Condition, s *subject, now time.Time) (bool, error) {
	var values []string // the subject's values for the field
	a := s.Account
	switch c.Field {
	case roster.CondLicense:
		if a != nil {
			values = []string{a.License}
		}
	case roster.CondOrgRole:
		if a != nil {
			values = []string{a.OrgRole}
		}
	case roster.CondTeam:
		teams, err := e.teamsOf(ctx, s)
		if err != nil {
			return false, err
		}
		values = teams
	case roster.CondEmailDomain:
		if _, domain, ok := strings.Cut(s.Email, "@"); ok {
			values = []string{domain}
		}
	case roster.CondDepartment:
		if s.Person != nil {
			values = []string{s.Person.Department}
		}
	case roster.CondGuest:
		guest := a != nil && roster.GuestOrExternal(a.OrgRole)
		return strconv.FormatBool(guest) == c.Value, nil
	case roster.CondInactiveDays:
		// Unknown inactivity matches neither bound.
		d, ok := inactiveDays(a, now)
		if !ok {
			return false, nil
		}
		n, _ := strconv.Atoi(c.Value)
		if c.Op == "at_least" {
			return d >= n, nil
		}
		return d <= n, nil
	}
	match := func(want string) bool {
		return slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, want) })
	}
	switch c.Op {
	case "is":
		return match(c.Value), nil
	case "is_not":
		return !match(c.Value), nil
	case "in":
		return slices.ContainsFunc(c.Values, match), nil
	case "not_in":
		return !slices.ContainsFunc(c.Values, match), nil
	}
	return false, nil
}

// describeCondition is a condition in plain words.
func describeCondition(c roster.Condition) string {
	field := strings.ReplaceAll(c.Field, "_", " ")
	switch c.Op {
	case "in", "not_in":
		return fmt.Sprintf("%s %s [%s]", field, strings.ReplaceAll(c.Op, "_", " "), strings.Join(c.Values, ", "))
	case "at_least", "at_most":
		return fmt.Sprintf("%s %s %s", field, strings.ReplaceAll(c.Op, "_", " "), c.Value)
	}
	return fmt.Sprintf("%s %s %s", field, strings.ReplaceAll(c.Op, "_", " "), c.Value)
}
