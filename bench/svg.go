package main

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
)

// A small hand-written SVG line chart: enough for latency distributions
// and time against size, with no dependency.

type series struct {
	name   string
	color  string
	dashed bool
	pts    [][2]float64
	// openEnd marks the last point as a lower bound (an aborted run).
	openEnd bool
}

type chart struct {
	title, xLabel, yLabel string
	xLog, yLog            bool
	step                  bool // draw series as step functions (CDFs)
	series                []series
	yMin, yMax            float64 // 0,0 = from data
	xMin, xMax            float64
}

var palette = []string{"#1b6ac9", "#d1451b", "#2a9d4b", "#8e44ad", "#b8860b"}

const (
	svgW, plotH              = 720, 330
	padL, padR, padT float64 = 70, 20, 40
	// Below the plot: tick labels, the axis label, then one legend line
	// per series.
	padB = 56
)

func (c *chart) bounds() (x0, x1, y0, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, s := range c.series {
		for _, p := range s.pts {
			x0, x1 = math.Min(x0, p[0]), math.Max(x1, p[0])
			y0, y1 = math.Min(y0, p[1]), math.Max(y1, p[1])
		}
	}
	if c.xMin != 0 || c.xMax != 0 {
		x0, x1 = c.xMin, c.xMax
	}
	if c.yMin != 0 || c.yMax != 0 {
		y0, y1 = c.yMin, c.yMax
	}
	if math.IsInf(x0, 0) {
		x0, x1, y0, y1 = 1, 10, 1, 10
	}
	// Log axes need positive bounds.
	if c.xLog && x0 <= 0 {
		x0 = math.Min(1, x1)
	}
	if c.yLog && y0 <= 0 {
		y0 = math.Min(1, y1)
	}
	if c.xLog {
		x0, x1 = math.Pow(10, math.Floor(math.Log10(x0))), math.Pow(10, math.Ceil(math.Log10(x1)))
	}
	if c.yLog {
		y0, y1 = math.Pow(10, math.Floor(math.Log10(y0))), math.Pow(10, math.Ceil(math.Log10(y1)))
	} else if c.yMin == 0 && c.yMax == 0 {
		y0, y1 = 0, niceCeil(y1)
	}
	if !c.xLog && c.xMin == 0 && c.xMax == 0 {
		x0, x1 = 0, niceCeil(x1)
	}
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if y1 <= y0 {
		y1 = y0 + 1
	}
	return
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func ticks(lo, hi float64, log bool) []float64 {
	var out []float64
	if log {
		if lo <= 0 || hi <= 0 {
			return nil
		}
		steps := []float64{1}
		if hi/lo <= 1000 {
			steps = []float64{1, 2, 5}
		}
		for v := lo; v <= hi*1.0001; v *= 10 {
			for _, m := range steps {
				if v*m <= hi*1.0001 {
					out = append(out, v*m)
				}
			}
		}
		return out
	}
	step := niceCeil((hi - lo) / 6)
	for v := lo; v <= hi*1.0001 && len(out) < 50; v += step {
		out = append(out, v)
	}
	return out
}

func fmtTick(v float64) string {
	switch {
	case v >= 1e6 && math.Mod(v, 1e6) == 0:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3 && math.Mod(v, 1e3) == 0:
		return fmt.Sprintf("%gk", v/1e3)
	default:
		return fmt.Sprintf("%g", math.Round(v*1000)/1000)
	}
}

func (c *chart) svg() string {
	x0, x1, y0, y1 := c.bounds()
	pw, ph := svgW-padL-padR, plotH-padT
	svgH := int(plotH+padB) + 18*len(c.series)
	sx := func(v float64) float64 {
		if c.xLog {
			return padL + pw*(math.Log10(v)-math.Log10(x0))/(math.Log10(x1)-math.Log10(x0))
		}
		return padL + pw*(v-x0)/(x1-x0)
	}
	sy := func(v float64) float64 {
		if c.yLog {
			return padT + ph*(1-(math.Log10(v)-math.Log10(y0))/(math.Log10(y1)-math.Log10(y0)))
		}
		return padT + ph*(1-(v-y0)/(y1-y0))
	}
	clampX := func(v float64) float64 { return math.Max(x0, math.Min(x1, v)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s</text>`+"\n", svgW/2, html.EscapeString(c.title))
	for _, t := range ticks(x0, x1, c.xLog) {
		x := sx(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e4e4e4"/>`+"\n", x, padT, x, padT+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, padT+ph+16, fmtTick(t))
	}
	for _, t := range ticks(y0, y1, c.yLog) {
		y := sy(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e4e4e4"/>`+"\n", padL, y, padL+pw, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, y+4, fmtTick(t))
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#555"/>`+"\n", padL, padT, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", padL+pw/2, padT+ph+36, html.EscapeString(c.xLabel))
	fmt.Fprintf(&b, `<text x="16" y="%.1f" text-anchor="middle" transform="rotate(-90 16 %.1f)">%s</text>`+"\n", padT+ph/2, padT+ph/2, html.EscapeString(c.yLabel))
	for i, s := range c.series {
		color := s.color
		if color == "" {
			color = palette[i%len(palette)]
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		var pts []string
		for j, p := range s.pts {
			x, y := sx(clampX(p[0])), sy(p[1])
			if c.step && j > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, sy(s.pts[j-1][1])))
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", color, dash, strings.Join(pts, " "))
		if !c.step {
			for j, p := range s.pts {
				x, y := sx(p[0]), sy(p[1])
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"/>`+"\n", x, y, color)
				if s.openEnd && j == len(s.pts)-1 {
					fmt.Fprintf(&b, `<path d="M%.1f %.1f l0 -18 m-5 5 l5 -5 l5 5" stroke="%s" stroke-width="2" fill="none"/>`+"\n", x, y-6, color)
				}
			}
		}
		ly := plotH + padB + float64(i)*18
		lx := padL
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"%s/>`+"\n", lx, ly-4, lx+24, ly-4, color, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", lx+30, ly, html.EscapeString(s.name))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// plots draws the report's figures from the results.
func plots(res *Results) map[string]string {
	out := map[string]string{}
	if len(res.Propagation) > 0 {
		c := &chart{title: fmt.Sprintf("Propagation: time until all %d nodes stored a record", res.Settings.Nodes),
			xLabel: "milliseconds after the write call", yLabel: "fraction of records", step: true, yMin: 0, yMax: 1}
		var hi float64
		for i, p := range res.Propagation {
			if len(p.Samples) == 0 {
				continue
			}
			s := slices.Clone(p.Samples)
			slices.Sort(s)
			ser := series{name: p.System, color: palette[i%len(palette)], pts: [][2]float64{{0, 0}}}
			for j, v := range s {
				if math.IsInf(float64(v), 1) {
					break
				}
				ser.pts = append(ser.pts, [2]float64{float64(v), float64(j+1) / float64(len(s))})
				hi = math.Max(hi, float64(v))
			}
			c.series = append(c.series, ser)
		}
		c.xMin, c.xMax = 0, niceCeil(hi)
		if c.xMax > 0 {
			out["propagation.svg"] = c.svg()
		}
	}
	if len(res.CatchUp) > 0 {
		tc := &chart{title: "Catch-up: time until the offline replica has every key", xLabel: "keys written while offline",
			yLabel: "seconds", xLog: true, yLog: true}
		bc := &chart{title: "Catch-up: bytes the offline replica sent and received", xLabel: "keys written while offline",
			yLabel: "bytes", xLog: true, yLog: true}
		groups := map[string][]CatchUpResult{}
		var order []string
		for _, r := range res.CatchUp {
			k := r.System
			if r.System == sysCRDT {
				k += ", " + r.Variant
			}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], r)
		}
		for i, k := range order {
			ts := series{name: k, color: palette[i%len(palette)], dashed: i > 0}
			bs := ts
			for _, r := range groups[k] {
				if r.Seconds <= 0 || (r.Error != "" && r.Got == 0 && r.WriteSeconds == 0) {
					continue
				}
				ts.pts = append(ts.pts, [2]float64{float64(r.Keys), r.Seconds})
				ts.openEnd = r.Error != ""
				if b := r.BytesIn + r.BytesOut; b > 0 {
					bs.pts = append(bs.pts, [2]float64{float64(r.Keys), float64(b)})
					bs.openEnd = r.Error != ""
				}
			}
			tc.series, bc.series = append(tc.series, ts), append(bc.series, bs)
		}
		out["catchup-time.svg"], out["catchup-bytes.svg"] = tc.svg(), bc.svg()
	}
	return out
}
