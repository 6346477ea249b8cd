package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
)

// newAPIKey stores an API key with scopes and returns it. Its last use is
// set to now, so requests within the minute do not write (tests that
// compare the store before and after see only what the request did).
func (b *testBundle) newAPIKey(t *testing.T, name string, scopes ...string) string {
	t.Helper()
	ctx := context.Background()
	opID := b.operator(t, "maker-of-"+name+"@example.com", roster.RoleAdmin, "correct horse battery").ID
	key := apiKeyPrefix + randomToken()
	k := roster.APIKey{Name: name, Prefix: key[:apiKeyPrefixLen], Hash: apiKeyHash(key), Scopes: scopes, CreatedBy: opID,
		CreatedAt: b.clock.Now(), LastUsedAt: b.clock.Now()}
	require.NoError(t, b.db.CreateAPIKey(ctx, &k))
	return key
}

// apiAnswer is one API answer.
type apiAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorCode and errorField read an error answer.
func (a apiAnswer) errorBody(t *testing.T) (code, field, msg string) {
	t.Helper()
	var e apiErrorBody
	require.NoError(t, json.Unmarshal(a.Body, &e), string(a.Body))
	return e.Error.Code, e.Error.Field, e.Error.Message
}

// decode decodes a successful answer into v.
func (a apiAnswer) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(a.Body, v), string(a.Body))
}

// api calls the API with an API key ("" for none); body, when not nil,
// is sent as JSON. headers are name, value pairs.
func (b *testBundle) api(t *testing.T, method, path, key string, body any, headers ...string) apiAnswer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		js, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, b.ts.URL+path, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return apiAnswer{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}
