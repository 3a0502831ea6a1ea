/// A WAN link as the path selector sees it: identity, preference and current quality.
public struct LinkCandidate: Hashable, Sendable {
    public enum Status: Hashable, Sendable {
        case up
        case degraded
        case down
    }

    /// The engine's index for the link.
    public var index: Int
    public var name: String
    /// Preference tier: lower tiers are used first; a higher tier (a metered LTE backup) stays idle
    /// while a lower tier meets the class's SLA.
    public var tier: Int
    /// Relative cost; breaks ties between links of one tier whose latencies are within the class's
    /// switch margin.
    public var cost: Int
    /// Billed by volume: classes with `meteredAllowed == false` never use it.
    public var metered: Bool
    public var status: Status
    public var measurement: LinkMeasurement

    public init(
        index: Int,
        name: String,
        tier: Int,
        cost: Int,
        metered: Bool = false,
        status: Status,
        measurement: LinkMeasurement
    ) {
        self.metered = metered
        self.index = index
        self.name = name
        self.tier = tier
        self.cost = cost
        self.status = status
        self.measurement = measurement
    }
}

/// Why a class ended up on the links it uses (for events, metrics and tests).
public enum SelectionReason: Hashable, Sendable {
    /// The chosen links meet the class's SLA.
    case slaMet
    /// No allowed link meets the SLA: the least-bad allowed links carry the class (counted; a class
    /// is never black-holed while any allowed link is up).
    case leastBad
    /// Every allowed link is down: the class's packets wait in its bounded hold queue.
    case noLinkUp
}

/// The links chosen for one class, best first.
public struct PathChoice: Hashable, Sendable {
    public var links: [Int]
    public var reason: SelectionReason

    public init(links: [Int], reason: SelectionReason) {
        self.links = links
        self.reason = reason
    }
}

/// Chooses links per class from the monitor's view, with flap damping (docs/path-selection.md).
///
/// Pure and cheap to call: the engine re-runs `select` when a link's state or measurements change
/// (at most once per monitor update), and caches the result per class, so no per-packet work.
public struct PathSelector: Sendable {
    public let trafficClass: TrafficClass
    public private(set) var choice = PathChoice(links: [], reason: .noLinkUp)
    /// Instants of the recent voluntary switches (for the per-minute limit).
    private var recentSwitches: [Instant] = []
    /// Times this class had to use a link that misses its SLA (each selection that did).
    public private(set) var leastBadSelections: UInt64 = 0
    /// Link changes of the primary (first) link, voluntary or forced.
    public private(set) var primaryChanges: UInt64 = 0

    public init(trafficClass: TrafficClass) {
        self.trafficClass = trafficClass
    }

    /// Re-evaluates the class's links. Returns `true` when the choice changed.
    @discardableResult
    public mutating func select(from candidates: [LinkCandidate], now: Instant) -> Bool {
        let allowed = candidates.filter { $0.status != .down && trafficClass.permits($0) }
        let previous = choice
        let current = previous.links.first
        guard !allowed.isEmpty else {
            choice = PathChoice(links: [], reason: .noLinkUp)
            if current != nil { primaryChanges &+= 1 }
            return choice != previous
        }
        let sla = trafficClass.sla
        let meeting = allowed.filter { sla.isMet(by: $0.measurement, current: $0.index == current) }
        var ranked: [LinkCandidate]
        let reason: SelectionReason
        if meeting.isEmpty {
            ranked = allowed.sorted { lhs, rhs in
                let l = sla.shortfall(of: lhs.measurement)
                let r = sla.shortfall(of: rhs.measurement)
                return l != r ? l < r : preferred(lhs, rhs)
            }
            reason = .leastBad
            leastBadSelections &+= 1
        } else {
            // The best tier that has a link meeting the SLA; the rest of that tier and higher tiers
            // follow as fill for duplication.
            ranked = meeting.sorted(by: preferred)
            let others = allowed.filter { c in !meeting.contains { $0.index == c.index } }
            ranked += others.sorted { sla.shortfall(of: $0.measurement) < sla.shortfall(of: $1.measurement) }
            reason = .slaMet
        }
        // Flap damping: keep the current primary while it still meets the SLA, is in the best tier
        // and the best candidate is not better by the margin — or while the switch budget is spent.
        if let current, reason == .slaMet, let kept = meeting.first(where: { $0.index == current }),
            kept.tier == ranked[0].tier, ranked[0].index != current
        {
            let better = kept.measurement.rtt - ranked[0].measurement.rtt >= trafficClass.switchMargin
            recentSwitches.removeAll { now - $0 >= .seconds(60) }
            if !better || recentSwitches.count >= trafficClass.maxSwitchesPerMinute {
                ranked.removeAll { $0.index == current }
                ranked.insert(kept, at: 0)
            } else {
                recentSwitches.append(now)
            }
        }
        let count: Int
        switch trafficClass.mode {
        case .best: count = 1
        case .duplicate(let copies): count = max(1, copies)
        case .balance: count = max(1, meeting.count)
        }
        choice = PathChoice(links: ranked.prefix(count).map(\.index), reason: reason)
        if choice.links.first != current { primaryChanges &+= 1 }
        return choice != previous
    }

    /// The engine renumbered its links (a reload added or removed some): `map` gives an old
    /// index's new one, `nil` for a removed link. The next `select` re-ranks from there, so flap
    /// damping still knows the current primary when it survived.
    mutating func renumberLinks(_ map: (Int) -> Int?) {
        let kept = choice.links.compactMap(map)
        choice = PathChoice(links: kept, reason: kept.isEmpty ? .noLinkUp : choice.reason)
    }

    /// Preference order among links that meet the SLA: lower tier; then lower RTT unless the two
    /// are within the switch margin, in which case lower cost; then lower index for determinism.
    private func preferred(_ lhs: LinkCandidate, _ rhs: LinkCandidate) -> Bool {
        if lhs.tier != rhs.tier { return lhs.tier < rhs.tier }
        let difference = lhs.measurement.rtt - rhs.measurement.rtt
        if difference.nanoseconds.magnitude >= UInt64(trafficClass.switchMargin.nanoseconds) {
            return difference < .zero
        }
        if lhs.cost != rhs.cost { return lhs.cost < rhs.cost }
        if lhs.measurement.rtt != rhs.measurement.rtt { return lhs.measurement.rtt < rhs.measurement.rtt }
        return lhs.index < rhs.index
    }
}
