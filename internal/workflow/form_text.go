package workflow

import (
	"strings"
)

// This file translates notification texts between the Go template syntax
// definitions store ("{{.Email}}") and the readable placeholders the form
// editor shows ("{email}"), so no one writing a message in the form meets
// template syntax.

// Placeholder is one readable token of a notification text and the
// template it stands for.
type Placeholder struct {
	Token    string // as the form shows it: "{email}"
	Template string // as the definition stores it: "{{.Email}}"
	Words    string // what it becomes, for the form's list
}

// Placeholders are the readable tokens, in the order the form lists them.
var Placeholders = []Placeholder{
	{"{email}", "{{.Email}}", "the person's email"},
	{"{name}", "{{.Name}}", "the person's name"},
	{"{manager}", "{{.Manager}}", "their manager's email"},
	{"{department}", "{{.Department}}", "their department"},
	{"{license}", "{{.License}}", "their Miro license"},
	{"{workflow}", "{{.Workflow}}", "this workflow's name"},
	{"{trigger}", "{{.Trigger}}", "why the run started"},
	{"{steps}", "{{range .Steps}}- {{.}}\n{{end}}", "the steps done so far, one a line"},
	{"{run}", "{{.RunID}}", "the run's number"},
	{"{run_link}", "{{.RunURL}}", "a link to the run"},
	{"{error}", "{{.Error}}", "why the run failed (failure notices)"},
}

// ReadableText is a notification template with readable placeholders. ok
// is false when the text holds template syntax no placeholder stands for
// (a condition, a function), or plain text a placeholder would be read
// from ("{email}" meant literally): the form cannot show it without
// changing what it means, so it is left to the YAML view.
func ReadableText(tmpl string) (readable string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		if p, found := placeholderAt(tmpl[i:], func(p Placeholder) string { return p.Template }); found {
			b.WriteString(p.Token)
			i += len(p.Template)
			continue
		}
		if strings.HasPrefix(tmpl[i:], "{{") {
			return "", false
		}
		if _, found := placeholderAt(tmpl[i:], func(p Placeholder) string { return p.Token }); found {
			return "", false
		}
		b.WriteByte(tmpl[i])
		i++
	}
	return b.String(), true
}

// TemplateText is a readable text as a notification template: each
// placeholder becomes its template; everything else is kept as typed.
// TemplateText(ReadableText(t)) is t whenever ReadableText is ok.
func TemplateText(readable string) string {
	var b strings.Builder
	for i := 0; i < len(readable); {
		if p, found := placeholderAt(readable[i:], func(p Placeholder) string { return p.Token }); found {
			b.WriteString(p.Template)
			i += len(p.Token)
			continue
		}
		b.WriteByte(readable[i])
		i++
	}
	return b.String()
}

// readableSummary is a template for a sentence: placeholders readable,
// and any other template syntax shown as "…", never as braces.
func readableSummary(tmpl string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		if p, found := placeholderAt(tmpl[i:], func(p Placeholder) string { return p.Template }); found {
			b.WriteString(p.Token)
			i += len(p.Template)
			continue
		}
		if strings.HasPrefix(tmpl[i:], "{{") {
			end := strings.Index(tmpl[i:], "}}")
			if end < 0 {
				b.WriteString("…")
				break
			}
			b.WriteString("…")
			i += end + 2
			continue
		}
		b.WriteByte(tmpl[i])
		i++
	}
	return b.String()
}

// placeholderAt is the placeholder whose key (its token or template)
// starts s.
func placeholderAt(s string, key func(Placeholder) string) (Placeholder, bool) {
	if s == "" || s[0] != '{' {
		return Placeholder{}, false
	}
	for _, p := range Placeholders {
		if strings.HasPrefix(s, key(p)) {
			return p, true
		}
	}
	return Placeholder{}, false
}
