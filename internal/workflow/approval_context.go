package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

// ApprovalContext is what an approver needs to answer: who the run is
// for, why it started (its trigger and the facts behind it), what
// approving does (the steps it leads to, in the dry run's words) and what
// it saves. The dashboard shows it beside each approval; the request and
// its reminder carry it as text.
type ApprovalContext struct {
	Approval roster.Approval
	Run      roster.WorkflowRun

	// Who: the directory's name, else Miro's.
	Name  string
	Email string

	// Why: the run's trigger in its own words ("directory: … left",
	// "full license unused for 90 days or more") and the account's facts.
	Trigger    string
	HasAccount bool
	// License is the license's name ("Full"); LastActivity the last
	// activity Miro reported (zero when none), meaningful when UsageKnown.
	License      string
	LastActivity time.Time
	UsageKnown   bool
	// MonthlyPrice is the license's price a month under the contract of
	// the account's organization, in Currency; PriceKnown is false when
	// no price is set for the license.
	MonthlyPrice float64
	PriceKnown   bool
	Currency     string

	// Steps are what approving does: the steps of the approve branch,
	// up to the run's end, as the dry run words them.
	Steps []PlannedStep
	// Saves is the license's monthly price when a step of the approve
	// branch frees it (a deactivation of an active, paid seat), else 0.
	Saves float64
}

// ExplainApproval is the context of approval a of run.
func (e *Engine) ExplainApproval(ctx context.Context, a roster.Approval, run roster.WorkflowRun) (ApprovalContext, error) {
	out, err := e.ExplainApprovals(ctx, []ApprovalContext{{Approval: a, Run: run}})
	if err != nil {
		return ApprovalContext{}, err
	}
	return out[0], nil
}

