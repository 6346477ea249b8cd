package roster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// This file is the one check and the one renderer of notification
// templates, a notify or approval step's subject and text. They are
// text/template restricted to what cannot run away: no {{define}},
// {{template}} or {{block}} (definitions that call each other twice grow
// the work exponentially), no range inside a range, a range only over a
// list of the data, and only functions that cannot make text longer. So
// the work grows with the template and the data; what it writes is
// bounded by NotifyMaxOutput, and rendering stops when its context ends.

// Limits of notification templates.
const (
	// NotifyMaxTemplate is the longest subject or text, in characters.
	NotifyMaxTemplate = 10_000
	// NotifyMaxOutput is the most one template may render, in bytes.
	NotifyMaxOutput = 64 << 10
	// NotifyRenderTimeout bounds one rendering.
	NotifyRenderTimeout = 2 * time.Second
)

// notifyFuncs are the functions a template may call: none of them makes
// text longer (print, printf and the escapers could, exponentially when
// nested).
var notifyFuncs = []string{"and", "eq", "ge", "gt", "index", "le", "len", "lt", "ne", "not", "or", "slice"}

// ErrNotifyTooLong: a template rendered more than NotifyMaxOutput bytes.
var ErrNotifyTooLong = fmt.Errorf("renders more than %d bytes; shorten the template", NotifyMaxOutput)

// errNotifyTimeout is the cause of a rendering that ran out of time.
var errNotifyTimeout = fmt.Errorf("took longer than %s to render", NotifyRenderTimeout)

var notifyDataType = reflect.TypeFor[NotifyData]()

// ParseNotify parses a notification template and checks it against the
// rules above and NotifyData's fields, in every branch. Its error says
// what is wrong in plain words.
func ParseNotify(text string) (*template.Template, error) {
	if n := utf8.RuneCountInString(text); n > NotifyMaxTemplate {
		return nil, fmt.Errorf("is %d characters long; at most %d", n, NotifyMaxTemplate)
	}
	t, err := template.New("notification").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("is not a valid template: %w", plainTemplateErr(err))
	}
	for _, d := range t.Templates() {
		if d.Name() != t.Name() {
			return nil, errors.New("{{define}}, {{template}} and {{block}} are not allowed: write the text out")
		}
	}
	if t.Tree == nil {
		return t, nil
	}
	c := notifyCheck{tree: t.Tree, vars: map[string]reflect.Type{"$": notifyDataType}, assigned: map[string]bool{}}
	if err := c.walk(t.Tree.Root, notifyDataType); err != nil {
		return nil, err
	}
	return t, nil
}

// ExecNotify renders a template ParseNotify accepted, within
// NotifyMaxOutput bytes and NotifyRenderTimeout, and stops when ctx ends.
func ExecNotify(ctx context.Context, t *template.Template, data NotifyData) (string, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, NotifyRenderTimeout, errNotifyTimeout)
	defer cancel()
	w := &notifyWriter{ctx: ctx}
	if err := t.Execute(w, data); err != nil {
		var ee template.ExecError
		if errors.As(err, &ee) {
			return "", plainTemplateErr(err)
		}
		return "", err // the writer's: the budget, or the context
	}
	return w.b.String(), nil
}

// RenderNotify parses, checks and renders text over data: ParseNotify,
// then ExecNotify.
func RenderNotify(ctx context.Context, text string, data NotifyData) (string, error) {
	t, err := ParseNotify(text)
	if err != nil {
		return "", err
	}
	return ExecNotify(ctx, t, data)
}

// templatePrefix is how text/template's errors start.
var templatePrefix = regexp.MustCompile(`^template: notification:(\d+)(?::\d+)?: (?:executing "notification" at (<.*?>): )?`)

// plainTemplateErr says "line 3: <.Name>: ..." rather than text/template's
// "template: notification:3:2: executing "notification" at <.Name>: ...".
func plainTemplateErr(err error) error {
	m := templatePrefix.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	at := ""
	if m[2] != "" {
		at = m[2] + ": "
	}
	rest := strings.ReplaceAll(err.Error()[len(m[0]):], notifyDataType.String(), "the notification data")
	return fmt.Errorf("line %s: %s%s", m[1], at, rest)
}

// notifyWriter holds what a template writes, failing past
// NotifyMaxOutput or once its context ends. The check is the walk's
// guarantee that little work happens between two writes.
type notifyWriter struct {
	ctx context.Context
	b   strings.Builder
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	if w.ctx.Err() != nil {
		return 0, context.Cause(w.ctx)
	}
	if w.b.Len()+len(p) > NotifyMaxOutput {
		return 0, ErrNotifyTooLong
	}
	return w.b.Write(p)
}

// notifyCheck walks a template's parse tree, knowing the type of dot and
// of each variable where it can (nil where it cannot, e.g. a function's
// result), to refuse what the rules forbid and names of missing fields.
type notifyCheck struct {
	tree     *parse.Tree
	vars     map[string]reflect.Type
	assigned map[string]bool // variables assigned with =: type unknown
	inRange  bool
}

// refuse is a refusal at node n, with its line.
func (c *notifyCheck) refuse(n parse.Node, format string, args ...any) error {
	loc, _ := c.tree.ErrorContext(n)
	line := loc
	if parts := strings.Split(loc, ":"); len(parts) == 3 {
		line = parts[1]
	}
	return fmt.Errorf("line %s: %s", line, fmt.Sprintf(format, args...))
}

