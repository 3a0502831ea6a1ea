/// Chooses which hub of an edge's ordered list carries its traffic (docs/operations.md, "Failover
/// between hubs").
///
/// Every hub's tunnel stays up and probed, so a backup is warm; this only decides where new inner
/// packets go. The rule, as for links in `PathSelector`:
/// - the active hub keeps the traffic while it is usable (keys and at least one link not `down`:
///   the path monitor already waited its detection window before calling a link down);
/// - when it stops being usable, traffic moves at once to the first usable hub in list order;
/// - a hub earlier in the list than the active one takes the traffic back only after it has been
///   usable without a break for the hold-down;
/// - flap damping: when a hub that traffic returned to fails again within `maxHoldDown` of the
///   return, the hold-down doubles (up to `maxHoldDown`); a return that lasts `maxHoldDown`
///   resets it.
///
/// Pure: the caller passes `now` and each hub's usability, in list order, whenever they may have
/// changed (after every batch is cheap: it is a scan of a few booleans, no allocation).
public struct HubSelector: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// How long a preferred hub must stay usable before traffic returns to it.
        public var holdDown: TimeSpan
        /// The largest the hold-down grows to under flapping.
        public var maxHoldDown: TimeSpan

        public init(holdDown: TimeSpan = .seconds(10), maxHoldDown: TimeSpan = .seconds(160)) {
            precondition(holdDown >= .zero && maxHoldDown >= holdDown, "0 ≤ holdDown ≤ maxHoldDown")
            self.holdDown = holdDown
            self.maxHoldDown = maxHoldDown
        }
    }

    /// Why the active hub changed.
    public enum SwitchReason: Hashable, Sendable {
        /// The first hub to become usable after start.
        case firstUsable
        /// The active hub had no usable link left.
        case activeUnusable
        /// A preferred hub was usable for the whole hold-down.
        case preferredBack
    }

    /// A change of the active hub.
    public struct Switch: Hashable, Sendable {
        public var from: Int?
        public var to: Int
        public var reason: SwitchReason

        public init(from: Int?, to: Int, reason: SwitchReason) {
            self.from = from
            self.to = to
            self.reason = reason
        }
    }

    public var configuration: Configuration
    /// The hub traffic goes to (index in list order); `nil` until one is usable.
    public private(set) var active: Int?
    /// The hold-down in force (grows under flapping).
    public private(set) var holdDown: TimeSpan
    /// Changes of the active hub since start.
    public private(set) var switches: UInt64 = 0
    /// Since when each hub has been usable without a break (`nil`: not usable).
    private var usableSince: [Instant?]
    /// When traffic last returned to a preferred hub.
    private var returnedAt: Instant?

    public init(hubs: Int, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        holdDown = configuration.holdDown
        usableSince = Array(repeating: nil, count: hubs)
    }

    /// The hub new packets go to: the active one, or the first in the list before any is usable.
    public var target: Int { active ?? 0 }

    /// Feeds each hub's usability (in list order) at `now`; returns the switch it made, if any.
    public mutating func update(usable: (Int) -> Bool, now: Instant) -> Switch? {
        var firstUsable: Int?
        for i in usableSince.indices {
            if usable(i) {
                if usableSince[i] == nil { usableSince[i] = now }
                if firstUsable == nil { firstUsable = i }
            } else {
                usableSince[i] = nil
            }
        }
        if let returnedAt, now - returnedAt >= configuration.maxHoldDown {
            holdDown = configuration.holdDown
            self.returnedAt = nil
        }
        guard let current = active else {
            guard let first = firstUsable else { return nil }
            return move(from: nil, to: first, reason: .firstUsable, now: now)
        }
        guard usableSince[current] != nil else {
            guard let first = firstUsable else { return nil }  // nothing better: keep it (packets wait)
            if let returnedAt, now - returnedAt < configuration.maxHoldDown {
                holdDown = min(holdDown * 2, configuration.maxHoldDown)
            }
            returnedAt = nil
            return move(from: current, to: first, reason: .activeUnusable, now: now)
        }
        for i in 0..<current {
            guard let since = usableSince[i], now - since >= holdDown else { continue }
            returnedAt = now
            return move(from: current, to: i, reason: .preferredBack, now: now)
        }
        return nil
    }

    /// When a preferred hub's hold-down ends (the caller re-runs `update` then), if any runs.
    public func nextDeadline() -> Instant? {
        guard let current = active else { return nil }
        var earliest: Instant?
        for i in 0..<current {
            guard let since = usableSince[i] else { continue }
            let due = since + holdDown
            if earliest.map({ due < $0 }) ?? true { earliest = due }
        }
        return earliest
    }

    /// Forgets hub state after the hub list changed (a reload): `map[i]` is hub `i`'s index in the
    /// old list, `nil` for a new hub. The active hub follows its index, or is re-chosen at the next
    /// `update` when it was removed.
    public mutating func relist(_ map: [Int?]) {
        let old = usableSince
        usableSince = map.map { $0.flatMap { old[$0] } }
        active = active.flatMap { a in map.firstIndex { $0 == a } }
    }

    private mutating func move(from: Int?, to: Int, reason: SwitchReason, now: Instant) -> Switch {
        active = to
        switches &+= 1
        return Switch(from: from, to: to, reason: reason)
    }
}
