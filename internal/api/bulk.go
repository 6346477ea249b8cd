package api

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
	"roster/internal/workflow"
)

// Bulk runs (POST /api/v1/bulk-runs, GET /api/v1/bulk-runs/{id}): one
// action, or a saved workflow, for many people, through the workflow
// engine, which checks the request as the dashboard's confirmation page
// does; the answers' messages are the engine's.

// BulkRunRequest is the body of POST /api/v1/bulk-runs.
type BulkRunRequest struct {
	Action     string `json:"action"`
	TeamID     string `json:"team_id,omitempty"`
	WorkflowID int64  `json:"workflow_id,omitempty"`
	// Filter is the users list's query parameters (GET /api/v1/users) as
	// an object; AccountIDs the users' ids. One of the two.
	Filter     map[string]any `json:"filter,omitempty"`
	AccountIDs []int64        `json:"account_ids,omitempty"`
	// DryRun answers the summary and starts nothing; People pages its
	// list of people.
	DryRun bool            `json:"dry_run,omitempty"`
	People *BulkPeopleView `json:"people,omitempty"`
	Key    string          `json:"key,omitempty"`
}

// BulkPeopleView is the page of people a dry run lists.
type BulkPeopleView struct {
	LeftOut bool `json:"left_out,omitempty"`
	Offset  int  `json:"offset,omitempty"`
	Limit   int  `json:"limit,omitempty"`
}

// BulkRun is a bulk run with its progress.
type BulkRun struct {
	ID          int64      `json:"id"`
	Key         string     `json:"key"`
	Action      string     `json:"action"`
	TeamID      string     `json:"team_id"`
	WorkflowID  int64      `json:"workflow_id"`
	Description string     `json:"description"`
	Actor       string     `json:"actor"`
	Selected    int        `json:"selected"`
	Excluded    int        `json:"excluded"`
	Status      string     `json:"status"` // starting, running or finished
	Runs        int        `json:"runs"`   // its runs (so far, while starting)
	Done        int        `json:"done"`
	Failed      int        `json:"failed"`
	Remaining   int        `json:"remaining"`
	Counts      RunCounts  `json:"counts"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at"`
	// Replayed says the key had started this bulk run before: the request
	// started nothing twice.
	Replayed bool `json:"replayed"`
	// RunsPath lists its workflow runs in the dashboard.
	RunsPath string `json:"runs_path"`
}

// RunCounts are runs by status.
type RunCounts map[string]int

// BulkRunOf is a bulk run's progress as JSON.
func BulkRunOf(p workflow.BulkProgress) BulkRun {
	b := p.Run
	out := BulkRun{ID: b.ID, Key: b.Key, Action: string(b.Action), TeamID: b.TeamID, WorkflowID: b.WorkflowID,
		Description: b.Description, Actor: b.Actor, Selected: b.Selected, Excluded: b.Excluded, Status: p.Status,
		Runs: p.Total, Done: p.Done, Failed: p.Failed, Remaining: p.Remaining, Counts: RunCounts{},
		CreatedAt: b.CreatedAt.UTC(), StartedAt: timeOf(b.StartedAt), RunsPath: fmt.Sprintf("/workflows/runs?bulk=%d", b.ID)}
	for _, st := range roster.RunStatuses {
		out.Counts[string(st)] = p.Counts[st]
	}
	return out
}

// BulkDryRun is what a bulk run would do: the summary first, then a page
// of people.
type BulkDryRun struct {
	Action  string         `json:"action"`
	Words   string         `json:"words"`
	Summary BulkSummary    `json:"summary"`
	People  []BulkPerson   `json:"people"`
	View    BulkPeopleView `json:"people_view"`
}

// BulkSummary is workflow.Summary as JSON.
type BulkSummary struct {
	Selected      int               `json:"selected"`
	WouldRun      int               `json:"would_run"`
	LeftOut       int               `json:"left_out"`
	Reasons       []PeopleCount     `json:"reasons"`
	Notes         []PeopleCount     `json:"notes"`
	Consequences  []BulkConsequence `json:"consequences"`
	Seats         []BulkSeats       `json:"seats_freed"`
	MonthlySaving float64           `json:"monthly_saving"`
	Currency      string            `json:"currency"`
	PricesMissing []string          `json:"prices_missing"`
}

