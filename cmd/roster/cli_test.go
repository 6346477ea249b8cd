package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/secret"
	"roster/internal/store/sqlstore"
)

// connectedE2E is an e2e with the organization connected (1) and a team
// of another organization (2), both synced.
func connectedE2E(t *testing.T) *e2e {
	t.Helper()
	e := newE2E(t)
	for _, c := range []struct{ level, kind string }{{"organization", mirosim.InstallOrgAdmin}, {"team", mirosim.InstallNonEnterpriseTeam}} {
		r := e.roster(t, "connect", "--level", c.level, "--miro-url", e.info.APIBaseURL, "--token", e.token(c.kind))
		require.NoError(t, r.err, r.stdout+r.stderr)
	}
	r := e.roster(t, "sync")
	require.NoError(t, r.err, r.stdout+r.stderr)
	return e
}

// teamRow is one row of `roster teams`.
type teamRow struct{ id, name string }

func listTeams(t *testing.T, e *e2e) []teamRow {
	t.Helper()
	r := e.roster(t, "teams")
	require.NoError(t, r.err, r.stderr)
	var rows []teamRow
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Equal(t, []string{"ID", "NAME", "SIZE", "ADMINS", "CONNECTION"}, strings.Fields(lines[0]))
	for _, l := range lines[1 : len(lines)-1] {
		f := strings.Fields(l)
		rows = append(rows, teamRow{id: f[0], name: strings.Join(f[1:len(f)-3], " ")})
	}
	return rows
}

func requireFits80(t *testing.T, out string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		require.LessOrEqual(t, utf8.RuneCountInString(l), 80, "%q is wider than 80 columns", l)
	}
}

func TestCLITeams(t *testing.T) {
	t.Parallel()
	e := connectedE2E(t)
	r := e.roster(t, "teams")
	require.NoError(t, r.err, r.stderr)
	requireFits80(t, r.stdout)
	rows := listTeams(t, e)
	require.Len(t, rows, 7, "six teams of the organization and the other organization's team")
	require.Contains(t, r.stdout, "7 teams\n")
	for _, row := range rows {
		require.Regexp(t, `^[0-9]+$`, row.id)
		require.NotEmpty(t, row.name)
	}

	r = e.roster(t, "teams", "--search", rows[0].name)
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, rows[0].id)
	require.Contains(t, r.stdout, "1 team\n")
}

func TestCLIUsersFilters(t *testing.T) {
	t.Parallel()
	e := connectedE2E(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"License", []string{"--license", "Full"}, []string{`--license must be one of full, full_trial, occasional`, `got "Full"`}},
		{"Role", []string{"--role", "admin"}, []string{"--role must be one of organization_internal_admin, organization_internal_user", `got "admin"`}},
		{"UnknownTeam", []string{"--team", "Nowhere 99"}, []string{`no team is named "Nowhere 99"`, "roster teams"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.roster(t, append([]string{"users"}, tc.args...)...)
			require.Error(t, r.err)
			require.Equal(t, 2, r.code(), r.err.Error())
			for _, w := range tc.want {
				require.Contains(t, r.err.Error(), w)
			}
			require.NotContains(t, r.stdout, "people", "nothing is listed")
		})
	}

	// A team by name lists the same people as by id.
	rows := listTeams(t, e)
	byID := e.roster(t, "users", "--team", rows[0].id, "--format", "json")
	require.NoError(t, byID.err, byID.stderr)
	require.NotEmpty(t, decodeUsers(t, byID.stdout))
	byName := e.roster(t, "users", "--team", strings.ToLower(rows[0].name), "--format", "json")
	require.NoError(t, byName.err, byName.stderr)
	require.Equal(t, byID.stdout, byName.stdout)

	r := e.roster(t, "users", "--license", "full", "--role", "organization_internal_user")
	require.NoError(t, r.err, r.stderr)
}

