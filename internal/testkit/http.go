package testkit

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store"
)

// Operator stores an operator of role who logs in with pw.
func Operator(t testing.TB, st store.Store, email string, role roster.Role, pw string) roster.Operator {
	t.Helper()
	hash, err := httpauth.HashPassword(pw, email)
	require.NoError(t, err)
	op := roster.Operator{Email: email, PasswordHash: hash, Role: role}
	require.NoError(t, st.CreateOperator(context.Background(), &op))
	return op
}

// Session stores a session for op, as a login makes one, and returns its
// cookie and CSRF token: for tests of what a logged-in browser may do
// that do not go through the login page (the API's browser calls, the
// benchmarks).
func Session(t testing.TB, st store.Store, op roster.Operator, now time.Time) (*http.Cookie, string) {
	t.Helper()
	g := &httpauth.Guard{Store: st, Now: func() time.Time { return now }}
	value, sess := g.NewSession(op)
	require.NoError(t, st.CreateSession(context.Background(), sess))
	return &http.Cookie{Name: httpauth.SessionCookie, Value: value}, sess.CSRFToken
}

// APIKey stores an API key with scopes, made by a new admin, and returns
// it. Its last use is set to now, so requests within the minute do not
// write it again (tests that compare the store before and after a request
// see only what the request did).
func APIKey(t testing.TB, st store.Store, name string, now time.Time, scopes ...string) string {
	t.Helper()
	op := Operator(t, st, "maker-of-"+name+"@example.com", roster.RoleAdmin, "correct horse battery")
	key, shown, hash := httpauth.NewAPIKey()
	k := roster.APIKey{Name: name, Prefix: shown, Hash: hash, Scopes: scopes, CreatedBy: op.ID, CreatedAt: now, LastUsedAt: now}
	require.NoError(t, st.CreateAPIKey(context.Background(), &k))
	return key
}

// MultipartCSV is a multipart body with content as the "file" part
// (none when name is ""), and its content type.
func MultipartCSV(t testing.TB, name, content string, fields ...string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		require.NoError(t, mw.WriteField(fields[i], fields[i+1]))
	}
	if name != "" {
		fw, err := mw.CreateFormFile("file", name)
		require.NoError(t, err)
		_, err = io.WriteString(fw, content)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}

// Clock is a settable Now for servers under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock at the current second.
func NewClock() *Clock { return &Clock{t: time.Now().UTC().Truncate(time.Second)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
