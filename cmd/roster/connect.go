package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"roster"
	"roster/internal/connect"
	"roster/internal/miro"
)

// runConnect is `roster connect`: authorize roster in Miro (or take an
// existing token), check what the token can do at the chosen level, and
// save the connection with its tokens sealed.
func runConnect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("connect", "", "Connects Miro at team or organization level. Without --token it runs Miro's OAuth flow:\nit prints the authorize URL (and opens a browser unless --no-browser), catches the\nredirect on a loopback port, exchanges the code, then reports what the connection can do.\nFor real Miro, register the redirect URI http://127.0.0.1:PORT/callback in the app's\nsettings and pass the same --listen 127.0.0.1:PORT.", stderr)
	fs.globals()
	var (
		level        = fs.String("level", "team", "connection level: team (one team) or organization (the whole Enterprise org)")
		miroURL      = fs.String("miro-url", miro.DefaultBaseURL, "Miro REST API base URL (point it at roster mirosim to use the simulator)")
		authURL      = fs.String("auth-url", "", "OAuth authorize URL (default: Miro's, or <miro-url>/oauth/authorize for a simulator)")
		tokenURL     = fs.String("token-url", "", "OAuth token URL (default <miro-url>/v1/oauth/token)")
		clientID     = fs.String("client-id", "", "OAuth client id of the Miro app")
		clientSecret = fs.String("client-secret", "", "OAuth client secret of the Miro app")
		teamID       = fs.String("team-id", "", "preselect the team to install on, on Miro's page")
		noBrowser    = fs.Bool("no-browser", false, "print the authorize URL without trying to open a browser")
		listen       = fs.String("listen", "127.0.0.1:0", "loopback address for the OAuth callback; port 0 picks a free port")
		token        = fs.String("token", "", "use this existing access token instead of the OAuth flow (prefer the environment variable)")
		refreshToken = fs.String("refresh-token", "", "refresh token that goes with --token, for expiring tokens")
		scimToken    = fs.String("scim-token", "", "SCIM token (organization level only), needed to deactivate users")
		scimURL      = fs.String("scim-url", "", "Miro SCIM base URL (default: Miro's, or <miro-url>/api/v1/scim for a simulator)")
		replace      = fs.Bool("replace", false, "organization level: re-authorize the existing connection to the same organization in place")
		timeout      = fs.Duration("timeout", 5*time.Minute, "how long to wait for the authorization in the browser")
		syncInterval = fs.Duration("sync-interval", 0, "how often roster serve syncs this connection, at least 1m (default 24h for a new connection; connecting again keeps the current one)")
	)
	fs.envName("miro-url", "ROSTER_MIRO_URL")
	fs.envName("auth-url", "ROSTER_MIRO_AUTH_URL")
	fs.envName("token-url", "ROSTER_MIRO_TOKEN_URL")
	fs.envName("client-id", "ROSTER_MIRO_CLIENT_ID")
	fs.envName("client-secret", "ROSTER_MIRO_CLIENT_SECRET")
	fs.envName("scim-url", "ROSTER_MIRO_SCIM_URL")
	if err := fs.parse(args); err != nil {
		return err
	}

	// Check every flag before opening anything, so that a mistake leaves
	// no trace.
	lvl := roster.Level(*level)
	if !lvl.Valid() {
		return usageError{fmt.Sprintf("connect: --level must be %q or %q, got %q", roster.LevelTeam, roster.LevelOrganization, *level)}
	}
	if *scimToken != "" && lvl != roster.LevelOrganization {
		return usageError{"connect: --scim-token needs --level organization: SCIM acts on the whole organization"}
	}
	if *replace && lvl != roster.LevelOrganization {
		return usageError{"connect: --replace is for --level organization; connecting a team again updates its connection"}
	}
	if *syncInterval != 0 && *syncInterval < time.Minute {
		return usageError{fmt.Sprintf("connect: --sync-interval must be at least 1m, got %s", *syncInterval)}
	}
	if *refreshToken != "" && *token == "" {
		return usageError{"connect: --refresh-token goes with --token"}
	}
	if *token != "" && *teamID != "" {
		return usageError{"connect: --team-id preselects the team in the OAuth flow; a --token is already bound to its team"}
	}
	if *token == "" && (*clientID == "" || *clientSecret == "") {
		return usageError{"connect: the OAuth flow needs --client-id and --client-secret (or ROSTER_MIRO_CLIENT_ID and ROSTER_MIRO_CLIENT_SECRET); or pass an existing token with --token"}
	}
	if *token == "" && !isLoopback(*listen) {
		return usageError{fmt.Sprintf("connect: --listen must be a loopback address such as 127.0.0.1:0, got %q", *listen)}
	}
	if *timeout <= 0 {
		return usageError{"connect: --timeout must be positive"}
	}
	miroApp, err := connect.App{
		ClientID: *clientID, ClientSecret: *clientSecret,
		APIBaseURL: *miroURL, AuthURL: *authURL, TokenURL: *tokenURL, SCIMURL: *scimURL,
	}.Resolve()
	if err != nil {
		return usageError{fmt.Sprintf("connect: --miro-url %v", err)}
	}

	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	hc := &http.Client{}
	svc := &connect.Service{Store: a.store, Clients: a.newClients(miroApp, hc)}

	// 1. A token: from the OAuth flow or from --token.
	var tok miro.Token
	if *token != "" {
		tok = miro.Token{AccessToken: *token, RefreshToken: *refreshToken}
	} else {
		flow := &loopbackFlow{
			OAuth:  miroApp.OAuth("", hc, a.logger),
			Listen: *listen, TeamID: *teamID, Browser: !*noBrowser, Timeout: *timeout,
			Out: stdout, Logger: a.logger, Intro: levelIntro(lvl),
		}
		if tok, err = flow.Run(ctx); err != nil {
			return connectError(err, miroApp.APIBaseURL, fs.setting("miro-url"))
		}
	}

	// 2. What the token is bound to, and what the level can do with it;
	// the token comes back sealed on the connection.
	if *token != "" {
		// Miro's answer can take seconds of retries when it is slow or
		// unreachable: say what is being waited for.
		fmt.Fprintf(stderr, "Checking the token with Miro at %s...\n", miroApp.APIBaseURL)
	}
	report, conn, err := svc.Check(ctx, tok, lvl)
	if err != nil {
		return connectError(err, miroApp.APIBaseURL, fs.setting("miro-url"))
	}
	conn.SyncInterval = *syncInterval

	// 3. The SCIM token, checked with one call before it is kept.
	if *scimToken != "" {
		n, err := svc.CheckSCIM(ctx, miroApp.SCIMURL, *scimToken)
		if err != nil {
			return connectError(err, miroApp.APIBaseURL, fs.setting("miro-url"))
		}
		report.Notes = append(report.Notes, fmt.Sprintf("the SCIM token works (%s)", n))
		conn.SCIMBaseURL = miroApp.SCIMURL
		// Sealed as the raw token bytes: SCIM tokens are static, with no
		// refresh pair to keep beside them.
		if conn.SealedSCIMToken, err = a.sealer.Seal([]byte(*scimToken)); err != nil {
			return fmt.Errorf("connect: seal the SCIM token: %w", err)
		}
	}

	printReport(stdout, report, conn)
	if report.Unusable != "" {
		return fmt.Errorf("connect: not saved: %s", report.Unusable)
	}

	// 4. Save.
	created, err := connect.Save(ctx, a.store, &conn)
	var already *connect.AlreadyConnectedError
	if errors.As(err, &already) && *replace {
		err = connect.Replace(ctx, a.store, &conn)
		created = false
	}
	if err != nil {
		return connectError(err, miroApp.APIBaseURL, fs.setting("miro-url"))
	}
	if created {
		fmt.Fprintf(stdout, "\nSaved as connection %d. Run \"roster sync --connection %d\" to sync it.\n", conn.ID, conn.ID)
	} else {
		fmt.Fprintf(stdout, "\nUpdated connection %d with the new token. Run \"roster sync --connection %d\" to sync it.\n", conn.ID, conn.ID)
	}
	return nil
}

