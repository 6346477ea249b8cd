package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"roster"
)

// This file writes the form editor's values onto a definition's YAML. The
// text is parsed to a yaml.Node tree and only the values the form changed
// are set, so comments, key order, quoting and every key the form does
// not show survive; a form that changed nothing gives the text back as it
// was.

// FormOp is a change to the form's rows, applied after its values.
type FormOp struct {
	Do    string          // one of the Op constants; "" changes no row
	Index int             // the condition or step removed or moved
	Kind  roster.StepKind // the kind of step added
}

// The form's row operations.
const (
	OpAddCondition    = "add-condition"
	OpRemoveCondition = "remove-condition"
	OpAddStep         = "add-step"
	OpRemoveStep      = "remove-step"
	OpStepUp          = "step-up"
	OpStepDown        = "step-down"
	OpAddOnFailure    = "add-on-failure"
	OpRemoveOnFailure = "remove-on-failure"
)

// ErrFormOp: a FormOp that is none of the Op constants.
var ErrFormOp = errors.New("unknown form operation")

// EditYAML writes a form's values onto base, a definition's YAML, then
// applies op. values are the form's inputs by path ("name",
// "trigger.days", "steps[1].team", "steps[2].text"); an input the form
// did not post leaves its key as it is, an empty one removes it.
// Notification texts are read as readable placeholders (TemplateText).
//
// errs are the values that cannot be written, such as a duration that is
// none, by path; the others are written and op is skipped. The returned
// text is base itself when nothing changed. err is ErrFormOp, or a failure
// to write YAML.
func EditYAML(base string, values map[string]string, op FormOp) (text string, errs roster.WorkflowErrors, err error) {
	doc, errs := formDocument(base)
	if errs != nil {
		return base, errs, nil
	}
	root := doc.Content[0]
	e := &editor{values: values}
	e.apply(root)
	if len(e.errs) == 0 {
		if err := e.do(root, op); err != nil {
			return base, nil, err
		}
	}
	if !e.changed {
		return base, e.errs, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return base, nil, fmt.Errorf("write the workflow's YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return base, nil, fmt.Errorf("write the workflow's YAML: %w", err)
	}
	return buf.String(), e.errs, nil
}

// formDocument is text's one YAML document, whose root is a mapping; an
// empty text is an empty mapping.
func formDocument(text string) (*yaml.Node, roster.WorkflowErrors) {
	empty := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	dec := yaml.NewDecoder(strings.NewReader(text))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return empty, nil
	case err != nil:
		return nil, roster.WorkflowErrors{{Path: "document 1", Message: yamlMessage(err)}}
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, roster.WorkflowErrors{{Path: "document 2", Message: "the form edits one workflow at a time"}}
	}
	if len(doc.Content) == 0 {
		return empty, nil
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, roster.WorkflowErrors{{Path: "document 1", Message: "is not a workflow: expected a mapping of fields"}}
	}
	return &doc, nil
}

// editor writes values onto a YAML tree, noting whether it changed.
type editor struct {
	values  map[string]string
	errs    roster.WorkflowErrors
	changed bool
}

func (e *editor) posted(path string) (string, bool) {
	v, ok := e.values[path]
	return v, ok
}

func (e *editor) fail(path, message string) {
	e.errs = append(e.errs, roster.WorkflowFieldError{Path: path, Message: message})
}

func (e *editor) apply(root *yaml.Node) {
	if v, ok := e.posted("name"); ok {
		e.setString(root, "name", strings.TrimSpace(v), workflowKeyOrder)
	}
	if v, ok := e.posted("description"); ok {
		e.setString(root, "description", strings.TrimSpace(v), workflowKeyOrder)
	}
	if v, ok := e.posted("enabled"); ok {
		e.setBool(root, "enabled", v == "true", workflowKeyOrder)
	}
	if v, ok := e.posted("connection"); ok {
		e.setInt(root, "connection", v, "connection", workflowKeyOrder)
	}
	e.applyTrigger(root)
	if conds := mapValue(root, "conditions"); conds != nil && conds.Kind == yaml.SequenceNode {
		for i, c := range conds.Content {
			e.applyCondition(fmt.Sprintf("conditions[%d]", i), c)
		}
	}
	if steps := mapValue(root, "steps"); steps != nil && steps.Kind == yaml.SequenceNode {
		e.applySteps(steps)
	}
	if f := mapValue(root, "on_failure"); f != nil && f.Kind == yaml.MappingNode {
		e.applyStepFields("on_failure", f, onFailureFields)
	}
}