func TestCLITeamAmbiguous(t *testing.T) {
	t.Parallel()
	e := connectedE2E(t)
	rows := listTeams(t, e)
	// The other organization's team takes the name of one of ours, as two
	// organizations' teams may be named alike.
	var foreign string
	r := e.roster(t, "teams")
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[len(f)-1] == "2" {
			foreign = f[0]
		}
	}
	require.NotEmpty(t, foreign, r.stdout)
	var ours teamRow
	for _, row := range rows {
		if row.id != foreign {
			ours = row
		}
	}
	db, err := sqlstore.Open(context.Background(), filepath.Join(e.dataDir, "roster.db"))
	require.NoError(t, err)
	_, err = db.SQL().Exec(`UPDATE teams SET name = $1 WHERE miro_team_id = $2`, ours.name, foreign)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	for _, cmd := range [][]string{
		{"users", "--team", ours.name},
		{"invite", "--connection", "1", "--team", strings.ToUpper(ours.name), "--email", "someone@example.com"},
	} {
		r = e.roster(t, cmd...)
		require.Equal(t, 2, r.code(), "%v", cmd)
		require.Contains(t, r.err.Error(), "names 2 teams; give the id of one")
		require.Contains(t, r.err.Error(), ours.id)
		require.Contains(t, r.err.Error(), foreign)
		require.NotContains(t, r.stdout, "action key")
	}
	r = e.roster(t, "users", "--team", ours.id)
	require.NoError(t, r.err, "the id is never ambiguous")
}

func TestCLIInviteKeyLine(t *testing.T) {
	t.Parallel()
	e := connectedE2E(t)
	rows := listTeams(t, e)

	// A team the organization connection does not cover: the other
	// organization's. Nothing is attempted, so no key is printed.
	other := e.roster(t, "teams")
	require.NoError(t, other.err)
	var foreign teamRow
	for _, l := range strings.Split(other.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[len(f)-1] == "2" {
			foreign = teamRow{id: f[0]}
		}
	}
	require.NotEmpty(t, foreign.id, other.stdout)
	for _, team := range []string{foreign.id, "Nowhere 99"} {
		r := e.roster(t, "invite", "--connection", "1", "--team", team, "--email", "someone@example.com")
		require.Error(t, r.err)
		require.Equal(t, 2, r.code(), r.err.Error())
		require.NotContains(t, r.stdout, "action key", "no action was attempted")
	}

	// A valid invite, by team name, prints its key before acting.
	inTeam := map[string]bool{}
	for _, u := range decodeUsers(t, e.roster(t, "users", "--team", rows[0].id, "--format", "json").stdout) {
		inTeam[u.Email] = true
	}
	var email string
	for _, u := range decodeUsers(t, e.roster(t, "users", "--connection", "1", "--role", "organization_internal_user", "--format", "json").stdout) {
		if !inTeam[u.Email] && u.Email != "" {
			email = u.Email
		}
	}
	require.NotEmpty(t, email)
	r := e.roster(t, "invite", "--connection", "1", "--team", rows[0].name, "--email", email)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Regexp(t, `^action key cli-[0-9a-f]+ \(to retry safely: --key cli-[0-9a-f]+\)\n`, r.stdout)
}

func TestCLIUnreachableMiro(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	r := e.roster(t, "connect", "--level", "team", "--token", "x", "--miro-url", "http://127.0.0.1:1")
	require.Error(t, r.err)
	require.Equal(t, 1, r.code())
	msg := r.err.Error()
	require.Contains(t, msg, "connect: cannot reach Miro at http://127.0.0.1:1 (from --miro-url)")
	require.Contains(t, msg, "check --miro-url or ROSTER_MIRO_URL")
	require.NotContains(t, msg, "connect: connect:")
	require.Contains(t, r.stderr, "Checking the token with Miro at http://127.0.0.1:1...", "the wait is announced")
}

func TestCLIConnections(t *testing.T) {
	t.Parallel()
	e := connectedE2E(t)
	r := e.roster(t, "connections")
	require.NoError(t, r.err, r.stderr)
	requireFits80(t, r.stdout)
	require.Contains(t, r.stdout, "roster connections show ID")

	r = e.roster(t, "connections", "show", "1")
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "level       organization")
	require.Contains(t, r.stdout, "capabilities (")
	require.Regexp(t, `(?m)^  yes  [a-z -]+: \S`, r.stdout, "each capability with its reason")

	for _, tc := range []struct{ args []string }{{[]string{"connections", "show", "9"}}, {[]string{"connections", "show"}}, {[]string{"connections", "show", "one"}}} {
		r = e.roster(t, tc.args...)
		require.Equal(t, 2, r.code(), "%v", tc.args)
	}
	require.Contains(t, r.err.Error(), `"one" is not a connection id`)
}

