package roster

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Billing is how often a contract's seat prices are charged.
type Billing string

// Billing periods.
const (
	BillingMonthly Billing = "month"
	BillingYearly  Billing = "year"
)

// Contract is what one Miro organization pays: per license, the seats
// bought and one seat's price per billing period; the renewal date and
// how many days before it to remind. An organization without a saved
// contract is priced by the settings' default prices (DefaultContract).
type Contract struct {
	OrgID    string
	Currency string // ISO 4217, e.g. "USD"
	Billing  Billing
	// RenewalOn is the renewal date (UTC midnight); zero when not entered.
	RenewalOn time.Time
	// RemindDays is how many days before RenewalOn the renewal reminder is
	// sent; 0 sends none. RemindedFor is the renewal date one was sent for.
	RemindDays  int
	RemindedFor time.Time
	Licenses    map[string]LicenseTerms
	// Saved is false for a DefaultContract: nothing entered yet.
	Saved     bool
	UpdatedAt time.Time
}

// LicenseTerms are one license's line of a contract.
type LicenseTerms struct {
	// Seats is how many were bought; 0 when not entered. For the full
	// license Miro's own count, where it gives one, wins.
	Seats int
	// Price is one seat's price per billing period; 0 when not priced.
	Price float64
}

// Contract limits, shared by every entry point.
const (
	MaxSeatPrice  = 1_000_000
	MaxSeats      = 10_000_000
	MaxRemindDays = 365
)

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// DefaultContract is the contract of an organization nobody entered one
// for: monthly, the settings' currency and default prices, no seats.
func DefaultContract(orgID string, s Settings) Contract {
	c := Contract{OrgID: orgID, Currency: s.Currency, Billing: BillingMonthly, Licenses: map[string]LicenseTerms{}}
	for l, p := range s.LicensePrices {
		c.Licenses[l] = LicenseTerms{Price: p}
	}
	return c
}

// MonthlyPrice is one seat of license per month: a yearly price over 12.
func (c Contract) MonthlyPrice(license string) float64 {
	p := c.Licenses[license].Price
	if c.Billing == BillingYearly {
		return p / 12
	}
	return p
}

// Priced reports whether any license has a price.
func (c Contract) Priced() bool {
	for _, t := range c.Licenses {
		if t.Price > 0 {
			return true
		}
	}
	return false
}

// DaysToRenewal is the whole days from now to the renewal date, and
// false when there is none.
func (c Contract) DaysToRenewal(now time.Time) (int, bool) {
	if c.RenewalOn.IsZero() {
		return 0, false
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return int(math.Round(c.RenewalOn.Sub(today).Hours() / 24)), true
}

// ReminderDue reports whether the renewal reminder should be sent now:
// a renewal date and reminder days are set, now is within RemindDays of
// the renewal, the renewal has not passed, and no reminder was sent for
// this renewal date.
func (c Contract) ReminderDue(now time.Time) bool {
	days, ok := c.DaysToRenewal(now)
	return ok && c.RemindDays > 0 && days >= 0 && days <= c.RemindDays && !c.RemindedFor.Equal(c.RenewalOn)
}

// ContractError names the field of a contract that is wrong and why.
type ContractError struct {
	Field   string // "currency", "billing", "renewal_on", "remind_days", "seats_<license>", "price_<license>"
	Message string
}

func (e *ContractError) Error() string { return e.Field + ": " + e.Message }

// Check says what is wrong with a contract, as a *ContractError (the
// first field found), or nil. Every entry point reaches this one rule.
func (c Contract) Check() error {
	fail := func(field, format string, args ...any) error {
		return &ContractError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
	if !currencyCode.MatchString(c.Currency) {
		return fail("currency", "Enter a three-letter currency code, such as USD or EUR.")
	}
	if c.Billing != BillingMonthly && c.Billing != BillingYearly {
		return fail("billing", "Choose monthly or yearly prices.")
	}
	if !c.RenewalOn.IsZero() && (c.RenewalOn.Year() < 2000 || c.RenewalOn.Year() > 2200) {
		return fail("renewal_on", "Enter a renewal date between 2000 and 2200.")
	}
	if c.RemindDays < 0 || c.RemindDays > MaxRemindDays {
		return fail("remind_days", "Enter a whole number of days from 0 to %d.", MaxRemindDays)
	}
	if c.RemindDays > 0 && c.RenewalOn.IsZero() {
		return fail("remind_days", "A reminder needs a renewal date.")
	}
	for _, l := range slices.Sorted(maps.Keys(c.Licenses)) {
		t := c.Licenses[l]
		if !slices.Contains(Licenses, l) {
			return fail("price_"+l, "Unknown license %q.", l)
		}
		if t.Seats < 0 || t.Seats > MaxSeats {
			return fail("seats_"+l, "Enter a whole number of seats from 0 to %d.", MaxSeats)
		}
		if math.IsNaN(t.Price) || t.Price < 0 || t.Price > MaxSeatPrice {
			return fail("price_"+l, "Enter a price from 0 to %d.", MaxSeatPrice)
		}
	}
	return nil
}

// ParseRenewal reads a renewal date, YYYY-MM-DD; empty is none.
func ParseRenewal(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, &ContractError{Field: "renewal_on", Message: "Enter the date as YYYY-MM-DD."}
	}
	return t, nil
}

// UsageBilled reports whether a license is charged per month of use,
// not per seat bought: Miro bills an occasional user only for the months
// they are active.
func UsageBilled(license string) bool { return license == "occasional" }

// licenseNames are Miro's license values as people read them.
var licenseNames = map[string]string{
	LicenseFull: "Full", "full_trial": "Full (trial)", "occasional": "Occasional", "advanced": "Advanced",
	"standard": "Standard", "basic": "Basic", LicenseFree: "Free", "free_restricted": "Free restricted",
	LicenseUnknown: "Unknown",
}

// LicenseName is a license value as people read it: "Free restricted"
// for free_restricted; an unknown value is shown as it is.
func LicenseName(license string) string {
	if n, ok := licenseNames[license]; ok {
		return n
	}
	return license
}
