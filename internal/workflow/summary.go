package workflow

import (
	"cmp"
	"context"
	"fmt"
	"roster"
	"slices"
	"strings"
)

// A preview's summary, shared by the workflow dry run and bulk runs: who
// would run, who is left out and why, consequences, and the seats and
// money freed under each organization's contract.

// PeopleView is the page of people a preview lists: of those who would
// run, or, with LeftOut, of those left out; Offset people of that list
// skipped, Limit (DefaultPeoplePage when 0) shown.
type PeopleView struct {
	LeftOut bool
	Offset  int
	Limit   int
}

// DefaultPeoplePage is how many people a preview's page lists.
const DefaultPeoplePage = 50

func (v PeopleView) limit() int { return cmp.Or(v.Limit, DefaultPeoplePage) }

// pageOf collects the page of a PeopleView from people as they come.
type pageOf struct {
	view PeopleView
	seen int
	rows []PlannedRun
}

func (p *pageOf) add(pr PlannedRun) {
	if (pr.Reason != "") != p.view.LeftOut {
		return
	}
	if p.seen >= max(0, p.view.Offset) && len(p.rows) < p.view.limit() {
		p.rows = append(p.rows, pr)
	}
	p.seen++
}

// Summary is what a dry run or a bulk run's confirmation says first:
// how many people, how many would run, who is left out and why, what the
// actions mean where they act, and the seats and money they free.
type Summary struct {
	Considered int
	WouldRun   int
	LeftOut    int
	// Reasons are why people are left out, most common first.
	Reasons []PeopleCount
	// Consequences say what the actions do, for each connection (level)
	// they act through, in plain words.
	Consequences []Consequence
	// Seats are the paid licenses those who would run free, by license;
	// MonthlySaving their price a month, in Currency. PricesMissing names
	// freed licenses with no price set.
	Seats         []SeatsFreed
	MonthlySaving float64
	Currency      string
	PricesMissing []string
	// Notes are what happens to some of those who would run, with how
	// many ("stay in a team where they are its only admin").
	Notes []PeopleCount
}

// PeopleCount is a reason or a note and how many people it applies to.
type PeopleCount struct {
	Text   string
	People int
}

// Consequence is what an action does through one connection.
type Consequence struct {
	Where  string // the connection, in words
	Text   string
	People int // who would run through it
}

// SeatsFreed is how many seats of one license would be freed, and what
// they cost a month.
type SeatsFreed struct {
	License string
	Seats   int
	Price   float64 // a seat a month; 0 when no price is set
	Monthly float64
}

// summary builds a Summary from people one at a time.
type summary struct {
	sum     Summary
	prices  licensePrices
	reasons map[string]int
	notes   map[string]int
	seats   map[string]*seatSum
	cons    []Consequence
}

// seatSum adds up the seats of one license and what they cost.
type seatSum struct {
	seats    int
	monthly  float64
	unpriced bool
}

func newSummary(prices licensePrices) *summary {
	return &summary{prices: prices, reasons: map[string]int{}, notes: map[string]int{}, seats: map[string]*seatSum{},
		sum: Summary{Currency: prices.currency()}}
}

// leftOut counts a person left out for reason.
func (b *summary) leftOut(reason string) {
	b.sum.Considered++
	b.sum.LeftOut++
	b.reasons[reason]++
}

// wouldRun counts a person who would run; freed is the account whose
// license their run frees (nil for none), priced by monthlyLicensePrice.
func (b *summary) wouldRun(freed *roster.Account) {
	b.sum.Considered++
	b.sum.WouldRun++
	if freed == nil {
		return
	}
	s := b.seats[freed.License]
	if s == nil {
		s = &seatSum{}
		b.seats[freed.License] = s
	}
	price, known := b.prices.monthlyLicensePrice(*freed)
	s.seats++
	s.monthly += price
	s.unpriced = s.unpriced || !known
}

func (b *summary) note(text string) { b.notes[text]++ }

// consequence counts a person who would run through where, where text
// says what happens.
func (b *summary) consequence(where, text string) {
	for i := range b.cons {
		if b.cons[i].Where == where && b.cons[i].Text == text {
			b.cons[i].People++
			return
		}
	}
	b.cons = append(b.cons, Consequence{Where: where, Text: text, People: 1})
}

func (b *summary) done() Summary {
	s := b.sum
	s.Reasons, s.Notes = counted(b.reasons), counted(b.notes)
	s.Consequences = b.cons
	for lic, n := range b.seats {
		if n.unpriced {
			s.PricesMissing = append(s.PricesMissing, lic)
		}
		s.Seats = append(s.Seats, SeatsFreed{License: lic, Seats: n.seats, Price: n.monthly / float64(n.seats), Monthly: n.monthly})
		s.MonthlySaving += n.monthly
	}
	slices.SortFunc(s.Seats, func(a, b SeatsFreed) int {
		return cmp.Or(cmp.Compare(b.Monthly, a.Monthly), cmp.Compare(b.Seats, a.Seats), strings.Compare(a.License, b.License))
	})
	slices.Sort(s.PricesMissing)
	return s
}

// counted is a count map as a list, most common first.
func counted(m map[string]int) []PeopleCount {
	var out []PeopleCount
	for t, n := range m {
		out = append(out, PeopleCount{Text: t, People: n})
	}
	slices.SortFunc(out, func(a, b PeopleCount) int {
		return cmp.Or(cmp.Compare(b.People, a.People), strings.Compare(a.Text, b.Text))
	})
	return out
}

// licensePrices is what licenses cost, for the money a run frees: each
// organization's contract, the settings' default prices for the others.
type licensePrices struct {
	settings  roster.Settings
	contracts map[string]roster.Contract
}

// loadLicensePrices reads the prices in force now.
func (e *Engine) loadLicensePrices(ctx context.Context) (licensePrices, error) {
	s, err := e.Store.Settings(ctx)
	if err != nil {
		return licensePrices{}, fmt.Errorf("read the settings: %w", err)
	}
	list, err := e.Store.Contracts(ctx)
	if err != nil {
		return licensePrices{}, fmt.Errorf("read the contracts: %w", err)
	}
	p := licensePrices{settings: s, contracts: make(map[string]roster.Contract, len(list))}
	for _, c := range list {
		p.contracts[c.OrgID] = c
	}
	return p, nil
}

func (p licensePrices) contract(orgID string) roster.Contract {
	if c, ok := p.contracts[orgID]; ok {
		return c
	}
	return roster.DefaultContract(orgID, p.settings)
}

// monthlyLicensePrice is what one account's license costs a month, and
// whether a price is set for it: the one place a bulk run or a dry run
// prices a seat (SeatsFreed.Price is the mean over a license's seats),
// under the contract of the account's organization.
func (p licensePrices) monthlyLicensePrice(a roster.Account) (float64, bool) {
	c := p.contract(a.OrgID)
	t, ok := c.Licenses[a.License]
	return c.MonthlyPrice(a.License), ok && t.Price > 0
}

// currency is the contracts' one currency, else the settings'.
func (p licensePrices) currency() string {
	cur := ""
	for _, c := range p.contracts {
		switch {
		case cur == "":
			cur = c.Currency
		case cur != c.Currency:
			return p.settings.Currency
		}
	}
	if cur == "" {
		return p.settings.Currency
	}
	return cur
}

// paidSeat reports whether deactivating an account with license frees a
// seat: any license but free, restricted free, unknown or none.
func paidSeat(license string) bool {
	switch license {
	case "", roster.LicenseFree, "free_restricted", roster.LicenseUnknown:
		return false
	}
	return true
}
