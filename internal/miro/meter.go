package miro

import (
	"context"
	"sync/atomic"
)

// counters are what a client, or a Meter, counts.
type counters struct {
	calls, credits, rateLimited, retries atomic.Int64
}

func (c *counters) stats() Stats {
	return Stats{
		Calls:       int(c.calls.Load()),
		Credits:     int(c.credits.Load()),
		RateLimited: int(c.rateLimited.Load()),
		Retries:     int(c.retries.Load()),
	}
}

// Meter counts what the calls made under one context spend. A client is
// shared by everything acting through one token (syncs, actions), so its
// own Stats mix them; a sync records its calls and credits from a Meter
// on its context instead.
type Meter struct{ c counters }

// Stats reports what the calls under the meter's context have spent.
func (m *Meter) Stats() Stats { return m.c.stats() }

type meterKey struct{}

// WithMeter returns ctx with m counting every call made under it, by any
// client or SCIM client.
func WithMeter(ctx context.Context, m *Meter) context.Context {
	return context.WithValue(ctx, meterKey{}, m)
}

// tally applies add to the client's counters and to the meter of ctx, if
// it has one.
func (e *engine) tally(ctx context.Context, add func(*counters)) {
	add(&e.counters)
	if m, ok := ctx.Value(meterKey{}).(*Meter); ok {
		add(&m.c)
	}
}
