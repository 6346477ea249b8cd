package licenses

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"roster"
	"roster/internal/insights"
	"roster/internal/notify"
)

// Sender delivers a notification; *notify.Notifier implements it.
type Sender interface {
	Send(ctx context.Context, m notify.Message) error
}

// reminderChannels are where renewal reminders go: the workflow notify
// channels that need no recipient. A channel not configured is skipped.
var reminderChannels = []string{notify.ChannelSlack, notify.ChannelWebhook}

// RemindRenewals sends the renewal reminder of each contract that is due
// (roster.Contract.ReminderDue), once per renewal date across processes:
// the reminder is claimed first, and released when no channel took it,
// so the next call retries. It returns how many were sent.
func (s *Service) RemindRenewals(ctx context.Context, sender Sender) (int, error) {
	contracts, err := s.Store.Contracts(ctx)
	if err != nil {
		return 0, fmt.Errorf("load contracts: %w", err)
	}
	now := s.now()
	var due []roster.Contract
	for _, c := range contracts {
		if c.ReminderDue(now) {
			due = append(due, c)
		}
	}
	if len(due) == 0 {
		return 0, nil
	}
	report, err := s.Report(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, c := range due {
		claimed, err := s.Store.MarkReminded(ctx, c.OrgID, c.RenewalOn)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !claimed {
			continue
		}
		org, _ := report.Org(c.OrgID)
		if err := s.sendReminder(ctx, sender, c, org); err != nil {
			errs = append(errs, err)
			if err := s.Store.ReleaseReminder(ctx, c.OrgID, c.RenewalOn); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

// sendReminder sends one reminder on every configured channel; it fails
// when none took it.
func (s *Service) sendReminder(ctx context.Context, sender Sender, c roster.Contract, org insights.OrgSummary) error {
	days, _ := c.DaysToRenewal(s.now())
	name := org.Org.Name
	if name == "" {
		name = c.OrgID
	}
	when := fmt.Sprintf("in %d days", days)
	switch days {
	case 0:
		when = "today"
	case 1:
		when = "tomorrow"
	}
	subject := fmt.Sprintf("Miro renews %s for %s (%s)", when, name, c.RenewalOn.Format("Jan 2, 2006"))
	// The text does not repeat the subject: Slack shows both, one above
	// the other.
	var says []string
	if org.Priced {
		says = append(says, fmt.Sprintf("It costs %s %.2f a month.", c.Currency, org.MonthlyCost))
	}
	if n := org.Savings.UnassignedSeats; n > 0 {
		says = append(says, fmt.Sprintf("%s paid seats are held by nobody (%s %.2f a month): lower the seat count at renewal.",
			insights.Count(n), c.Currency, org.Savings.Unassigned))
	}
	if n := org.Savings.InactiveSeats + org.Savings.LeaverSeats; n > 0 {
		says = append(says, fmt.Sprintf("%s paid licenses are held by inactive people or people who left: reclaim them first.", insights.Count(n)))
	}
	if len(says) == 0 {
		says = append(says, "Check the seats bought against the seats used before it renews.")
	}
	text := strings.Join(says, " ")
	var (
		delivered int
		errs      []error
	)
	for _, ch := range reminderChannels {
		err := sender.Send(ctx, notify.Message{
			Key: "renewal:" + c.OrgID + ":" + c.RenewalOn.Format("2006-01-02"), Channel: ch,
			Subject: subject, Text: text, Event: "licenses.renewal",
			Data: map[string]any{"org_id": c.OrgID, "renewal_on": c.RenewalOn.Format("2006-01-02"),
				"days": days, "unassigned_seats": org.Savings.UnassignedSeats, "currency": c.Currency,
				"monthly_cost": strconv.FormatFloat(org.MonthlyCost, 'f', 2, 64)},
		})
		switch {
		case errors.Is(err, notify.ErrNotConfigured):
		case err != nil:
			errs = append(errs, err)
		default:
			delivered++
		}
	}
	if delivered == 0 {
		if len(errs) == 0 {
			return fmt.Errorf("renewal reminder for %s: no Slack or webhook channel is configured", name)
		}
		return fmt.Errorf("renewal reminder for %s: %w", name, errors.Join(errs...))
	}
	return nil
}
