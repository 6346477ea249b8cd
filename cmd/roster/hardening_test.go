package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"roster/internal/mirosim"

	"github.com/stretchr/testify/require"
)

// httpSeries lists the label sets of roster_http_request_duration_seconds
// that /metrics shows.
var httpSeriesRe = regexp.MustCompile(`(?m)^roster_http_request_duration_seconds_count\{([^}]*)\}`)

func httpSeries(t *testing.T, url string) []string {
	t.Helper()
	code, body := get(t, url+"/metrics")
	require.Equal(t, http.StatusOK, code)
	var out []string
	for _, m := range httpSeriesRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// Probing with made-up methods and paths adds no series to /metrics:
// unknown methods are "other", unknown paths one route.
func TestMetricsLabelsBounded(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	url, stop := e.serve(t)
	defer func() { require.NoError(t, stop()) }()

	probe := func(i int) {
		for _, path := range []string{"/", "/api/v1/users", "/scim/v2/Users", fmt.Sprintf("/no-such-page-%d", i), fmt.Sprintf("/api/v1/nothing-%d", i)} {
			req, err := http.NewRequest(fmt.Sprintf("M%dX", i), url+path, nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		code, _ := get(t, url+fmt.Sprintf("/missing-%d", i))
		require.Equal(t, http.StatusNotFound, code)
	}
	probe(0)
	httpSeries(t, url) // the scrape's own series
	before := httpSeries(t, url)
	for i := 1; i <= 50; i++ {
		probe(i)
	}
	after := httpSeries(t, url)
	require.ElementsMatch(t, before, after, "probing grew /metrics")
	joined := strings.Join(after, "\n")
	require.Contains(t, joined, `method="other"`)
	require.NotContains(t, joined, "M1X")
	require.NotContains(t, joined, "missing-")
	require.NotContains(t, joined, "no-such-page")
}

// A client that trickles its body is cut at --read-timeout rather than
// held open; an oversized body sent in chunks is refused as too large
// through the whole stack.
func TestServeSlowAndLargeBodies(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	url, stop := e.serve(t, "--read-timeout", "2s")
	defer func() { require.NoError(t, stop()) }()
	u, err := neturl.Parse(url)
	require.NoError(t, err)

	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n", u.Host)
	require.NoError(t, err)
	// A byte a second: the server must close the connection. Each write
	// is progress; the test fails only if the server keeps taking bytes
	// far past its limit.
	closed := false
	for i := 0; i < 30 && !closed; i++ {
		time.Sleep(time.Second)
		if _, err := conn.Write([]byte("a")); err != nil {
			closed = true
			break
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if _, err := bufio.NewReader(conn).ReadByte(); err != nil && !isTimeout(err) {
			closed = true
		}
	}
	require.True(t, closed, "roster kept a trickling request open for 30 s with --read-timeout 2s")

	// 2 MB in chunks to the login form: 413, not a CSRF refusal.
	req, err := http.NewRequest("POST", url+"/login", io.MultiReader(strings.NewReader("csrf=x&email="+strings.Repeat("a", 2<<20))))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(body))

	// A bad flag value is refused with the flag named.
	res := e.roster(t, "serve", "--read-timeout", "10ms")
	require.Error(t, res.err)
	require.Contains(t, res.err.Error(), "--read-timeout must be at least 1s")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// No Miro token is stored or logged in the clear: after a connect and a
// sync, neither the database files nor the output hold it.
func TestNoTokenAtRest(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	tok := e.token(mirosim.InstallOrgAdmin)
	r := e.roster(t, "connect", "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", tok, "--log-level", "debug")
	require.NoError(t, r.err, r.stdout+r.stderr)
	out := r.stdout + r.stderr
	r = e.roster(t, "sync", "--log-level", "debug")
	require.NoError(t, r.err, r.stdout+r.stderr)
	out += r.stdout + r.stderr
	require.NotContains(t, out, tok)

	files, err := filepath.Glob(filepath.Join(e.dataDir, "roster.db*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		require.False(t, bytes.Contains(raw, []byte(tok)), "%s holds the access token in the clear", f)
	}
}