// applyTrigger writes the trigger's kind and settings. A new kind drops
// the settings the old one took.
func (e *editor) applyTrigger(root *yaml.Node) {
	kind, ok := e.posted("trigger.kind")
	if !ok {
		return
	}
	t := e.mapping(root, "trigger", workflowKeyOrder)
	kind = strings.TrimSpace(kind)
	old := scalarValue(t, "kind")
	e.setString(t, "kind", kind, triggerKeyOrder)
	fields := TriggerFields(roster.TriggerKind(kind))
	for _, k := range triggerKeyOrder[1:] {
		if !slices.Contains(fields, k) {
			if old != kind {
				e.remove(t, k)
			}
			continue
		}
		v, ok := e.posted("trigger." + k)
		if !ok {
			continue
		}
		if k == "days" {
			e.setInt(t, k, v, "trigger.days", triggerKeyOrder)
		} else {
			e.setString(t, k, strings.TrimSpace(v), triggerKeyOrder)
		}
	}
}

// applyCondition writes one condition. Its one value input is the list
// "in" and "not_in" take, separated by commas.
func (e *editor) applyCondition(p string, c *yaml.Node) {
	if c.Kind != yaml.MappingNode {
		return
	}
	for _, k := range []string{"field", "op"} {
		if v, ok := e.posted(p + "." + k); ok {
			e.setString(c, k, strings.TrimSpace(v), conditionKeyOrder)
		}
	}
	v, ok := e.posted(p + ".value")
	if !ok {
		return
	}
	if op := scalarValue(c, "op"); op == "in" || op == "not_in" {
		e.setList(c, "values", splitValues(v), conditionKeyOrder)
		e.remove(c, "value")
		return
	}
	e.setString(c, "value", strings.TrimSpace(v), conditionKeyOrder)
	e.remove(c, "values")
}

// applySteps writes each step, gives an id to each the form left without
// one, and points the other steps' next and branches at a renamed step.
func (e *editor) applySteps(steps *yaml.Node) {
	before := stepIDs(steps)
	had := make([]bool, len(steps.Content))
	for i, st := range steps.Content {
		had[i] = scalarValue(st, "id") != ""
		if st.Kind != yaml.MappingNode {
			continue
		}
		p := fmt.Sprintf("steps[%d]", i)
		oldKind := scalarValue(st, "kind")
		kind := oldKind
		if v, ok := e.posted(p + ".kind"); ok {
			kind = strings.TrimSpace(v)
			e.setString(st, "kind", kind, stepKeyOrder)
		}
		fields := StepFields(roster.StepKind(kind))
		if kind != oldKind {
			// What the old kind took would not validate: drop it, and
			// start the new kind as a new step of it starts.
			for _, k := range stepKeyOrder[2:] {
				if !slices.Contains(fields, k) {
					e.remove(st, k)
				}
			}
			for _, d := range stepDefaults(roster.StepKind(kind)) {
				if mapValue(st, d[0]) == nil {
					e.setString(st, d[0], d[1], stepKeyOrder)
				}
			}
		}
		if v, ok := e.posted(p + ".id"); ok {
			e.setString(st, "id", strings.TrimSpace(v), stepKeyOrder)
		}
		e.applyStepFields(p, st, fields)
	}
	// A step whose id was cleared is named after its kind; one that never
	// had an id keeps the one it runs as ("step2").
	after := stepIDs(steps)
	for i, st := range steps.Content {
		if had[i] && scalarValue(st, "id") == "" {
			after[i] = newStepID(roster.StepKind(scalarValue(st, "kind")), after)
			e.setString(st, "id", after[i], stepKeyOrder)
		}
	}
	renamed := map[string]string{}
	for i := range before {
		if before[i] != after[i] {
			renamed[before[i]] = after[i]
		}
	}
	if len(renamed) == 0 {
		return
	}
	for _, st := range steps.Content {
		for _, k := range []string{keyNext, keyOnA, keyOnD, keyOnT} {
			if to, ok := renamed[scalarValue(st, k)]; ok && scalarValue(st, k) != "" {
				e.setString(st, k, to, stepKeyOrder)
			}
		}
	}
}

// stepIDs are the steps' ids, a step without one as Normalize names it.
func stepIDs(steps *yaml.Node) []string {
	ids := make([]string, len(steps.Content))
	for i, st := range steps.Content {
		ids[i] = scalarValue(st, "id")
		if ids[i] == "" {
			ids[i] = fmt.Sprintf("step%d", i+1)
		}
	}
	return ids
}

// applyStepFields writes the posted inputs of a step's fields.
func (e *editor) applyStepFields(p string, st *yaml.Node, fields []string) {
	for _, k := range fields {
		v, ok := e.posted(p + "." + k)
		if !ok {
			continue
		}
		switch k {
		case keyTo:
			e.setList(st, k, splitRecipients(v), stepKeyOrder)
		case keySubj:
			e.setString(st, k, TemplateText(strings.TrimSpace(v)), stepKeyOrder)
		case keyText:
			e.setString(st, k, TemplateText(v), stepKeyOrder)
		case keyTime, keyDur:
			e.setDuration(st, k, v, p+"."+k, stepKeyOrder)
		default:
			e.setString(st, k, strings.TrimSpace(v), stepKeyOrder)
		}
	}
}

