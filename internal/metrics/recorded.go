package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"roster/internal/store"
)

// ActionCounter counts the recorded actions; store.Store implements it.
type ActionCounter interface {
	ActionCounts(ctx context.Context) ([]store.ActionCount, error)
}

// CountRecordedActions adds roster_actions_recorded: the actions in
// roster's database by kind and status, read at each scrape. It counts
// what roster_actions_total cannot: actions run by another process, the
// CLI's above all (a command has no /metrics of its own), and those of
// other serve processes sharing the database (so take max, not sum,
// across instances).
func (m *Metrics) CountRecordedActions(c ActionCounter) {
	m.reg.MustRegister(recordedActions{c: c, desc: prometheus.NewDesc("roster_actions_recorded",
		"Actions recorded in roster's database by kind and status, whichever process ran them (serve, the CLI, workflows).",
		[]string{"kind", "status"}, nil)})
}

type recordedActions struct {
	c    ActionCounter
	desc *prometheus.Desc
}

func (r recordedActions) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

func (r recordedActions) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := r.c.ActionCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(r.desc, err)
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(r.desc, prometheus.GaugeValue, float64(n.N), string(n.Kind), string(n.Status))
	}
}
