package web

import (
	"bytes"
	"database/sql"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"
	"riverqueue.com/riverui/uiendpoints"

	"roster/internal/httpauth"
)

// River UI (riverqueue.com/riverui) shows roster's River jobs at
// /admin/jobs: syncs, workflow steps and the periodic jobs, stuck or
// failing, with their errors, and retries or cancels them. It is mounted
// through the route list like every page, so wrap gives it the
// dashboard's session, admin role (viewers get 403, anonymous browsers
// the login) and CSRF check. Its API is served through the Runner's own
// River client (jobs.Runner.RiverClient), so it opens no pool of its own.
//
// River UI's JavaScript cannot be given the session's CSRF token, so its
// index page gets two additions (riverUIInject): the token in a meta tag
// and riverUIShimJS, which adds the X-CSRF-Token header to its API calls.
// Unsafe requests must also come from roster's own origin
// (http.CrossOriginProtection: Sec-Fetch-Site, else Origin against Host).

// riverUIPrefix is River UI's mount point.
const riverUIPrefix = httpauth.RiverUIPrefix

// riverUIShimPath serves riverUIShimJS, beside River UI's own assets.
const riverUIShimPath = riverUIPrefix + "/roster-csrf.js"

// riverSource is what the dashboard needs of Config.Jobs to show River
// UI: its River client (*jobs.Runner).
type riverSource interface{ RiverClient() any }

// jobsRoutes are River UI's routes: its pages and assets (GET) and its
// API's actions (retry, cancel, delete jobs; pause, resume, update queues).
// A dashboard without a River client (no jobs runner) has none: like the
// workflow pages without an engine, /admin/jobs does not exist (404).
func (s *Server) jobsRoutes() []route {
	if _, ok := s.jobs.(riverSource); !ok {
		return nil
	}
	handle := s.riverUI()
	return []route{
		{"GET", riverUIPrefix, admin, handle},
		{"GET", riverUIPrefix + "/", admin, handle},
		{"POST", riverUIPrefix + "/api/", admin, handle},
		{"PUT", riverUIPrefix + "/api/", admin, handle},
		{"PATCH", riverUIPrefix + "/api/", admin, handle},
	}
}

// riverUI builds River UI's handler once and returns the route handler
// that serves it.
func (s *Server) riverUI() handlerFunc {
	ui, err := s.newRiverUI()
	sameOrigin := http.NewCrossOriginProtection()
	return func(w http.ResponseWriter, r *http.Request) error {
		if err != nil {
			return err
		}
		httpauth.RiverUISecurityHeaders(w.Header())
		if !httpauth.SafeMethod(r.Method) {
			if err := sameOrigin.Check(r); err != nil {
				return errForbidden("Job changes must come from roster's own pages: " + err.Error())
			}
		}
		if r.URL.Path == riverUIShimPath {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			_, _ = w.Write([]byte(riverUIShimJS))
			return nil
		}
		if !httpauth.SafeMethod(r.Method) {
			ui.ServeHTTP(w, r)
			return nil
		}
		// The index page carries the session's token: never answer it
		// from a cache (304) or in part.
		for _, h := range []string{"If-Modified-Since", "If-None-Match", "If-Range", "Range"} {
			r.Header.Del(h)
		}
		iw := &injectWriter{ResponseWriter: w, inject: riverUIInject(authOf(r).Session.CSRFToken)}
		ui.ServeHTTP(iw, r)
		iw.finish()
		return nil
	}
}

// newRiverUI builds River UI over the River client of s.jobs.
func (s *Server) newRiverUI() (http.Handler, error) {
	var endpoints uiendpoints.Bundle
	switch c := s.jobs.(riverSource).RiverClient().(type) {
	case *river.Client[*sql.Tx]: // riversqlite
		endpoints = riverui.NewEndpoints(c, nil)
	case *river.Client[pgx.Tx]: // riverpgxv5
		endpoints = riverui.NewEndpoints(c, nil)
	default:
		return nil, fmt.Errorf("river ui: unsupported River client %T", c)
	}
	// Its handler is not started: Start only runs background refreshes
	// of the job counts, which it otherwise counts on demand (bounded at
	// 10,000 a state), and would poll the database every 10 s for the
	// life of the process.
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: endpoints,
		Logger:    s.logger.With("component", "riverui"),
		Prefix:    riverUIPrefix,
	})
	if err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	return ui, nil
}

// riverUIInject is what River UI's index page gets before </head>: the
// session's CSRF token and the script that sends it.
func riverUIInject(token string) []byte {
	return []byte(`<meta name="roster-csrf" content="` + html.EscapeString(token) + `"><script src="` + riverUIShimPath + `"></script>`)
}

// riverUIShimJS adds the session's CSRF token to River UI's API calls, as
// the dashboard's own forms and htmx calls send it. It runs before River
// UI's module script, which is deferred.
const riverUIShimJS = `// roster: River UI's API calls carry the session's CSRF token.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="roster-csrf"]');
  if (!meta) return;
  var token = meta.getAttribute("content");
  var api = new URL("` + riverUIPrefix + `/api/", location.href).href;
  var send = window.fetch;
  window.fetch = function (input, init) {
    var isRequest = typeof Request !== "undefined" && input instanceof Request;
    var url = new URL(isRequest ? input.url : String(input), location.href).href;
    if (url.indexOf(api) === 0) {
      init = Object.assign({}, init);
      var headers = new Headers(init.headers || (isRequest ? input.headers : undefined));
      headers.set("X-CSRF-Token", token);
      init.headers = headers;
    }
    return send.call(window, input, init);
  };
})();
`

// injectWriter passes River UI's answers through, but for an HTML one,
// which it holds to add inject before </head>.
type injectWriter struct {
	http.ResponseWriter
	inject  []byte
	decided bool
	isHTML  bool
	code    int
	body    bytes.Buffer
}

func (w *injectWriter) WriteHeader(code int) {
	if w.decided {
		return
	}
	w.decided, w.code = true, code
	w.isHTML = strings.HasPrefix(w.Header().Get("Content-Type"), "text/html")
	if !w.isHTML {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *injectWriter) Write(p []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.isHTML {
		return w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// finish writes a held HTML answer, with inject added.
func (w *injectWriter) finish() {
	if !w.isHTML {
		return
	}
	body := w.body.Bytes()
	if i := bytes.Index(body, []byte("</head>")); i >= 0 {
		body = append(append(append([]byte{}, body[:i]...), w.inject...), body[i:]...)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.Header().Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeader(w.code)
	_, _ = w.ResponseWriter.Write(body)
}
