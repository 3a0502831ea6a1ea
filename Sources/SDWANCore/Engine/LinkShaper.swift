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

    /// One strict-priority queue. The sizes ride in a ring of their own, in step with the items:
    /// the head's size is read on every dequeue and deadline, and reading it from `items` copied
    /// the head item (retaining its buffer).
    private struct Lane {
        var items = Ring<Queued>(initialCapacity: 64)
        var sizes = Ring<Int>(initialCapacity: 64)
        var bytes = 0
        var dropped: UInt64 = 0
        var sent: UInt64 = 0

        mutating func push(_ item: consuming Queued) {
            let size = item.size
            items.append(consume item)
            sizes.append(size)
            bytes += size
        }

        /// The head item (the caller checked there is one).
        mutating func pop() -> Queued {
            bytes -= sizes.popFirst()!
            sent &+= 1
            return items.popFirst()!
        }
    }

    /// Changed with `setConfiguration(_:now:)`.
    public private(set) var configuration: Configuration
    // Three lanes as stored properties, not an array of queues: every packet passes here, and
    // each access through nested arrays paid uniqueness and bounds checks.
    private var realtime = Lane()
    private var normal = Lane()
    private var bulk = Lane()
    /// Items in all lanes: the engine asks every link's shaper after every input, and most are
    /// empty most of the time.
    private var queuedItems = 0
    private var tokens: Double
    private var lastRefill: Instant?
    /// When the head item can leave, found by the last `dequeue` that lacked tokens for it; `nil`
    /// while unknown (nothing waits, or the head, the tokens or the rate changed since). Before
    /// it `dequeue` answers `nil` at once: the engine flushes its shapers after every input, and a
    /// bulk backlog made each flush refill the bucket (a division) only to find it short again,
    /// and ask the link's deadline again. The skipped refills would only have added the same
    /// tokens in smaller steps.
    private var headWaitsUntil: Instant?

    /// Items dropped because their priority's queue was full, per priority.
    public var dropped: [UInt64] { [realtime.dropped, normal.dropped, bulk.dropped] }
    /// Items that have left, per priority.
    public var sent: [UInt64] { [realtime.sent, normal.sent, bulk.sent] }

    public init(configuration: Configuration) {
        self.configuration = configuration
        tokens = Double(configuration.burstBytes)
    }

    /// Changes the rate, burst and queue limits at `now`. The tokens earned until `now` are
    /// counted at the old rate first, so a head item waiting for tokens leaves when the old rate
    /// until `now` and the new one after it have earned them.
    public mutating func setConfiguration(_ configuration: Configuration, now: Instant) {
        guard configuration != self.configuration else { return }
        if self.configuration.rateBitsPerSecond > 0 { refill(now) }
        self.configuration = configuration
        headWaitsUntil = nil
    }

    /// Bytes waiting in all queues.
    public var backlogBytes: Int { realtime.bytes + normal.bytes + bulk.bytes }
    public var isEmpty: Bool { queuedItems == 0 }

    /// Whether `dequeue(now:)` may give an item at `now`: something is queued and it is not known
    /// to wait for tokens until later. When `false`, `dequeue` would change nothing.
    public func mayDequeue(now: Instant) -> Bool {
        guard queuedItems > 0 else { return false }
        guard let until = headWaitsUntil else { return true }
        return now >= until
    }

    /// Bytes waiting at `priority`.
    public func backlogBytes(_ priority: Priority) -> Int {
        switch priority {
        case .realtime: realtime.bytes
        case .normal: normal.bytes
        case .bulk: bulk.bytes
        }
    }

    private mutating func withLane<R>(_ priority: Priority, _ body: (inout Lane) -> R) -> R {
        switch priority {
        case .realtime: body(&realtime)
        case .normal: body(&normal)
        case .bulk: body(&bulk)
        }
    }

    /// The highest priority with something queued, and the size of its head item.
    private mutating func head() -> (priority: Priority, size: Int)? {
        guard queuedItems > 0 else { return nil }
        if let size = realtime.sizes.first { return (.realtime, size) }
        if let size = normal.sizes.first { return (.normal, size) }
        if let size = bulk.sizes.first { return (.bulk, size) }
        return nil
    }

    /// Queues an item of `size` wire bytes. Returns `false` (and counts the drop) when its queue
    /// is full.
    public mutating func enqueue(_ element: consuming Element, size: Int, priority: Priority, now: Instant) -> Bool {
        guard backlogBytes(priority) + size <= configuration.queueLimitBytes[priority.rawValue] else {
            withLane(priority) { $0.dropped &+= 1 }
            return false
        }
        // The item moves into its lane: captured by a closure (`withLane`) it was copied, through
        // its type's value witnesses, and the copy destroyed (~150 instructions per packet).
        let item = Queued(element: consume element, size: size, enqueuedAt: now)
        // An item that becomes the head (in an empty shaper, or ahead of the head's priority)
        // needs tokens of its own.
        if let current = head(), current.priority.rawValue <= priority.rawValue {} else { headWaitsUntil = nil }
        switch priority {
        case .realtime: realtime.push(consume item)
        case .normal: normal.push(consume item)
        case .bulk: bulk.push(consume item)
        }
        queuedItems += 1
        return true
    }

    /// Whether an item of `size` bytes may leave at `now` without waiting in a queue: nothing is
    /// queued, its queue would take it, and the bucket holds its tokens. Then the tokens are taken
    /// and the departure counted — what `enqueue` followed at once by `dequeue` would do, without
    /// the queue. Otherwise nothing is counted and the caller queues the item (`enqueue`).
    public mutating func leavesAtOnce(size: Int, priority: Priority, now: Instant) -> Bool {
        guard queuedItems == 0, size <= configuration.queueLimitBytes[priority.rawValue] else { return false }
        if configuration.rateBitsPerSecond > 0 {
            // The refill is the one `dequeue` at `now` would do (a second one at `now` adds nothing).
            refill(now)
            guard tokens >= Double(size) else { return false }
            tokens -= Double(size)
        }
        switch priority {
        case .realtime: realtime.sent &+= 1
        case .normal: normal.sent &+= 1
        case .bulk: bulk.sent &+= 1
        }
        return true
    }

    /// The next item allowed to leave at `now`, highest priority first, or `nil` when the queues
    /// are empty or the bucket lacks tokens (then `nextDeadline()` says when to ask again).
    public mutating func dequeue(now: Instant) -> (element: Element, queuedFor: TimeSpan)? {
        guard let (p, size) = head() else { return nil }
        if configuration.rateBitsPerSecond > 0 {
            if let until = headWaitsUntil, now < until { return nil }
            refill(now)
            guard tokens >= Double(size) else {
                headWaitsUntil = tokensEnough(for: size, after: lastRefill ?? now)  // as just refilled
                return nil
            }
            tokens -= Double(size)
        }
        headWaitsUntil = nil
        queuedItems -= 1
        let item =
            switch p {
            case .realtime: realtime.pop()
            case .normal: normal.pop()
            case .bulk: bulk.pop()
            }
        return (item.element, now - item.enqueuedAt)
    }

    /// When the head item can leave: the instant the bucket will hold enough tokens for it, from
    /// the state of the last `dequeue` (no clock needed, nothing changes); `nil` when the queues
    /// are empty. An unshaped shaper never keeps items, so it has no deadline of its own.
    /// `mutating` only so that the call borrows the shaper in place: a non-mutating call on the
    /// engine's copy made a memberwise copy of all three lanes first.
    public mutating func nextDeadline() -> Instant? {
        if let headWaitsUntil { return headWaitsUntil }  // set only while an item waits
        guard let (_, size) = head() else { return nil }
        guard configuration.rateBitsPerSecond > 0, let last = lastRefill else { return lastRefill ?? .zero }
        return tokensEnough(for: size, after: last)
    }

    /// The instant the bucket, as refilled at `last` (a rate is set), holds `size` bytes of tokens.
    private func tokensEnough(for size: Int, after last: Instant) -> Instant {
        let missing = Double(size) - tokens
        if missing <= 0 { return last }
        let bytesPerSecond = Double(configuration.rateBitsPerSecond) / 8
        return last + TimeSpan(nanoseconds: WholeNumbers.up(missing / bytesPerSecond * 1e9))
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
