package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"roster/internal/httpauth"

	"roster"
)

// templates holds one parsed template set per page: the shared layout
// plus the page's own file. Each page file defines "title" and "content",
// and may define fragments (named blocks) that htmx requests render alone.
type templates struct {
	pages map[string]*template.Template
}

// pageNames are the pages, one templates/<name>.html each. A missing file
// fails New.
var pageNames = []string{
	"error", "setup", "login", "overview", "licenses", "users", "user", "teams", "audit", "settings", "connections",
	"connection_new", "connection_report",
	"apikeys",
	"directory", "directory_import",
	"workflows", "workflow", "workflow_edit", "workflow_dryrun", "workflow_runs", "workflow_run", "workflow_approvals", "approval_link",
	"workflow_enable",
	"bulk", "notifications",
}

// parseTemplates parses layout.html with each page, once, at startup.
func parseTemplates(fsys fs.FS, a *assets) (*templates, error) {
	funcs := templateFuncs(a)
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/workflow_parts.html", "templates/licenses_parts.html",
		"templates/settings_channels.html")
	if err != nil {
		return nil, fmt.Errorf("parse the layout: %w", err)
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		clone, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("clone the layout: %w", err)
		}
		p, err := clone.ParseFS(fsys, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		for _, block := range []string{"title", "content"} {
			if p.Lookup(block) == nil {
				return nil, fmt.Errorf("template %s defines no %q", name, block)
			}
		}
		t.pages[name] = p
	}
	return t, nil
}

// templateFuncs are display helpers only: formatting, never decisions.
func templateFuncs(a *assets) template.FuncMap {
	return template.FuncMap{
		"asset": a.url,
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.UTC().Format("2006-01-02")
		},
		"datetime": datetimeHTML,
		"actor":    actorName,
		"plural":   plural,
		"noun":     noun,
		"money": func(amount float64, currency string) string {
			return fmt.Sprintf("%s %s", formatThousands(fmt.Sprintf("%.2f", amount)), currency)
		},
		"num": func(n int) string { return formatThousands(fmt.Sprint(n)) },
		// longdate is a day as people read it: "Dec 2, 2026".
		"longdate": func(t time.Time) string { return t.UTC().Format("Jan 2, 2006") },
		// seats is a seat count that may be a fraction (a person in two
		// teams is half a seat in each): "4.5".
		"seats": func(f float64) string {
			if f == float64(int64(f)) {
				return formatThousands(fmt.Sprint(int64(f)))
			}
			return formatThousands(fmt.Sprintf("%.1f", f))
		},
		// ratio is a share for percent: 0 when the whole is 0.
		"ratio": func(part, whole float64) float64 {
			if whole == 0 {
				return 0
			}
			return part / whole
		},
		"licenseName": roster.LicenseName,
		"percent": func(f float64) string {
			return fmt.Sprintf("%.1f%%", f*100)
		},
		"license":  func(a roster.Account) string { return a.LicenseLabel() },
		"humanize": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		"outcome":  outcomeSentence,
		"teamRole": roster.TeamRoleName,
		"sentence": sentence,
	}
}

// outcomeSentence is an action's recorded outcome ("invited ann@… to
// team Growth") as a sentence; one that starts with an email address
// keeps it as written.
func outcomeSentence(s string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	if strings.Contains(first, "@") {
		if s = strings.TrimSpace(s); !strings.HasSuffix(s, ".") {
			s += "."
		}
		return s
	}
	return sentence(s)
}

// formatThousands puts commas between thousands in the integer part of a number.
func formatThousands(s string) string {
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

// Page is what the layout needs; every page's data embeds it.
type Page struct {
	Title    string
	Nav      string // the nav entry to highlight
	Operator *roster.Operator
	CSRF     string
	// CanAct is false for viewers; ViewerReason says why buttons are off.
	CanAct bool
	// Workflows shows the workflow pages in the nav (Config.Workflows set).
	Workflows bool
	// JobsUI is true where River UI is mounted at /admin/jobs (a jobs
	// runner is configured), so links to it never lead to a 404.
	JobsUI bool
}

// ViewerReason is shown on disabled action buttons for viewers.
const ViewerReason = "viewers cannot act; ask an admin"

// ViewerReasonText is ViewerReason, for templates.
func (p Page) ViewerReasonText() string { return ViewerReason }

// HXHeaders is the hx-headers value that sends the CSRF token with every
// htmx request.
func (p Page) HXHeaders() string {
	if p.CSRF == "" {
		return ""
	}
	b, _ := json.Marshal(map[string]string{httpauth.CSRFHeader: p.CSRF})
	return string(b)
}

// page fills the layout's data for a request.
func (s *Server) page(r *http.Request, title string) Page {
	p := Page{Title: title, Nav: navOf(r.URL.Path), Workflows: s.wf != nil}
	_, p.JobsUI = s.jobs.(riverSource)
	if a := authOf(r); a != nil {
		op := a.Operator
		op.PasswordHash = "" // never reaches a template
		p.Operator, p.CSRF, p.CanAct = &op, a.Session.CSRFToken, a.IsAdmin()
	}
	return p
}

// navOf is the nav entry of a path: its first segment.
func navOf(p string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path.Clean(p), "/"), "/")
	return strings.TrimSuffix(seg, ".csv")
}

// render executes a page's layout (or, for htmx, a fragment named by the
// caller through renderFragment) into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	s.execute(w, r, code, name, "layout", data)
}

// renderFragment executes one named block of a page, for htmx swaps.
func (s *Server) renderFragment(w http.ResponseWriter, r *http.Request, name, block string, data any) {
	s.execute(w, r, http.StatusOK, name, block, data)
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, code int, name, block string, data any) {
	t, ok := s.tmpl.pages[name]
	if !ok {
		s.logger.ErrorContext(r.Context(), "no such template", "template", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		s.logger.ErrorContext(r.Context(), "render", "template", name, "block", block, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "HX-Request")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}
