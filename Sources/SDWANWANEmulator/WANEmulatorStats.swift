import SDWANLinkModel

/// The emulator's ground truth, as printed by `sdwan wanem ctl stats` and written to `--json FILE`
/// at exit: per link and direction what the model did to the packets offered (passed, dropped by
/// cause, delayed, queued, duplicated, reordered) and what the relay read and wrote, plus the
/// relay's own timing error.
public struct WANEmulatorStats: Codable, Hashable, Sendable {
    /// The topology's name.
    public var topology: String
    /// The branch whose links are emulated.
    public var branch: String
    /// Where up-direction packets are sent.
    public var hub: String
    /// Seconds since the emulator started (the origin of schedules and the timeline).
    public var uptimeSeconds: Double
    /// Links in topology order.
    public var links: [LinkStats]
    /// How late deliveries left compared with the instant the model gave them.
    public var timing: TimingStats
}

/// One link's ground truth.
public struct LinkStats: Codable, Hashable, Sendable {
    public var name: String
    /// The socket the edge's link socket sends to.
    public var edgeFacing: String
    /// The socket packets leave from towards the hub (its port changes on a rebind).
    public var hubFacing: String
    /// The edge's last source address (replies go there); `nil` before the first packet.
    public var edgeSource: String?
    /// Hub-facing sockets replaced so far.
    public var rebinds: Int
    public var up: DirectionStats
    public var down: DirectionStats
}

/// One direction of one link.
public struct DirectionStats: Codable, Hashable, Sendable {
    /// Whether an override has cut this direction.
    public var cut: Bool
    /// The link model's own counters: offered, passed (originals), passedBytes, dropped by cause
    /// (loss, congestion, mtu, outage, cut), delayed, queued, duplicated (extra copies), reordered.
    public var model: LinkCounters
    /// The relay's counters around the model.
    public var relay: RelayCounters
}

/// What the relay did around a direction's model.
public struct RelayCounters: Codable, Hashable, Sendable {
    /// Datagrams read and offered to the model.
    public var received: UInt64 = 0
    /// Datagrams written (originals and copies). Equals passed + duplicated − inFlight, unless a
    /// socket write failed.
    public var sent: UInt64 = 0
    /// Deliveries scheduled and not yet written.
    public var inFlight: Int = 0
    /// Down direction: datagrams on the hub-facing socket from a source other than the hub
    /// (not offered to the model).
    public var foreignSource: UInt64 = 0
    /// Down direction: datagrams from the hub before the edge sent anything (no address to relay
    /// to; not offered to the model).
    public var noEdgeAddress: UInt64 = 0

    public init() {}
}

/// Lateness of deliveries (send instant − the model's delivery instant), in microseconds.
public struct TimingStats: Codable, Hashable, Sendable {
    public var samples: UInt64
    public var meanMicroseconds: Double
    public var p50Microseconds: Double
    public var p99Microseconds: Double
    public var p999Microseconds: Double
    public var maxMicroseconds: Double

    init(_ histogram: LatenessHistogram) {
        samples = histogram.count
        meanMicroseconds = (histogram.meanMicroseconds * 10).rounded() / 10
        p50Microseconds = histogram.percentileMicroseconds(0.5)
        p99Microseconds = histogram.percentileMicroseconds(0.99)
        p999Microseconds = histogram.percentileMicroseconds(0.999)
        maxMicroseconds = Double(histogram.maxNanoseconds / 1_000)
    }
}
