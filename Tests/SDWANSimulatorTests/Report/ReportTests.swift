import Foundation
import SDWANConfig
import SDWANCore
import SDWANSimulator
import Testing

/// `sdwan simulate --report`: every SVG parses, has axes, labels and a legend, and each plotted
/// series has the point count and extremes of the JSON (`summary.json`) it came from; the
/// series add up to the summary's totals; sampling leaves the run unchanged.
@Suite struct ReportTests {
    static func slug(_ s: String) -> String { String(s.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }) }

    /// failover-busy cut at 20 s, run to 24 s: a failover, lanes that move, an event.
    static let report: (files: [ReportFile], summary: SimulationSummary) = {
        let scenario = try! ScenarioTests.load("failover-busy.yaml")
        let summary = Simulator.run(scenario, duration: .seconds(24), seriesInterval: .milliseconds(250))
        return (try! RunReport.files(for: summary), summary)
    }()

    @Test func everyChartMatchesTheJSONItWasDrawnFrom() throws {
        let files = Self.report.files
        let json = try #require(files.first { $0.name == "summary.json" })
        let summary = try JSONDecoder().decode(SimulationSummary.self, from: Data(json.contents.utf8))
        let series = try #require(summary.series)
        #expect(series.timesSeconds.count == 96, "24 s at 250 ms")
        var expected: [String: [(String, [Double?])]] = [:]
        for link in series.links {
            let base = "link-\(Self.slug(link.edge))-\(Self.slug(link.name))"
            expected[base + "-rtt.svg"] = [("monitor SRTT", link.rttMs), ("truth (mean up + down)", link.truthRttMs)]
            expected[base + "-loss.svg"] = [
                ("up, monitor", link.up.monitorLossRatio), ("up, truth", link.up.lossRatio),
                ("down, monitor", link.down.monitorLossRatio), ("down, truth", link.down.lossRatio),
            ]
        }
        for edge in Set(series.classes.map(\.edge)) {
            let classes = series.classes.filter { $0.edge == edge && $0.sent.contains { $0 > 0 } }
            expected["classes-\(Self.slug(edge))-delivery.svg"] = classes.map {
                ("\($0.name) \($0.direction)", $0.deliveryRatio)
            }
            expected["classes-\(Self.slug(edge))-latency.svg"] = classes.flatMap {
                [("\($0.name) \($0.direction) p50", $0.delayP50Ms), ("\($0.name) \($0.direction) p99", $0.delayP99Ms)]
            }
        }
        let svgs = files.filter { $0.name.hasSuffix(".svg") }
        #expect(Set(svgs.map(\.name)) == Set(expected.keys))
        for file in svgs {
            let svg = try ParsedSVG.parse(file.contents)
            expectChart(svg, file: file.name, matches: expected[file.name] ?? [])
            #expect(svg.events == ["cut broadband"], "\(file.name): events \(svg.events)")
        }
        // Voice leaves broadband at the cut: its lane on broadband's charts is there, and ends.
        let broadband = try ParsedSVG.parse(
            try #require(files.first { $0.name == "link-store-12-broadband-rtt.svg" }).contents
        )
        #expect(broadband.lanes.contains("voice up in use"))
        let voiceUp = try #require(series.classes.first { $0.name == "voice" && $0.direction == "up" })
        let afterCut = voiceUp.links[series.timesSeconds.firstIndex { $0 >= 21 }!...]
        #expect(afterCut.allSatisfy { !$0.contains("broadband") }, "voice up still on broadband after the cut")
        // The report names every chart.
        let markdown = try #require(files.first { $0.name == "report.md" }).contents
        for file in svgs { #expect(markdown.contains("(\(file.name))"), "report.md does not show \(file.name)") }
    }

    @Test func theSeriesAddUpToTheSummaryTotals() throws {
        let summary = Self.report.summary
        let series = try #require(summary.series)
        for (c, s) in zip(summary.classes, series.classes) {
            #expect(c.name == s.name && c.direction == s.direction)
            #expect(s.sent.reduce(0, +) == c.sent, "\(c.name) \(c.direction): sent")
            // Σ ratio·sent is Σ delivered by send interval: every delivery counted once.
            let delivered = zip(s.deliveryRatio, s.sent).reduce(0.0) { $0 + ($1.0 ?? 0) * Double($1.1) }
            #expect(UInt64(delivered.rounded()) == c.delivered, "\(c.name) \(c.direction): delivered")
        }
        for (l, s) in zip(summary.links, series.links) {
            for (total, intervals) in [(l.up.offered, s.up.offered), (l.down.offered, s.down.offered)] {
                // Datagrams offered at the last instant (after the last sample, 1 ns before the
                // end) are in the total only: at most a probe per direction and endpoint.
                let sampled = intervals.reduce(0, +)
                #expect(sampled <= total && total - sampled <= 2, "\(l.name): \(sampled) of \(total)")
            }
        }
    }

    @Test func samplingLeavesTheRunUnchanged() throws {
        let scenario = try ScenarioTests.load("fec-random.yaml")
        let plain = Simulator.run(scenario, duration: .seconds(8))
        var sampled = Simulator.run(scenario, duration: .seconds(8), seriesInterval: .milliseconds(100))
        #expect(sampled.series?.timesSeconds.count == 80)
        sampled.series = nil
        #expect(try ScenarioTests.comparableJSON(plain) == ScenarioTests.comparableJSON(sampled))
    }
}
