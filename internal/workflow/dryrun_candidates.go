package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"roster"
	"roster/internal/store"
)

// candidates are the people a preview considers, and the emails asked for
// that roster knows no one by.
func (e *Engine) candidates(ctx context.Context, w roster.Workflow, emails []string) ([]*subject, []string, string, error) {
	var out []*subject
	if len(emails) > 0 {
		var unknown []string
		for _, em := range uniqueEmails(emails) {
			s, err := e.subjectForEmail(ctx, em)
			if errors.Is(err, store.ErrNotFound) {
				unknown = append(unknown, em)
				continue
			}
			if err != nil {
				return nil, nil, "", err
			}
			out = append(out, s)
		}
		return out, unknown, "the people named", nil
	}
	now := e.now()
	switch w.Trigger.Kind {
	case roster.TriggerPersonLeft, roster.TriggerPersonJoined:
		status := roster.PersonLeft
		if w.Trigger.Kind == roster.TriggerPersonJoined {
			status = roster.PersonActive
		}
		err := e.eachPerson(ctx, status, func(p roster.Person) error {
			s, err := e.subjectForPerson(ctx, p)
			if err != nil {
				return err
			}
			active := s.Account != nil && s.Account.Active && s.Account.LeftAt.IsZero()
			if (status == roster.PersonLeft && active) || (status == roster.PersonActive && s.Account == nil) {
				out = append(out, s)
			}
			return nil
		})
		if status == roster.PersonLeft {
			return out, nil, "directory people who left and still hold an active Miro account", err
		}
		return out, nil, "directory people who are active and have no Miro account yet", err
	case roster.TriggerNewAccount:
		accs, err := e.Store.Accounts(ctx, store.AccountFilter{})
		if err != nil {
			return nil, nil, "", fmt.Errorf("read accounts: %w", err)
		}
		all, err := e.subjectsForAccounts(ctx, accs)
		if err != nil {
			return nil, nil, "", err
		}
		for _, s := range all {
			if s.Person == nil {
				out = append(out, s)
			}
		}
		return out, nil, "Miro accounts that match no directory person", nil
	case roster.TriggerLicenseChanged:
		accs, err := e.recentLicenseChanges(ctx, w, now.AddDate(0, 0, -30))
		if err != nil {
			return nil, nil, "", err
		}
		out, err = e.subjectsForAccounts(ctx, accs)
		return out, nil, "accounts whose license changed in the last 30 days", err
	case roster.TriggerInactive:
		accs, err := e.inactiveAccounts(ctx, w.Trigger.Days, now)
		if err != nil {
			return nil, nil, "", err
		}
		out, err = e.subjectsForAccounts(ctx, accs)
		return out, nil, fmt.Sprintf("accounts with a paid license inactive for %d days or more", w.Trigger.Days), err
	}
	accs, err := e.Store.Accounts(ctx, store.AccountFilter{})
	if err != nil {
		return nil, nil, "", fmt.Errorf("read accounts: %w", err)
	}
	out, err = e.subjectsForAccounts(ctx, accs)
	return out, nil, "every synced Miro account", err
}

func (e *Engine) eachPerson(ctx context.Context, status roster.PersonStatus, fn func(roster.Person) error) error {
	cursor := ""
	for {
		page, err := e.Store.People(ctx, store.PeopleFilter{Status: status, Cursor: cursor, Limit: 1000})
		if err != nil {
			return fmt.Errorf("read the directory: %w", err)
		}
		for _, p := range page.People {
			if err := fn(p); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

func (e *Engine) recentLicenseChanges(ctx context.Context, w roster.Workflow, since time.Time) ([]roster.Account, error) {
	seen := map[int64]bool{}
	var out []roster.Account
	var after int64
	for {
		chs, err := e.Store.Changes(ctx, store.ChangeFilter{AfterID: after, Limit: batch})
		if err != nil {
			return nil, fmt.Errorf("read changes: %w", err)
		}
		if len(chs) == 0 {
			return out, nil
		}
		for _, ch := range chs {
			if ch.Kind != roster.ChangeLicenseChanged || ch.At.Before(since) || seen[ch.AccountID] ||
				(w.Trigger.License != "" && ch.NewValue != w.Trigger.License) {
				continue
			}
			seen[ch.AccountID] = true
			a, err := e.Store.Account(ctx, ch.AccountID)
			if err != nil {
				return nil, fmt.Errorf("read account %d: %w", ch.AccountID, err)
			}
			if a.Email != "" {
				out = append(out, a)
			}
		}
		after = chs[len(chs)-1].ID
	}
}

// uniqueEmails is emails normalized, without blanks or repeats, in their
// first order.
func uniqueEmails(emails []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, em := range emails {
		em = roster.NormalizeEmail(em)
		if em == "" || seen[em] {
			continue
		}
		seen[em] = true
		out = append(out, em)
	}
	return out
}
