package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"roster"
	"roster/internal/api"
	"roster/internal/licenses"
	"roster/internal/store"
)

const contractUsage = "Usage: roster contract show [--org ID] [--format table|json]\n" +
	"       roster contract set --org ID [--currency EUR] [--billing month|year] [--renewal YYYY-MM-DD] [--remind-days N]\n" +
	"                           [--seats LICENSE=N ...] [--price LICENSE=PRICE ...]"

// runContract is `roster contract <subcommand>`: what each Miro
// organization pays (internal/licenses).
func runContract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stderr, contractUsage)
		if len(args) == 0 {
			return usageError{"contract: no subcommand given (show, set)"}
		}
		return nil
	}
	switch args[0] {
	case "show":
		return runContractShow(ctx, args[1:], stdout, stderr)
	case "set":
		return runContractSet(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("contract: unknown subcommand %q (show, set)", args[0])}
}

// runContractShow prints the contracts of the organizations roster
// reaches, or of one.
func runContractShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("contract show", "", "Shows what each Miro organization roster reaches pays: currency, billing period, renewal\n"+
		"date and reminder, and per license the seats bought and one seat's price. An organization\n"+
		"without a contract is priced by the default prices in Settings.", stderr)
	fs.globals()
	var (
		org    = fs.String("org", "", "only this Miro organization `ID`")
		format = fs.String("format", "table", "output format: table or json (the JSON API's Organization: an array, one object with --org)")
	)
	if err := fs.parse(args); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usageError{fmt.Sprintf("contract show: --format must be table or json, got %q", *format)}
	}
	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	svc := &licenses.Service{Store: a.store}
	orgs, err := svc.Organizations(ctx)
	if err != nil {
		return fmt.Errorf("contract show: %w", err)
	}
	if *org != "" {
		i := slices.IndexFunc(orgs, func(o licenses.Organization) bool { return o.ID == *org })
		if i < 0 {
			return unknownOrg("contract show", *org, orgs)
		}
		orgs = orgs[i : i+1]
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if *org != "" {
			return enc.Encode(api.OrganizationOf(orgs[0]))
		}
		out := make([]api.Organization, 0, len(orgs))
		for _, o := range orgs {
			out = append(out, api.OrganizationOf(o))
		}
		return enc.Encode(out)
	}
	if len(orgs) == 0 {
		fmt.Fprintln(stdout, "No organization yet: connect Miro first (roster connect).")
		return nil
	}
	for i, o := range orgs {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := printContract(stdout, o); err != nil {
			return err
		}
	}
	return nil
}

