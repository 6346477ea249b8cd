package api

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCSVSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                       "",
		"ann@example.com":        "ann@example.com",
		"=HYPERLINK(\"x\")":      "'=HYPERLINK(\"x\")",
		"+1":                     "'+1",
		"-2+3":                   "'-2+3",
		"@SUM(A1)":               "'@SUM(A1)",
		"\tx":                    "'\tx",
		"Ann \"the admin\", Esq": "Ann \"the admin\", Esq",
	} {
		require.Equal(t, want, csvSafe(in), in)
	}
}

// The CSV's columns are User's JSON fields, in order, so the two formats
// cannot drift apart.
func TestUserCSVHeaderIsUserJSON(t *testing.T) {
	t.Parallel()
	var fields []string
	typ := reflect.TypeFor[User]()
	for i := range typ.NumField() {
		fields = append(fields, strings.Split(typ.Field(i).Tag.Get("json"), ",")[0])
	}
	require.Equal(t, fields, UserCSVHeader)
	require.Len(t, User{}.csvRecord(), len(UserCSVHeader))
}