// PeopleCount is a reason or note and how many people it applies to.
type PeopleCount struct {
	Text   string `json:"text"`
	People int    `json:"people"`
}

// BulkConsequence is what the action does through one connection.
type BulkConsequence struct {
	Where  string `json:"where"`
	Text   string `json:"text"`
	People int    `json:"people"`
}

// BulkSeats are the seats of one license a bulk run frees.
type BulkSeats struct {
	License string  `json:"license"`
	Seats   int     `json:"seats"`
	Price   float64 `json:"price"`
	Monthly float64 `json:"monthly"`
}

// BulkPerson is one person of a dry run's page.
type BulkPerson struct {
	UserID  int64         `json:"user_id"`
	Email   string        `json:"email"`
	Name    string        `json:"name"`
	License string        `json:"license"`
	Plan    string        `json:"plan"`
	Steps   []PlannedStep `json:"steps"`
	Reason  string        `json:"reason"`
}

func counts(cs []workflow.PeopleCount) []PeopleCount {
	out := make([]PeopleCount, 0, len(cs))
	for _, c := range cs {
		out = append(out, PeopleCount{Text: c.Text, People: c.People})
	}
	return out
}

// BulkDryRunOf is a bulk preview as JSON.
func BulkDryRunOf(p workflow.BulkPreview) BulkDryRun {
	s := p.Summary
	out := BulkDryRun{Action: string(p.Action), Words: p.Words, People: make([]BulkPerson, 0, len(p.People)),
		View: BulkPeopleView{LeftOut: p.View.LeftOut, Offset: p.View.Offset, Limit: cmp.Or(p.View.Limit, workflow.DefaultPeoplePage)},
		Summary: BulkSummary{Selected: s.Considered, WouldRun: s.WouldRun, LeftOut: s.LeftOut, Reasons: counts(s.Reasons),
			Notes: counts(s.Notes), Consequences: make([]BulkConsequence, 0, len(s.Consequences)),
			Seats: make([]BulkSeats, 0, len(s.Seats)), MonthlySaving: s.MonthlySaving, Currency: s.Currency,
			PricesMissing: append([]string{}, s.PricesMissing...)}}
	for _, c := range s.Consequences {
		out.Summary.Consequences = append(out.Summary.Consequences, BulkConsequence{Where: c.Where, Text: c.Text, People: c.People})
	}
	for _, st := range s.Seats {
		out.Summary.Seats = append(out.Summary.Seats, BulkSeats{License: st.License, Seats: st.Seats, Price: st.Price, Monthly: st.Monthly})
	}
	for _, pr := range p.People {
		j := BulkPerson{UserID: pr.AccountID, Email: pr.Email, Name: pr.Name, License: pr.License, Plan: pr.Plan,
			Steps: make([]PlannedStep, 0, len(pr.Steps)), Reason: pr.Reason}
		for _, st := range pr.Steps {
			j.Steps = append(j.Steps, PlannedStep{ID: st.ID, Kind: string(st.Kind), Plan: st.Plan, Blocked: st.Blocked})
		}
		out.People = append(out.People, j)
	}
	return out
}

// maxBulkBody bounds a bulk run's body: room for the largest selection
// of ids (workflow.MaxBulkSelection), so that a big one is refused by its
// count, saying the limit, not by its size.
const maxBulkBody = 512 << 10

