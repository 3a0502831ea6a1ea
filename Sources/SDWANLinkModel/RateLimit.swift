import SDWANCore

/// A bottleneck of fixed rate with a finite FIFO queue in front of it (a serialization model, like
/// Linux's tbf with a burst of one packet).
///
/// A packet of `size` bytes offered at `now` is accepted if the queue has room, and then finishes
/// serialization at `departure = max(now, busyUntil) + size·8/rate`; `busyUntil` becomes that
/// departure. Its queueing delay is `max(0, busyUntil − now)` before it. Packets refused for lack of
/// room are congestion drops. Throughput can never exceed `rate`, and under overload the queue
/// holds its limit, so the queueing delay tends to limit/rate (docs/simulator.md, "Rate and queue").
public struct RateLimit: Hashable, Sendable {
    /// Bottleneck rate in bits per second.
    public var bitsPerSecond: Int64
    /// How much may wait, the packet being serialized included.
    public var queueLimit: QueueLimit

    public init(bitsPerSecond: Int64, queueLimit: QueueLimit) {
        precondition(bitsPerSecond > 0, "rate must be positive")
        self.bitsPerSecond = bitsPerSecond
        self.queueLimit = queueLimit
    }

    /// Time to serialize `size` bytes, rounded up to the nanosecond.
    @inlinable
    public func serializationTime(bytes size: Int) -> TimeSpan {
        let bitNanoseconds = Int64(size) &* 8_000_000_000
        return TimeSpan(nanoseconds: (bitNanoseconds + bitsPerSecond - 1) / bitsPerSecond)
    }
}

/// The capacity of a rate limiter's queue.
public enum QueueLimit: Hashable, Sendable {
    /// At most this many packets not yet fully serialized (the one on the wire included).
    case packets(Int)
    /// At most this many bytes not yet serialized: the backlog `(busyUntil − now)·rate/8` plus the
    /// new packet must fit.
    case bytes(Int)
    /// No limit: congestion shows as delay only.
    case unlimited
}

/// The running state of a `RateLimit` on one link direction.
public struct RateQueue: Sendable {
    public private(set) var limit: RateLimit
    /// When the bottleneck finishes the last accepted packet.
    public private(set) var busyUntil: Instant = .zero
    /// Departure instants of accepted packets not yet departed, oldest first (a ring; used to count
    /// packets for `.packets` limits).
    private var departures: [Instant] = []
    private var head = 0
    private var count = 0

    public init(limit: RateLimit) {
        self.limit = limit
        if case .packets(let n) = limit.queueLimit {
            departures = [Instant](repeating: .zero, count: max(n, 1))
        }
    }

    /// The outcome of offering a packet to the bottleneck.
    public enum Outcome: Hashable, Sendable {
        /// Accepted: the packet has left the bottleneck at `departure` after waiting `queueingDelay`.
        case departs(at: Instant, queueingDelay: TimeSpan)
        /// The queue was full.
        case congestionDrop
    }

    /// Replaces the rate and queue limit (an external override). Packets already accepted keep
    /// their departures; for a `.packets` limit the count restarts from the packets still queued.
    public mutating func setLimit(_ newLimit: RateLimit, at now: Instant) {
        expire(before: now)
        var kept: [Instant] = []
        for i in 0..<count { kept.append(departures[(head + i) % max(departures.count, 1)]) }
        limit = newLimit
        head = 0
        count = 0
        if case .packets(let n) = newLimit.queueLimit {
            departures = [Instant](repeating: .zero, count: max(n, kept.count, 1))
            for d in kept {
                departures[count] = d
                count += 1
            }
        } else {
            departures = []
        }
    }

    /// Packets accepted and not yet fully serialized at `now`.
    public mutating func queuedPackets(at now: Instant) -> Int {
        expire(before: now)
        return count
    }

    /// Bytes not yet serialized at `now`.
    public func backlogBytes(at now: Instant) -> Int {
        guard busyUntil > now else { return 0 }
        let ns = (busyUntil - now).nanoseconds
        return Int(WholeNumbers.up(Double(ns) * Double(limit.bitsPerSecond) / 8e9))
    }

    /// Offers a packet of `size` bytes at `now`. Instants must not go backwards.
    public mutating func offer(size: Int, at now: Instant) -> Outcome {
        switch limit.queueLimit {
        case .unlimited:
            break
        case .packets(let n):
            expire(before: now)
            if count >= n { return .congestionDrop }
        case .bytes(let n):
            if backlogBytes(at: now) + size > n { return .congestionDrop }
        }
        let start = max(now, busyUntil)
        let departure = start + limit.serializationTime(bytes: size)
        busyUntil = departure
        if case .packets = limit.queueLimit {
            departures[(head + count) % departures.count] = departure
            count += 1
        }
        return .departs(at: departure, queueingDelay: start - now)
    }

    private mutating func expire(before now: Instant) {
        while count > 0 && departures[head] <= now {
            head = (head + 1) % departures.count
            count -= 1
        }
    }
}
