/// Every tunable of a link's path monitor, with the defaults of docs/path-selection.md.
public struct PathMonitorConfiguration: Hashable, Sendable {
    /// Probe intervals and suppression.
    public var probes = ProbeScheduler.Configuration()
    /// Whether the link starts as a standby (backup, metered) link.
    public var standby = false
    /// Liveness: a direction is down when silent longer than max(M × interval, base + N × SRTT).
    public var missedIntervals: Int64 = 3
    public var silenceBase: TimeSpan = .milliseconds(100)
    public var silenceRTTMultiplier: Int64 = 4
    /// Receiver reports: at most this often while data arrives; otherwise they ride on probes.
    public var reportInterval: TimeSpan = .milliseconds(50)
    /// Passive measurement windows and Tmax.
    public var receive = ReceiveStatistics.Configuration()
    /// RTT samples kept for minimum and percentiles.
    public var rttWindow = 256
    /// The SLA that separates `up` from `degraded`.
    public var sla = SLAThresholds()
    /// Codec for the E-model R factor.
    public var codec = EModel.Codec.g711PLC
    /// The smallest jitter buffer assumed in the E-model delay d = RTT/2 + max(this, PDV p99).
    public var minimumJitterBuffer: TimeSpan = .milliseconds(20)
    /// How often the SLA is evaluated.
    public var evaluationInterval: TimeSpan = .milliseconds(100)
    /// Recovery run and rate limit.
    public var stateMachine = LinkStateMachine.Configuration()
    /// Probes awaiting a reply; an older one is forgotten (its reply is then refused).
    public var outstandingProbes = 16

    public init() {}
}
