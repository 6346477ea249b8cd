package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"roster"
	"roster/internal/connect"
	"roster/internal/httpauth"
	"roster/internal/jobs"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/workflow"
)

// demoMarker marks a data directory that roster demo created, and so may
// delete to start afresh; no other directory is ever deleted.
const demoMarker = ".roster-demo"

// demoLockFile is locked by the roster demo running in a folder
// (lockDemoDir).
const demoLockFile = ".roster-demo.lock"

// demoAdminEmail is the demo's admin login.
const demoAdminEmail = "admin@roster.demo"

// runDemo is `roster demo`: the dashboard over an embedded Miro simulator,
// connected at organization and team level and synced, so that a newcomer
// sees everything with one command and no Miro account.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "", "Runs roster serve over an embedded Miro simulator: a seeded Enterprise organization,\nconnected at organization level (as its Company Admin) and at team level (a team of\nanother, non-Enterprise organization), synced, with a demo admin whose password is\nprinted. \"Add connection\" in the dashboard goes through the simulator's OAuth pages.\nNo Miro account is needed. Stop it with Ctrl-C.", stderr)
	var o demoOptions
	fs.StringVar(&o.dataDir, "data-dir", "./roster-demo", "directory for the demo's data; recreated on every run unless --reuse (only if roster demo made it)")
	fs.BoolVar(&o.reuse, "reuse", false, "keep the data directory's database from an earlier run (connections are re-authorized; the admin keeps their password)")
	fs.StringVar(&o.logLevel, "log-level", "warn", "log level: debug, info, warn or error (logs go to stderr)")
	fs.IntVar(&o.members, "members", 5000, "members of the simulated organization")
	fs.IntVar(&o.teams, "teams", 40, "teams of the simulated organization")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the simulated organization: the same seed gives the same people")
	fs.BoolVar(&o.autoApprove, "auto-approve", false, "the simulator's OAuth page approves at once as the Company Admin, instead of letting you choose the user and team")
	listen := fs.String("listen", "127.0.0.1:8080", "address roster listens on; port 0 picks a free port")
	fs.StringVar(&o.simListen, "sim-listen", "127.0.0.1:0", "address the embedded simulator listens on")
	if err := fs.parse(args); err != nil {
		return err
	}
	if o.members < 2 || o.teams < 1 {
		return usageError{fmt.Sprintf("demo: --members must be at least 2 and --teams at least 1, got %d and %d", o.members, o.teams)}
	}

	fmt.Fprintf(stdout, "Starting a simulated Miro organization of %d members in %d teams...\n", o.members, o.teams)
	d, err := startDemo(ctx, o, stdout, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	return serveApp(ctx, d.app, serveOptions{listen: *listen, workers: jobs.DefaultWorkers, miro: d.miro}, func(url string) {
		fmt.Fprintf(stdout, "\nroster demo is ready. Open %s and log in:\n\n", url)
		fmt.Fprintf(stdout, "  email:    %s\n", d.adminEmail)
		if d.adminPassword != "" {
			fmt.Fprintf(stdout, "  password: %s\n\n(shown once; it is stored only as a bcrypt hash)\n", d.adminPassword)
		} else {
			fmt.Fprintf(stdout, "  password: the one printed when %s was created\n", o.dataDir)
		}
		fmt.Fprintf(stdout, "\nThe Miro simulator runs at %s (its admin endpoints under /_sim). Ctrl-C stops both.\n", d.simURL)
		fmt.Fprintf(stdout, "Workflows: onboarding, offboarding and license-reclaim are saved disabled; dry-run them under Workflows.\n")
	})
}

// demoOptions configure startDemo.
type demoOptions struct {
	dataDir     string
	reuse       bool
	logLevel    string
	members     int
	teams       int
	seed        int64
	autoApprove bool
	simListen   string
	// syncTimeout bounds the initial syncs (default 5 minutes).
	syncTimeout time.Duration
}

// demo is a running simulator and a roster store connected to it and
// synced; serveApp serves it. Browser tests drive it too.
type demo struct {
	sim           *mirosim.Sim
	simURL        string
	simSrv        *http.Server
	app           *app
	miro          connect.App
	org, team     roster.Connection
	adminEmail    string
	adminPassword string   // "" when an earlier run created the admin
	lock          *os.File // the data directory's demo lock (lockDemoDir)
}

// Close stops the simulator and closes the store.
func (d *demo) Close() {
	if d.simSrv != nil {
		_ = d.simSrv.Close()
	}
	if d.app != nil {
		_ = d.app.Close()
	}
	if d.lock != nil {
		_ = d.lock.Close()
	}
}

