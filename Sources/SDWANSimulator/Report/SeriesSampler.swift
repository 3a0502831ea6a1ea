import SDWANConfig
import SDWANCore

/// Samples a run at a fixed interval of virtual time for `sdwan simulate --report` (the `series`
/// section, `SeriesSummary`). A run without a sampler pays one `nil` check per delivery and
/// schedules nothing.
///
/// Interval i covers [i·Δ, (i + 1)·Δ). The sample event runs 1 ns before the interval's end, so
/// every packet sent in the interval has been counted and none of the next one; deliveries are
/// credited to the interval their packet was *sent* in (delivery ratio) and to the one they
/// *arrived* in (delay percentiles).
final class SeriesSampler {
    let interval: TimeSpan
    private(set) var times: [Instant] = []
    var links: [LinkTrack] = []
    var classes: [ClassTrack] = []

    struct DirectionTrack {
        var offered: UInt64 = 0
        var dropped: UInt64 = 0
        var delivered: UInt64 = 0
        var delaySum: Double = 0
        var series = DirectionSeries(monitorLossRatio: [], lossRatio: [], offered: [])
    }

    struct LinkTrack {
        let branch: Int
        let link: Int
        var series: LinkSeries
        var up = DirectionTrack()
        var down = DirectionTrack()
    }

    final class ClassTrack {
        var sentBefore: UInt64 = 0
        var sent: [UInt64] = []
        var deliveredBySendInterval: [UInt64] = []
        var delays: [Int64] = []
        var p50: [Double?] = []
        var p99: [Double?] = []
        var links: [[String]] = []
    }

    init(interval: TimeSpan) {
        precondition(interval > .zero, "a sampling interval must be positive")
        self.interval = interval
    }

    /// The hook in `ScenarioRun.delivered`: a first delivery of a packet sent at `sentAt`.
    func delivered(entry: Int, sentAt: Instant, delay: TimeSpan) {
        let track = classes[entry]
        let i = Int(max(0, sentAt.nanoseconds) / interval.nanoseconds)
        while track.deliveredBySendInterval.count <= i { track.deliveredBySendInterval.append(0) }
        track.deliveredBySendInterval[i] &+= 1
        track.delays.append(delay.nanoseconds)
    }

    /// The instant of sample `k` (the end of interval k, less 1 ns).
    func instant(ofSample k: Int) -> Instant { .zero + interval * Int64(k + 1) - .nanoseconds(1) }

    /// Nearest-rank quantile of sorted nanoseconds, in ms.
    static func quantile(_ sorted: [Int64], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = max(1, Int((q * Double(sorted.count)).rounded(.up)))
        return Double(sorted[min(rank, sorted.count) - 1]) / 1e6
    }

    func appendTime(_ now: Instant) { times.append(now + .nanoseconds(1)) }
}

extension ScenarioRun {
    /// Starts sampling every `interval` (before `run()`).
    func startSampling(every interval: TimeSpan) {
        let sampler = SeriesSampler(interval: interval)
        for (b, branch) in scenario.topology.branches.enumerated() {
            for (l, link) in branch.links.enumerated() {
                sampler.links.append(
                    .init(
                        branch: b,
                        link: l,
                        series: LinkSeries(
                            edge: branch.name,
                            name: link.name,
                            rttMs: [],
                            truthRttMs: [],
                            status: [],
                            up: .init(monitorLossRatio: [], lossRatio: [], offered: []),
                            down: .init(monitorLossRatio: [], lossRatio: [], offered: [])
                        )
                    )
                )
            }
        }
        sampler.classes = entries.map { _ in SeriesSampler.ClassTrack() }
        self.sampler = sampler
        scheduleSample(0)
    }

    func scheduleSample(_ k: Int) {
        guard let sampler, sampler.instant(ofSample: k) < .zero + duration else { return }
        network.simulation.schedule(.action(k << 2 | ActionTag.sample.rawValue), at: sampler.instant(ofSample: k))
    }