// do applies op to the rows.
func (e *editor) do(root *yaml.Node, op FormOp) error {
	switch op.Do {
	case "":
	case OpAddCondition:
		seq := e.sequence(root, "conditions")
		seq.Content = append(seq.Content, mappingOf("field", roster.CondLicense, "op", "is"))
		e.changed = true
	case OpRemoveCondition:
		if seq := mapValue(root, "conditions"); seq != nil && e.removeItem(seq, op.Index) && len(seq.Content) == 0 {
			e.remove(root, "conditions")
		}
	case OpAddStep:
		if !slices.Contains(roster.StepKinds, op.Kind) {
			e.fail("steps", "choose the kind of step to add")
			return nil
		}
		seq := e.sequence(root, "steps")
		pairs := []string{"id", newStepID(op.Kind, stepIDs(seq)), "kind", string(op.Kind)}
		for _, d := range stepDefaults(op.Kind) {
			pairs = append(pairs, d[0], d[1])
		}
		seq.Content = append(seq.Content, mappingOf(pairs...))
		e.changed = true
	case OpRemoveStep:
		seq := mapValue(root, "steps")
		if seq == nil || seq.Kind != yaml.SequenceNode || op.Index < 0 || op.Index >= len(seq.Content) {
			return nil
		}
		gone := stepIDs(seq)[op.Index]
		e.removeItem(seq, op.Index)
		// Who went to the removed step goes on as if it had no next.
		for _, st := range seq.Content {
			for _, k := range []string{keyNext, keyOnA, keyOnD, keyOnT} {
				if scalarValue(st, k) == gone {
					e.remove(st, k)
				}
			}
		}
	case OpStepUp, OpStepDown:
		seq := mapValue(root, "steps")
		j := op.Index - 1
		if op.Do == OpStepDown {
			j = op.Index + 1
		}
		if seq == nil || seq.Kind != yaml.SequenceNode || min(op.Index, j) < 0 || max(op.Index, j) >= len(seq.Content) {
			return nil
		}
		seq.Content[op.Index], seq.Content[j] = seq.Content[j], seq.Content[op.Index]
		e.changed = true
	case OpAddOnFailure:
		if mapValue(root, "on_failure") == nil {
			e.insert(root, "on_failure", mappingOf("kind", string(roster.StepNotify), keyChan, roster.ChannelOutbox,
				keySubj, "Workflow failed: {{.Workflow}} for {{.Email}}",
				keyText, "Workflow {{.Workflow}} failed for {{.Email}}: {{.Error}}\n{{range .Steps}}- {{.}}\n{{end}}Look at the run and finish by hand: {{.RunURL}}"),
				workflowKeyOrder)
		}
	case OpRemoveOnFailure:
		e.remove(root, "on_failure")
	default:
		return fmt.Errorf("%w %q", ErrFormOp, op.Do)
	}
	return nil
}

// removeItem removes seq's item i, reporting whether there was one.
func (e *editor) removeItem(seq *yaml.Node, i int) bool {
	if seq.Kind != yaml.SequenceNode || i < 0 || i >= len(seq.Content) {
		return false
	}
	seq.Content = slices.Delete(seq.Content, i, i+1)
	e.changed = true
	return true
}

// setString writes a text value; "" removes the key.
func (e *editor) setString(m *yaml.Node, key, v string, order []string) {
	n := mapValue(m, key)
	switch {
	case n != nil && n.Kind == yaml.ScalarNode && n.Value == v:
	case v == "":
		e.remove(m, key)
	case n == nil:
		e.insert(m, key, scalarNode(v, "!!str"), order)
	default:
		e.setScalar(n, v, "!!str")
	}
}

// setInt writes a whole number; "" or 0 removes the key.
func (e *editor) setInt(m *yaml.Node, key, v, path string, order []string) {
	v = strings.TrimSpace(v)
	want := 0
	if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			e.fail(path, fmt.Sprintf("%q is not a whole number", v))
			return
		}
		want = n
	}
	n := mapValue(m, key)
	if n != nil && n.Kind == yaml.ScalarNode {
		if old, err := strconv.Atoi(n.Value); err == nil && old == want {
			return
		}
	}
	switch {
	case want == 0:
		if n != nil {
			e.remove(m, key)
		}
	case n == nil:
		e.insert(m, key, scalarNode(strconv.Itoa(want), "!!int"), order)
	default:
		e.setScalar(n, strconv.Itoa(want), "!!int")
	}
}

