package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"roster"
	"roster/internal/store"
)

// licensesTrendCSV is the trend as CSV: one row per day and license, all
// days of the range.
func (s *Server) licensesTrendCSV(w http.ResponseWriter, r *http.Request) error {
	days, err := parseTrendDays(r.URL.Query().Get("days"))
	if err != nil {
		return err
	}
	sc, err := s.orgForCSV(r)
	if err != nil {
		return err
	}
	t, err := s.licenses.Trend(r.Context(), sc.Org.Org.OrgID, days)
	if err != nil {
		return err
	}
	rows := [][]string{{"date", "license", "license_name", "purchased", "assigned", "active", "inactive", "usage_unknown", "monthly_cost", "currency"}}
	for _, d := range t.Days {
		for _, l := range t.Licenses {
			p := d.Licenses[l]
			rows = append(rows, []string{d.Day.Format("2006-01-02"), l, roster.LicenseName(l),
				strconv.Itoa(p.Purchased), strconv.Itoa(p.Assigned), strconv.Itoa(p.Active), strconv.Itoa(p.Inactive),
				strconv.Itoa(p.UsageUnknown), strconv.FormatFloat(d.LicenseCost[l], 'f', 2, 64), t.Contract.Currency})
		}
	}
	return writeCSV(w, fmt.Sprintf("roster-license-trend-%s-%dd.csv", sc.Org.Org.OrgID, days), rows)
}

// licensesChargebackCSV is the chargeback as CSV: every team or
// department, the catch-all lines included, so the rows add up.
func (s *Server) licensesChargebackCSV(w http.ResponseWriter, r *http.Request) error {
	by, err := parseChargebackBy(r.URL.Query().Get("by"))
	if err != nil {
		return err
	}
	sc, err := s.orgForCSV(r)
	if err != nil {
		return err
	}
	cb, err := s.licenses.Chargeback(r.Context(), sc.Org, by)
	if err != nil {
		return err
	}
	// A team has a Miro id beside its name; a department is its name.
	header := []string{by, "people", "paid_seats", "monthly_cost", "currency"}
	if by == store.ChargebackByTeam {
		header = slices.Insert(header, 1, "team_id")
	}
	rows := [][]string{header}
	for _, l := range sortChargeback(cb.Lines) {
		row := []string{l.Label, strconv.Itoa(l.People), strconv.FormatFloat(l.Seats, 'f', 2, 64),
			strconv.FormatFloat(l.Cost, 'f', 2, 64), cb.Contract.Currency}
		if by == store.ChargebackByTeam {
			row = slices.Insert(row, 1, l.Key)
		}
		rows = append(rows, row)
	}
	return writeCSV(w, fmt.Sprintf("roster-chargeback-%s-by-%s.csv", sc.Org.Org.OrgID, by), rows)
}

// orgForCSV is scopeOrg for an export: with no organization synced there
// is nothing to export.
func (s *Server) orgForCSV(r *http.Request) (orgScope, error) {
	sc, err := s.scopeOrg(r)
	if err == nil && !sc.Found {
		err = errNotFound("No organization has synced yet: there is nothing to export.")
	}
	return sc, err
}

// writeCSV writes rows as a CSV download, every cell guarded by csvSafe.
// It is built in memory first, so an error never leaves half a file.
func writeCSV(w http.ResponseWriter, filename string, rows [][]string) error {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	for _, row := range rows {
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write the CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write the CSV: %w", err)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write(buf.Bytes())
	return err
}

// csvSafe defuses a cell a spreadsheet would run as a formula (CSV
// injection): one starting with = + - @, a tab or a carriage return gets
// a leading apostrophe. encoding/csv does the quoting. (The same rule as
// the API's users export, internal/api/csv.go.)
func csvSafe(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}
