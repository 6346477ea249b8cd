package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/mirosim"
	"roster/internal/store/storetest"
)

// serve runs `roster serve` on a free port in the background and returns
// its URL and a stop function that sends it the shutdown signal and
// returns its error.
func (e *e2e) serve(t *testing.T, args ...string) (url string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	full := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", e.dataDir}, args...)
	go func() {
		err := run(ctx, full, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "roster serving on "); ok {
			url = u
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("roster serve did not shut down")
			return nil
		}
	}
	if url == "" {
		t.Fatalf("roster serve printed no URL: %v", stop())
	}
	return url, stop
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestE2EServe(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		e := newE2E(t)
		r := e.roster(t, "connect", "--database", dsn, "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallOrgAdmin))
		require.NoError(t, r.err, r.stdout+r.stderr)

		url, stop := e.serve(t, "--database", dsn)
		require.NotContains(t, url, ":0", "the real port must be printed")
		code, body := get(t, url+"/healthz")
		require.Equal(t, http.StatusOK, code, body)
		code, body = get(t, url+"/readyz")
		require.Equal(t, http.StatusOK, code, body)

		// A sync asked for on the command line is run by serve.
		r = e.roster(t, "sync", "--database", dsn, "--enqueue")
		require.NoError(t, r.err, r.stdout+r.stderr)
		require.Contains(t, r.stdout, "connection 1: ")
		require.Eventually(t, func() bool {
			r := e.roster(t, "connections", "--database", dsn)
			require.NoError(t, r.err, r.stderr)
			return !strings.Contains(r.stdout, "never")
		}, 20*time.Second, 100*time.Millisecond, "serve never synced the connection")
		r = e.roster(t, "users", "--database", dsn, "--format", "json")
		require.NoError(t, r.err, r.stderr)
		total, _ := countOrgMembers(t, e.client(t, mirosim.InstallOrgAdmin), e.info.OrgID)
		require.Len(t, decodeUsers(t, r.stdout), total)

		require.NoError(t, stop())
	})
}

func TestE2EServeBadFlags(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	r := e.roster(t, "serve", "--workers", "0")
	require.Equal(t, 2, r.code(), r.err)
	require.ErrorContains(t, r.err, "--workers")

	r = e.roster(t, "serve", "--job-lease", "10ms")
	require.Equal(t, 2, r.code(), r.err)
	require.ErrorContains(t, r.err, "--job-lease must be at least 1s")

	r = e.roster(t, "serve", "--listen", "127.0.0.1:99999")
	require.Equal(t, 1, r.code(), r.err)
	require.ErrorContains(t, r.err, "--listen")
}