// setBool writes true or false; a key that is absent already reads false.
func (e *editor) setBool(m *yaml.Node, key string, want bool, order []string) {
	n := mapValue(m, key)
	var old bool
	if n != nil && n.Kind == yaml.ScalarNode {
		_ = n.Decode(&old)
	}
	switch {
	case n != nil && old == want:
	case n == nil && !want:
	case n == nil:
		e.insert(m, key, scalarNode(strconv.FormatBool(want), "!!bool"), order)
	default:
		e.setScalar(n, strconv.FormatBool(want), "!!bool")
	}
}

// setDuration writes a duration as typed, once it reads as one; the same
// duration written another way ("72h" for "3d") is left as it was.
func (e *editor) setDuration(m *yaml.Node, key, v, path string, order []string) {
	v = strings.TrimSpace(v)
	want, err := roster.ParseDuration(v)
	if err != nil {
		e.fail(path, err.Error())
		return
	}
	n := mapValue(m, key)
	if n != nil && n.Kind == yaml.ScalarNode {
		if old, err := roster.ParseDuration(n.Value); err == nil && old == want && (n.Value == "") == (v == "") {
			return
		}
	}
	e.setString(m, key, v, order)
}

// setList writes a list of texts; an empty one removes the key.
func (e *editor) setList(m *yaml.Node, key string, items []string, order []string) {
	n := mapValue(m, key)
	if n != nil && n.Kind == yaml.SequenceNode && len(n.Content) == len(items) {
		same := true
		for i, it := range n.Content {
			same = same && it.Kind == yaml.ScalarNode && it.Value == items[i]
		}
		if same {
			return
		}
	}
	if len(items) == 0 {
		if n != nil {
			e.remove(m, key)
		}
		return
	}
	content := make([]*yaml.Node, len(items))
	for i, it := range items {
		content[i] = scalarNode(it, "!!str")
	}
	if n == nil {
		e.insert(m, key, &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: content}, order)
		return
	}
	if n.Kind != yaml.SequenceNode {
		n.Style = 0
	}
	n.Kind, n.Tag, n.Value, n.Content = yaml.SequenceNode, "!!seq", "", content
	e.changed = true
}

// setScalar changes a scalar node's value in place, keeping its comments
// and its quotes; a text of several lines is written as a block.
func (e *editor) setScalar(n *yaml.Node, v, tag string) {
	style := n.Style &^ (yaml.LiteralStyle | yaml.FoldedStyle | yaml.FlowStyle)
	if strings.Contains(v, "\n") {
		style = yaml.LiteralStyle
	}
	if tag != "!!str" {
		style = 0
	}
	n.Kind, n.Tag, n.Value, n.Style, n.Content, n.Alias = yaml.ScalarNode, tag, v, style, nil, nil
	e.changed = true
}

// mapping is the mapping at key of m, made when there is none.
func (e *editor) mapping(m *yaml.Node, key string, order []string) *yaml.Node {
	n := mapValue(m, key)
	if n != nil && n.Kind == yaml.MappingNode {
		return n
	}
	if n != nil {
		e.remove(m, key)
	}
	n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	e.insert(m, key, n, order)
	return n
}

// sequence is the workflow's list at key, made when there is none.
func (e *editor) sequence(root *yaml.Node, key string) *yaml.Node {
	n := mapValue(root, key)
	if n != nil && n.Kind == yaml.SequenceNode {
		if n.Style&yaml.FlowStyle != 0 {
			// "steps: []": a block list reads better once it holds items.
			n.Style &^= yaml.FlowStyle
		}
		return n
	}
	if n != nil {
		e.remove(root, key)
	}
	n = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	e.insert(root, key, n, workflowKeyOrder)
	return n
}

// insert adds key: v to m before the first key order puts after it.
func (e *editor) insert(m *yaml.Node, key string, v *yaml.Node, order []string) {
	rank := func(k string) int {
		if i := slices.Index(order, k); i >= 0 {
			return i
		}
		return len(order)
	}
	at := len(m.Content)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if rank(m.Content[i].Value) > rank(key) {
			at = i
			break
		}
	}
	m.Content = slices.Insert(m.Content, at, scalarNode(key, "!!str"), v)
	e.changed = true
}

// remove deletes key from m, with its comments.
func (e *editor) remove(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			e.changed = true
			return
		}
	}
}

// scalarValue is the text at key of m, or "".
func scalarValue(m *yaml.Node, key string) string {
	if n := mapValue(m, key); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

func scalarNode(v, tag string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v}
	if strings.Contains(v, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

// mappingOf is a mapping of texts from key, value pairs.
func mappingOf(pairs ...string) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(pairs); i += 2 {
		m.Content = append(m.Content, scalarNode(pairs[i], "!!str"), scalarNode(pairs[i+1], "!!str"))
	}
	return m
}
