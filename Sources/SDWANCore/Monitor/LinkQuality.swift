/// The one vocabulary every SLA, report and metric in the project uses (docs/path-selection.md,
/// "Definitions"). The scheduler reads `LinkQuality`; policies are `SLAThresholds`.
///
/// - latency: the round-trip time (RTT); RTT/2 is the one-way estimate (no clock sync is assumed).
/// - jitter: RFC 3550 §6.4.1 interarrival jitter J, per direction.
/// - loss: packets not arrived within Tmax (RFC 7680) over packets sent, per direction.
/// - E-model delay d = RTT/2 + jitter-buffer allowance (the direction's PDV p99, at least
///   `minimumJitterBuffer`), fed with the direction's loss and burst ratio to G.107 (`EModel`).

/// A direction of a link, seen from this node.
public enum LinkDirection: Hashable, Sendable, CaseIterable {
    /// Packets we send: judged from the peer's receiver reports and probe replies.
    case forward
    /// Packets we receive: judged from what arrives.
    case reverse
}

/// Measured quality of one direction of a link.
public struct DirectionQuality: Hashable, Sendable {
    /// Loss ratio over the short (SLA) window, `nil` before any packet was settled in it.
    public var lossRatio: Double?
    /// Packets (received + lost) behind `lossRatio`.
    public var lossSamples: Int
    /// Loss ratio over the long window (metrics), `nil` when empty.
    public var longLossRatio: Double?
    /// Cumulative packets received and declared lost in this direction.
    public var cumulativeReceived: UInt64
    public var cumulativeLost: UInt64
    /// Silences longer than the detection window that ended, and the packets sent into them
    /// (reverse direction only): outages, kept out of `cumulativeLost` and every loss window.
    public var outages: UInt64
    public var outageLost: UInt64
    /// RFC 3357 mean loss burst length (lost packets / bursts), `nil` before the first burst.
    /// Reverse direction only (the peer reports no bursts).
    public var meanBurstLength: Double?
    /// RFC 3550 §6.4.1 interarrival jitter J.
    public var jitter: TimeSpan
    /// RFC 5481 PDV 99th percentile over the last epoch.
    public var pdvP99: TimeSpan
    /// When this direction last showed proof of life (reverse: a packet arrived; forward: the send
    /// time of the newest packet the peer acknowledged), `nil` if never.
    public var lastAlive: Instant?
    /// E-model R factor and MOS for this direction (d = RTT/2 + jitter-buffer allowance, long-window
    /// loss), `nil` before the first RTT sample.
    public var rFactor: Double?
    public var mos: Double?

    public init() {
        lossRatio = nil
        lossSamples = 0
        longLossRatio = nil
        cumulativeReceived = 0
        cumulativeLost = 0
        outages = 0
        outageLost = 0
        meanBurstLength = nil
        jitter = .zero
        pdvP99 = .zero
        lastAlive = nil
        rFactor = nil
        mos = nil
    }
}

/// What the monitor knows about one link: RTT and both directions.
public struct LinkQuality: Hashable, Sendable {
    /// RFC 6298 smoothed RTT and its variation, `nil` before the first sample.
    public var smoothedRTT: TimeSpan?
    public var rttVariation: TimeSpan?
    /// Minimum RTT over the sample window.
    public var minimumRTT: TimeSpan?
    /// RTT percentiles over the sample window.
    public var rttP50: TimeSpan?
    public var rttP90: TimeSpan?
    public var rttP99: TimeSpan?
    public var forward: DirectionQuality
    public var reverse: DirectionQuality

    public init() {
        forward = DirectionQuality()
        reverse = DirectionQuality()
    }

    /// The quality of one direction.
    public subscript(direction: LinkDirection) -> DirectionQuality {
        switch direction {
        case .forward: forward
        case .reverse: reverse
        }
    }

    /// The one-way latency estimate RTT/2.
    public var oneWayLatency: TimeSpan? { smoothedRTT.map { $0 / 2 } }
}

/// A service-level agreement for a link: the limits a link must keep to stay `up`. A `nil` limit is
/// not checked. Shared by the monitor (degraded state) and the scheduler (class policies).
public struct SLAThresholds: Hashable, Sendable {
    /// Highest loss ratio, per direction.
    public var maxLossRatio: Double?
    /// Highest smoothed RTT.
    public var maxRTT: TimeSpan?
    /// Highest RFC 3550 jitter, per direction.
    public var maxJitter: TimeSpan?
    /// Lowest E-model R factor, per direction.
    public var minRFactor: Double?
    /// A loss breach needs the lost count to exceed L·N by this many standard errors
    /// √(g·L(1−L)·N): a one-sided test of "loss ≤ L" (docs/path-selection.md, "Degradation").
    public var lossConfidence: Double
    /// g: the variance inflation of loss counts on the link, 1 for independent loss,
    /// (1+ρ)/(1−ρ) for a Gilbert chain (REFERENCE.md).
    public var lossVarianceInflation: Double

    /// Voice-grade defaults: 1 % loss, 300 ms RTT, 30 ms jitter, R ≥ 70, z = 3.
    public init(
        maxLossRatio: Double? = 0.01,
        maxRTT: TimeSpan? = .milliseconds(300),
        maxJitter: TimeSpan? = .milliseconds(30),
        minRFactor: Double? = 70,
        lossConfidence: Double = 3,
        lossVarianceInflation: Double = 1
    ) {
        self.maxLossRatio = maxLossRatio
        self.maxRTT = maxRTT
        self.maxJitter = maxJitter
        self.minRFactor = minRFactor
        self.lossConfidence = lossConfidence
        self.lossVarianceInflation = lossVarianceInflation
    }

    /// Whether `lost` of `samples` packets breaks the loss limit with the configured confidence.
    /// `nil` when there are too few samples to tell (fewer than 5/L: the normal approximation
    /// behind the z test needs N·L ≥ 5).
    public func lossBreached(lost: Int, samples: Int) -> Bool? {
        guard let limit = maxLossRatio else { return false }
        guard limit > 0 else { return lost > 0 }
        guard Double(samples) * limit >= 5 else { return nil }
        let n = Double(samples)
        let standardError = (lossVarianceInflation * limit * (1 - limit) * n).squareRoot()
        return Double(lost) > limit * n + lossConfidence * standardError
    }
}