// ExplainApprovals fills in the context of each approval (Approval and
// Run set), reading the prices once and each connection once.
func (e *Engine) ExplainApprovals(ctx context.Context, asks []ApprovalContext) ([]ApprovalContext, error) {
	if len(asks) == 0 {
		return nil, nil
	}
	prices, err := e.loadLicensePrices(ctx)
	if err != nil {
		return nil, err
	}
	conns := map[int64]connectionNames{}
	out := make([]ApprovalContext, len(asks))
	for i, c := range asks {
		cn, ok := conns[c.Run.Definition.ConnectionID]
		if !ok {
			if cn, err = e.connectionNames(ctx, c.Run.Definition.ConnectionID); err != nil {
				return nil, err
			}
			conns[c.Run.Definition.ConnectionID] = cn
		}
		if out[i], err = e.explain(ctx, c.Approval, c.Run, prices, cn); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// connectionNames is a connection and its teams' names, for the plans.
type connectionNames struct {
	conn  roster.Connection
	names map[string]string
}

// connectionNames reads a connection and its teams; a connection deleted
// since the run started is left empty, so its action steps plan as
// refused, which is what they would be.
func (e *Engine) connectionNames(ctx context.Context, id int64) (connectionNames, error) {
	conn, err := e.Store.Connection(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return connectionNames{conn: roster.Connection{ID: id}, names: map[string]string{}}, nil
	case err != nil:
		return connectionNames{}, fmt.Errorf("read connection %d: %w", id, err)
	}
	names, err := e.teamNames(ctx, id)
	if err != nil {
		return connectionNames{}, err
	}
	return connectionNames{conn: conn, names: names}, nil
}

func (e *Engine) explain(ctx context.Context, a roster.Approval, run roster.WorkflowRun, prices licensePrices, cn connectionNames) (ApprovalContext, error) {
	c := ApprovalContext{Approval: a, Run: run, Email: run.Email, Trigger: run.Trigger, Currency: prices.currency()}
	s := &subject{Email: run.Email}
	p, err := e.person(ctx, run)
	if err != nil {
		return c, err
	}
	if p != nil {
		s.Person, c.Name = p, p.Name
	}
	acc, found, err := e.account(ctx, run)
	if err != nil {
		return c, err
	}
	if found {
		s.Account = &acc
		c.HasAccount = true
		c.Name = cmp.Or(c.Name, acc.Name)
		c.License = roster.LicenseName(acc.License)
		c.LastActivity, c.UsageKnown = acc.ActivityAt(), acc.UsageKnown()
		c.MonthlyPrice, c.PriceKnown = prices.monthlyLicensePrice(acc)
		c.Currency = prices.contract(acc.OrgID).Currency
	}
	w := run.Definition
	i := w.StepIndex(a.StepID)
	if i < 0 {
		return c, nil // the definition no longer has the step: nothing to plan
	}
	frees := false
	for _, j := range approvePath(w, i) {
		st := w.Steps[j]
		plan, blocked, err := e.plan(ctx, w, j, st, s, cn.conn, cn.names)
		if err != nil {
			return c, err
		}
		c.Steps = append(c.Steps, PlannedStep{ID: st.ID, Kind: st.Kind, Plan: plan, Blocked: blocked})
		if st.Kind == roster.StepDeactivate && !blocked {
			frees = true
		}
	}
	if frees && s.Account != nil && s.Account.Active && paidSeat(s.Account.License) {
		c.Saves = c.MonthlyPrice
	}
	return c, nil
}

// approvePath is the indexes of the steps approving step i leads to, in
// order, up to the end; a later approval is followed on its approve
// branch too, and a step met twice ends the path.
func approvePath(w roster.Workflow, i int) []int {
	seen := map[int]bool{i: true}
	var out []int
	next, _, _ := w.Branches(i)
	for next != roster.StepEnd {
		j := w.StepIndex(next)
		if j < 0 || seen[j] {
			break
		}
		seen[j] = true
		out = append(out, j)
		if w.Steps[j].Kind == roster.StepApproval {
			next, _, _ = w.Branches(j)
		} else {
			next = w.NextOf(j)
		}
	}
	return out
}

// Who is the person in words: "Ann Lee <ann@example.com>".
func (c ApprovalContext) Who() string {
	if c.Name == "" {
		return c.Email
	}
	return fmt.Sprintf("%s <%s>", c.Name, c.Email)
}

// ActivityWords is the last activity in words, as of now.
func (c ApprovalContext) ActivityWords(now time.Time) string {
	switch {
	case !c.HasAccount:
		return "no Miro account"
	case !c.UsageKnown:
		return "unknown (Miro reports activity to organization-level connections only)"
	case c.LastActivity.IsZero():
		return "never active in Miro"
	}
	days := int(now.Sub(c.LastActivity) / (24 * time.Hour))
	switch {
	case days <= 0:
		return c.LastActivity.UTC().Format("2006-01-02") + " (today)"
	case days == 1:
		return c.LastActivity.UTC().Format("2006-01-02") + " (1 day ago)"
	}
	return fmt.Sprintf("%s (%d days ago)", c.LastActivity.UTC().Format("2006-01-02"), days)
}

// LicenseWords is the license and its price: "Full, 16.00 USD a month".
func (c ApprovalContext) LicenseWords() string {
	switch {
	case !c.HasAccount:
		return "none (no Miro account)"
	case !c.PriceKnown:
		return c.License + " (no price set in the contract)"
	}
	return fmt.Sprintf("%s, %s a month", c.License, moneyWords(c.MonthlyPrice, c.Currency))
}

// SavesWords says what approving saves a month, or "" when nothing.
func (c ApprovalContext) SavesWords() string {
	if c.Saves <= 0 {
		return ""
	}
	return fmt.Sprintf("Approving frees the %s license: it saves %s a month.", c.License, moneyWords(c.Saves, c.Currency))
}

func moneyWords(amount float64, currency string) string {
	return strings.TrimSpace(fmt.Sprintf("%.2f %s", amount, currency))
}

// Text is the context as the request and its reminder carry it.
func (c ApprovalContext) Text(now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Who: %s\n", c.Who())
	if c.Trigger != "" {
		fmt.Fprintf(&b, "Why: %s\n", c.Trigger)
	}
	fmt.Fprintf(&b, "Last activity: %s\n", c.ActivityWords(now))
	fmt.Fprintf(&b, "License: %s\n", c.LicenseWords())
	if len(c.Steps) == 0 {
		b.WriteString("Approving ends the run: no step follows.\n")
	} else {
		b.WriteString("Approving will:\n")
		for _, st := range c.Steps {
			fmt.Fprintf(&b, "- %s: %s\n", st.ID, st.Plan)
		}
	}
	if s := c.SavesWords(); s != "" {
		b.WriteString(s + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
