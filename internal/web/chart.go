package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeChart is the geometry of one SVG line chart over days, computed here
// so that the template only draws it (no JavaScript). The x axis is time:
// days are placed by their date, so a week without a sync is a week wide,
// and its ticks are dates at even calendar steps. The y axis runs from 0 to
// a round number just above the data's maximum.
type timeChart struct {
	Label         string // the chart's accessible name
	Width, Height float64
	Left, Right   float64 // the plot area's x bounds
	Top, Bottom   float64 // the plot area's y bounds
	Series        []chartSeries
	YTicks        []chartTick
	XTicks        []chartTick
	// Hovers are one band per day (per few days past maxHovers), each
	// with the day's values as its tooltip (an SVG <title>).
	Hovers []chartHover
	YMax   float64
	Empty  bool
}

// chartSeries is one line; Class picks its colour in the stylesheet.
type chartSeries struct {
	Name  string
	Class string
	Path  string     // SVG path data, "M x y L x y ..."
	Dots  []chartDot // drawn when the days are few enough to tell apart
	Last  string     // the last value, formatted
}

type chartDot struct{ X, Y float64 }

// chartTick is one axis label; Alt ticks are dropped on narrow screens
// (the stylesheet hides them), so that the labels never overlap.
type chartTick struct {
	Pos    float64
	Label  string
	Alt    bool
	Anchor string // text-anchor: middle, or start/end near the plot's edges
}

type chartHover struct {
	X, W  float64
	Title string
}

// chartLine is one series' values, one per day of the chart's Days.
type chartLine struct {
	Name, Class string
	Values      []float64
}

// chartData is what a timeChart draws.
type chartData struct {
	Label string
	Days  []time.Time // ascending, each a UTC midnight
	Lines []chartLine
	// Until extends the axis to this day when it is after the last day
	// (today, so that a stale trend shows its gap).
	Until time.Time
	// Format writes a value for the axis and tooltips; counts when nil.
	Format func(float64) string
	// Whole says the values are counts: the y axis steps by whole numbers.
	Whole bool
}

// Chart geometry, in SVG user units (the viewBox). The stylesheet scales
// the chart to its box and enlarges the labels on narrow screens.
const (
	chartWidth, chartHeight = 600, 220
	chartLeft, chartRight   = 64, 584
	chartTop, chartBottom   = 14, 188
	// maxXTicks bounds the date labels, so that they fit at any width.
	maxXTicks = 6
	// maxDots is how many days get a dot each; more would blur together.
	maxDots = 62
	// maxHovers bounds the tooltip bands, each then 4 units or wider.
	maxHovers = (chartRight - chartLeft) / 4
)

const day = 24 * time.Hour

// newTimeChart lays out lines over days on a time axis.
func newTimeChart(d chartData) timeChart {
	c := timeChart{Label: d.Label, Width: chartWidth, Height: chartHeight,
		Left: chartLeft, Right: chartRight, Top: chartTop, Bottom: chartBottom}
	format := d.Format
	if format == nil {
		format = func(v float64) string { return formatThousands(strconv.FormatFloat(v, 'f', 0, 64)) }
	}
	if len(d.Days) == 0 {
		c.Empty = true
		return c
	}

	// The x domain: first day to last (or Until); a single day sits in the
	// middle of a three-day window.
	from, to := d.Days[0], d.Days[len(d.Days)-1]
	if d.Until.After(to) {
		to = d.Until
	}
	single := !to.After(from)
	if single {
		from, to = from.Add(-day), to.Add(day)
	}
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		return c.Left + t.Sub(from).Seconds()/span*(c.Right-c.Left)
	}

	dataMax := 0.0
	for _, l := range d.Lines {
		for _, v := range l.Values {
			dataMax = max(dataMax, v)
		}
	}
	top, step := niceAxis(dataMax, d.Whole)
	c.YMax = top
	y := func(v float64) float64 { return c.Bottom - v/top*(c.Bottom-c.Top) }
	for v := 0.0; v <= top+step/2; v += step {
		c.YTicks = append(c.YTicks, chartTick{Pos: round1(y(v)), Label: axisLabel(v, step)})
	}

	dots := len(d.Days) <= maxDots
	for _, l := range d.Lines {
		s := chartSeries{Name: l.Name, Class: l.Class}
		var path strings.Builder
		for i, v := range l.Values {
			px, py := x(d.Days[i]), y(v)
			if dots {
				s.Dots = append(s.Dots, chartDot{X: round1(px), Y: round1(py)})
			}
			s.Last = format(v)
			// A point inside a level run draws nothing the run's ends do
			// not: two years of a steady count are one segment, not 730.
			if i > 0 && i+1 < len(l.Values) && round1(y(l.Values[i-1])) == round1(py) && round1(y(l.Values[i+1])) == round1(py) {
				continue
			}
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f", cmd, px, py)
		}
		s.Path = path.String()
		c.Series = append(c.Series, s)
	}

	// Hover bands: each day owns the half-way points to its neighbours.
	// Past maxHovers days, neighbouring days share a band, which tells
	// the last of them: a band narrower than a pointer cannot be pointed
	// at, and 730 tooltips per chart weigh.
	per := max(1, int(math.Ceil(float64(len(d.Days))/float64(maxHovers))))
	for first := 0; first < len(d.Days); first += per {
		last := min(first+per, len(d.Days)) - 1
		lo, hi := c.Left, c.Right
		if first > 0 {
			lo = (x(d.Days[first-1]) + x(d.Days[first])) / 2
		}
		if last+1 < len(d.Days) {
			hi = (x(d.Days[last]) + x(d.Days[last+1])) / 2
		}
		parts := []string{d.Days[last].Format("Jan 2, 2006")}
		for _, l := range d.Lines {
			parts = append(parts, l.Name+": "+format(l.Values[last]))
		}
		c.Hovers = append(c.Hovers, chartHover{X: round1(lo), W: round1(max(hi-lo, 1)), Title: strings.Join(parts, "\n")})
	}

	ticks := dateTicks(from, to, maxXTicks)
	if single {
		// One day of history: label it alone, not the empty days around it.
		ticks = []dateTick{{d.Days[0], d.Days[0].Format("Jan 2")}}
	}
	for i, t := range ticks {
		tick := chartTick{Pos: round1(x(t.at)), Label: t.label, Alt: i%2 == 1 && len(ticks) > 3, Anchor: "middle"}
		// A label centred on the edge would leave the chart.
		switch half := float64(len(t.label)) * 5; {
		case tick.Pos+half > c.Width-4:
			tick.Anchor = "end"
		case tick.Pos-half < 4:
			tick.Anchor = "start"
		}
		c.XTicks = append(c.XTicks, tick)
	}
	return c
}

