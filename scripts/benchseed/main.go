// Command benchseed prepares a store for scripts/bench-load.sh: it seeds
// the database with the dashboard benchmarks' organization
// (storetest.SeedDashboard: 100,000 accounts, 1,000 teams, 300,000
// memberships by default, and a directory that names 9 in 10 of the
// people), creates a viewer and a session for it, and
// prints the session cookie ("roster_session=...") on standard output, for
// a load generator to send. It is a benchmark tool, not part of roster.
//
//	go run ./scripts/benchseed -database ./data/roster.db
//	go run ./scripts/benchseed -database 'postgres://...?search_path=bench'
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"time"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

func main() {
	dsn := flag.String("database", "", "a SQLite file or a postgres:// URL (required; created and migrated)")
	members := flag.Int("members", storetest.SeedMembers, "accounts to seed (in members/100 teams, 3 memberships each)")
	flag.Parse()
	if *dsn == "" || *members < 1 {
		flag.Usage()
		os.Exit(2)
	}
	cookie, err := seed(context.Background(), *dsn, *members)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchseed:", err)
		os.Exit(1)
	}
	fmt.Println(cookie)
}

func seed(ctx context.Context, dsn string, members int) (string, error) {
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	start := time.Now()
	if _, err := storetest.SeedDashboard(ctx, db, members); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "benchseed: %d accounts seeded in %s\n", members, time.Since(start).Round(time.Millisecond))

	// A viewer and a session as the dashboard's login makes them: the
	// cookie holds 32 random bytes, the store their SHA-256.
	hash, err := httpauth.HashPassword(rand.Text(), "")
	if err != nil {
		return "", err
	}
	op := roster.Operator{Email: "load@example.com", PasswordHash: hash, Role: roster.RoleViewer}
	if err := db.CreateOperator(ctx, &op); err != nil {
		return "", err
	}
	token := make([]byte, 32)
	_, _ = rand.Read(token)
	sum := sha256.Sum256(token)
	now := time.Now().UTC()
	if err := db.CreateSession(ctx, roster.Session{
		TokenHash: sum[:], OperatorID: op.ID, CSRFToken: rand.Text(), CreatedAt: now, ExpiresAt: now.Add(2 * time.Hour),
	}); err != nil {
		return "", err
	}
	return "roster_session=" + base64.RawURLEncoding.EncodeToString(token), nil
}
