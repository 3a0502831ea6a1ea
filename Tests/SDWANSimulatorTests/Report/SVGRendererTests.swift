import Foundation
import SDWANSimulator
import Testing

/// The SVG writer on small hand-made charts: gaps, log clamping, escaping, ticks.
@Suite struct SVGRendererTests {
    @Test func aNullBreaksTheLineAndAnIsolatedPointIsStillDrawn() throws {
        let chart = LineChart(
            title: "gaps",
            xLabel: "x",
            yLabel: "y",
            series: [ChartSeries(name: "s", x: [0, 1, 2, 3, 4, 5], y: [1, 2, nil, 5, nil, 3], color: 0)]
        )
        let text = SVGRenderer.render(chart)
        let svg = try ParsedSVG.parse(text)
        #expect(text.components(separatedBy: "<polyline").count - 1 == 1, "one segment of two points")
        #expect(text.components(separatedBy: "class=\"point\"").count - 1 == 2, "two isolated points")
        expectChart(svg, file: "gaps", matches: [("s", [1, 2, nil, 5, nil, 3])])
    }

    @Test func aLogAxisCoversWholeDecadesAndDrawsZeroOnItsBottom() throws {
        let values: [Double?] = [0, 0.0004, 0.02, 0.3]
        let chart = LineChart(
            title: "log",
            xLabel: "t",
            yLabel: "loss",
            yScale: .log,
            yFormat: .percent,
            series: [ChartSeries(name: "loss", x: [0, 1, 2, 3], y: values, color: 1)]
        )
        let svg = try ParsedSVG.parse(SVGRenderer.render(chart))
        // 0.0004 → decade 1e-4; 0.3 → decade 1: ticks at 0.01 %, 0.1 %, 1 %, 10 %, 100 %.
        #expect(svg.number("data-y-min") == 1e-4 && svg.number("data-y-max") == 1)
        #expect(svg.y.ticks == ["0.01%", "0.1%", "1%", "10%", "100%"])
        expectChart(svg, file: "log", matches: [("loss", values)])
        let zero = try #require(svg.series.first?.pixels.first)
        #expect(zero.y == svg.number("data-bottom"), "zero sits on the bottom edge")
    }

    @Test func namesAreEscapedAndTheDocumentStillParses() throws {
        let chart = LineChart(
            title: "a < b & \"c\"",
            xLabel: "x",
            yLabel: "y",
            series: [ChartSeries(name: "voice <up> & down", x: [0, 1], y: [1, 2], color: 2)],
            events: [ChartEvent(x: 0.5, label: "cut a&b")],
            lanes: [ChartLane(label: "in <use>", intervals: [0...0.5], color: 3)]
        )
        let svg = try ParsedSVG.parse(SVGRenderer.render(chart))
        #expect(svg.title == "a < b & \"c\"")
        #expect(svg.legend == ["voice <up> & down", "in <use>"])
        #expect(svg.events == ["cut a&b"] && svg.lanes == ["in <use>"])
    }

    @Test(arguments: [
        (0.0, 60.0, ["0", "10", "20", "30", "40", "50", "60"]),
        (0.93, 1.0, ["0.93", "0.94", "0.95", "0.96", "0.97", "0.98", "0.99", "1"]),
        // A constant is padded by 10 % each way, then widened to the 0.5 steps.
        (12.0, 12.0, ["10.5", "11", "11.5", "12", "12.5", "13", "13.5"]),
    ])
    func linearTicksAreRoundNumbersCoveringTheData(_ low: Double, _ high: Double, _ ticks: [String]) throws {
        let chart = LineChart(
            title: "t",
            xLabel: "x",
            yLabel: "y",
            series: [ChartSeries(name: "s", x: [0, 1], y: [low, high], color: 0)]
        )
        let svg = try ParsedSVG.parse(SVGRenderer.render(chart))
        #expect(svg.y.ticks == ticks)
        #expect(svg.number("data-y-min") <= low && svg.number("data-y-max") >= high)
    }
}
