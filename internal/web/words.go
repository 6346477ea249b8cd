package web

import (
	"html/template"
	"strings"
	"time"

	"roster/internal/insights"
)

// actorName is an audit actor ("operator:ann@example.com", "apikey:ci",
// "workflow:offboarding", "system") as people read it, with where it
// acted from in brackets. Every page that shows who did something uses it.
func actorName(actor string) string {
	kind, name, ok := strings.Cut(actor, ":")
	switch {
	case actor == "":
		return "unknown"
	case !ok && actor == "system":
		return "roster (automatic)"
	case !ok:
		return actor
	case name == "":
		return kind
	}
	switch kind {
	case "operator":
		return name + " (dashboard)"
	case "apikey":
		return name + " (API key)"
	case "workflow":
		return name + " (workflow)"
	case "cli":
		return name + " (command line)"
	case "scim":
		return name + " (SCIM)"
	}
	return name + " (" + kind + ")"
}

// plural is a count and its noun: "1 run", "3 runs", "1,234 people".
func plural(n int, word string) string {
	return insights.Count(n) + " " + noun(n, word)
}

// noun is word for one, its plural for any other count; for templates
// that set the number apart ("<strong>3</strong> runs").
func noun(n int, word string) string {
	if n == 1 {
		return word
	}
	switch word {
	case "person":
		return "people"
	case "match":
		return "matches"
	}
	return word + "s"
}

// datetimeHTML is a moment for tables and facts: the minute in UTC on one
// line, the exact instant in datetime= and as a tooltip.
func datetimeHTML(t time.Time) template.HTML {
	if t.IsZero() {
		return "-"
	}
	t = t.UTC()
	iso := t.Format(time.RFC3339)
	return template.HTML(`<time class="when" datetime="` + iso + `" title="` + iso + `">` + t.Format("2006-01-02 15:04 UTC") + `</time>`)
}
