/// When to send the next active probe on one link.
///
/// - Interval: `interval` (default 100 ms, 20 ms – 5 s) on an active link, `standbyInterval`
///   (default 1 s, 1–5 s recommended) on a backup or metered link: 100 ms probes cost about 5 GB a
///   month per link, 1 s about 0.5 GB (docs/path-selection.md, "Probe cost").
/// - Each interval is jittered to 75–100 % of its nominal value (RFC 5880 §6.8.7), so probes of many
///   links and peers do not synchronise.
/// - Spacing: a probe due less than a quarter interval after the last packet sent waits until a
///   quarter interval after it (once), so a probe never rides a loss burst with our reply.
/// - Suppression: a probe falls due but is skipped when, since the last due time, we sent at least
///   `passivePackets` other packets and received at least one: data, its counters and timestamps and
///   the peer's receiver reports already measure both directions.
public struct ProbeScheduler: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// The interval on an active link.
        public var interval: TimeSpan
        /// The interval on a standby (backup, metered) link.
        public var standbyInterval: TimeSpan
        /// Packets sent per interval above which probes are suppressed.
        public var passivePackets: Int

        /// The allowed range of either interval.
        public static let allowedIntervals = TimeSpan.milliseconds(20)...TimeSpan.seconds(5)

        public init(
            interval: TimeSpan = .milliseconds(100),
            standbyInterval: TimeSpan = .seconds(1),
            passivePackets: Int = 4
        ) {
            precondition(
                Self.allowedIntervals.contains(interval) && Self.allowedIntervals.contains(standbyInterval),
                "probe intervals must lie in 20 ms ... 5 s (the configuration layer validates user input)"
            )
            self.interval = interval
            self.standbyInterval = standbyInterval
            self.passivePackets = passivePackets
        }
    }

    public let configuration: Configuration
    /// Whether the link is a standby one (probed at `standbyInterval`).
    public private(set) var standby: Bool
    /// When the next probe falls due.
    public private(set) var nextDue: Instant
    private var sentSinceDue = 0
    private var postponed = false
    private var receivedSinceDue = 0
    /// Probes suppressed so far.
    public private(set) var suppressed = 0

    /// A scheduler whose first probe is due at `now`.
    public init(configuration: Configuration = Configuration(), standby: Bool = false, now: Instant) {
        self.configuration = configuration
        self.standby = standby
        nextDue = now
    }

    /// The nominal interval in force.
    public var interval: TimeSpan { standby ? configuration.standbyInterval : configuration.interval }

    /// Switches between the active and the standby interval; the next probe is due at once if the
    /// new interval is shorter than what is left.
    public mutating func setStandby(_ standby: Bool, now: Instant) {
        self.standby = standby
        if nextDue - now > interval { nextDue = now }
    }

    /// A packet other than a probe was sent.
    public mutating func noteSent() { sentSinceDue &+= 1 }

    /// A packet arrived.
    public mutating func noteReceived() { receivedSinceDue &+= 1 }

    /// Whether a probe should be sent at `now`; `lastSent` is when the link last sent anything.
    /// When the due time has come, the next one is drawn
    /// (RFC 5880 §6.8.7: the interval reduced by a uniform 0–25 %) whether or not this probe is
    /// suppressed.
    public mutating func poll(now: Instant, lastSent: Instant?, using random: inout some RandomSource) -> Bool {
        guard now >= nextDue else { return false }
        // Never back to back with the packet just sent (typically our reply to the peer's probe): a
        // loss burst would take both, and the peer's evidence would lose two samples to one burst.
        // Waiting a quarter interval after it keeps every packet a separate sample of the path and
        // no gap between our packets longer than the interval.
        if !postponed, let last = lastSent, now - last < interval / 4 {
            postponed = true
            nextDue = last + interval / 4
            return false
        }
        postponed = false
        let nominal = interval.nanoseconds
        // Uniform in [0.75·I, I]: the high word of a 64 × 64-bit product (bias < 2⁻³⁰ at I ≤ 5 s).
        let span = UInt64(nominal / 4 + 1)
        let jittered = nominal - nominal / 4 + Int64(random.next().multipliedFullWidth(by: span).high)
        nextDue = now + TimeSpan(nanoseconds: jittered)
        let passive = sentSinceDue >= configuration.passivePackets && receivedSinceDue > 0
        sentSinceDue = 0
        receivedSinceDue = 0
        if passive { suppressed += 1 }
        return !passive
    }
}