// startDemo starts the simulator on a loopback port, prepares the data
// directory, connects the organization (Company Admin install) and a team
// of another organization (legacy team API, inferred licenses), syncs
// both and creates the demo admin.
func startDemo(ctx context.Context, o demoOptions, stdout, stderr io.Writer) (_ *demo, err error) {
	d := &demo{}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.lock, err = prepareDemoDir(o.dataDir, o.reuse); err != nil {
		return nil, err
	}
	if d.sim, err = mirosim.New(mirosim.Config{Seed: o.seed, Members: o.members, Teams: o.teams, AutoApprove: o.autoApprove}); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	ln, err := net.Listen("tcp", o.simListen)
	if err != nil {
		return nil, fmt.Errorf("demo: listen for the simulator on %s (--sim-listen): %w", o.simListen, err)
	}
	d.simURL = "http://" + ln.Addr().String()
	d.simSrv = &http.Server{Handler: d.sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = d.simSrv.Serve(ln) }()
	sim := d.sim

	info := sim.Info(d.simURL)
	if d.miro, err = (connect.App{ClientID: info.ClientID, ClientSecret: info.ClientSecret, APIBaseURL: d.simURL}).Resolve(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if d.app, err = openApp(ctx, globalFlags{dataDir: o.dataDir, logLevel: o.logLevel}, stderr); err != nil {
		return nil, err
	}
	clients := d.app.newClients(d.miro, &http.Client{})
	svc := &connect.Service{Store: d.app.store, Clients: clients}
	// The organization connection gets the simulator's SCIM token, as
	// `roster connect --scim-token` would, so deactivation works.
	scim, err := d.app.sealer.Seal([]byte(info.SCIMToken))
	if err != nil {
		return nil, fmt.Errorf("demo: seal the SCIM token: %w", err)
	}
	if d.org, err = demoConnect(ctx, svc, info.Installs[mirosim.InstallOrgAdmin], roster.LevelOrganization, scim); err != nil {
		return nil, err
	}
	if d.team, err = demoConnect(ctx, svc, info.Installs[mirosim.InstallNonEnterpriseTeam], roster.LevelTeam, nil); err != nil {
		return nil, err
	}

	syncCtx, cancel := context.WithTimeout(ctx, cmp.Or(o.syncTimeout, 5*time.Minute))
	defer cancel()
	syncer := newSyncer(d.app, clients)
	for _, c := range []roster.Connection{d.org, d.team} {
		run, err := syncer.Sync(syncCtx, c.ID)
		printRun(stdout, c.ID, run, err)
		if err != nil {
			return nil, fmt.Errorf("demo: sync connection %d: %w", c.ID, err)
		}
	}

	d.adminEmail = demoAdminEmail
	if d.adminPassword, err = demoAdmin(ctx, d.app.store); err != nil {
		return nil, err
	}
	if err := demoPrices(ctx, d.app.store); err != nil {
		return nil, err
	}
	if err := demoDirectory(ctx, d.app.store, d.org.ID); err != nil {
		return nil, err
	}
	if err := demoWorkflows(ctx, d.app.store, d.org.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// demoDepartments are the example directory's departments.
var demoDepartments = []string{"Engineering", "Sales", "Design", "Operations"}

// demoDirectory fills the directory with up to 400 of the organization's
// internal members, named as the simulator named them, in departments
// with managers, one in 25 of whom has left the company but still holds a
// Miro account: what offboarding is for. Miro gives no names, so the users
// list shows the directory's.
func demoDirectory(ctx context.Context, st store.Store, orgConn int64) error {
	accs, err := st.Accounts(ctx, store.AccountFilter{ConnectionID: orgConn, OrgRole: roster.OrgRoleInternalUser, Limit: 400})
	if err != nil {
		return fmt.Errorf("demo: read accounts: %w", err)
	}
	managers := map[string]string{}
	for i, a := range accs {
		if a.Email == "" {
			continue
		}
		dept := demoDepartments[i%len(demoDepartments)]
		p := roster.Person{Email: a.Email, Name: cmp.Or(demoPersonName(a.Email), a.Name), Department: dept,
			Status: roster.PersonActive, ManagerEmail: managers[dept]}
		if managers[dept] == "" {
			managers[dept] = a.Email
		} else if i%25 == 0 {
			p.Status = roster.PersonLeft
		}
		if err := st.UpsertPerson(ctx, &p); err != nil {
			return fmt.Errorf("demo: directory person %s: %w", a.Email, err)
		}
	}
	return nil
}

// demoPersonName is the given and family name of the simulated person
// whose email is email: the simulator writes emails as
// given.family.n@domain. It is "" for any other email.
func demoPersonName(email string) string {
	local, _, _ := strings.Cut(email, "@")
	parts := strings.Split(local, ".")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	title := func(s string) string {
		r, n := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(r)) + s[n:]
	}
	return title(parts[0]) + " " + title(parts[1])
}

// demoWorkflows saves the ready templates, disabled, on the organization
// connection, unless an earlier run saved them: the admin dry-runs and
// enables them in the dashboard.
func demoWorkflows(ctx context.Context, st store.Store, orgConn int64) error {
	teams, err := st.Teams(ctx, orgConn)
	if err != nil || len(teams) == 0 {
		return fmt.Errorf("demo: read the organization's teams: %w", cmp.Or(err, errors.New("none synced")))
	}
	engine := &workflow.Engine{Store: st}
	for _, name := range workflow.Templates {
		if _, err := st.WorkflowByName(ctx, name); err == nil {
			continue
		}
		w, err := workflow.Template(name, workflow.TemplateOptions{ConnectionID: orgConn, Team: teams[0].MiroTeamID,
			NotifyChannel: roster.ChannelOutbox, Approval: roster.ChannelUI})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if _, err := engine.Save(ctx, w); err != nil {
			return fmt.Errorf("demo: save workflow %s: %w", name, err)
		}
	}
	return nil
}

// demoPrices sets example monthly seat prices, so the overview shows cost
// and savings at once, unless an earlier run's admin set their own.
func demoPrices(ctx context.Context, st store.Store) error {
	set, err := st.Settings(ctx)
	if err != nil {
		return fmt.Errorf("demo: read settings: %w", err)
	}
	if len(set.LicensePrices) > 0 {
		return nil
	}
	// Example prices per seat and month; the admin changes them in Settings.
	set.LicensePrices = map[string]float64{"full": 16, "full_trial": 0, "advanced": 20, "standard": 10, "basic": 8}
	if err := st.SaveSettings(ctx, set); err != nil {
		return fmt.Errorf("demo: save example prices: %w", err)
	}
	return nil
}

// prepareDemoDir takes the data directory's demo lock, so that a second
// demo in the same folder refuses while one runs there, then empties a
// directory roster demo made (unless reuse) and refuses one it did not
// make, so that a mistyped --data-dir never deletes someone's data. The
// returned lock is held until closed (nil where flock is missing).
func prepareDemoDir(dir string, reuse bool) (*os.File, error) {
	if dir == "" {
		return nil, usageError{"demo: --data-dir must not be empty"}
	}
	marker := filepath.Join(dir, demoMarker)
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("demo: read the data directory: %w", err)
	case len(entries) == 0:
	default:
		if _, err := os.Stat(marker); err != nil {
			return nil, usageError{fmt.Sprintf("demo: %s exists and was not made by roster demo; pass another --data-dir", dir)}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: create the data directory: %w", err)
	}
	lock, err := lockDemoDir(dir)
	if err != nil {
		return nil, err
	}
	if !reuse {
		// Under the lock, no running demo uses these files. The lock file
		// itself stays: removing it would let a third demo lock a new one.
		if entries, err = os.ReadDir(dir); err != nil {
			lock.Close()
			return nil, fmt.Errorf("demo: read the data directory: %w", err)
		}
		for _, e := range entries {
			if e.Name() == demoLockFile {
				continue
			}
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				lock.Close()
				return nil, fmt.Errorf("demo: remove the previous demo's data: %w", err)
			}
		}
	}
	if err := os.WriteFile(marker, []byte("made by roster demo; emptied on each run without --reuse\n"), 0o600); err != nil {
		lock.Close()
		return nil, fmt.Errorf("demo: mark the data directory: %w", err)
	}
	return lock, nil
}

// demoConnect saves a simulator install as a connection, exactly as the
// OAuth callback would after Miro's consent page: the token is inspected
// (connect.Check) and saved (connect.Save). A reused data directory gets
// its connection re-authorized in place.
func demoConnect(ctx context.Context, svc *connect.Service, in mirosim.Install, level roster.Level, sealedSCIM []byte) (roster.Connection, error) {
	tok := miro.Token{
		AccessToken: in.AccessToken, RefreshToken: in.RefreshToken,
		TeamID: in.TeamID, UserID: in.UserID, Scopes: in.Scopes,
	}
	if in.ExpiresIn > 0 {
		tok.Expiry = time.Now().Add(time.Duration(in.ExpiresIn) * time.Second)
	}
	report, conn, err := svc.Check(ctx, tok, level)
	if err != nil {
		return roster.Connection{}, fmt.Errorf("demo: connect at %s level: %w", level, err)
	}
	if report.Unusable != "" {
		return roster.Connection{}, fmt.Errorf("demo: connect at %s level: %s", level, report.Unusable)
	}
	if sealedSCIM != nil {
		conn.SCIMBaseURL, conn.SealedSCIMToken = svc.App().SCIMURL, sealedSCIM
	}
	_, err = connect.Save(ctx, svc.Store, &conn)
	if errors.As(err, new(*connect.AlreadyConnectedError)) {
		err = connect.Replace(ctx, svc.Store, &conn)
	}
	if err != nil {
		return roster.Connection{}, fmt.Errorf("demo: %w", err)
	}
	return conn, nil
}

// demoAdmin creates the demo admin with a random password and returns it;
// "" when the admin exists from an earlier run.
func demoAdmin(ctx context.Context, st store.Store) (string, error) {
	if _, err := st.OperatorByEmail(ctx, demoAdminEmail); err == nil {
		return "", nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("demo: look up the admin: %w", err)
	}
	pw := generatePassword()
	hash, err := httpauth.HashPassword(pw, demoAdminEmail)
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	op := roster.Operator{Email: demoAdminEmail, PasswordHash: hash, Role: roster.RoleAdmin}
	if err := st.CreateOperator(ctx, &op); err != nil {
		return "", fmt.Errorf("demo: create the admin: %w", err)
	}
	return pw, nil
}
