package web

import (
	"net/http"

	"roster/internal/httpauth"
)

// Who may use a route, short for the route list (httpauth.Access).
const (
	public = httpauth.Public
	viewer = httpauth.Viewer
	admin  = httpauth.Admin
)

// handlerFunc is a dashboard handler. It returns an error instead of
// writing one, so that every error goes through s.fail (status, log,
// error page) in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one entry of the route list.
type route struct {
	Method string // GET, POST, ...; GET also answers HEAD
	Path   string // a net/http ServeMux pattern
	Access httpauth.Access
	Handle handlerFunc
}

// routeList is every route the dashboard serves, in one place. Every
// non-public route requires a session, and every non-GET route a CSRF
// token (see wrap; public POSTs check their own double-submit token, but
// for the approval link, whose signed token is the capability: see
// approvalLinkPattern); tests walk this list to prove it.
func (s *Server) routeList() []route {
	routes := []route{
		// Assets, under fingerprinted URLs so they can be cached forever.
		{"GET", "/static/{hash}/{name}", public, s.staticAsset},

		// First run, login and logout.
		{"GET", "/setup", public, s.setupPage},
		{"POST", "/setup", public, s.setupSubmit},
		{"GET", "/login", public, s.loginPage},
		{"POST", "/login", public, s.loginSubmit},
		{"POST", "/logout", viewer, s.logout},

		// Seeing.
		{"GET", "/{$}", viewer, s.overviewPage},
		// Licenses: one organization's licenses, recommendations, trend
		// and chargeback (page_licenses.go), and their CSV exports.
		{"GET", "/licenses", viewer, s.licensesPage},
		{"GET", "/licenses/trend.csv", viewer, s.licensesTrendCSV},
		{"GET", "/licenses/chargeback.csv", viewer, s.licensesChargebackCSV},
		{"GET", "/users", viewer, s.usersPage},
		// The export is the API's (/api/v1/users.csv, one CSV writer);
		// this older address of it redirects there.
		{"GET", "/users.csv", viewer, s.usersCSV},
		{"GET", "/users/{id}", viewer, s.userPage},
		{"GET", "/teams", viewer, s.teamsPage},
		{"GET", "/audit", viewer, s.auditPage},
		{"GET", "/settings", viewer, s.settingsPage},
		{"GET", "/directory", viewer, s.directoryPage},

		// Acting (admins only). An action's dialog on the user page states
		// what it does and posts to the action (page_user_dialog.go).
		{"GET", "/users/{id}/actions/{kind}", admin, s.userActionPage},
		{"POST", "/users/{id}/actions/{kind}", admin, s.userAction},
		{"POST", "/settings", admin, s.settingsSubmit},
		// One organization's contract (contract_save.go).
		{"POST", "/settings/contracts/{org}", admin, s.contractSubmit},
		// Notification channels: save, remove, send a test message
		// (page_settings_channels.go).
		{"POST", "/settings/notifications/{channel}", admin, s.channelSave},
		{"POST", "/settings/notifications/{channel}/remove", admin, s.channelRemove},
		{"POST", "/settings/notifications/{channel}/test", admin, s.channelTest},
		// The directory's CSV import: a multipart upload of up to 10 MB
		// (bodyLimit), checked and imported row by row (page_directory.go).
		{"POST", "/directory/import", admin, s.directoryImport},

		// Connections (page_connections.go, connection_*.go). Adding one
		// leaves roster by a GET link (CSP form-action would block a form
		// post redirected to Miro), so /connections/authorize checks the
		// CSRF token itself; the callback, a GET from Miro, checks the
		// OAuth state bound to the session instead.
		{"GET", "/connections", viewer, s.connectionsPage},
		{"GET", "/connections/new", admin, s.connectionNew},
		{"GET", "/connections/authorize", admin, s.connectionAuthorize},
		{"GET", "/connections/callback", admin, s.connectionCallback},
		{"POST", "/connections/{id}/sync", admin, s.connectionSync},
		{"POST", "/connections/{id}/disconnect", admin, s.connectionDisconnect},
		// A connection's SCIM token: checked with Miro, then sealed.
		{"POST", "/connections/{id}/scim", admin, s.connectionSCIMSet},
		{"POST", "/connections/{id}/scim/remove", admin, s.connectionSCIMRemove},

		// API keys for the JSON API and the SCIM server (page_apikeys.go);
		// admins only, since a key acts as roster. The API's own routes
		// are internal/api's table, served beside these.
		{"GET", "/settings/api-keys", admin, s.apiKeysPage},
		{"POST", "/settings/api-keys", admin, s.apiKeyCreate},
		{"POST", "/settings/api-keys/{id}/delete", admin, s.apiKeyDelete},
	}
	// River UI at /admin/jobs (admin_jobs.go): every job, with retry and
	// cancel, for admins.
	routes = append(routes, s.jobsRoutes()...)
	// Workflows (page_workflows*.go) and the users list's bulk actions,
	// which run as workflow runs (page_bulk.go), when the server has an
	// engine; without one their pages do not exist (404) and the nav
	// omits them.
	if s.wf != nil {
		routes = append(routes, s.workflowRoutes()...)
		routes = append(routes, s.bulkRoutes()...)
		// Sent notifications (page_notifications.go): every message any
		// channel sent, the outbox channel's only delivery. Admins only,
		// as an approval request carries its signed links.
		routes = append(routes,
			route{"GET", "/workflows/notifications", admin, s.notificationsPage},
			route{"POST", "/workflows/notifications/{id}/retry", admin, s.notificationRetry})
	}
	return routes
}
