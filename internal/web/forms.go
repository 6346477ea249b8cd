package web

import "strings"

// form is a submitted form's values and its field-level errors, so a page
// can be shown again with what was typed and what is wrong with it.
type form struct {
	Values map[string]string
	Errors map[string]string
}

func newForm() *form { return &form{Values: map[string]string{}, Errors: map[string]string{}} }

// set records a value to show again.
func (f *form) set(name, value string) { f.Values[name] = value }

// fail records a field's error; the first one wins.
func (f *form) fail(name, msg string) {
	if _, ok := f.Errors[name]; !ok {
		f.Errors[name] = msg
	}
}

// ok reports whether no field failed.
func (f *form) ok() bool { return len(f.Errors) == 0 }

// Valid is ok, for templates.
func (f *form) Valid() bool { return f.ok() }

// Error is a field's error, for templates.
func (f *form) Error(name string) string { return f.Errors[name] }

// Value is a field's value, for templates.
func (f *form) Value(name string) string { return f.Values[name] }

// fieldView is what the "field" template draws.
type fieldView struct {
	Name, Label, Type, Value, Error, Autocomplete string
}

// Field describes an input for the "field" template. Passwords are never
// echoed back.
func (f *form) Field(name, label, typ, autocomplete string) fieldView {
	v := fieldView{Name: name, Label: label, Type: typ, Error: f.Errors[name], Autocomplete: autocomplete}
	if typ != "password" {
		v.Value = f.Values[name]
	}
	return v
}

// sentence starts a message with a capital and ends it with a full stop
// (one: a message that has one keeps it).
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if strings.HasSuffix(msg, ".") {
		return msg
	}
	return msg + "."
}
