package roster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// JSONProblem says, in the words of JSON rather than Go, what is wrong
// with a body that encoding/json refused: the field at fault ("" for the
// body as a whole) and a message that names no Go type.
func JSONProblem(err error) (field, msg string) {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		want := jsonKind(typeErr.Type)
		if typeErr.Field == "" {
			return "", fmt.Sprintf("the body must be %s, not %s", want, article(typeErr.Value))
		}
		return typeErr.Field, fmt.Sprintf("%s must be %s, not %s", typeErr.Field, want, article(typeErr.Value))
	case errors.As(err, &syntax) && strings.Contains(syntax.Error(), "unexpected end"):
		return "", "the body ends before its JSON does"
	case errors.As(err, &syntax):
		return "", fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.Is(err, io.EOF):
		return "", "the body is empty; send a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "", "the body ends before its JSON does"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return f, fmt.Sprintf("unknown field %q", f)
	}
	return "", "the body is not valid JSON"
}

// jsonKind names what a Go type reads from JSON.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value"
}

// article puts "a" or "an" before one of encoding/json's value names
// ("string", "number", "object", "array", "bool", "number 1.5").
func article(v string) string {
	switch {
	case v == "":
		return "that value"
	case v == "bool":
		return "true or false"
	case strings.HasPrefix(v, "number "):
		return "the number " + strings.TrimPrefix(v, "number ")
	case strings.IndexAny(v[:1], "aeiou") == 0:
		return "an " + v
	}
	return "a " + v
}
