package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"time"

	"roster/internal/miro"
)

// loopbackFlow runs the browser part of Miro's authorization-code flow for
// a command-line user: a one-shot HTTP server on a loopback address
// catches the redirect, checks the state, and the code is exchanged with
// the PKCE verifier.
type loopbackFlow struct {
	OAuth   *miro.OAuth // RedirectURL is set here
	Listen  string      // loopback host:port; port 0 picks one
	TeamID  string      // preselects the team on Miro's page
	Browser bool        // try to open a browser
	Timeout time.Duration
	Out     io.Writer // where the authorize URL is printed
	Logger  *slog.Logger
	// Intro is printed before the URL: what to pick on Miro's page.
	Intro string
}

// callback is what the redirect brought.
type callback struct {
	code string
	err  error
}

var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>roster</title></head>
<body style="font-family: sans-serif; margin: 3em">
<h1>{{.Title}}</h1><p>{{.Text}}</p><p>You can close this tab and return to the terminal.</p>
</body></html>`))

func writeCallbackPage(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = callbackPage.Execute(w, struct{ Title, Text string }{title, text})
}

// Run waits for the admin to approve in the browser and returns the token.
func (f *loopbackFlow) Run(ctx context.Context) (miro.Token, error) {
	ln, err := net.Listen("tcp", f.Listen)
	if err != nil {
		return miro.Token{}, fmt.Errorf("listen for the OAuth callback on %s (--listen): %w", f.Listen, err)
	}
	f.OAuth.RedirectURL = "http://" + ln.Addr().String() + "/callback"
	state, verifier := miro.NewState(), miro.NewVerifier()
	authURL := f.OAuth.AuthCodeURL(state, verifier, f.TeamID)

	got := make(chan callback, 1)
	deliver := func(c callback) {
		select {
		case got <- c:
		default: // a second callback after the first is ignored
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state {
			// Not our request (a stale tab, or a forged link): refuse it
			// and keep waiting for the real one.
			f.Logger.Warn("OAuth callback with a wrong state ignored")
			writeCallbackPage(w, http.StatusBadRequest, "This link is not for this roster connect",
				"The authorization does not match the running roster connect command. Start again from the URL it printed.")
			return
		}
		if e := q.Get("error"); e != "" {
			desc := q.Get("error_description")
			if e == "access_denied" {
				deliver(callback{err: fmt.Errorf("the authorization was denied in Miro (access_denied)%s; nothing was saved", descSuffix(desc))})
				writeCallbackPage(w, http.StatusOK, "roster was not authorized", "The authorization was denied; nothing was saved.")
				return
			}
			deliver(callback{err: fmt.Errorf("the authorization failed in Miro, which returned the error %s instead of a code%s", e, descSuffix(desc))})
			writeCallbackPage(w, http.StatusOK, "roster was not authorized", "Miro returned the error "+e+".")
			return
		}
		code := q.Get("code")
		if code == "" {
			deliver(callback{err: errors.New("the redirect from Miro carried no code")})
			writeCallbackPage(w, http.StatusBadRequest, "roster was not authorized", "Miro's redirect carried no code.")
			return
		}
		deliver(callback{code: code})
		writeCallbackPage(w, http.StatusOK, "roster is authorized", "roster received the authorization and is finishing the connection in the terminal.")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	if f.Intro != "" {
		fmt.Fprintln(f.Out, f.Intro)
	}
	fmt.Fprintf(f.Out, "Open this URL in a browser to authorize roster in Miro:\n\n  %s\n\nWaiting for the authorization (callback %s, up to %s)...\n", authURL, f.OAuth.RedirectURL, f.Timeout)
	if f.Browser {
		openBrowser(authURL, f.Logger)
	}

	timer := time.NewTimer(f.Timeout)
	defer timer.Stop()
	var cb callback
	select {
	case cb = <-got:
	case <-timer.C:
		return miro.Token{}, fmt.Errorf("no authorization arrived within %s (--timeout); run roster connect again", f.Timeout)
	case <-ctx.Done():
		return miro.Token{}, fmt.Errorf("waiting for the authorization: %w", ctx.Err())
	}
	if cb.err != nil {
		return miro.Token{}, cb.err
	}
	tok, err := f.OAuth.Exchange(ctx, cb.code, verifier)
	if err != nil {
		return miro.Token{}, fmt.Errorf("exchange the authorization code: %w", err)
	}
	return tok, nil
}

func descSuffix(desc string) string {
	if desc == "" {
		return ""
	}
	return ": " + desc
}

// openBrowser tries to show url in the user's browser. Failing is fine:
// the URL is printed.
func openBrowser(url string, logger *slog.Logger) {
	name, args := "xdg-open", []string{url}
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler", url}
	}
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		logger.Debug("could not open a browser; open the printed URL yourself", "err", err)
		return
	}
	go func() { _ = cmd.Wait() }()
}

// isLoopback reports whether a host:port listens on a loopback address.
func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