    /// Sample `k`: the links' counters and monitors, the classes' sends, delays and choices.
    func takeSample(_ k: Int, now: Instant) {
        guard let sampler else { return }
        sampler.appendTime(now)
        for i in sampler.links.indices {
            let (b, l) = (sampler.links[i].branch, sampler.links[i].link)
            let quality = network.edges[b].linkQuality(UInt8(l)) ?? LinkQuality()
            let upDelay = Self.step(&sampler.links[i].up, network.links[b][l].up, monitor: quality.forward)
            let downDelay = Self.step(&sampler.links[i].down, network.links[b][l].down, monitor: quality.reverse)
            sampler.links[i].series.rttMs.append(quality.smoothedRTT.map(Self.ms))
            sampler.links[i].series.truthRttMs.append(upDelay.flatMap { u in downDelay.map { u + $0 } })
            sampler.links[i].series.status.append(Self.name(network.edges[b].linkStatus(UInt8(l)) ?? .probing))
        }
        for (e, entry) in entries.enumerated() {
            let track = sampler.classes[e]
            let sent = entry.flows.reduce(UInt64(0)) { $0 + UInt64($1.sent) }
            track.sent.append(sent - track.sentBefore)
            track.sentBefore = sent
            track.delays.sort()
            track.p50.append(SeriesSampler.quantile(track.delays, 0.5))
            track.p99.append(SeriesSampler.quantile(track.delays, 0.99))
            track.delays.removeAll(keepingCapacity: true)
            let names = scenario.topology.branches[entry.branch].links.map(\.name)
            track.links.append(currentLinks(entry).compactMap { $0 >= 0 && $0 < names.count ? names[$0] : nil })
        }
        scheduleSample(k + 1)
    }

    /// The links (ids = indices in the branch) the sending end has chosen for the entry's class
    /// (`choice(forClass:)` reports link ids at both ends).
    func currentLinks(_ entry: ClassStatistics) -> [Int] {
        if entry.direction == .up { return network.edges[entry.branch].choice(forClass: entry.classIndex).links }
        guard let engine = network.hub.engine(forBranch: branchNames[entry.branch]) else { return [] }
        return engine.choice(forClass: entry.classIndex).links
    }

    /// Appends one interval of a direction; returns its truth mean delay (ms), `nil` if nothing
    /// was delivered.
    static func step(
        _ track: inout SeriesSampler.DirectionTrack,
        _ link: SimulatedLink<NIOCoreByteBuffer>,
        monitor: DirectionQuality
    ) -> Double? {
        let counters = link.model.counters
        let d = counters.dropped
        let dropped = d.loss + d.congestion + d.mtu + d.outage + d.cut
        let offered = counters.offered - track.offered
        let lost = dropped - track.dropped
        track.series.offered.append(offered)
        track.series.lossRatio.append(offered == 0 ? nil : Double(lost) / Double(offered))
        track.series.monitorLossRatio.append(monitor.lossRatio)
        track.offered = counters.offered
        track.dropped = dropped
        let count = link.delays.count
        let sum = Double(link.delays.mean.nanoseconds) * Double(count)
        defer {
            track.delivered = count
            track.delaySum = sum
        }
        guard count > track.delivered else { return nil }
        return (sum - track.delaySum) / Double(count - track.delivered) / 1e6
    }

    /// The `series` section (nil without a sampler).
    func seriesSummary() -> SeriesSummary? {
        guard let sampler else { return nil }
        var events: [SeriesEvent] = steps.map { step in
            let link = (step.branch.map { "\($0)/" } ?? "") + step.link
            let direction = step.direction == .both ? "" : " \(step.direction.rawValue)"
            let action: String
            switch step.action {
            case .cut: action = "cut"
            case .restore: action = "restore"
            case .degrade: action = "degrade"
            case .endDegrade: action = "end degrade"
            case .rebind: action = "rebind"
            }
            return SeriesEvent(atSeconds: step.at.seconds, label: "\(action) \(link)\(direction)")
        }
        for at in scenario.hubRestarts where at < duration {
            events.append(SeriesEvent(atSeconds: at.seconds, label: "restart hub"))
        }
        // A stable sort by time keeps file order for simultaneous steps.
        events = events.enumerated().sorted { ($0.element.atSeconds, $0.offset) < ($1.element.atSeconds, $1.offset) }
            .map(\.element)
        let n = sampler.times.count
        let classes = entries.enumerated().map { e, entry in
            let track = sampler.classes[e]
            let ratios: [Double?] = (0..<n).map { i in
                let sent = track.sent[i]
                let got = i < track.deliveredBySendInterval.count ? track.deliveredBySendInterval[i] : 0
                return sent == 0 ? nil : Double(got) / Double(sent)
            }
            return ClassSeries(
                edge: branchNames[entry.branch],
                name: scenario.classes.classes[entry.classIndex].name,
                direction: entry.direction.rawValue,
                sent: track.sent,
                deliveryRatio: ratios,
                delayP50Ms: track.p50,
                delayP99Ms: track.p99,
                links: track.links
            )
        }
        return SeriesSummary(
            intervalSeconds: sampler.interval.seconds,
            timesSeconds: sampler.times.map(Self.seconds),
            events: events,
            links: sampler.links.map { track in
                var s = track.series
                s.up = track.up.series
                s.down = track.down.series
                return s
            },
            classes: classes
        )
    }
}
