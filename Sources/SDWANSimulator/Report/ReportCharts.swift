/// The charts of a run report, built from the JSON summary's `series` section alone (so what a
/// chart shows is what the JSON says; the report tests compare the two).
public enum ReportCharts {
    /// A chart and the file it is written to.
    public struct NamedChart: Sendable {
        public var file: String
        public var chart: LineChart
    }

    /// Per link: RTT and loss over time (each direction, monitor beside truth), with the classes
    /// using the link as lanes and the timeline's events; per branch: the classes' delivery ratio
    /// and one-way delay over time. Empty without a `series` section.
    public static func charts(for summary: SimulationSummary) -> [NamedChart] {
        guard let series = summary.series else { return [] }
        let xRange = 0...max(summary.simulatedSeconds, series.intervalSeconds)
        let events = series.events.map { ChartEvent(x: $0.atSeconds, label: $0.label) }
        let t = series.timesSeconds
        var out: [NamedChart] = []
        for link in series.links {
            let lanes = lanes(for: link, in: series)
            let base = "link-\(slug(link.edge))-\(slug(link.name))"
            out.append(
                NamedChart(
                    file: base + "-rtt.svg",
                    chart: LineChart(
                        title: "\(link.edge)/\(link.name): round-trip time",
                        xLabel: "time (s)",
                        yLabel: "RTT (ms)",
                        xRange: xRange,
                        series: [
                            ChartSeries(name: "monitor SRTT", x: t, y: link.rttMs, color: 0),
                            ChartSeries(
                                name: "truth (mean up + down)",
                                x: t,
                                y: link.truthRttMs,
                                color: 1,
                                dashed: true
                            ),
                        ],
                        events: events,
                        lanes: lanes
                    )
                )
            )
            out.append(
                NamedChart(
                    file: base + "-loss.svg",
                    chart: LineChart(
                        title: "\(link.edge)/\(link.name): loss per direction",
                        xLabel: "time (s)",
                        yLabel: "loss ratio (log)",
                        yScale: .log,
                        yFormat: .percent,
                        xRange: xRange,
                        series: [
                            ChartSeries(name: "up, monitor", x: t, y: link.up.monitorLossRatio, color: 0),
                            ChartSeries(name: "up, truth", x: t, y: link.up.lossRatio, color: 0, dashed: true),
                            ChartSeries(name: "down, monitor", x: t, y: link.down.monitorLossRatio, color: 1),
                            ChartSeries(name: "down, truth", x: t, y: link.down.lossRatio, color: 1, dashed: true),
                        ],
                        events: events,
                        lanes: lanes
                    )
                )
            )
        }
        var edges: [String] = []
        for c in series.classes where !edges.contains(c.edge) { edges.append(c.edge) }
        for edge in edges {
            let classes = series.classes.filter { $0.edge == edge && $0.sent.contains { $0 > 0 } }
            out.append(
                NamedChart(
                    file: "classes-\(slug(edge))-delivery.svg",
                    chart: LineChart(
                        title: "\(edge): delivery ratio per class (by send interval)",
                        xLabel: "time (s)",
                        yLabel: "delivered",
                        yFormat: .percent,
                        xRange: xRange,
                        series: classes.enumerated().map { i, c in
                            ChartSeries(name: "\(c.name) \(c.direction)", x: t, y: c.deliveryRatio, color: i)
                        },
                        events: events
                    )
                )
            )
            out.append(
                NamedChart(
                    file: "classes-\(slug(edge))-latency.svg",
                    chart: LineChart(
                        title: "\(edge): one-way delay per class (p50 solid, p99 dashed)",
                        xLabel: "time (s)",
                        yLabel: "one-way delay (ms)",
                        xRange: xRange,
                        series: classes.enumerated().flatMap { i, c in
                            [
                                ChartSeries(name: "\(c.name) \(c.direction) p50", x: t, y: c.delayP50Ms, color: i),
                                ChartSeries(
                                    name: "\(c.name) \(c.direction) p99",
                                    x: t,
                                    y: c.delayP99Ms,
                                    color: i,
                                    dashed: true
                                ),
                            ]
                        },
                        events: events
                    )
                )
            )
        }
        return out
    }

    /// One lane per class and direction of the link's branch that used the link at some sample:
    /// the intervals whose sample had the link among the class's chosen links.
    static func lanes(for link: LinkSeries, in series: SeriesSummary) -> [ChartLane] {
        var lanes: [ChartLane] = []
        // The same classes, in the same order and colours, as the branch's delivery chart.
        let classes = series.classes.filter { $0.edge == link.edge && $0.sent.contains { $0 > 0 } }
        for (i, c) in classes.enumerated() {
            var intervals: [ClosedRange<Double>] = []
            var open: Double?
            for (k, names) in c.links.enumerated() {
                let end = series.timesSeconds[k]
                let start = max(0, end - series.intervalSeconds)
                if names.contains(link.name) {
                    if open == nil { open = start }
                } else if let o = open {
                    intervals.append(o...start)
                    open = nil
                }
            }
            if let o = open, let last = series.timesSeconds.last { intervals.append(o...last) }
            if !intervals.isEmpty {
                lanes.append(ChartLane(label: "\(c.name) \(c.direction) in use", intervals: intervals, color: i))
            }
        }
        return lanes
    }

    /// A file-name-safe form of a name.
    static func slug(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }
}
