import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An SVG written by `SVGRenderer`, read back with XMLParser: the plot's mapping, the axes, the
/// legend and each series' points turned back into data values.
struct ParsedSVG {
    struct Axis {
        var ticks: [String] = []
        var label: String?
        var lines = 0
    }

    struct Series {
        var name: String
        /// Pixel points: polyline vertices and isolated points, in drawing order (markers excluded).
        var pixels: [(x: Double, y: Double)] = []
    }

    var title: String?
    var plot: [String: String] = [:]
    var x = Axis()
    var y = Axis()
    var legend: [String] = []
    var series: [Series] = []
    var lanes: [String] = []
    var events: [String] = []

    var yLog: Bool { plot["data-y-scale"] == "log" }
    func number(_ key: String) -> Double { Double(plot[key] ?? "") ?? .nan }

    /// The data value at pixel row `py` (inverse of the renderer's mapping).
    func value(atPixelY py: Double) -> Double {
        let fraction = (number("data-bottom") - py) / (number("data-bottom") - number("data-top"))
        let (lo, hi) = (number("data-y-min"), number("data-y-max"))
        if yLog { return pow(10, log10(lo) + fraction * (log10(hi) - log10(lo))) }
        return lo + fraction * (hi - lo)
    }

    /// How far one hundredth of a pixel moves a value near `v` (the renderer prints 2 decimals).
    func resolution(near v: Double) -> Double {
        let height = number("data-bottom") - number("data-top")
        let (lo, hi) = (number("data-y-min"), number("data-y-max"))
        if yLog { return max(v, lo) * log(10) * (log10(hi) - log10(lo)) / height * 0.01 }
        return (hi - lo) / height * 0.01
    }

    static func parse(_ text: String) throws -> ParsedSVG {
        let delegate = Delegate()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = delegate
        guard parser.parse() else {
            throw ParseFailure(description: "\(parser.parserError.map { "\($0)" } ?? "unknown error")")
        }
        return delegate.svg
    }

    struct ParseFailure: Error, CustomStringConvertible {
        var description: String
    }

    final class Delegate: NSObject, XMLParserDelegate {
        var svg = ParsedSVG()
        var stack: [(name: String, classes: [String])] = []
        var text = ""

        func inside(_ cls: String) -> Bool { stack.contains { $0.classes.contains(cls) } }

        func parser(
            _ parser: XMLParser,
            didStartElement name: String,
            namespaceURI: String?,
            qualifiedName: String?,
            attributes: [String: String]
        ) {
            let classes = (attributes["class"] ?? "").split(separator: " ").map(String.init)
            stack.append((name, classes))
            text = ""
            if classes.contains("plot") { svg.plot = attributes }
            if classes.contains("series") { svg.series.append(Series(name: attributes["data-name"] ?? "")) }
            if classes.contains("lane") { svg.lanes.append(attributes["data-label"] ?? "") }
            if name == "line" && inside("axis") {
                if inside("x") { svg.x.lines += 1 } else { svg.y.lines += 1 }
            }
            guard inside("series"), !svg.series.isEmpty else { return }
            if name == "polyline" {
                for pair in (attributes["points"] ?? "").split(separator: " ") {
                    let xy = pair.split(separator: ",").compactMap { Double($0) }
                    if xy.count == 2 { svg.series[svg.series.count - 1].pixels.append((xy[0], xy[1])) }
                }
            } else if name == "circle" && classes.contains("point") {
                let x = Double(attributes["cx"] ?? "") ?? .nan
                let y = Double(attributes["cy"] ?? "") ?? .nan
                svg.series[svg.series.count - 1].pixels.append((x, y))
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let classes = stack.last?.classes ?? []
            if name == "text" {
                if classes.contains("title") { svg.title = text }
                if classes.contains("legend-entry") { svg.legend.append(text) }
                if classes.contains("event-label") { svg.events.append(text) }
                if classes.contains("tick") || classes.contains("axis-label") {
                    let isX = inside("x") && inside("axis")
                    if classes.contains("tick") {
                        if isX { svg.x.ticks.append(text) } else { svg.y.ticks.append(text) }
                    } else {
                        if isX { svg.x.label = text } else { svg.y.label = text }
                    }
                }
            }
            stack.removeLast()
            text = ""
        }
    }
}

/// Checks a parsed chart against the JSON values each series came from: axes with ticks and
/// labels, a legend naming every series, and per series the number of plotted points (non-null
/// values) and their extremes (to the renderer's 0.01-pixel resolution; on a log axis, values
/// at or below the bottom decade are drawn on it).
func expectChart(
    _ svg: ParsedSVG,
    file: String,
    matches expected: [(name: String, values: [Double?])],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(svg.title?.isEmpty == false, "\(file): no title", sourceLocation: sourceLocation)
    #expect(svg.x.lines >= 2 && svg.y.lines >= 2, "\(file): an axis is missing", sourceLocation: sourceLocation)
    #expect(svg.x.ticks.count >= 2 && svg.y.ticks.count >= 2, "\(file): too few ticks", sourceLocation: sourceLocation)
    #expect(
        svg.x.label?.isEmpty == false && svg.y.label?.isEmpty == false,
        "\(file): unlabelled axis",
        sourceLocation: sourceLocation
    )
    #expect(svg.series.map(\.name) == expected.map(\.name), "\(file): series", sourceLocation: sourceLocation)
    for (name, _) in expected {
        #expect(svg.legend.contains(name), "\(file): `\(name)` not in the legend", sourceLocation: sourceLocation)
    }
    for (plotted, (name, values)) in zip(svg.series, expected) {
        let present = values.compactMap { $0 }
        let counts = "\(file) \(name): \(plotted.pixels.count) points drawn, \(present.count) in the JSON"
        #expect(plotted.pixels.count == present.count, "\(counts)", sourceLocation: sourceLocation)
        guard let low = present.min(), let high = present.max(), !plotted.pixels.isEmpty else { continue }
        let bottom = svg.number("data-y-min")
        let drawnLow = svg.yLog ? max(low, bottom) : low
        let drawnHigh = svg.yLog ? max(high, bottom) : high
        // Pixel y grows downwards: the lowest value is the largest y.
        let lowBack = svg.value(atPixelY: plotted.pixels.map(\.y).max()!)
        let highBack = svg.value(atPixelY: plotted.pixels.map(\.y).min()!)
        #expect(
            abs(lowBack - drawnLow) <= svg.resolution(near: drawnLow) + 1e-12 * abs(drawnLow),
            "\(file) \(name): minimum \(lowBack) drawn, \(drawnLow) in the JSON",
            sourceLocation: sourceLocation
        )
        #expect(
            abs(highBack - drawnHigh) <= svg.resolution(near: drawnHigh) + 1e-12 * abs(drawnHigh),
            "\(file) \(name): maximum \(highBack) drawn, \(drawnHigh) in the JSON",
            sourceLocation: sourceLocation
        )
    }
}
