/// The forward direction of one link, as the peer's RECEIVER_REPORT frames describe it.
///
/// A packet received proves only the direction it came from; the peer tells us what it received
/// from us, and that is all we know of our forward direction. Reports carry cumulative counts, so
/// a lost report loses no information: the next one covers it.
public struct ForwardStatistics: Sendable {
    private var lastSequence: UInt32?
    private var lastHighest: UInt64?
    /// Cumulative counts from the newest accepted report.
    public private(set) var received: UInt64 = 0
    public private(set) var lost: UInt64 = 0
    /// The peer's view of our packets: RFC 3550 jitter and RFC 5481 PDV p99.
    public private(set) var jitter = TimeSpan.zero
    public private(set) var pdvP99 = TimeSpan.zero
    /// The send time of the newest packet the peer acknowledged (forward proof of life).
    public private(set) var lastAlive: Instant?
    /// Reports accepted.
    public private(set) var reportCount = 0
    public private(set) var shortWindow: LossWindow
    public private(set) var longWindow: LossWindow

    public init(configuration: ReceiveStatistics.Configuration = .init()) {
        shortWindow = LossWindow(bucketSpan: configuration.shortBucket, bucketCount: configuration.shortBuckets)
        longWindow = LossWindow(bucketSpan: configuration.longBucket, bucketCount: configuration.longBuckets)
    }

    /// What an accepted report yields.
    public struct Accepted: Sendable {
        /// RTT = now − echoed timestamp − hold time, when the report acknowledges a new packet.
        public var rttSample: TimeSpan?
        /// The send time of the newest packet the peer has received.
        public var aliveAt: Instant
    }

    /// Validates and applies a report received at `now`; `highestSent` is the highest counter we
    /// have sent on the link. A report is never trusted beyond what it can prove: it must be newer
    /// than the last, acknowledge only counters we sent, never shrink its counts, and echo a
    /// timestamp from our past.
    public mutating func accept(
        _ report: ReceiverReportFrame,
        highestSent: UInt64?,
        now: Instant
    ) -> Result<Accepted, MonitorDropReason> {
        if let last = lastSequence, !isNewer(report.sequence, than: last) { return .failure(.replayedReport) }
        guard let sent = highestSent, report.highestCounter <= sent,
            report.received >= received, report.lost >= lost
        else { return .failure(.inconsistentReport) }
        // The echo is our own timestamp: its age must be non-negative and cover the hold time.
        let age = WireTimestamp(now).since(report.echoedTimestamp)
        let hold = TimeSpan.microseconds(Int64(report.holdMicroseconds))
        guard age >= .zero, age >= hold else { return .failure(.implausibleTimes) }

        let fresh = lastHighest.map { report.highestCounter > $0 } ?? true
        let deltaReceived = Int(clamping: report.received - received)
        let deltaLost = Int(clamping: report.lost - lost)
        shortWindow.add(received: deltaReceived, lost: deltaLost, at: now)
        longWindow.add(received: deltaReceived, lost: deltaLost, at: now)
        received = report.received
        lost = report.lost
        jitter = .microseconds(Int64(report.jitterMicroseconds))
        pdvP99 = .microseconds(Int64(report.pdvP99Microseconds))
        lastSequence = report.sequence
        reportCount += 1
        let aliveAt = now - age
        if fresh {
            lastHighest = report.highestCounter
            if lastAlive.map({ aliveAt > $0 }) ?? true { lastAlive = aliveAt }
        }
        return .success(Accepted(rttSample: fresh ? age - hold : nil, aliveAt: aliveAt))
    }

    /// A probe reply proves the forward direction at the probe's send time.
    public mutating func noteAlive(sentAt: Instant) {
        if lastAlive.map({ sentAt > $0 }) ?? true { lastAlive = sentAt }
    }

    /// Whether `advance(to: now)` would change anything.
    public func windowsWouldSlide(at now: Instant) -> Bool {
        shortWindow.wouldSlide(at: now) || longWindow.wouldSlide(at: now)
    }

    /// Advances the windows to `now`.
    public mutating func advance(to now: Instant) {
        shortWindow.advance(to: now)
        longWindow.advance(to: now)
    }

    /// Our counter space restarted (rekey): acknowledged counters start again.
    public mutating func resetCounterSpace() { lastHighest = nil }
}
