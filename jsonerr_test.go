package roster

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJSONProblemNamesNoGoType(t *testing.T) {
	t.Parallel()
	type inner struct {
		N int `json:"n"`
	}
	type body struct {
		Name  string   `json:"name"`
		Steps []string `json:"steps"`
		In    inner    `json:"in"`
	}
	for _, tc := range []struct{ in, field, want string }{
		{`[]`, "", "the body must be an object, not an array"},
		{`"x"`, "", "the body must be an object, not a string"},
		{`{"name": 3}`, "name", "name must be a string, not a number"},
		{`{"steps": {}}`, "steps", "steps must be an array, not an object"},
		{`{"in": {"n": 1.5}}`, "in.n", "in.n must be a whole number, not the number 1.5"},
		{`{"in": {"n": true}}`, "in.n", "in.n must be a whole number, not true or false"},
		{`{"name": `, "", "the body ends before its JSON does"},
		{`{name}`, "", "the body is not valid JSON (at byte 2)"},
	} {
		var v body
		err := json.Unmarshal([]byte(tc.in), &v)
		require.Error(t, err, tc.in)
		field, msg := JSONProblem(err)
		require.Equal(t, tc.field, field, tc.in)
		require.Equal(t, tc.want, msg, tc.in)
		for _, goism := range []string{"Go ", "struct", "slice", "roster.", "int64", "float64"} {
			require.False(t, strings.Contains(msg, goism), "%s: %q names %q", tc.in, msg, goism)
		}
	}
}