// printContract writes one organization's contract for people.
func printContract(w io.Writer, o licenses.Organization) error {
	c := o.Contract
	level := "organization level"
	if !o.Exact {
		level = "team level only: licenses are inferred"
	}
	fmt.Fprintf(w, "%s (%s), %s\n", o.Name, o.ID, level)
	if c.Saved {
		fmt.Fprintf(w, "  contract:  saved %s\n", c.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	} else {
		fmt.Fprintln(w, "  contract:  none saved: priced by the default prices in Settings")
	}
	fmt.Fprintf(w, "  prices:    %s per %s\n", c.Currency, c.Billing)
	switch {
	case c.RenewalOn.IsZero():
		fmt.Fprintln(w, "  renewal:   not entered")
	case c.RemindDays > 0:
		fmt.Fprintf(w, "  renewal:   %s, reminder %d days before", c.RenewalOn.Format(time.DateOnly), c.RemindDays)
		if c.RemindedFor.Equal(c.RenewalOn) {
			fmt.Fprint(w, " (sent)")
		}
		fmt.Fprintln(w)
	default:
		fmt.Fprintf(w, "  renewal:   %s, no reminder\n", c.RenewalOn.Format(time.DateOnly))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  LICENSE\tSEATS PURCHASED\tPRICE PER SEAT")
	lines := 0
	for _, l := range roster.Licenses {
		t := c.Licenses[l]
		seats := dash("")
		switch {
		case l == roster.LicenseFull && o.Summary.Org.SeatsFromMiro > 0:
			seats = strconv.Itoa(o.Summary.Org.SeatsFromMiro) + " (from Miro)"
		case roster.UsageBilled(l):
			seats = "billed per month of use"
		case t.Seats > 0:
			seats = strconv.Itoa(t.Seats)
		}
		if t.Seats == 0 && t.Price == 0 && !strings.Contains(seats, "Miro") {
			continue
		}
		price := dash("")
		if t.Price > 0 {
			price = strconv.FormatFloat(t.Price, 'f', 2, 64)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", roster.LicenseName(l), seats, price)
		lines++
	}
	if lines == 0 {
		fmt.Fprintln(tw, "  (no seats or prices entered)\t\t")
	}
	return tw.Flush()
}

// unknownOrg is the error for an organization no connection reaches,
// listing those that are.
func unknownOrg(cmd, id string, orgs []licenses.Organization) error {
	ids := make([]string, 0, len(orgs))
	for _, o := range orgs {
		ids = append(ids, o.ID+" ("+o.Name+")")
	}
	known := "none yet: connect Miro first"
	if len(ids) > 0 {
		known = strings.Join(ids, ", ")
	}
	return usageError{fmt.Sprintf("%s: no connection reaches organization %q; the organizations are: %s", cmd, id, known)}
}

// contractFlags names, for a field of roster.ContractError, the flag
// that sets it.
func contractFlag(field string) string {
	switch field {
	case "currency", "billing", "org":
		return "--" + field
	case "renewal_on":
		return "--renewal"
	case "remind_days":
		return "--remind-days"
	}
	if kind, l, ok := strings.Cut(field, "_"); ok && (kind == "seats" || kind == "price") {
		return "--" + kind + " " + l
	}
	return field
}

// runContractSet changes one organization's contract: the flags given
// replace those terms, the others are kept (from the default contract
// when none is saved). The one check is roster.Contract.Check, through
// licenses.Service, which saves and audits.
func runContractSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("contract set", "", "Changes what one Miro organization pays; the terms not given are kept. Seats and prices are\n"+
		"per license (full, full_trial, occasional, advanced, standard, basic, free, free_restricted,\n"+
		"unknown), repeated or comma-separated: --seats full=100,basic=10 --price full=192.\n"+
		"For the full license, Miro's own purchased count, where it gives one, wins over --seats.\n"+
		"A new renewal date makes its reminder due again.", stderr)
	fs.globals()
	var (
		org        = fs.String("org", "", "the Miro organization `ID` (roster contract show lists them)")
		currency   = fs.String("currency", "", "three-letter currency `code`, e.g. EUR")
		billing    = fs.String("billing", "", "prices are per `month` or per year")
		renewal    = fs.String("renewal", "", "renewal `date`, YYYY-MM-DD; empty removes it")
		remindDays = fs.String("remind-days", "", "send the renewal reminder (Slack and webhook, by roster serve) this many `days` before; 0: none")
		seats      listFlag
		prices     listFlag
	)
	fs.Var(&seats, "seats", "seats purchased, `LICENSE=N` (repeated or comma-separated)")
	fs.Var(&prices, "price", "price of one seat per billing period, `LICENSE=PRICE` (repeated or comma-separated); 0 removes it")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *org == "" {
		return usageError{"contract set: --org is required (roster contract show lists the organizations)"}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	svc := &licenses.Service{Store: a.store}
	o, err := svc.Organization(ctx, *org)
	if errors.Is(err, store.ErrNotFound) {
		orgs, lerr := svc.Organizations(ctx)
		if lerr != nil {
			return fmt.Errorf("contract set: %w", lerr)
		}
		return unknownOrg("contract set", *org, orgs)
	}
	if err != nil {
		return fmt.Errorf("contract set: %w", err)
	}

	c := o.Contract
	c.Licenses = make(map[string]roster.LicenseTerms, len(o.Contract.Licenses))
	for l, t := range o.Contract.Licenses {
		c.Licenses[l] = t
	}
	if given["currency"] {
		c.Currency = strings.ToUpper(strings.TrimSpace(*currency))
	}
	if given["billing"] {
		c.Billing = roster.Billing(strings.TrimSpace(*billing))
	}
	if given["renewal"] {
		if c.RenewalOn, err = roster.ParseRenewal(*renewal); err != nil {
			return contractUsageError(err)
		}
	}
	if given["remind-days"] {
		n, err := strconv.Atoi(strings.TrimSpace(*remindDays))
		if err != nil {
			return usageError{fmt.Sprintf("contract set: --remind-days must be a whole number of days, got %q", *remindDays)}
		}
		c.RemindDays = n
	}
	for _, kv := range seats {
		l, v, err := licenseValue("--seats", kv)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return usageError{fmt.Sprintf("contract set: --seats %s: seats must be a whole number, got %q", l, v)}
		}
		t := c.Licenses[l]
		t.Seats = n
		c.Licenses[l] = t
	}
	for _, kv := range prices {
		l, v, err := licenseValue("--price", kv)
		if err != nil {
			return err
		}
		p, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return usageError{fmt.Sprintf("contract set: --price %s: the price must be a number such as 16 or 8.50, got %q", l, v)}
		}
		t := c.Licenses[l]
		t.Price = p
		c.Licenses[l] = t
	}
	if err := svc.SaveContract(ctx, c, cliActor()); err != nil {
		return contractUsageError(err)
	}
	saved, err := svc.Organization(ctx, *org)
	if err != nil {
		return fmt.Errorf("contract set: %w", err)
	}
	fmt.Fprintln(stdout, "Saved.")
	if n := saved.Summary.Org.SeatsFromMiro; n > 0 && slices.ContainsFunc(seats, func(kv string) bool { return strings.HasPrefix(kv, roster.LicenseFull+"=") }) {
		fmt.Fprintf(stdout, "Note: Miro says %d full seats were purchased; that count is used, not --seats full.\n", n)
	}
	return printContract(stdout, saved)
}

// licenseValue splits LICENSE=VALUE.
func licenseValue(flagName, kv string) (license, value string, err error) {
	l, v, ok := strings.Cut(kv, "=")
	l, v = strings.TrimSpace(l), strings.TrimSpace(v)
	if !ok || l == "" || v == "" {
		return "", "", usageError{fmt.Sprintf("contract set: %s wants LICENSE=VALUE, e.g. %s full=100, got %q", flagName, flagName, kv)}
	}
	if !slices.Contains(roster.Licenses, l) {
		return "", "", usageError{fmt.Sprintf("contract set: %s %s: unknown license; the licenses are %s", flagName, l, strings.Join(roster.Licenses, ", "))}
	}
	return l, v, nil
}

// contractUsageError names the flag of a refused contract's field.
func contractUsageError(err error) error {
	var ce *roster.ContractError
	if errors.As(err, &ce) {
		return usageError{fmt.Sprintf("contract set: %s: %s Nothing was saved.", contractFlag(ce.Field), ce.Message)}
	}
	return fmt.Errorf("contract set: %w", err)
}
