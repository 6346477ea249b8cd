package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"roster"
	"roster/internal/api"
	"roster/internal/directory"
	"roster/internal/store"
)

// runDirectory is `roster directory <subcommand>`: the people the
// company says work here (internal/directory).
func runDirectory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stderr, "Usage: roster directory import FILE.csv | roster directory list [--status active|left] [--search S] [--format table|json]")
		if len(args) == 0 {
			return usageError{"directory: no subcommand given (import, list)"}
		}
		return nil
	}
	switch args[0] {
	case "import":
		return runDirectoryImport(ctx, args[1:], stdout, stderr)
	case "list":
		return runDirectoryList(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("directory: unknown subcommand %q (import, list)", args[0])}
}

// runDirectoryImport imports a CSV of people and prints the per-row
// report; it fails when any row failed, though the good rows applied.
func runDirectoryImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("directory import", "FILE.csv", "Imports people from a CSV with the header\n"+
		strings.Join(directory.CSVColumns, ",")+"[,aliases] (aliases separated by ';'; status active or left,\nempty for active). "+
		"Each row is upserted by email on its own: a bad row is reported\nwith its line number and column and changes nothing; the good rows apply.", stderr)
	fs.globals()
	// The file comes first or last; the shared parser takes only flags.
	var name string
	switch {
	case len(args) > 0 && (args[0] == "-" || !strings.HasPrefix(args[0], "-")):
		name, args = args[0], args[1:]
	case len(args) > 1 && (args[len(args)-1] == "-" || !strings.HasPrefix(args[len(args)-1], "-")):
		name, args = args[len(args)-1], args[:len(args)-1]
	}
	if err := fs.parse(args); err != nil {
		return err
	}
	if name == "" {
		return usageError{"directory import: give one CSV file (- for standard input)"}
	}
	var in io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("directory import: %w", err)
		}
		defer f.Close()
		in = f
	}
	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	label := name
	if name == "-" {
		label = "standard input"
	}
	rep, err := directory.ImportFile(ctx, a.store, cliActor(), label, in)
	var fe *directory.FileError
	if errors.As(err, &fe) {
		return usageError{"directory import: " + fe.Message}
	}
	if err != nil {
		return fmt.Errorf("directory import: %w", err)
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(stdout, e.String())
	}
	fmt.Fprintf(stdout, "%d rows: %d created, %d updated, %d failed\n", rep.Rows, rep.Created, rep.Updated, rep.Failed)
	if !rep.OK() {
		return fmt.Errorf("directory import: %d of %d rows failed; the others applied", rep.Failed, rep.Rows)
	}
	return nil
}

// runDirectoryList prints the directory.
func runDirectoryList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("directory list", "", "Lists the people in the directory, by id.", stderr)
	fs.globals()
	var (
		status = fs.String("status", "", "only active or left")
		search = fs.String("search", "", "only people whose email, name or department contains this")
		format = fs.String("format", "table", "output format: table or json")
	)
	if err := fs.parse(args); err != nil {
		return err
	}
	if *status != "" && !roster.PersonStatus(*status).Valid() {
		return usageError{fmt.Sprintf("directory list: --status must be active or left, got %q", *status)}
	}
	if *format != "table" && *format != "json" {
		return usageError{fmt.Sprintf("directory list: --format must be table or json, got %q", *format)}
	}
	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	var people []roster.Person
	f := store.PeopleFilter{Status: roster.PersonStatus(*status), Search: *search, Limit: 1000}
	for {
		page, err := a.store.People(ctx, f)
		if err != nil {
			return fmt.Errorf("directory list: %w", err)
		}
		people = append(people, page.People...)
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if *format == "json" {
		out := make([]api.Person, 0, len(people))
		for _, p := range people {
			out = append(out, api.PersonOf(p))
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tDEPARTMENT\tMANAGER\tSTATUS\tALIASES")
	for _, p := range people {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Email, dash(p.Name), dash(p.Department),
			dash(p.ManagerEmail), p.Status, dash(strings.Join(p.Aliases, ";")))
	}
	return tw.Flush()
}
