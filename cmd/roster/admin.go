package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store"
)

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

// runAdmin is `roster admin <subcommand>`: operator accounts of the
// dashboard. For now it has one subcommand, create.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stderr, "Usage: roster admin create --email E [--role admin|viewer] [--password-stdin]")
		if len(args) == 0 {
			return usageError{"admin: no subcommand given (create)"}
		}
		return nil
	}
	switch args[0] {
	case "create":
		return runAdminCreate(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("admin: unknown subcommand %q (create)", args[0])}
}

// runAdminCreate creates a dashboard operator. The password comes from
// standard input (--password-stdin), never from a flag, which the process
// list would show; without it one is generated and printed once.
func runAdminCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin-create", "", "Creates an operator who logs in to the dashboard: an admin (acts and changes settings)\nor a viewer (sees everything, cannot act). Without --password-stdin a password is\ngenerated and printed once.", stderr)
	fs.globals()
	var (
		email     = fs.String("email", "", "the operator's email (required)")
		role      = fs.String("role", string(roster.RoleAdmin), "admin or viewer")
		pwFromStd = fs.Bool("password-stdin", false, "read the password from standard input (first line): 12 characters to 72 bytes, not a common one")
	)
	if err := fs.parse(args); err != nil {
		return err
	}
	e, err := roster.ParseEmail(*email)
	if err != nil {
		return usageError{fmt.Sprintf("admin create: --email must be an email address: %v", err)}
	}
	r := roster.Role(*role)
	if !r.Valid() {
		return usageError{fmt.Sprintf("admin create: --role must be admin or viewer, got %q", *role)}
	}
	var pw string
	generated := !*pwFromStd
	if *pwFromStd {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("admin create: read the password from standard input: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if err := httpauth.CheckPassword(pw, e); err != nil {
			return usageError{fmt.Sprintf("admin create: the password on standard input: %v", err)}
		}
	} else {
		pw = generatePassword()
	}
	hash, err := httpauth.HashPassword(pw, e)
	if err != nil {
		return fmt.Errorf("admin create: %w", err)
	}

	a, err := openStore(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	op := roster.Operator{Email: e, PasswordHash: hash, Role: r}
	if err := a.store.CreateOperator(ctx, &op); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("admin create: an operator with email %s exists", e)
		}
		return fmt.Errorf("admin create: %w", err)
	}
	if err := a.store.AppendAudit(ctx, &roster.AuditEntry{Actor: "system", Kind: "auth", Action: "operator_created",
		Target: e, Result: "ok", Detail: "created by roster admin create as " + string(r)}); err != nil {
		return fmt.Errorf("admin create: audit: %w", err)
	}
	fmt.Fprintf(stdout, "created %s %s (operator %d)\n", r, e, op.ID)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown once; it is stored only as a bcrypt hash)\n", pw)
	}
	return nil
}

// generatePassword is 26 random base32 characters (130 bits).
func generatePassword() string { return rand.Text() }