func TestCLISyncErrorOnce(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	in := e.info.Installs[mirosim.InstallTeam]
	tok, err := e.sim.MintToken(in.UserID, in.TeamID, in.Scopes)
	require.NoError(t, err)
	r := e.roster(t, "connect", "--level", "team", "--miro-url", e.info.APIBaseURL, "--token", tok.AccessToken)
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = e.roster(t, "sync")
	require.NoError(t, r.err)
	o := &miro.OAuth{ClientID: e.info.ClientID, ClientSecret: e.info.ClientSecret, APIBaseURL: e.info.APIBaseURL, TokenURL: e.info.TokenURL}
	require.NoError(t, o.Revoke(context.Background(), tok.AccessToken))

	r = e.roster(t, "sync", "--log-level", "debug")
	require.Equal(t, 1, r.code())
	require.Contains(t, r.stdout, "connection 1: FAILED (nothing was changed)")
	all := r.stdout + r.stderr + "roster: " + r.err.Error()
	require.Equal(t, 1, strings.Count(all, "reconnect"), "the error is printed once:\n%s", all)
}

// TestCLISecretKey is not parallel: it sets ROSTER_SECRET_KEY.
func TestCLISecretKey(t *testing.T) {
	e := newE2E(t)
	newKey := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	keyFile := filepath.Join(e.dataDir, secret.KeyFile)
	t.Setenv(secret.EnvKey, newKey())
	r := e.roster(t, "connect", "--level", "team", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallTeam))
	require.NoError(t, r.err, r.stdout+r.stderr)

	// The variable forgotten: refused, and no new key file is written.
	t.Setenv(secret.EnvKey, "")
	r = e.roster(t, "users")
	require.Equal(t, 1, r.code())
	require.Contains(t, r.err.Error(), "no secret key: this database holds secrets sealed with a key, but ROSTER_SECRET_KEY is not set and "+keyFile+" does not exist")
	require.NoFileExists(t, keyFile, "roster writes no new key next to sealed data")

	// A key file with another key: refused, naming the file.
	require.NoError(t, os.WriteFile(keyFile, []byte(newKey()+"\n"), 0o600))
	r = e.roster(t, "users")
	require.Equal(t, 1, r.code())
	require.ErrorIs(t, r.err, secret.ErrWrongKey)
	require.Contains(t, r.err.Error(), "the key in use came from the key file "+keyFile+" (ROSTER_SECRET_KEY is not set)")

	// Another key in the variable: refused, naming the variable.
	t.Setenv(secret.EnvKey, newKey())
	r = e.roster(t, "users")
	require.Equal(t, 1, r.code())
	require.Contains(t, r.err.Error(), "the key in use came from ROSTER_SECRET_KEY")
}

// TestCLIReadOnlyDataDir runs roster on a data directory it cannot write:
// as another user when the test runs as root (whom permissions do not
// stop).
func TestCLIReadOnlyDataDir(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	r := e.roster(t, "migrate")
	require.NoError(t, r.err, r.stderr)

	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(e.dataDir, 0o500))
		t.Cleanup(func() { _ = os.Chmod(e.dataDir, 0o700) })
		r = e.roster(t, "users")
		require.Equal(t, 1, r.code())
		requireDenied(t, r.err.Error(), e.dataDir)
		return
	}

	// As nobody: a copy of the test binary it may run, on a path it may
	// walk, owning a data directory it may read but not write.
	const nobody = 65534
	root := t.TempDir()
	for d := root; d != "/" && d != "."; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		require.NoError(t, err)
		if fi.Mode().Perm()&0o005 != 0o005 {
			require.NoError(t, os.Chmod(d, fi.Mode().Perm()|0o005))
		}
	}
	bin := filepath.Join(root, "roster.test")
	b, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, b, 0o755))
	dir := filepath.Join(root, "data")
	require.NoError(t, os.CopyFS(dir, os.DirFS(e.dataDir)))
	require.NoError(t, filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, nobody, nobody)
	}))
	require.NoError(t, os.Chmod(dir, 0o500))

	cmd := exec.Command(bin, "users", "--data-dir", dir)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, stderr.String())
	require.Equal(t, 1, exit.ExitCode(), stderr.String())
	requireDenied(t, stderr.String(), dir)
}

func requireDenied(t *testing.T, msg, dir string) {
	t.Helper()
	require.Contains(t, msg, "permission denied on "+dir)
	require.Contains(t, msg, "open the database in "+dir+" (--data-dir)")
	require.NotContains(t, msg, "--database")
	require.NotContains(t, msg, "unable to open database file")
}
