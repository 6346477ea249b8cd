package workflow

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// YAML of the wrong shape is explained in YAML's words, without the Go
// types it would have been read into.
func TestParseYAMLNamesNoGoType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"- a\n- b\n", "expected a mapping of fields, found a list"},
		{"name: x\nsteps: 3\n", "expected a list, found `3`"},
		{"name: x\nsteps:\n  - [1, 2]\n", "expected a mapping of fields, found a list"},
		{"name: [x]\n", "expected text, found a list"},
	} {
		_, err := ParseYAML(strings.NewReader(tc.yaml))
		require.Error(t, err, tc.yaml)
		require.Contains(t, err.Error(), tc.want, tc.yaml)
		for _, goism := range []string{"roster.", "[]", "map[", "unmarshal", "!!"} {
			require.NotContains(t, err.Error(), goism, tc.yaml)
		}
	}
}
