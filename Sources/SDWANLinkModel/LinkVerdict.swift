import SDWANCore

/// Why a link direction dropped a packet. Exhaustive: every drop is counted under one cause.
public enum DropCause: String, CaseIterable, Hashable, Sendable, Codable {
    /// Random loss from the loss model (Bernoulli or Gilbert–Elliott).
    case loss
    /// The rate limiter's queue was full.
    case congestion
    /// The packet was larger than the direction's MTU.
    case mtu
    /// A scheduled impairment window (brownout, periodic outage, scheduled degrade).
    case outage
    /// The link was cut by an external override (timeline, WAN emulator control).
    case cut
}

/// What happens to one packet offered to a link direction.
public enum LinkVerdict: Hashable, Sendable {
    /// Delivered once, at this instant.
    case deliver(Instant)
    /// Delivered twice (duplication): the original at `first`, the copy at `second`.
    case deliverTwice(first: Instant, second: Instant)
    /// Not delivered.
    case dropped(DropCause)

    /// The delivery instants (none, one or two), for callers that do not care about the shape.
    public var deliveries: (Instant?, Instant?) {
        switch self {
        case .deliver(let at): (at, nil)
        case .deliverTwice(let a, let b): (a, b)
        case .dropped: (nil, nil)
        }
    }

    /// The drop cause, if dropped.
    public var dropCause: DropCause? {
        if case .dropped(let cause) = self { return cause }
        return nil
    }
}

/// Packets dropped, one counter per cause.
public struct DropCounts: Hashable, Sendable, Codable {
    public var loss: UInt64 = 0
    public var congestion: UInt64 = 0
    public var mtu: UInt64 = 0
    public var outage: UInt64 = 0
    public var cut: UInt64 = 0

    public init() {}

    public subscript(cause: DropCause) -> UInt64 {
        get {
            switch cause {
            case .loss: loss
            case .congestion: congestion
            case .mtu: mtu
            case .outage: outage
            case .cut: cut
            }
        }
        set {
            switch cause {
            case .loss: loss = newValue
            case .congestion: congestion = newValue
            case .mtu: mtu = newValue
            case .outage: outage = newValue
            case .cut: cut = newValue
            }
        }
    }

    /// All drops.
    public var total: UInt64 { loss + congestion + mtu + outage + cut }
}

/// The ground truth of one link direction: what really happened to the packets offered to it, for
/// comparing with what the tunnel measured (issue 10's JSON). Codable so the WAN emulator can
/// print it as JSON.
public struct LinkCounters: Hashable, Sendable, Codable {
    /// Packets offered.
    public var offered: UInt64 = 0
    /// Packets delivered (originals; a duplicate counts in `duplicated`, not here).
    public var passed: UInt64 = 0
    /// Bytes of the packets in `passed`.
    public var passedBytes: UInt64 = 0
    /// Drops by cause.
    public var dropped = DropCounts()
    /// Delivered packets whose one-way delay exceeded the base delay (jitter, queueing,
    /// reordering hold-back, FIFO catch-up or a degrade window added some).
    public var delayed: UInt64 = 0
    /// Delivered packets that waited in the rate limiter's queue (queueing delay > 0).
    public var queued: UInt64 = 0
    /// Extra copies delivered by duplication.
    public var duplicated: UInt64 = 0
    /// Packets held back by the reordering model.
    public var reordered: UInt64 = 0

    public init() {}
}