// PlotHeight is the plot area's height, for the hover bands.
func (c timeChart) PlotHeight() float64 { return c.Bottom - c.Top }

// TickEnd is where the x axis' tick marks end, below the plot.
func (c timeChart) TickEnd() float64 { return c.Bottom + 5 }

// round1 rounds an SVG coordinate to a tenth, which is finer than a pixel
// and keeps the markup short.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

// dateTick is one date on the x axis and its label.
type dateTick struct {
	at    time.Time
	label string
}

// tickSteps are the calendar steps the x axis may use, finest first: days
// labelled "Jan 2", months labelled "Jan 2026" (so that no two labels of
// a two-year axis read the same).
var tickSteps = []struct {
	days, months int
}{{1, 0}, {2, 0}, {7, 0}, {14, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 6}, {0, 12}}

// dateTicks are at most n dates between from and to (inclusive), at the
// finest calendar step that fits: every day, every other day, Mondays,
// every other Monday, or the first of every 1, 2, 3, 6 or 12 months.
func dateTicks(from, to time.Time, n int) []dateTick {
	for _, st := range tickSteps {
		var ticks []dateTick
		if st.days > 0 {
			t := from
			if st.days >= 7 {
				// Weeks start on Monday.
				for t.Weekday() != time.Monday {
					t = t.Add(day)
				}
			}
			for ; !t.After(to); t = t.AddDate(0, 0, st.days) {
				ticks = append(ticks, dateTick{t, t.Format("Jan 2")})
			}
		} else {
			t := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
			if t.Before(from) {
				t = t.AddDate(0, 1, 0)
			}
			// Steps of several months start on a month they divide.
			for (int(t.Month())-1)%st.months != 0 {
				t = t.AddDate(0, 1, 0)
			}
			for ; !t.After(to); t = t.AddDate(0, st.months, 0) {
				ticks = append(ticks, dateTick{t, t.Format("Jan 2006")})
			}
		}
		if len(ticks) <= n {
			return ticks
		}
	}
	return nil
}

// niceAxis is the y axis' top and step for data up to max: a step of 1,
// 2, 2.5 or 5 times a power of ten (whole numbers when whole), and the
// smallest multiple of it at or above max within five steps. The top is
// below 1.5 × max whenever max is at least 5 steps' worth of the finest
// step; an empty chart gets an axis of 0..1.
func niceAxis(maxV float64, whole bool) (top, step float64) {
	if maxV <= 0 || math.IsNaN(maxV) {
		return 1, 1
	}
	if whole && maxV <= 5 {
		top = math.Ceil(maxV)
		return top, 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(maxV/5)))
	for _, m := range []float64{1, 2, 2.5, 5, 10, 20, 25, 50} {
		step = m * exp
		if whole && (step < 1 || step != math.Trunc(step)) {
			continue
		}
		if math.Ceil(maxV/step-1e-9) <= 5 {
			break
		}
	}
	return math.Ceil(maxV/step-1e-9) * step, step
}

// axisLabel writes an axis value compactly, so that it fits the margin on
// a phone: 1.5k for 1,500 and 1.5M for 1,500,000, with decimals only when
// the step needs them.
func axisLabel(v, step float64) string {
	switch {
	case v >= 1_000_000 && step >= 100_000:
		return strconv.FormatFloat(math.Round(v/10_000)/100, 'f', -1, 64) + "M"
	case v >= 1_000 && step >= 100:
		return strconv.FormatFloat(math.Round(v/10)/100, 'f', -1, 64) + "k"
	case step < 1:
		return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	}
	return formatThousands(strconv.FormatFloat(v, 'f', 0, 64))
}
