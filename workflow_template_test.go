package roster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// doubling is n levels of {{define}}s each calling the one below twice:
// 2^n calls from a few hundred bytes.
func doubling(n int) string {
	var b strings.Builder
	b.WriteString(`{{define "t0"}}x{{end}}`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{{define "t%d"}}{{template "t%d" .}}{{template "t%d" .}}{{end}}`, i, i-1, i-1)
	}
	fmt.Fprintf(&b, `{{template "t%d" .}}`, n)
	return b.String()
}

func notifyWorkflow(text string) Workflow {
	w := valid()
	w.Steps[0] = Step{ID: "tell", Kind: StepNotify, Channel: ChannelWebhook, Text: text}
	w.Normalize()
	return w
}

// fieldError is the message Validate gives at path, or "".
func fieldError(t *testing.T, err error, path string) string {
	t.Helper()
	var fe WorkflowErrors
	if !errors.As(err, &fe) {
		t.Fatalf("Validate() = %v, want WorkflowErrors", err)
	}
	for _, e := range fe {
		if e.Path == path {
			return e.Message
		}
	}
	t.Fatalf("errors %v, none at %s", err, path)
	return ""
}

// Definitions that call each other twice per level used to run while
// validating: 22 levels took 11 s. They are refused before running.
func TestDoublingTemplateIsRefused(t *testing.T) {
	for _, n := range []int{22, 40} {
		err := notifyWorkflow(doubling(n)).Validate(context.Background())
		msg := fieldError(t, err, "steps[0].text")
		if !strings.Contains(msg, "{{define}}, {{template}} and {{block}} are not allowed") {
			t.Errorf("%d levels: %q", n, msg)
		}
		if _, err := RenderNotify(context.Background(), doubling(n), NotifyData{}); err == nil {
			t.Errorf("%d levels: rendered", n)
		}
	}
	// {{block}} defines and calls a template too.
	msg := fieldError(t, notifyWorkflow(`{{block "b" .}}x{{end}}`).Validate(context.Background()), "steps[0].text")
	if !strings.Contains(msg, "not allowed") {
		t.Errorf("block: %q", msg)
	}
}

func TestNotifyTemplateRules(t *testing.T) {
	data := NotifyData{Workflow: "offboarding", RunID: 7, RunURL: "https://roster.example.com/workflows/runs/7",
		Email: "ann@example.com", Name: "Ann", License: "full", Steps: []string{"deactivate: succeeded", "sign-out: succeeded"}}
	// What the documentation, the built-in templates and the text/template
	// forms people write use keeps working.
	for text, want := range map[string]string{
		"{{.Name}} ({{.Email}}) left: {{.Workflow}} run {{.RunID}}\n{{range .Steps}}- {{.}}\n{{end}}{{.RunURL}}": "Ann (ann@example.com) left: offboarding run 7\n- deactivate: succeeded\n- sign-out: succeeded\nhttps://roster.example.com/workflows/runs/7",
		"{{if .Manager}}to {{.Manager}}{{else}}no manager{{end}}":                                                "no manager",
		"{{with .Name}}Hi {{.}}{{end}}{{with .Department}}!{{else with .License}} ({{.}}){{end}}":                "Hi Ann (full)",
		"{{range $i, $s := .Steps}}{{$i}}={{$s}};{{else}}none{{end}}":                                            "0=deactivate: succeeded;1=sign-out: succeeded;",
		"{{if eq .License \"full\"}}{{len .Steps}} steps, first {{index .Steps 0}}{{end}}":                       "2 steps, first deactivate: succeeded",
		"{{$who := .Email}}{{range .Steps}}{{$who}} {{.}}|{{end}}{{/* a comment */}}":                            "ann@example.com deactivate: succeeded|ann@example.com sign-out: succeeded|",
		"{{if and .Name (not .Error)}}{{slice .Name 0 1}}{{end}}{{.Steps | len}}":                                "A2",
		"{{range .Steps}}{{if eq . \"x\"}}{{break}}{{end}}{{$.Workflow}}{{end}}":                                 "offboardingoffboarding",
		"": "",
	} {
		got, err := RenderNotify(context.Background(), text, data)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", text, got, err, want)
		}
		if err := notifyWorkflow(text).Validate(context.Background()); err != nil && text != "" {
			t.Errorf("%q: %v", text, err)
		}
	}
	// What could run away, or names a field that is not there (in any
	// branch), is refused with a line and a reason.
	for text, want := range map[string]string{
		`{{define "a"}}x{{end}}hi`:                                         "{{define}}",
		`{{template "notification"}}`:                                      "{{define}}",
		`{{printf "%0999999d" 1}}`:                                         "printf is not available",
		`{{print .Email .Email}}`:                                          "print is not available",
		`{{urlquery (urlquery .Email)}}`:                                   "urlquery is not available",
		`{{call .Name}}`:                                                   "call is not available",
		`{{range .Steps}}{{range $.Steps}}{{end}}{{end}}`:                  "a range inside a range",
		"{{range .Steps}}\n{{if .}}{{range $.Steps}}{{end}}{{end}}{{end}}": "line 2: a range inside a range",
		`{{range 1000000000}}x{{end}}`:                                     "range goes over a list",
		`{{range .RunID}}x{{end}}`:                                         "range goes over a list",
		`{{range $x := .Email}}x{{end}}`:                                   "range goes over a list",
		`{{.Nope}}`:                                                        "there is no field Nope; the fields are Workflow, RunID",
		"hi\n{{if .Error}}{{.Nmae}}{{end}}":                                "line 2: .Nmae: there is no field Nmae",
		`{{.Email.Domain}}`:                                                "text has no field Domain",
		`{{range .Steps}}{{.Name}}{{end}}`:                                 "text has no field Name",
		`{{with $s := .Steps}}{{$s.Len}}{{end}}`:                           "a list has no field Len",
		`{{.Name`:                                                          "is not a valid template",
		strings.Repeat("x", NotifyMaxTemplate+1):                           "at most 10000",
	} {
		msg := fieldError(t, notifyWorkflow(text).Validate(context.Background()), "steps[0].text")
		if !strings.Contains(msg, want) {
			t.Errorf("%q: %q, want %q", text, msg, want)
		}
		if strings.Contains(msg, "roster.") || strings.Contains(msg, "NotifyData") {
			t.Errorf("%q: %q names a Go type", text, msg)
		}
	}
}

// A template within the rules can still write a lot with enough data:
// {{$.Steps}} inside a range over them is quadratic. Rendering stops at
// NotifyMaxOutput and says so.
func TestNotifyOutputIsBounded(t *testing.T) {
	data := NotifyData{}
	for i := range 50 {
		data.Steps = append(data.Steps, fmt.Sprintf("step%d: succeeded, %s", i, strings.Repeat("x", 1000)))
	}
	text := "{{range .Steps}}" + strings.Repeat("{{$.Steps}}", 800) + "{{end}}"
	if err := notifyWorkflow(text).Validate(context.Background()); err != nil {
		t.Fatalf("within the rules: %v", err)
	}
	got, err := RenderNotify(context.Background(), text, data)
	if !errors.Is(err, ErrNotifyTooLong) || got != "" {
		t.Fatalf("got %d bytes, %v; want ErrNotifyTooLong", len(got), err)
	}
	if want := "renders more than 65536 bytes"; !strings.Contains(err.Error(), want) {
		t.Errorf("%v, want %q", err, want)
	}
	// Up to the budget renders.
	text = strings.Repeat("{{.Email}}", NotifyMaxOutput/1024)
	if got, err := RenderNotify(context.Background(), text, NotifyData{Email: strings.Repeat("e", 1024)}); err != nil || len(got) != NotifyMaxOutput {
		t.Errorf("at the budget: %d bytes, %v", len(got), err)
	}
}

// A cancelled context (the client left) stops validation and rendering.
func TestNotifyStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := RenderNotify(ctx, "{{range .Steps}}{{.}}{{end}}", NotifyData{Steps: []string{"a", "b"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("render: %v, want context.Canceled", err)
	}
	err = notifyWorkflow("{{.Email}}").Validate(ctx)
	var fe WorkflowErrors
	if !errors.Is(err, context.Canceled) || errors.As(err, &fe) {
		t.Errorf("validate: %v, want context.Canceled", err)
	}
}
