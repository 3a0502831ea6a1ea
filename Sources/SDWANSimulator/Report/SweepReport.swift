import Foundation

/// The report of a sweep: a table per figure, residual loss against raw loss with the theory
/// curves beside the measured ones, and the overhead each protection costs.
public enum SweepReport {
    public static func files(for s: SweepSummary) throws -> [ReportFile] {
        let charts = self.charts(for: s)
        var files = charts.map { ReportFile(name: $0.file, contents: SVGRenderer.render($0.chart)) }
        files.append(ReportFile(name: "sweep.json", contents: String(decoding: try Sweep.json(s), as: UTF8.self)))
        var md = "# \(s.kind == "sweep" ? "Sweep" : "Policies side by side"): \(s.scenario)\n\n"
        md += "Class `\(s.className)`, seed \(s.seed)"
        if s.kind == "sweep" {
            md += "; raw loss set on \(s.links.joined(separator: ", ")) in both directions, "
            md +=
                s.meanBurst.map { "Gilbert–Elliott with mean burst \(RunReport.f($0, 1))" } ?? "independent (Bernoulli)"
        }
        md += ".\n\n" + table(s, markdown: true)
        md += "\nResidual and delivered pool both directions of every branch; p99 is the worst entry's one-way "
        md += "delay (it includes packets held until the first handshake completes); R and MOS are the worst "
        md += "entry's (G.107, voice only); overhead is wire bytes ÷ payload bytes.\n"
        if !charts.isEmpty {
            md += "\nTheory (dashed, REFERENCE.md): none p; duplicate on two links p²; XOR FEC k + 1 "
            md += "p·[1 − (1 − p)^k]. A measured point with no loss at all sits on the bottom edge of the log axis.\n\n"
            for c in charts { md += "![\(c.chart.title)](\(c.file))\n\n" }
        }
        files.insert(ReportFile(name: "report.md", contents: md), at: 0)
        return files
    }

    /// Residual loss vs raw loss (log y, theory dashed) and overhead vs raw loss; none for `compare`.
    public static func charts(for s: SweepSummary) -> [ReportCharts.NamedChart] {
        guard s.kind == "sweep" else { return [] }
        var residual: [ChartSeries] = []
        var overhead: [ChartSeries] = []
        for (i, policy) in s.policies.enumerated() {
            let points = s.points.filter { $0.policy == policy }
            let x = points.map { $0.rawLoss ?? 0 }
            residual.append(
                ChartSeries(
                    name: "\(policy) measured",
                    x: x,
                    y: points.map(\.residualLossRatio),
                    color: i,
                    markers: true
                )
            )
            if points.contains(where: { $0.theoryResidualLossRatio != nil }) {
                residual.append(
                    ChartSeries(
                        name: "\(policy) theory",
                        x: x,
                        y: points.map(\.theoryResidualLossRatio),
                        color: i,
                        dashed: true
                    )
                )
            }
            // Policies with the same overhead (k = 4 with and without interleaving) coincide: earlier
            // ones are drawn wider so every line shows.
            let width = 1.6 + 1.8 * Double(min(s.policies.count - 1 - i, 5))
            overhead.append(
                ChartSeries(name: policy, x: x, y: points.map(\.overheadRatio), color: i, markers: true, width: width)
            )
        }
        return [
            .init(
                file: "sweep-residual.svg",
                chart: LineChart(
                    title: "\(s.scenario): residual loss of \(s.className) vs raw loss",
                    xLabel: "raw loss on \(s.links.joined(separator: ", "))",
                    yLabel: "residual loss (log)",
                    yScale: .log,
                    yFormat: .percent,
                    xFormat: .percent,
                    series: residual
                )
            ),
            .init(
                file: "sweep-overhead.svg",
                chart: LineChart(
                    title: "\(s.scenario): overhead of \(s.className) per policy",
                    xLabel: "raw loss on \(s.links.joined(separator: ", "))",
                    yLabel: "wire bytes ÷ payload bytes",
                    xFormat: .percent,
                    series: overhead
                )
            ),
        ]
    }

    /// One row per grid point (Markdown, or aligned text for the terminal).
    public static func table(_ s: SweepSummary, markdown: Bool = false) -> String {
        let header = [
            "policy", "raw loss", "sent", "delivered", "residual", "theory ± 3 SE", "FEC rec.", "overhead", "p99 ms",
            "R", "MOS",
        ]
        var rows: [[String]] = []
        for p in s.points {
            var theory = "-"
            if let q = p.theoryResidualLossRatio, let se = p.standardError {
                theory = "\(RunReport.pct(q)) ± \(RunReport.pct(3 * se))"
            }
            rows.append([
                p.policy, p.rawLoss.map { RunReport.pct($0) } ?? "as in scenario", "\(p.sent)",
                p.sent == 0 ? "-" : String(format: "%.2f %%", 100 * Double(p.delivered) / Double(p.sent)),
                RunReport.pct(p.residualLossRatio), theory, "\(p.recoveredByFEC)", RunReport.f(p.overheadRatio, 3),
                RunReport.f(p.delayP99Ms, 1), RunReport.f(p.rFactor, 1), RunReport.f(p.mos, 2),
            ])
        }
        if markdown {
            var out = "| " + header.joined(separator: " | ") + " |\n"
            out += "|" + String(repeating: "---|", count: header.count) + "\n"
            for r in rows { out += "| " + r.joined(separator: " | ") + " |\n" }
            return out
        }
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        func line(_ r: [String]) -> String {
            zip(r, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
        }
        return ([header] + rows).map(line).joined(separator: "\n") + "\n"
    }
}
