/// A traffic class: what the scheduler promises one kind of traffic (voice, POS, bulk, …).
public struct TrafficClass: Hashable, Sendable {
    /// How a class uses the links that meet its SLA.
    public enum Mode: Hashable, Sendable {
        /// The lowest-latency link that meets the SLA, honouring tiers and cost.
        case best
        /// Copies on the `copies` best links (default 2); the receiver keeps the first.
        case duplicate(copies: Int)
        /// Bulk striping over every eligible link by earliest expected delivery (striping issue).
        case balance
    }

    /// What happens to a class's packets when every allowed link is down.
    public struct HoldPolicy: Hashable, Sendable {
        /// How long a packet may wait for a link to come back before it is dropped (counted).
        public var maxWait: TimeSpan
        /// How many packets may wait at once; more are dropped at once (counted).
        public var maxPackets: Int

        public init(maxWait: TimeSpan = .milliseconds(500), maxPackets: Int = 256) {
            self.maxWait = maxWait
            self.maxPackets = maxPackets
        }
    }

    public var name: String
    public var sla: ServiceLevel
    /// Names of the links this class may use; empty means all ("bulk never on LTE" leaves LTE out).
    public var allowedLinks: [String]
    /// Whether metered links (LTE backups billed by volume) may carry this class at all.
    public var meteredAllowed: Bool
    public var mode: Mode
    public var priority: TrafficPriority
    /// Outer DSCP for this class's datagrams; `nil` copies the inner packet's DSCP.
    public var outerDSCP: UInt8?
    /// Switch links only when the candidate is better by this margin of latency …
    public var switchMargin: TimeSpan
    /// … and at most this many times per minute (flap damping).
    public var maxSwitchesPerMinute: Int
    public var hold: HoldPolicy
    /// `balance` only: the longest a flow's packet waits for an earlier one (the receiver holds
    /// skew between the class's links + 10 ms, never more than this).
    public var reorderHoldCap: TimeSpan
    /// `balance` only: whether a packet arriving after its gap was skipped is still delivered
    /// (TCP copes with it) or dropped (media that a late packet would only disturb).
    public var deliverLatePackets: Bool

    public init(
        name: String,
        sla: ServiceLevel,
        allowedLinks: [String] = [],
        meteredAllowed: Bool = true,
        mode: Mode = .best,
        priority: TrafficPriority = .normal,
        outerDSCP: UInt8? = nil,
        switchMargin: TimeSpan = .milliseconds(10),
        maxSwitchesPerMinute: Int = 6,
        hold: HoldPolicy = HoldPolicy(),
        reorderHoldCap: TimeSpan = .milliseconds(100),
        deliverLatePackets: Bool = true
    ) {
        self.reorderHoldCap = reorderHoldCap
        self.deliverLatePackets = deliverLatePackets
        self.name = name
        self.sla = sla
        self.allowedLinks = allowedLinks
        self.meteredAllowed = meteredAllowed
        self.mode = mode
        self.priority = priority
        self.outerDSCP = outerDSCP
        self.switchMargin = switchMargin
        self.maxSwitchesPerMinute = maxSwitchesPerMinute
        self.hold = hold
    }
}

/// The SLA a class asks of a link, in the path monitor's terms (docs/path-selection.md):
/// latency = RTT, jitter = RFC 3550 J, loss = ratio over the monitor's window, R = simplified G.107.
public struct ServiceLevel: Hashable, Sendable {
    public var maxLossRatio: Double?
    public var maxRTT: TimeSpan?
    public var maxJitter: TimeSpan?
    /// Minimum R-factor to steer onto a link …
    public var minRFactorToEnter: Double?
    /// … and the R-factor below which the class steers away (hysteresis; REFERENCE.md: 80 / 70).
    public var minRFactorToStay: Double?

    public init(
        maxLossRatio: Double? = nil,
        maxRTT: TimeSpan? = nil,
        maxJitter: TimeSpan? = nil,
        minRFactorToEnter: Double? = nil,
        minRFactorToStay: Double? = nil
    ) {
        self.maxLossRatio = maxLossRatio
        self.maxRTT = maxRTT
        self.maxJitter = maxJitter
        self.minRFactorToEnter = minRFactorToEnter
        self.minRFactorToStay = minRFactorToStay
    }

    /// Whether a link with these measurements meets the SLA; `current` applies the looser "stay"
    /// thresholds for the link a class already uses.
    public func isMet(by link: LinkMeasurement, current: Bool) -> Bool {
        if let max = maxLossRatio, link.lossRatio > max { return false }
        if let max = maxRTT, link.rtt > max { return false }
        if let max = maxJitter, link.jitter > max { return false }
        let minR = current ? (minRFactorToStay ?? minRFactorToEnter) : minRFactorToEnter
        if let minR, link.rFactor < minR { return false }
        return true
    }

    /// How far a link is from this SLA: 0 when it meets it, otherwise the sum of relative
    /// excesses. Picks the least-bad link when none meets the SLA.
    public func shortfall(of link: LinkMeasurement) -> Double {
        var total = 0.0
        if let max = maxLossRatio, link.lossRatio > max { total += (link.lossRatio - max) / Swift.max(max, 0.001) }
        if let max = maxRTT, link.rtt > max { total += (link.rtt - max).seconds / Swift.max(max.seconds, 0.001) }
        if let max = maxJitter, link.jitter > max {
            total += (link.jitter - max).seconds / Swift.max(max.seconds, 0.001)
        }
        if let minR = minRFactorToEnter, link.rFactor < minR { total += (minR - link.rFactor) / minR }
        return total
    }
}

/// A link's current measurements as the scheduler sees them (filled from the path monitor).
public struct LinkMeasurement: Hashable, Sendable {
    public var rtt: TimeSpan
    public var jitter: TimeSpan
    public var lossRatio: Double
    public var rFactor: Double

    public init(rtt: TimeSpan, jitter: TimeSpan, lossRatio: Double, rFactor: Double) {
        self.rtt = rtt
        self.jitter = jitter
        self.lossRatio = lossRatio
        self.rFactor = rFactor
    }
}

extension TrafficClass {
    /// Whether the class's policy lets it use `link` for its data: its allowed links (when listed)
    /// and its metered policy.
    public func permits(_ link: LinkCandidate) -> Bool {
        permitsParity(on: link) && (allowedLinks.isEmpty || allowedLinks.contains(link.name))
    }

    /// Whether the class's FEC parity may go on `link`: the metered policy holds for it too (a
    /// class kept off a metered LTE link must not spend its volume on parity), while a link outside
    /// the class's data links may carry parity — that is cross-link parity's point: a burst on the
    /// data link does not take the parity with it (docs/fec.md, "Cross-link parity").
    public func permitsParity(on link: LinkCandidate) -> Bool {
        meteredAllowed || !link.metered
    }
}