// connectError is a failed connect's error, said once: an unreachable
// Miro names the setting that chose its address; the connect package's
// own "connect:" prefix is not repeated.
func connectError(err error, miroURL, setting string) error {
	if op := (*net.OpError)(nil); errors.As(err, &op) {
		env := ""
		if setting != "ROSTER_MIRO_URL" {
			env = " or ROSTER_MIRO_URL"
		}
		return fmt.Errorf("connect: cannot reach Miro at %s (from %s): %w; check %s%s", miroURL, setting, op, strings.TrimPrefix(setting, "the default "), env)
	}
	if strings.HasPrefix(err.Error(), "connect: ") {
		return err
	}
	return fmt.Errorf("connect: %w", err)
}

// levelIntro says what the level needs and what to pick on Miro's page
// (DESIGN §1), as the dashboard's "Add connection" page does.
func levelIntro(l roster.Level) string {
	r := connect.LevelRequirement(l)
	return r.Summary + "\n  - " + strings.Join(r.Notes, "\n  - ")
}

// printReport prints the connection's facts, capabilities and problems in
// plain words. Tokens are never printed.
func printReport(w io.Writer, r connect.Report, c roster.Connection) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	p("\nMiro connection, %s level", r.Level)
	if r.OrgID != "" {
		org := fmt.Sprintf("%s (%s)", r.OrgName, r.OrgID)
		if r.Plan != "" {
			org += fmt.Sprintf(", plan %s, %d full licenses purchased", r.Plan, r.FullLicensesPurchased)
		}
		p("  organization:  %s", org)
	}
	p("  team:          %s (%s)", r.TeamName, r.TeamID)
	p("  installed by:  %s (%s)", r.InstallerName, r.InstallerID)
	if r.Level == roster.LevelOrganization || r.Enterprise {
		p("  Enterprise:    %s", yes(r.Enterprise))
		p("  Company Admin: %s", yes(r.CompanyAdmin))
	}
	p("  scopes:        %s", strings.Join(r.Scopes, " "))
	p("Capabilities:")
	for _, cp := range c.Capabilities() {
		mark := "yes"
		if !cp.Available {
			mark = "no "
		}
		p("  [%s] %s: %s", mark, cp.Name, cp.Reason)
	}
	if len(r.Problems) > 0 {
		p("Problems:")
		for _, s := range r.Problems {
			p("  - %s", s)
		}
	}
	if len(r.Notes) > 0 {
		p("Notes:")
		for _, s := range r.Notes {
			p("  - %s", s)
		}
	}
}
