package miro

import (
	"context"
	"fmt"
	"iter"
)

// page is one fetched page: its items and how to get the next one.
type page[T any] struct {
	items []T
	next  string // cursor, offset or link of the next page; "" when done
}

// paginate turns a page fetcher into an iterator. It fetches lazily, one
// page at a time, so a consumer that breaks early costs no further calls.
// An error is yielded once and ends the sequence.
func paginate[T any](ctx context.Context, fetch func(ctx context.Context, next string) (page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		next := ""
		seen := map[string]bool{}
		for {
			p, err := fetch(ctx, next)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.items {
				if !yield(item, nil) {
					return
				}
			}
			if p.next == "" {
				return
			}
			if seen[p.next] {
				// A server handing back a cursor it gave before would loop
				// forever; stop with an error instead.
				yield(zero, fmt.Errorf("miro: pagination loop: next page %q was already fetched", p.next))
				return
			}
			seen[p.next] = true
			next = p.next
		}
	}
}

// requireIDs refuses a page holding an item without an id: a sync would
// file it under "", or, were it skipped, take that member for a leaver.
func requireIDs[T any](e *engine, path string, items []T, id func(T) string) error {
	for i, item := range items {
		if id(item) == "" {
			return fmt.Errorf("%s: GET %s: malformed page: item %d of %d has no id", e.errPrefix, path, i+1, len(items))
		}
	}
	return nil
}
