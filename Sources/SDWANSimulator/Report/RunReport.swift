import Foundation

/// A file of a report: its name inside the report directory and its text.
public struct ReportFile: Sendable {
    public var name: String
    public var contents: String

    public init(name: String, contents: String) {
        self.name = name
        self.contents = contents
    }
}

/// `sdwan simulate SCENARIO --report DIR`: report.md (summary tables and the charts), one SVG per
/// chart, and summary.json with the `series` section the charts were drawn from.
public enum RunReport {
    /// The report's files for a summary that has a `series` section.
    public static func files(for summary: SimulationSummary) throws -> [ReportFile] {
        let charts = ReportCharts.charts(for: summary)
        var files = charts.map { ReportFile(name: $0.file, contents: SVGRenderer.render($0.chart)) }
        files.append(
            ReportFile(name: "summary.json", contents: String(decoding: try Simulator.json(summary), as: UTF8.self))
        )
        files.insert(ReportFile(name: "report.md", contents: markdown(summary, charts: charts)), at: 0)
        return files
    }

    static func markdown(_ s: SimulationSummary, charts: [ReportCharts.NamedChart]) -> String {
        var out = "# Simulation report: \(s.scenario)\n\n"
        out += "Topology `\(s.topology)`, seed \(s.seed), \(f(s.simulatedSeconds, 1)) s simulated"
        out += " (\(s.simulatedPackets) datagrams)"
        if let series = s.series { out += ", sampled every \(f(series.intervalSeconds * 1000, 0)) ms" }
        out += ". Expectations: \(s.expectations.isEmpty ? "none" : s.passed ? "all met" : "**NOT MET**").\n\n"
        out += "## Links\n\n" + linkTable(s) + "\n## Classes\n\n" + classTable(s)
        if !s.expectations.isEmpty {
            out +=
                "\n## Expectations\n\n| | expectation | scope | metric | worst | bound |\n|---|---|---|---|---|---|\n"
            for e in s.expectations {
                var bound: [String] = []
                if let m = e.min { bound.append("≥ \(g(m))") }
                if let m = e.max { bound.append("≤ \(g(m))") }
                out += "| \(e.passed ? "pass" : "**FAIL**") | \(e.name) | \(e.scope) | \(e.metric) | "
                out += "\(e.worst.map(g) ?? "none") | \(bound.joined(separator: ", ")) |\n"
            }
        }
        if let events = s.series?.events, !events.isEmpty {
            out += "\n## Timeline\n\n"
            for e in events { out += "- \(f(e.atSeconds, 1)) s: \(e.label)\n" }
        }
        if !charts.isEmpty {
            out += "\n## Charts\n\n"
            out += "Shaded lanes above a link's charts: the intervals in which a class had the link among its "
            out += "chosen links. Dashed verticals: timeline events. Loss is on a log scale; an interval with "
            out += "no loss sits on the bottom edge.\n\n"
            for c in charts { out += "![\(c.chart.title)](\(c.file))\n\n" }
        }
        return out
    }

    static func linkTable(_ s: SimulationSummary) -> String {
        var out = "| link | raw loss | up loss (monitor) | down loss (monitor) | RTT p50 / p99 ms | jitter ms "
        out += "| state changes | blackouts: detected / steered ms |\n|---|---|---|---|---|---|---|---|\n"
        for l in s.links {
            let blackouts = l.blackouts.map { "\(f($0.detectedAfterMs, 0)) / \(f($0.steeredAfterMs, 0))" }
            out +=
                "| \(l.edge)/\(l.name) | \(pct(l.rawLossRatio)) | \(pct(l.up.lossRatio)) (\(pct(l.up.monitorLossRatio))) "
            out +=
                "| \(pct(l.down.lossRatio)) (\(pct(l.down.monitorLossRatio))) | \(f(l.rttMs.p50, 1)) / \(f(l.rttMs.p99, 1)) "
            out +=
                "| \(f(l.jitterMs, 1)) | \(l.stateChanges.count) | \(blackouts.isEmpty ? "-" : blackouts.joined(separator: "; ")) |\n"
        }
        return out
    }

    static func classTable(_ s: SimulationSummary) -> String {
        var out = "| class | sent | delivered | residual loss | FEC recovered | one-way p50 / p99 / max ms "
        out += "| longest gap ms | overhead | R | MOS |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for c in s.classes {
            out += "| \(c.edge)/\(c.name) \(c.direction) | \(c.sent) | \(c.delivered) | \(pct(c.residualLossRatio)) "
            out += "| \(c.recoveredByFEC) | \(f(c.oneWayDelayMs.p50, 1)) / \(f(c.oneWayDelayMs.p99, 1)) / "
            out += "\(f(c.oneWayDelayMs.max, 1)) | \(f(c.longestGapMs, 0)) | \(f(c.overheadRatio, 3)) "
            out += "| \(f(c.rFactor, 1)) | \(f(c.mos, 2)) |\n"
        }
        return out
    }

    static func f(_ x: Double?, _ digits: Int) -> String {
        guard let x else { return "-" }
        return String(format: "%.\(digits)f", x)
    }

    static func pct(_ x: Double?) -> String {
        guard let x else { return "-" }
        return x == 0 ? "0 %" : String(format: "%.3g %%", x * 100)
    }

    static func g(_ x: Double) -> String { abs(x) < 0.01 && x != 0 ? pct(x) : String(format: "%.4g", x) }
}
