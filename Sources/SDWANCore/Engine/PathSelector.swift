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
    ///
    /// Works on positions in `candidates`, ranked in a scratch buffer, so a selection builds no
    /// arrays of candidates (each copy retained a name) and allocates only when the choice changes:
    /// the engine re-selects every class several times a second on every branch.
    @discardableResult
    public mutating func select(from candidates: [LinkCandidate], now: Instant) -> Bool {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(1, candidates.count)) { ranked in
            select(from: candidates, ranked: ranked, now: now)
        }
    }

    private mutating func select(
        from candidates: [LinkCandidate],
        ranked: UnsafeMutableBufferPointer<Int>,
        now: Instant
    ) -> Bool {
        let previous = choice
        let current = previous.links.first
        let sla = trafficClass.sla
        // The allowed links that meet the SLA first, then the other allowed ones, each in the
        // candidates' order.
        var meeting = 0
        for p in candidates.indices where isAllowed(candidates[p]) && meets(candidates[p], current: current) {
            ranked[meeting] = p
            meeting += 1
        }
        var allowed = meeting
        for p in candidates.indices where isAllowed(candidates[p]) && !meets(candidates[p], current: current) {
            ranked[allowed] = p
            allowed += 1
        }
        guard allowed > 0 else {
            choice = PathChoice(links: [], reason: .noLinkUp)
            if current != nil { primaryChanges &+= 1 }
            return choice != previous
        }
        let reason: SelectionReason
        if meeting == 0 {
            Self.insertionSort(ranked, 0..<allowed) { lhs, rhs in
                let l = sla.shortfall(of: candidates[lhs].measurement)
                let r = sla.shortfall(of: candidates[rhs].measurement)
                return l != r ? l < r : preferred(candidates[lhs], candidates[rhs])
            }
            reason = .leastBad
            leastBadSelections &+= 1
        } else {
            // The best tier that has a link meeting the SLA; the rest of that tier and higher tiers
            // follow as fill for duplication.
            Self.insertionSort(ranked, 0..<meeting) { preferred(candidates[$0], candidates[$1]) }
            Self.insertionSort(ranked, meeting..<allowed) {
                sla.shortfall(of: candidates[$0].measurement) < sla.shortfall(of: candidates[$1].measurement)
            }
            reason = .slaMet
        }
        // Flap damping: keep the current primary while it still meets the SLA, is in the best tier
        // and the best candidate is not better by the margin — or while the switch budget is spent.
        let best = candidates[ranked[0]]
        if let current, reason == .slaMet,
            let keptAt = (0..<meeting).first(where: { candidates[ranked[$0]].index == current }),
            candidates[ranked[keptAt]].tier == best.tier, best.index != current
        {
            let kept = candidates[ranked[keptAt]]
            let better = kept.measurement.rtt - best.measurement.rtt >= trafficClass.switchMargin
            recentSwitches.removeAll { now - $0 >= .seconds(60) }
            if !better || recentSwitches.count >= trafficClass.maxSwitchesPerMinute {
                // The kept link moves to the front; the others keep their order behind it.
                let position = ranked[keptAt]
                var k = keptAt
                while k > 0 {
                    ranked[k] = ranked[k - 1]
                    k -= 1
                }
                ranked[0] = position
            } else {
                recentSwitches.append(now)
            }
        }
        let count: Int
        switch trafficClass.mode {
        case .best: count = 1
        case .duplicate(let copies): count = Swift.max(1, copies)
        case .balance: count = Swift.max(1, meeting)
        }
        let chosen = ranked[0..<Swift.min(count, allowed)]
        let unchanged =
            previous.reason == reason && previous.links.count == chosen.count
            && zip(previous.links, chosen).allSatisfy { $0 == candidates[$1].index }
        if !unchanged { choice = PathChoice(links: chosen.map { candidates[$0].index }, reason: reason) }
        if choice.links.first != current { primaryChanges &+= 1 }
        return !unchanged
    }

    private func isAllowed(_ candidate: LinkCandidate) -> Bool {
        candidate.status != .down && trafficClass.permits(candidate)
    }

    private func meets(_ candidate: LinkCandidate, current: Int?) -> Bool {
        trafficClass.sla.isMet(by: candidate.measurement, current: candidate.index == current)
    }

    /// A stable sort of `buffer[range]` (the standard library's sort is stable too, so rankings
    /// with equal keys come out as before); a handful of links, so insertion sort.
    private static func insertionSort(
        _ buffer: UnsafeMutableBufferPointer<Int>,
        _ range: Range<Int>,
        by areInIncreasingOrder: (Int, Int) -> Bool
    ) {
        guard range.count > 1 else { return }
        for i in (range.lowerBound + 1)..<range.upperBound {
            let element = buffer[i]
            var j = i
            while j > range.lowerBound && areInIncreasingOrder(element, buffer[j - 1]) {
                buffer[j] = buffer[j - 1]
                j -= 1
            }
            buffer[j] = element
        }
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
