package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDirectoryImport: the report names each bad row's line and column,
// the exit status is non-zero when a row failed, and the good rows are
// listed.
func TestDirectoryImport(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	file := filepath.Join(t.TempDir(), "people.csv")
	require.NoError(t, os.WriteFile(file, []byte("email,name,manager_email,department,status,aliases\n"+
		"ada@example.com,Ada,,Eng,active,ada@miro.example\n"+
		"bob@example.com,Bob,,Eng,gone,\n"+
		"cy@example.com,Cy,ada@example.com,Eng,left,\n"), 0o600))

	res := e.roster(t, "directory", "import", file)
	require.Error(t, res.err)
	require.NotZero(t, res.code())
	require.Contains(t, res.stdout, `row 3: status: "gone" is neither active nor left`)
	require.Contains(t, res.stdout, "3 rows: 2 created, 0 updated, 1 failed")

	res = e.roster(t, "directory", "list")
	require.NoError(t, res.err, res.stderr)
	require.Contains(t, res.stdout, "ada@example.com")
	require.Contains(t, res.stdout, "ada@miro.example")
	require.Contains(t, res.stdout, "cy@example.com")
	require.NotContains(t, res.stdout, "bob@example.com")

	res = e.roster(t, "directory", "list", "--status", "left", "--format", "json")
	require.NoError(t, res.err, res.stderr)
	require.Contains(t, res.stdout, `"email": "cy@example.com"`)
	require.NotContains(t, res.stdout, `"email": "ada@example.com"`)

	// A clean file exits 0.
	require.NoError(t, os.WriteFile(file, []byte("email,name,manager_email,department,status\nbob@example.com,Bob,,Eng,active\n"), 0o600))
	res = e.roster(t, "directory", "import", file)
	require.NoError(t, res.err, res.stdout+res.stderr)

	// A file that is not this CSV is refused whole, saying why.
	require.NoError(t, os.WriteFile(file, []byte("mail,fullname\nzed@example.com,Zed\n"), 0o600))
	res = e.roster(t, "directory", "import", file)
	require.Error(t, res.err)
	require.ErrorContains(t, res.err, "The file was refused: the header lacks email")
	require.NotContains(t, e.roster(t, "directory", "list").stdout, "zed@example.com")

	require.Error(t, e.roster(t, "directory").err)
	require.Error(t, e.roster(t, "directory", "import").err)
	require.Error(t, e.roster(t, "directory", "list", "--status", "gone").err)
}
