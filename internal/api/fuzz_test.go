package api

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// idCursorLists are the id-keyed lists whose cursors decodeIDCursor reads.
var idCursorLists = []string{"changes", "audit", "workflow-runs"}

// FuzzIDCursor feeds any text as the cursor of the id-keyed lists. A
// cursor decodes to a positive id that re-encodes to an equivalent
// cursor (one that decodes to the same id), is refused by the other
// lists, or is refused as a 400 naming the cursor parameter.
func FuzzIDCursor(f *testing.F) {
	for i, list := range idCursorLists {
		for _, id := range []int64{1, 42, 1 << 40} {
			c := encodeIDCursor(list, id)
			f.Add(uint8(i), false, c)
			raw, _ := base64.RawURLEncoding.DecodeString(c)
			f.Add(uint8(i), true, string(raw))
		}
	}
	for _, raw := range []string{"audit:", "audit:0", "audit:-1", "audit:+7", "audit:9223372036854775808", "audit:1:2", ":1", "changes\x00:1"} {
		f.Add(uint8(1), true, raw)
	}
	f.Add(uint8(0), false, "not base64!")
	f.Add(uint8(0), false, "")

	f.Fuzz(func(t *testing.T, list uint8, encode bool, cursor string) {
		if encode {
			cursor = base64.RawURLEncoding.EncodeToString([]byte(cursor))
		}
		name := idCursorLists[int(list)%len(idCursorLists)]
		id, err := decodeIDCursor(name, cursor)
		if err != nil {
			var ae *apiError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, http.StatusBadRequest, ae.Status)
			require.Equal(t, "cursor", ae.Field)
			require.NotEmpty(t, ae.Message)
			return
		}
		if cursor == "" {
			require.Zero(t, id, "no cursor starts at the beginning")
			return
		}
		require.Positive(t, id)
		again, err := decodeIDCursor(name, encodeIDCursor(name, id))
		require.NoError(t, err)
		require.Equal(t, id, again, "the cursor re-encodes to an equivalent one")
		for _, other := range idCursorLists {
			if other != name {
				_, err := decodeIDCursor(other, cursor)
				require.Error(t, err, "a cursor of %s is refused by %s", name, other)
			}
		}
	})
}