// apiBulkRun is POST /api/v1/bulk-runs: with dry_run, what the bulk run
// would do (200); otherwise start it under its key (202), or answer the
// bulk run the key already started (202, replayed). A bad request is 400
// naming the field (409 for a key used for another bulk run), and starts
// nothing.
func (s *Server) apiBulkRun(w http.ResponseWriter, r *http.Request) error {
	e, err := s.apiEngine()
	if err != nil {
		return err
	}
	var body BulkRunRequest
	if err := decodeBulkJSON(w, r, &body); err != nil {
		return err
	}
	req := workflow.BulkRequest{Action: roster.BulkAction(body.Action), TeamID: strings.TrimSpace(body.TeamID),
		WorkflowID: body.WorkflowID, Key: body.Key, Actor: callerOf(r).Actor}
	switch {
	case body.Filter != nil && len(body.AccountIDs) > 0:
		return invalidField("account_ids", "give account_ids or filter, not both. Nothing was started.")
	case body.Filter != nil:
		q, words, err := s.bulkFilter(r, body.Filter)
		if err != nil {
			return err
		}
		req.Selection.Filter, req.Description = &q, words
	default:
		req.Selection.AccountIDs = body.AccountIDs
		req.Description = "people chosen by id"
	}
	if body.DryRun {
		var view workflow.PeopleView
		if v := body.People; v != nil {
			if v.Offset < 0 || v.Limit < 0 || v.Limit > apiRunsMaxLimit {
				return invalidField("people", "people.offset must be 0 or more and people.limit from 1 to %d", apiRunsMaxLimit)
			}
			view = workflow.PeopleView{LeftOut: v.LeftOut, Offset: v.Offset, Limit: v.Limit}
		}
		p, err := e.PreviewBulk(r.Context(), req, view)
		if err != nil {
			return bulkError(err)
		}
		writeJSON(w, http.StatusOK, One[BulkDryRun]{BulkDryRunOf(p)})
		return nil
	}
	if body.People != nil {
		return invalidField("people", "people pages a dry run's list; leave it out to start the bulk run")
	}
	started, err := e.StartBulk(r.Context(), req)
	if err != nil {
		return bulkError(err)
	}
	p, err := e.Progress(r.Context(), started.Run)
	if err != nil {
		return err
	}
	out := BulkRunOf(p)
	out.Replayed = started.Existed
	writeJSON(w, http.StatusAccepted, One[BulkRun]{out})
	return nil
}

// decodeBulkJSON is decodeJSON with room for the largest selection.
func decodeBulkJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONUpTo(w, r, v, maxBulkBody)
}

// bulkError answers the engine's refusal: 400 naming the field, 409 for a
// key that started another bulk run.
func bulkError(err error) error {
	var be *workflow.BulkError
	if !errors.As(err, &be) {
		return err
	}
	if be.Conflict {
		return apiErr(http.StatusConflict, "conflict", be.Field, be.Message)
	}
	return invalidField(be.Field, "%s", be.Message)
}

// bulkFilter reads a bulk run's filter, the users list's query parameters
// as a JSON object, into the store's query through the users list's own
// parser, so the two take the same parameters with the same checks; a bad
// one is named filter.<name>. It returns the filter in words too.
func (s *Server) bulkFilter(r *http.Request, filter map[string]any) (store.AccountQuery, string, error) {
	allowed := slices.DeleteFunc(slices.Clone(s.query["GET "+Prefix+"/users"]), func(n string) bool { return n == "cursor" || n == "limit" })
	v := url.Values{}
	var words []string
	for name, val := range filter {
		if !slices.Contains(allowed, name) {
			return store.AccountQuery{}, "", invalidField("filter."+name, "filter.%s is not a filter of the users list: use %s", name, strings.Join(allowed, ", "))
		}
		var text string
		switch x := val.(type) {
		case string:
			text = x
		case bool:
			text = strconv.FormatBool(x)
		case float64:
			text = strconv.FormatFloat(x, 'f', -1, 64)
		case nil:
			continue
		default:
			return store.AccountQuery{}, "", invalidField("filter."+name, "filter.%s must be a string, number or boolean", name)
		}
		if text == "" {
			continue
		}
		v.Set(name, text)
		words = append(words, name+" "+text)
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = v.Encode()
	q, err := s.usersQuery(r2, 1)
	var ae *apiError
	if errors.As(err, &ae) && ae.Field != "" {
		ae.Field, ae.Message = "filter."+ae.Field, "filter: "+ae.Message
	}
	if err != nil {
		return q, "", err
	}
	slices.Sort(words)
	desc := "people on the users list (no filter)"
	if len(words) > 0 {
		desc = "people matching " + strings.Join(words, ", ")
	}
	return q, desc, nil
}

// apiBulkRunGet is GET /api/v1/bulk-runs/{id}: a bulk run's progress.
func (s *Server) apiBulkRunGet(w http.ResponseWriter, r *http.Request) error {
	e, err := s.apiEngine()
	if err != nil {
		return err
	}
	id, err := pathIDOf(r, "bulk run")
	if err != nil {
		return err
	}
	p, err := e.BulkRunProgress(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return apiErr(http.StatusNotFound, "not_found", "", fmt.Sprintf("No bulk run %d.", id))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, One[BulkRun]{BulkRunOf(p)})
	return nil
}