func (c *notifyCheck) walk(n parse.Node, dot reflect.Type) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, m := range n.Nodes {
			if err := c.walk(m, dot); err != nil {
				return err
			}
		}
		return nil
	case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
		return nil
	case *parse.ActionNode:
		_, err := c.pipe(n.Pipe, dot)
		return err
	case *parse.IfNode:
		return c.branch(&n.BranchNode, dot, false)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, dot, true)
	case *parse.RangeNode:
		return c.rangeOver(n, dot)
	case *parse.TemplateNode:
		return c.refuse(n, "{{define}}, {{template}} and {{block}} are not allowed: write the text out")
	}
	return c.refuse(n, "%s is not allowed in a notification template", short(n))
}

// branch walks an if or a with; the variables its pipeline declares last
// until its end.
func (c *notifyCheck) branch(b *parse.BranchNode, dot reflect.Type, with bool) error {
	outer := maps.Clone(c.vars)
	defer func() { c.vars = outer }()
	t, err := c.pipe(b.Pipe, dot)
	if err != nil {
		return err
	}
	inner := dot
	if with {
		inner = t
	}
	scope := maps.Clone(c.vars)
	if err := c.walk(b.List, inner); err != nil {
		return err
	}
	c.vars = scope
	return c.walk(b.ElseList, dot)
}

// rangeOver allows one level of range, over a list of the data (.Steps),
// so a template's work is at most its size times the list's length.
func (c *notifyCheck) rangeOver(r *parse.RangeNode, dot reflect.Type) error {
	if c.inRange {
		return c.refuse(r, "a range inside a range is not allowed")
	}
	t, err := c.cmds(r.Pipe, dot)
	if err != nil {
		return err
	}
	if t == nil || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
		return c.refuse(r, "{{range %s}}: range goes over a list such as .Steps", r.Pipe)
	}
	outer := maps.Clone(c.vars)
	defer func() { c.vars = outer }()
	switch d := r.Pipe.Decl; len(d) {
	case 1:
		c.vars[d[0].Ident[0]] = t.Elem()
	case 2:
		c.vars[d[0].Ident[0]], c.vars[d[1].Ident[0]] = reflect.TypeFor[int](), t.Elem()
	}
	c.inRange = true
	err = c.walk(r.List, t.Elem())
	c.inRange = false
	if err != nil {
		return err
	}
	c.vars = maps.Clone(outer)
	return c.walk(r.ElseList, dot)
}

// pipe checks a pipeline, records the variables it declares and returns
// its type, or nil when unknown.
func (c *notifyCheck) pipe(p *parse.PipeNode, dot reflect.Type) (reflect.Type, error) {
	t, err := c.cmds(p, dot)
	if err != nil {
		return nil, err
	}
	for _, v := range p.Decl {
		if p.IsAssign {
			c.assigned[v.Ident[0]] = true
		} else {
			c.vars[v.Ident[0]] = t
		}
	}
	return t, nil
}

func (c *notifyCheck) cmds(p *parse.PipeNode, dot reflect.Type) (reflect.Type, error) {
	var t reflect.Type
	for _, cmd := range p.Cmds {
		for i, arg := range cmd.Args {
			at, err := c.arg(arg, dot)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				t = at
			}
		}
		if _, fn := cmd.Args[0].(*parse.IdentifierNode); fn || len(cmd.Args) > 1 {
			t = nil // a function's result
		}
	}
	return t, nil
}

func (c *notifyCheck) arg(n parse.Node, dot reflect.Type) (reflect.Type, error) {
	switch n := n.(type) {
	case *parse.IdentifierNode:
		if !slices.Contains(notifyFuncs, n.Ident) {
			return nil, c.refuse(n, "%s is not available in a notification template; the functions are %s",
				n.Ident, strings.Join(notifyFuncs, ", "))
		}
		return nil, nil
	case *parse.DotNode:
		return dot, nil
	case *parse.FieldNode:
		return c.fields(n, dot, n.Ident)
	case *parse.VariableNode:
		t := c.vars[n.Ident[0]]
		if c.assigned[n.Ident[0]] {
			t = nil
		}
		return c.fields(n, t, n.Ident[1:])
	case *parse.ChainNode:
		t, err := c.arg(n.Node, dot)
		if err != nil {
			return nil, err
		}
		return c.fields(n, t, n.Field)
	case *parse.PipeNode:
		return c.pipe(n, dot)
	case *parse.StringNode:
		return reflect.TypeFor[string](), nil
	case *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		return nil, nil
	}
	return nil, c.refuse(n, "%s is not allowed in a notification template", short(n))
}

// fields follows a chain of field names from t.
func (c *notifyCheck) fields(n parse.Node, t reflect.Type, names []string) (reflect.Type, error) {
	for _, name := range names {
		if t == nil || t.Kind() == reflect.Interface {
			return nil, nil
		}
		if t.Kind() == reflect.Struct {
			f, ok := t.FieldByName(name)
			if !ok || !f.IsExported() {
				if t == notifyDataType {
					return nil, c.refuse(n, "%s: there is no field %s; the fields are %s", short(n), name, notifyFields())
				}
				return nil, c.refuse(n, "%s: there is no field %s", short(n), name)
			}
			t = f.Type
			continue
		}
		if t.Kind() == reflect.Map {
			t = t.Elem()
			continue
		}
		return nil, c.refuse(n, "%s: %s has no field %s", short(n), kindWords(t), name)
	}
	return t, nil
}

// notifyFields lists NotifyData's fields.
func notifyFields() string {
	var names []string
	for f := range notifyDataType.Fields() {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

// kindWords names a type in plain words.
func kindWords(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

// short is a node as written, cut to a readable length.
func short(n parse.Node) string {
	s := []rune(n.String())
	if len(s) > 40 {
		return string(s[:37]) + "..."
	}
	return string(s)
}
