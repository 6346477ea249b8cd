package miro

import (
	"context"
	"errors"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// AuditQuery selects audit events. Miro requires both bounds and keeps only
// the last 90 days.
type AuditQuery struct {
	CreatedAfter  time.Time
	CreatedBefore time.Time
	Sorting       string // "ASC" (Miro's default) or "DESC"
}

// auditTimeLayout is the format Miro asks for: UTC with milliseconds and Z.
const auditTimeLayout = "2006-01-02T15:04:05.000Z"

// AuditLogs walks the organization's audit events (the org comes from the
// token), 100 per call.
func (c *Client) AuditLogs(ctx context.Context, q AuditQuery) iter.Seq2[AuditEvent, error] {
	if q.CreatedAfter.IsZero() || q.CreatedBefore.IsZero() {
		return func(yield func(AuditEvent, error) bool) {
			yield(AuditEvent{}, errors.New("miro: GET /v2/audit/logs: CreatedAfter and CreatedBefore are both required"))
		}
	}
	if q.Sorting != "" && q.Sorting != "ASC" && q.Sorting != "DESC" {
		return func(yield func(AuditEvent, error) bool) {
			yield(AuditEvent{}, errors.New(`miro: GET /v2/audit/logs: Sorting must be "ASC" or "DESC", got "`+q.Sorting+`"`))
		}
	}
	return paginate(ctx, func(ctx context.Context, cursor string) (page[AuditEvent], error) {
		v := url.Values{
			"createdAfter":  {q.CreatedAfter.UTC().Format(auditTimeLayout)},
			"createdBefore": {q.CreatedBefore.UTC().Format(auditTimeLayout)},
			"limit":         {strconv.Itoa(pageLimit)},
		}
		if q.Sorting != "" {
			v.Set("sorting", q.Sorting)
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		var list cursorList[AuditEvent]
		if err := c.get(ctx, "enterprise-get-audit-logs", L2, "/v2/audit/logs", v, &list); err != nil {
			return page[AuditEvent]{}, err
		}
		return page[AuditEvent]{items: list.Data, next: list.Cursor}, nil
	})
}
