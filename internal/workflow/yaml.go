package workflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"roster"
)

// ParseYAML reads one or more workflow definitions (YAML documents
// separated by ---). Unknown keys are errors, so a typo never silently
// drops a setting. Errors name the document and the field.
func ParseYAML(r io.Reader) ([]roster.Workflow, error) {
	text, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read the workflow definitions: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	var out []roster.Workflow
	for i := 0; ; i++ {
		var w roster.Workflow
		err := dec.Decode(&w)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A bad duration fails the whole decode; name its field instead.
			if fe := durationErrors(documentNode(text, i)); len(fe) > 0 {
				return nil, fieldErrs(fe)
			}
			return nil, fieldErrs(roster.WorkflowErrors{{Path: fmt.Sprintf("document %d", i+1), Message: yamlMessage(err)}})
		}
		out = append(out, w)
	}
	if len(out) == 0 {
		return nil, fieldErrs(roster.WorkflowErrors{{Path: "document 1", Message: "holds no workflow"}})
	}
	return out, nil
}

// documentNode is the i-th YAML document of text as a node, or nil.
func documentNode(text []byte, i int) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(text))
	for j := 0; ; j++ {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return nil
		}
		if j == i {
			return &n
		}
	}
}

// yamlMessage is a YAML error without the library's prefix, and in
// YAML's words: the library names the Go type it decodes into
// ("cannot unmarshal !!seq into roster.Workflow"), which means nothing
// to whoever wrote the YAML.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = yamlTypeRe.ReplaceAllStringFunc(m, func(s string) string {
				g := yamlTypeRe.FindStringSubmatch(s)
				return "expected " + yamlWant(g[3]) + ", found " + yamlFound(g[1], g[2])
			})
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// yamlTypeRe matches yaml.v3's "cannot unmarshal !!tag `value` into T".
var yamlTypeRe = regexp.MustCompile("cannot unmarshal !!(\\w+)( `[^`]*`)? into (\\S+)")

// yamlWant names what a Go type reads from YAML.
func yamlWant(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."):
		return "a mapping of fields"
	case goType == "string":
		return "text"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "another kind of value"
}

// yamlFound names what the YAML held, from its tag and value.
func yamlFound(tag, value string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	}
	if value = strings.TrimSpace(value); value != "" {
		return value
	}
	return "a " + tag
}

// Apply checks every workflow in the YAML and then saves them all (each
// created, or updated by name), so one bad definition saves none. Field
// errors are prefixed with the workflow's name.
func (e *Engine) Apply(ctx context.Context, r io.Reader) ([]roster.Workflow, error) {
	ws, err := ParseYAML(r)
	if err != nil {
		return nil, err
	}
	var errs roster.WorkflowErrors
	names := map[string]int{}
	for i := range ws {
		err := e.Check(ctx, &ws[i])
		label := ws[i].Name
		if label == "" {
			label = fmt.Sprintf("document %d", i+1)
		}
		var fe roster.WorkflowErrors
		switch {
		case errors.As(err, &fe):
			for _, f := range fe {
				errs = append(errs, roster.WorkflowFieldError{Path: label + ": " + f.Path, Message: f.Message})
			}
		case err != nil:
			return nil, err
		}
		if j, dup := names[ws[i].Name]; dup && ws[i].Name != "" {
			errs = append(errs, roster.WorkflowFieldError{Path: label + ": name", Message: fmt.Sprintf("document %d has the same name", j+1)})
		}
		names[ws[i].Name] = i
	}
	if len(errs) > 0 {
		return nil, fieldErrs(errs)
	}
	saved := make([]roster.Workflow, 0, len(ws))
	for _, w := range ws {
		s, err := e.Save(ctx, w)
		if err != nil {
			return saved, err
		}
		saved = append(saved, s)
	}
	return saved, nil
}

// MarshalYAML writes workflows as YAML documents, the form Apply reads.
func MarshalYAML(ws []roster.Workflow) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, w := range ws {
		if err := enc.Encode(w); err != nil {
			return nil, fmt.Errorf("encode workflow %s: %w", w.Name, err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode workflows: %w", err)
	}
	return buf.Bytes(), nil
}

// Export is every stored workflow, or the one named, as YAML.
func (e *Engine) Export(ctx context.Context, name string) ([]byte, error) {
	var ws []roster.Workflow
	if name != "" {
		w, err := e.Store.WorkflowByName(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("workflow %s: %w", name, err)
		}
		ws = []roster.Workflow{w}
	} else {
		all, err := e.Store.Workflows(ctx)
		if err != nil {
			return nil, fmt.Errorf("read workflows: %w", err)
		}
		ws = all
	}
	return MarshalYAML(ws)
}

// durationErrors finds the steps' timeout and duration values that are no
// duration, as field errors with their paths.
func durationErrors(doc *yaml.Node) roster.WorkflowErrors {
	if doc == nil {
		return nil
	}
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	steps := mapValue(root, "steps")
	if steps == nil || steps.Kind != yaml.SequenceNode {
		return nil
	}
	var errs roster.WorkflowErrors
	for i, st := range steps.Content {
		for _, key := range []string{"timeout", "duration"} {
			v := mapValue(st, key)
			if v == nil || v.Kind != yaml.ScalarNode {
				continue
			}
			if _, err := roster.ParseDuration(v.Value); err != nil {
				errs = append(errs, roster.WorkflowFieldError{Path: fmt.Sprintf("steps[%d].%s", i, key),
					Message: fmt.Sprintf("line %d: %v", v.Line, err)})
			}
		}
	}
	return errs
}

// mapValue is the value of key in a YAML mapping, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
