package web

import (
	"fmt"
	"strings"

	"roster"
)

// trendChart is the geometry of the overview's SVG line chart, computed
// here so the template only draws it; no JavaScript is involved.
type trendChart struct {
	Width, Height int
	Left, Right   int // plot area's x bounds
	Top, Bottom   int // plot area's y bounds
	Series        []chartSeries
	YTicks        []chartTick
	XTicks        []chartTick
	Empty         bool
}

// chartSeries is one line; Class picks its colour in app.css.
type chartSeries struct {
	Name   string
	Class  string
	Points string // SVG polyline points, "x,y x,y ..."
	Last   int
	Dots   []chartDot // one per point, with a tooltip
}

type chartDot struct {
	X, Y  float64
	Title string
}

type chartTick struct {
	Pos   float64
	Label string
}

// newTrendChart lays out accounts, full licenses assigned and full
// licenses actively used over the sync history (oldest first).
func newTrendChart(points []roster.TrendPoint) trendChart {
	c := trendChart{Width: 720, Height: 240, Left: 56, Right: 700, Top: 16, Bottom: 200}
	if len(points) == 0 {
		c.Empty = true
		return c
	}
	maxY := 1
	for _, p := range points {
		maxY = max(maxY, p.Accounts, p.FullAssigned, p.FullActive)
	}
	maxY = niceCeil(maxY)
	x := func(i int) float64 {
		if len(points) == 1 {
			return float64(c.Left+c.Right) / 2
		}
		return float64(c.Left) + float64(i)*float64(c.Right-c.Left)/float64(len(points)-1)
	}
	y := func(v int) float64 {
		return float64(c.Bottom) - float64(v)*float64(c.Bottom-c.Top)/float64(maxY)
	}
	series := []struct {
		name, class string
		val         func(roster.TrendPoint) int
	}{
		{"People", "s-accounts", func(p roster.TrendPoint) int { return p.Accounts }},
		{"Full licenses assigned", "s-assigned", func(p roster.TrendPoint) int { return p.FullAssigned }},
		{"Full licenses actively used", "s-active", func(p roster.TrendPoint) int { return p.FullActive }},
	}
	for _, s := range series {
		var pts []string
		cs := chartSeries{Name: s.name, Class: s.class}
		for i, p := range points {
			v := s.val(p)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			cs.Dots = append(cs.Dots, chartDot{X: x(i), Y: y(v), Title: fmt.Sprintf("%s: %d on %s", s.name, v, p.At.UTC().Format("2006-01-02 15:04"))})
			cs.Last = v
		}
		cs.Points = strings.Join(pts, " ")
		c.Series = append(c.Series, cs)
	}
	for i := 0; i <= 4; i++ {
		v := maxY * i / 4
		c.YTicks = append(c.YTicks, chartTick{Pos: y(v), Label: formatThousands(fmt.Sprint(v))})
	}
	// At most six date labels, spread evenly.
	step := max(1, (len(points)+5)/6)
	for i := 0; i < len(points); i += step {
		c.XTicks = append(c.XTicks, chartTick{Pos: x(i), Label: points[i].At.UTC().Format("Jan 2")})
	}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so the axis
// reads well.
func niceCeil(n int) int {
	p := 1
	for {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
		p *= 10
	}
}
