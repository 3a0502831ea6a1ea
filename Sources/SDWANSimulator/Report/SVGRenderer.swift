import Foundation

/// Draws a `LineChart` as a standalone SVG 1.1 document: no scripts, no external resources.
///
/// The structure is part of the interface (the report tests parse it): `<g class="plot">` carries
/// the axis ranges and the plot rectangle in `data-` attributes, each series is a
/// `<g class="series" data-name=…>` of `<polyline>`s (a `nil` breaks the line) and `<circle>`s
/// (isolated points and markers, `class="point"` for isolated ones), the axes are
/// `<g class="axis x|y">` with `<text class="tick">` labels and a `<text class="axis-label">`,
/// and the legend is `<g class="legend">` with one `<text class="legend-entry">` per series and lane.
public enum SVGRenderer {
    /// Colour-blind-safe palette (Okabe–Ito), then greys.
    public static let palette = [
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442", "#777777",
    ]

    static let width = 760.0
    static let plotLeft = 72.0
    static let plotRight = 540.0
    static let legendLeft = 556.0
    static let laneHeight = 10.0
    static let laneGap = 3.0
    static let plotHeight = 240.0

    static func color(_ i: Int) -> String { palette[((i % palette.count) + palette.count) % palette.count] }

    public static func render(_ chart: LineChart) -> String {
        let xs =
            chart.series.flatMap(\.x) + chart.events.map(\.x)
            + chart.lanes.flatMap { $0.intervals.flatMap { [$0.lowerBound, $0.upperBound] } }
        let ys = chart.series.flatMap { $0.y.compactMap { $0 } }
        let xAxis = ChartAxis.linear(xs, fixed: chart.xRange)
        let yAxis =
            chart.yScale == .log
            ? ChartAxis.logarithmic(ys, fixed: chart.yRange) : ChartAxis.linear(ys, fixed: chart.yRange)
        let lanesTop = 34.0
        // Event labels sit in rows between the lanes and the plot, staggered when neighbours are close.
        var rows: [Int] = []
        var last: (x: Double, row: Int)?
        for event in chart.events {
            let x = plotLeft + xAxis.fraction(event.x) * (plotRight - plotLeft)
            var row = 0
            if let last, x - last.x < 90 { row = (last.row + 1) % 3 }
            last = (x, row)
            rows.append(row)
        }
        let labelRows = Double((rows.max() ?? -1) + 1)
        let lanesBottom = lanesTop + Double(chart.lanes.count) * (laneHeight + laneGap)
        let plotTop = lanesBottom + labelRows * 12 + (chart.lanes.isEmpty && labelRows == 0 ? 6 : 8)
        let plotBottom = plotTop + plotHeight
        let legendRows = chart.series.count + chart.lanes.count
        let height = max(plotBottom + 48, 34 + Double(legendRows) * 16 + 10)
        func px(_ x: Double) -> Double { plotLeft + xAxis.fraction(x) * (plotRight - plotLeft) }
        func py(_ y: Double) -> Double { plotBottom - yAxis.fraction(y) * plotHeight }

        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" \
            viewBox="0 0 \(n(width)) \(n(height))" font-family="Helvetica, Arial, sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text class="title" x="\(n(plotLeft))" y="20" font-size="14" font-weight="bold">\(escape(chart.title))</text>

            """
        // Lanes: one shaded row per class and direction, above the plot.
        for (i, lane) in chart.lanes.enumerated() {
            let top = lanesTop + Double(i) * (laneHeight + laneGap)
            out += "<g class=\"lane\" data-label=\"\(escape(lane.label))\">"
            out += "<rect x=\"\(n(plotLeft))\" y=\"\(n(top))\" width=\"\(n(plotRight - plotLeft))\" "
            out += "height=\"\(n(laneHeight))\" fill=\"#f2f2f2\"/>"
            for interval in lane.intervals {
                let x0 = px(interval.lowerBound)
                let x1 = px(interval.upperBound)
                out += "<rect x=\"\(n(x0))\" y=\"\(n(top))\" width=\"\(n(max(x1 - x0, 0.5)))\" "
                out += "height=\"\(n(laneHeight))\" fill=\"\(color(lane.color))\" fill-opacity=\"0.55\"/>"
            }
            out += "</g>\n"
        }
        // Plot area with its mapping, grid and axes.
        out += "<g class=\"plot\" data-x-min=\"\(r(xAxis.low))\" data-x-max=\"\(r(xAxis.high))\" "
        out += "data-y-min=\"\(r(yAxis.low))\" data-y-max=\"\(r(yAxis.high))\" "
        out += "data-y-scale=\"\(yAxis.log ? "log" : "linear")\" data-left=\"\(n(plotLeft))\" "
        out += "data-right=\"\(n(plotRight))\" data-top=\"\(n(plotTop))\" data-bottom=\"\(n(plotBottom))\">\n"
        out += "<rect x=\"\(n(plotLeft))\" y=\"\(n(plotTop))\" width=\"\(n(plotRight - plotLeft))\" "
        out += "height=\"\(n(plotHeight))\" fill=\"none\" stroke=\"#bbbbbb\"/>\n"
        out += "<g class=\"axis y\">"
        out += line(plotLeft, plotTop, plotLeft, plotBottom, stroke: "#000000")
        for t in yAxis.ticks {
            let y = py(t)
            out += line(plotLeft + 1, y, plotRight, y, stroke: "#e4e4e4")
            out += line(plotLeft - 4, y, plotLeft, y, stroke: "#000000")
            out += "<text class=\"tick\" x=\"\(n(plotLeft - 6))\" y=\"\(n(y + 3.5))\" text-anchor=\"end\">"
            out += "\(label(t, chart.yFormat))</text>"
        }
        let yMid = (plotTop + plotBottom) / 2
        out += "<text class=\"axis-label\" x=\"14\" y=\"\(n(yMid))\" text-anchor=\"middle\" "
        out += "transform=\"rotate(-90 14 \(n(yMid)))\">\(escape(chart.yLabel))</text></g>\n"
        out += "<g class=\"axis x\">"
        out += line(plotLeft, plotBottom, plotRight, plotBottom, stroke: "#000000")
        for t in xAxis.ticks {
            let x = px(t)
            out += line(x, plotBottom, x, plotBottom + 4, stroke: "#000000")
            out += "<text class=\"tick\" x=\"\(n(x))\" y=\"\(n(plotBottom + 16))\" text-anchor=\"middle\">"
            out += "\(label(t, chart.xFormat))</text>"
        }
        out += "<text class=\"axis-label\" x=\"\(n((plotLeft + plotRight) / 2))\" y=\"\(n(plotBottom + 36))\" "
        out += "text-anchor=\"middle\">\(escape(chart.xLabel))</text></g>\n"
        // Events: dashed verticals through lanes and plot, labels staggered so neighbours do not collide.
        for (event, row) in zip(chart.events, rows) {
            let x = px(event.x)
            out += "<g class=\"event\" data-x=\"\(r(event.x))\">"
            out += "<line x1=\"\(n(x))\" y1=\"\(n(lanesTop))\" x2=\"\(n(x))\" y2=\"\(n(plotBottom))\" "
            out += "stroke=\"#555555\" stroke-dasharray=\"4 3\"/>"
            out += "<text class=\"event-label\" x=\"\(n(x + 3))\" y=\"\(n(lanesBottom + 10 + Double(row) * 12))\" "
            out += "fill=\"#333333\" font-size=\"10\">\(escape(event.label))</text></g>\n"
        }
        // Series.
        for s in chart.series {
            let stroke = color(s.color)
            out += "<g class=\"series\" data-name=\"\(escape(s.name))\" stroke=\"\(stroke)\" fill=\"none\" "
            out += "stroke-width=\"\(n(s.width))\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "")>"
            var segment: [(Double, Double)] = []
            func flush() {
                if segment.count == 1 {
                    let (x, y) = segment[0]
                    out += "<circle class=\"point\" cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"2\" fill=\"\(stroke)\"/>"
                } else if segment.count > 1 {
                    out += "<polyline points=\""
                    out += segment.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
                    out += "\"/>"
                }
                segment.removeAll()
            }
            for (x, y) in zip(s.x, s.y) {
                guard let y else {
                    flush()
                    continue
                }
                segment.append((px(x), py(yAxis.clamped(y))))
                if s.markers {
                    out += "<circle class=\"marker\" cx=\"\(n(px(x)))\" cy=\"\(n(py(yAxis.clamped(y))))\" "
                    out += "r=\"\(n(1.5 + s.width / 2))\" "
                    out += "fill=\"\(stroke)\" stroke=\"none\"/>"
                }
            }
            flush()
            out += "</g>\n"
        }
        out += "</g>\n"
        // Legend: series, then lanes.
        out += "<g class=\"legend\">"
        var y = 30.0
        for s in chart.series {
            out += "<line x1=\"\(n(legendLeft))\" y1=\"\(n(y - 4))\" x2=\"\(n(legendLeft + 22))\" y2=\"\(n(y - 4))\" "
            out += "stroke=\"\(color(s.color))\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            out += "<text class=\"legend-entry\" x=\"\(n(legendLeft + 28))\" y=\"\(n(y))\">\(escape(s.name))</text>"
            y += 16
        }
        for lane in chart.lanes {
            out += "<rect x=\"\(n(legendLeft))\" y=\"\(n(y - 10))\" width=\"22\" height=\"\(n(laneHeight))\" "
            out += "fill=\"\(color(lane.color))\" fill-opacity=\"0.55\"/>"
            out += "<text class=\"legend-entry\" x=\"\(n(legendLeft + 28))\" y=\"\(n(y))\">\(escape(lane.label))</text>"
            y += 16
        }
        out += "</g>\n</svg>\n"
        return out
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String) -> String {
        "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\"/>"
    }

    /// A pixel coordinate, two decimals.
    static func n(_ v: Double) -> String { String(format: "%.2f", v) }
    /// A data value, exactly enough to invert the mapping.
    static func r(_ v: Double) -> String { "\(v)" }

    static func label(_ v: Double, _ format: LineChart.Format) -> String {
        switch format {
        case .plain: return String(format: "%g", v)
        case .percent: return String(format: "%g", (v * 100 * 1e6).rounded() / 1e6) + "%"
        }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
