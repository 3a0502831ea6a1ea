/// The status ladder of a link (docs/path-selection.md, "Link state").
public enum LinkStatus: Hashable, Sendable, CaseIterable {
    /// No proof of life in both directions yet.
    case probing
    /// Alive both ways and within its SLA.
    case up
    /// Alive both ways but breaking its SLA.
    case degraded
    /// A direction has been silent longer than the detection window.
    case down
}

/// Which SLA limit a link broke, and in which direction.
public enum SLABreach: Hashable, Sendable {
    case loss(LinkDirection)
    case latency
    case jitter(LinkDirection)
    case voiceQuality(LinkDirection)
}

/// Why the status changed.
public enum LinkStatusReason: Hashable, Sendable {
    /// First proof of life in both directions.
    case firstContact
    /// Nothing from the peer for longer than the detection window.
    case reverseSilent
    /// The peer has acknowledged nothing we sent for longer than the forward window.
    case forwardSilent
    /// Both directions silent.
    case bothSilent
    /// An SLA limit broken over its window.
    case slaBreach(SLABreach)
    /// A run of good measurements after `degraded` or `down`.
    case recovered
}

/// A status change, for the scheduler, logs and metrics.
public struct LinkEvent: Hashable, Sendable {
    public var now: Instant
    public var from: LinkStatus
    public var to: LinkStatus
    public var reason: LinkStatusReason
}

/// The link state machine: fail fast, recover slow, changes rate-limited.
///
/// - `down` as soon as a direction is silent (never delayed: failing over from a dead link is the
///   point of the product), and never left before `recoveryRun` good evaluations.
/// - `degraded` at the first evaluation that breaks the SLA; back to `up` only after
///   `recoveryRun` consecutive good evaluations.
/// - At most `maxChangesPerMinute` changes in any 60 s; a change into `down` is always allowed
///   (and counted); any other change waits until the limit allows it.
public struct LinkStateMachine: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// Consecutive good evaluations before `degraded` or `down` returns to `up`.
        public var recoveryRun: Int = 20
        /// Rate limit on status changes.
        public var maxChangesPerMinute: Int = 6

        public init(recoveryRun: Int = 20, maxChangesPerMinute: Int = 6) {
            precondition(recoveryRun >= 1 && maxChangesPerMinute >= 1, "recovery run and rate limit are at least 1")
            self.recoveryRun = recoveryRun
            self.maxChangesPerMinute = maxChangesPerMinute
        }
    }

    public let configuration: Configuration
    public private(set) var status = LinkStatus.probing
    private var goodRun = 0
    private var recentChanges: [Instant]
    private var nextChange = 0
    private var changeCount = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        recentChanges = [Instant](repeating: .zero, count: configuration.maxChangesPerMinute)
    }

    /// Whether another change fits in the last minute.
    private func changeAllowed(_ now: Instant) -> Bool {
        changeCount < recentChanges.count || now - recentChanges[nextChange] >= .seconds(60)
    }

    private mutating func change(to status: LinkStatus, reason: LinkStatusReason, now: Instant) -> LinkEvent {
        let event = LinkEvent(now: now, from: self.status, to: status, reason: reason)
        self.status = status
        goodRun = 0
        recentChanges[nextChange] = now
        nextChange = (nextChange + 1) % recentChanges.count
        changeCount = min(changeCount + 1, recentChanges.count)
        return event
    }

    /// Feeds one judgement. `tick` is true at the periodic evaluation (runs of good measurements
    /// count ticks only); liveness changes between ticks come with `tick` false.
    public mutating func evaluate(
        now: Instant,
        forwardAlive: Bool,
        reverseAlive: Bool,
        breach: SLABreach?,
        tick: Bool
    ) -> LinkEvent? {
        let silence: LinkStatusReason? =
            switch (forwardAlive, reverseAlive) {
            case (true, true): nil
            case (false, true): .forwardSilent
            case (true, false): .reverseSilent
            case (false, false): .bothSilent
            }
        switch status {
        case .probing:
            guard silence == nil else { return nil }
            return change(to: breach == nil ? .up : .degraded, reason: .firstContact, now: now)
        case .up:
            if let silence { return change(to: .down, reason: silence, now: now) }
            if let breach, changeAllowed(now) { return change(to: .degraded, reason: .slaBreach(breach), now: now) }
            return nil
        case .degraded:
            if let silence { return change(to: .down, reason: silence, now: now) }
            guard tick else { return nil }
            goodRun = breach == nil ? goodRun + 1 : 0
            if goodRun >= configuration.recoveryRun && changeAllowed(now) {
                return change(to: .up, reason: .recovered, now: now)
            }
            return nil
        case .down:
            guard silence == nil else {
                goodRun = 0
                return nil
            }
            guard tick else { return nil }
            goodRun += 1
            if goodRun >= configuration.recoveryRun && changeAllowed(now) {
                if let breach { return change(to: .degraded, reason: .slaBreach(breach), now: now) }
                return change(to: .up, reason: .recovered, now: now)
            }
            return nil
        }
    }
}
