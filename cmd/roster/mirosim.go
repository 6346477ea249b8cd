package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"roster/internal/mirosim"
)

// runMirosim is `roster mirosim`: the Miro simulator alone, for scripts,
// benchmarks and trying roster without a Miro account.
func runMirosim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mirosim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: roster mirosim [flags]\n\nServes a simulated Miro (API, OAuth, SCIM, /_sim admin). Each flag can also be set\nby the environment variable ROSTER_MIROSIM_<FLAG> (upper case, - becomes _).\n\nFlags:")
		fs.PrintDefaults()
	}
	var (
		listen      = fs.String("listen", "127.0.0.1:9090", "address to listen on; port 0 picks a free port")
		members     = fs.Int("members", 5000, "members of the Enterprise organization")
		teams       = fs.Int("teams", 50, "teams of the Enterprise organization")
		perMember   = fs.Float64("teams-per-member", 3, "mean number of teams a member belongs to")
		seed        = fs.Int64("seed", 1, "generator seed; the same flags give the same organization")
		rateWindow  = fs.Duration("rate-window", time.Minute, "credit window (whole seconds); compress it to test pacing")
		rateBudget  = fs.Int("rate-budget", 100000, "credits per window per user and app")
		tokenTTL    = fs.Duration("token-ttl", time.Hour, "access token lifetime (expires_in)")
		autoApprove = fs.Bool("auto-approve", false, "approve /oauth/authorize at once as the Company Admin (or ?sim_user=)")
		nonEntTeams = fs.Int("non-enterprise-teams", 1, "teams in separate non-Enterprise orgs (legacy v1 API only)")
	)
	if err := flagsFromEnv(fs, "ROSTER_MIROSIM_"); err != nil {
		return usageError{err.Error()}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{"mirosim: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("mirosim: unexpected argument %q", fs.Arg(0))}
	}

	sim, err := mirosim.New(mirosim.Config{
		Members: *members, Teams: *teams, TeamsPerMember: *perMember, Seed: *seed,
		RateWindow: *rateWindow, RateBudget: *rateBudget, AccessTokenTTL: *tokenTTL,
		AutoApprove: *autoApprove, NonEnterpriseTeams: *nonEntTeams,
	})
	if err != nil {
		return usageError{err.Error()}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("mirosim: listen on %s: %w", *listen, err)
	}
	baseURL := "http://" + ln.Addr().String()
	printMirosimInfo(stdout, sim.Info(baseURL))

	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("mirosim: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("mirosim: shutdown: %w", err)
	}
	return nil
}

// flagsFromEnv sets each flag of fs from PREFIX_NAME when that variable is
// set, so that command-line flags parsed afterwards still win.
func flagsFromEnv(fs *flag.FlagSet, prefix string) error {
	var firstErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := prefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := os.LookupEnv(name)
		if !ok || firstErr != nil {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			firstErr = fmt.Errorf("mirosim: %s=%q: %v", name, v, err)
		}
	})
	return firstErr
}

// printMirosimInfo prints what a user needs to point roster or curl at
// the simulator. The first line is "base URL: <url>", which tests read.
func printMirosimInfo(w io.Writer, info mirosim.Info) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("base URL: %s", info.APIBaseURL)
	p("  authorize URL: %s", info.AuthorizeURL)
	p("  token URL:     %s", info.TokenURL)
	p("  SCIM base URL: %s", info.SCIMBaseURL)
	p("  admin URL:     %s (GET %s/info gives all of this as JSON)", info.AdminURL, info.AdminURL)
	p("OAuth app: client id %s, client secret %s", info.ClientID, info.ClientSecret)
	p("Enterprise org: %s (%s), %d teams", info.OrgID, info.OrgName, len(info.TeamIDs))
	p("Rate limit: %d credits per %ds per user and app", info.RateBudget, info.RateWindowSeconds)
	p("Ready installs:")
	for _, kind := range []string{mirosim.InstallOrgAdmin, mirosim.InstallOrgNonAdmin, mirosim.InstallTeam, mirosim.InstallNonEnterpriseTeam} {
		in, ok := info.Installs[kind]
		if !ok {
			continue
		}
		p("  %s:", kind)
		p("    access token:  %s", in.AccessToken)
		p("    refresh token: %s (access token expires in %ds)", in.RefreshToken, in.ExpiresIn)
		p("    user %s, team %s, org %s", in.UserID, in.TeamID, in.OrgID)
		p("    scopes: %s", strings.Join(in.Scopes, " "))
	}
	p("SCIM token: %s", info.SCIMToken)
}
