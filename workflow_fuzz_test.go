package roster

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzNotifyTemplate checks any subject or text: ParseNotify and Validate
// agree, neither panics, what ParseNotify accepts renders over real-sized
// data within NotifyMaxOutput (or fails saying so), and no message shows
// a Go type. A template that ran away would hang the fuzzer.
func FuzzNotifyTemplate(f *testing.F) {
	for _, seed := range []string{
		// The built-in workflows' and the documentation's.
		"Offboarded from Miro: {{.Email}}",
		"{{.Email}} left the company and was offboarded from Miro by workflow {{.Workflow}} (run {{.RunID}}).\n{{range .Steps}}- {{.}}\n{{end}}{{.RunURL}}",
		"Workflow {{.Workflow}} failed for {{.Email}}: {{.Error}}\n{{range .Steps}}- {{.}}\n{{end}}Look at the run and finish by hand: {{.RunURL}}",
		"{{.Email}} has not used their full Miro license for 90 days or more. Free it by deactivating them?",
		"{{range .Steps}}- {{.}}{{end}}",
		// Forms people write.
		"{{if .Manager}}to {{.Manager}}{{else}}no manager{{end}}",
		"{{with .Name}}Hi {{.}}{{else with .License}}({{.}}){{end}}",
		"{{range $i, $s := .Steps}}{{$i}}={{$s}}{{else}}none{{end}}",
		"{{if eq .License \"full\"}}{{len .Steps}} {{index .Steps 0}}{{end}}",
		"{{$w := .Email}}{{$w = .Name}}{{$w}}{{- /* trim */ -}}",
		"{{range .Steps}}{{if eq . \"x\"}}{{break}}{{end}}{{continue}}{{end}}",
		"{{slice .Name 1 2}} {{and .Name .Email}} {{or .Error \"none\"}} {{not .RunID}}",
		"{{.Steps | len}} {{(index .Steps 0) | len}} {{(.Steps)}}",
		// What is refused.
		doubling(3),
		`{{block "b" .}}x{{end}}`,
		`{{printf "%0999999d" 1}}`,
		`{{range .Steps}}{{range $.Steps}}{{end}}{{end}}`,
		`{{range 9}}x{{end}}`,
		`{{.Nope}}`,
		"{{if .Error}}{{.Email.Domain}}{{end}}",
		"{{.Name",
		"{{end}}",
	} {
		f.Add(seed)
	}
	var big NotifyData
	big.Workflow, big.Email, big.Name, big.Error = "offboarding", "ann@example.com", "Ann", strings.Repeat("e", 500)
	for range 52 {
		big.Steps = append(big.Steps, "remove-from-teams: succeeded, removed from 3 teams")
	}
	f.Fuzz(func(t *testing.T, text string) {
		ctx := context.Background()
		tmpl, perr := ParseNotify(text)
		verr := notifyWorkflow(text).Validate(ctx)
		var fe WorkflowErrors
		if verr != nil && !errors.As(verr, &fe) {
			t.Fatalf("Validate = %v, want WorkflowErrors", verr)
		}
		for _, e := range fe {
			if strings.Contains(e.Message, "roster.") || strings.Contains(e.Message, "NotifyData") {
				t.Errorf("%s: %q names a Go type", e.Path, e.Message)
			}
		}
		atText := func() bool {
			for _, e := range fe {
				if e.Path == "steps[0].text" {
					return true
				}
			}
			return false
		}()
		if perr != nil {
			if !atText {
				t.Fatalf("ParseNotify refused (%v), Validate did not: %v", perr, verr)
			}
			return
		}
		for _, data := range []NotifyData{{}, big} {
			out, err := ExecNotify(ctx, tmpl, data)
			if len(out) > NotifyMaxOutput {
				t.Fatalf("rendered %d bytes", len(out))
			}
			if err != nil && out != "" {
				t.Fatalf("rendered %q and failed: %v", out, err)
			}
		}
	})
}
