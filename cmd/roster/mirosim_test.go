package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/mirosim"
)

func TestMirosimServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runMirosim(ctx, []string{"--listen", "127.0.0.1:0", "--members", "100", "--teams", "5", "--rate-window", "1s"}, pw, io.Discard)
		pw.Close()
	}()

	sc := bufio.NewScanner(pr)
	var base string
	var out []string
	for sc.Scan() {
		line := sc.Text()
		out = append(out, line)
		if u, ok := strings.CutPrefix(line, "base URL: "); ok {
			base = u
		}
		if strings.HasPrefix(line, "SCIM token: ") {
			break
		}
	}
	require.NotEmpty(t, base, "no base URL printed")
	require.NotContains(t, base, ":0", "the real port must be printed")
	text := strings.Join(out, "\n")
	for _, want := range []string{"org-admin:", "org-non-admin:", "team:", "non-enterprise-team:", "access token:", "client id roster-sim-client", "/v1/oauth/token"} {
		require.Contains(t, text, want)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	resp, err := http.Get(base + "/_sim/info")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var info mirosim.Info
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	require.Equal(t, base, info.APIBaseURL)
	require.Len(t, info.TeamIDs, 5)
	require.Equal(t, 1, info.RateWindowSeconds)
	require.Contains(t, text, info.Installs["org-admin"].AccessToken)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("mirosim did not shut down")
	}
}

func TestMirosimBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate-window", "1500ms"}, "whole number of seconds"},
		{[]string{"--members", "lots"}, "members"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		err := runMirosim(context.Background(), append([]string{"--listen", "127.0.0.1:0"}, tc.args...), io.Discard, io.Discard)
		require.ErrorContains(t, err, tc.want)
		require.Equal(t, 2, exitCode(err))
	}

	t.Setenv("ROSTER_MIROSIM_RATE_BUDGET", "many")
	err := runMirosim(context.Background(), nil, io.Discard, io.Discard)
	require.ErrorContains(t, err, "ROSTER_MIROSIM_RATE_BUDGET")
}
