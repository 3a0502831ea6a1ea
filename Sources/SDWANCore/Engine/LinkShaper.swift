import NIOCore

/// A token-bucket shaper for one link direction, with strict-priority queues in front of it.
///
/// The point is to keep the queue in sdwan, where real-time classes jump it, rather than in an
/// LTE modem's deep FIFO where voice waits behind bulk. With a rate configured a little under the
/// link's real capacity, the modem's queue stays empty and our priority order decides latency.
/// Items are queued unsealed and sealed when they leave, so per-link counters and sender
/// timestamps follow the order and time of departure.
/// Strict priorities in the shaper: a lower value always leaves first.
public enum TrafficPriority: Int, CaseIterable, Sendable {
    case realtime = 0
    case normal = 1
    case bulk = 2
}

public struct ShaperConfiguration: Hashable, Sendable {
    /// Shaped rate in bits per second; 0 means unshaped (items leave as soon as polled).
    public var rateBitsPerSecond: Int64
    /// Bucket depth in bytes: how much may leave back to back after an idle period.
    public var burstBytes: Int
    /// Per-priority queue limits in bytes; an item that would exceed its queue's limit is
    /// dropped at once (early, so memory stays bounded under overload).
    public var queueLimitBytes: [Int]

    public init(
        rateBitsPerSecond: Int64,
        burstBytes: Int = 16_000,
        queueLimitBytes: [Int] = [32_000, 128_000, 256_000]
    ) {
        precondition(queueLimitBytes.count == TrafficPriority.allCases.count)
        self.rateBitsPerSecond = rateBitsPerSecond
        self.burstBytes = burstBytes
        self.queueLimitBytes = queueLimitBytes
    }

    /// No rate limit; the default queue limits still bound memory.
    public static let unshaped = ShaperConfiguration(rateBitsPerSecond: 0)
}

public struct LinkShaper<Element> {
    public typealias Priority = TrafficPriority
    public typealias Configuration = ShaperConfiguration

    private struct Queued {
        var element: Element
        var size: Int
        var enqueuedAt: Instant
    }

    public var configuration: Configuration
    private var queues: [CircularBuffer<Queued>]
    /// The items' sizes, in step with `queues`: the head's size is read on every dequeue and
    /// deadline, and reading it from `queues` copied the head item (retaining its buffer).
    private var sizes: [CircularBuffer<Int>]
    /// Items in all queues: the engine asks every link's shaper after every input, and most are
    /// empty most of the time.
    private var queuedItems = 0
    private var queuedBytes: [Int]
    private var tokens: Double
    private var lastRefill: Instant?

    /// Items dropped because their priority's queue was full, per priority.
    public private(set) var dropped: [UInt64]
    /// Items that have left, per priority.
    public private(set) var sent: [UInt64]

    public init(configuration: Configuration) {
        self.configuration = configuration
        queues = TrafficPriority.allCases.map { _ in CircularBuffer(initialCapacity: 64) }
        sizes = TrafficPriority.allCases.map { _ in CircularBuffer(initialCapacity: 64) }
        queuedBytes = Priority.allCases.map { _ in 0 }
        tokens = Double(configuration.burstBytes)
        dropped = Priority.allCases.map { _ in 0 }
        sent = Priority.allCases.map { _ in 0 }
    }

    /// Bytes waiting in all queues.
    public var backlogBytes: Int { queuedBytes.reduce(0, +) }
    public var isEmpty: Bool { queuedItems == 0 }

    /// Bytes waiting at `priority`.
    public func backlogBytes(_ priority: Priority) -> Int { queuedBytes[priority.rawValue] }

    /// Queues an item of `size` wire bytes. Returns `false` (and counts the drop) when its queue
    /// is full.
    public mutating func enqueue(_ element: consuming Element, size: Int, priority: Priority, now: Instant) -> Bool {
        let p = priority.rawValue
        guard queuedBytes[p] + size <= configuration.queueLimitBytes[p] else {
            dropped[p] &+= 1
            return false
        }
        queues[p].append(Queued(element: consume element, size: size, enqueuedAt: now))
        sizes[p].append(size)
        queuedItems += 1
        queuedBytes[p] += size
        return true
    }

    /// The next item allowed to leave at `now`, highest priority first, or `nil` when the queues
    /// are empty or the bucket lacks tokens (then `nextDeadline()` says when to ask again).
    public mutating func dequeue(now: Instant) -> (element: Element, queuedFor: TimeSpan)? {
        guard queuedItems > 0, let p = sizes.firstIndex(where: { !$0.isEmpty }) else { return nil }
        let size = sizes[p].first!
        if configuration.rateBitsPerSecond > 0 {
            refill(now)
            guard tokens >= Double(size) else { return nil }
            tokens -= Double(size)
        }
        let item = queues[p].removeFirst()
        sizes[p].removeFirst()
        queuedItems -= 1
        queuedBytes[p] -= item.size
        sent[p] &+= 1
        return (item.element, now - item.enqueuedAt)
    }

    /// When the head item can leave: the instant the bucket will hold enough tokens for it, from
    /// the state of the last `dequeue` (no clock needed, nothing changes); `nil` when the queues
    /// are empty. An unshaped shaper never keeps items, so it has no deadline of its own.
    public func nextDeadline() -> Instant? {
        guard queuedItems > 0, let p = sizes.firstIndex(where: { !$0.isEmpty }) else { return nil }
        guard configuration.rateBitsPerSecond > 0, let last = lastRefill else { return lastRefill ?? .zero }
        let missing = Double(sizes[p].first!) - tokens
        if missing <= 0 { return last }
        let bytesPerSecond = Double(configuration.rateBitsPerSecond) / 8
        return last + TimeSpan(nanoseconds: Int64((missing / bytesPerSecond * 1e9).rounded(.up)))
    }

    private mutating func refill(_ now: Instant) {
        guard let last = lastRefill else {
            lastRefill = now
            return
        }
        guard now > last else { return }
        lastRefill = now
        let bytesPerSecond = Double(configuration.rateBitsPerSecond) / 8
        let burst = Double(max(configuration.burstBytes, 1))
        tokens = min(burst, tokens + Double((now - last).nanoseconds) * bytesPerSecond / 1e9)
    }
}
