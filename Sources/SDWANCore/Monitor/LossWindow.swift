/// Loss over a sliding time window: a ring of fixed-span buckets of (received, lost) counts with
/// running sums, so adding and reading are O(1) and allocation-free.
public struct LossWindow: Sendable {
    /// The span of one bucket; the window is `bucketSpan × bucketCount`.
    public let bucketSpan: TimeSpan
    private var received: [Int32]
    private var lost: [Int32]
    private var current = 0
    /// The current bucket's outcomes not yet written into `received`/`lost`: added here, and
    /// written when the window slides (the only time a bucket is read), so adding an outcome writes
    /// no array (each array write checked the array's uniqueness).
    private var pendingReceived: Int32 = 0
    private var pendingLost: Int32 = 0
    private var currentStart: Instant?
    /// Running sums over the whole window.
    public private(set) var receivedTotal = 0
    public private(set) var lostTotal = 0

    public init(bucketSpan: TimeSpan, bucketCount: Int) {
        precondition(bucketSpan > .zero && bucketCount > 0, "a loss window needs buckets")
        self.bucketSpan = bucketSpan
        received = [Int32](repeating: 0, count: bucketCount)
        lost = [Int32](repeating: 0, count: bucketCount)
    }

    /// The window's length.
    public var span: TimeSpan { bucketSpan * Int64(received.count) }

    /// Drops the buckets that have slid out of the window by `now`. The common case, still within
    /// the current bucket, is inlined into the callers (every settled packet adds to two windows);
    /// only a slide is a call.
    @inline(__always)
    public mutating func advance(to now: Instant) {
        if let start = currentStart, now - start < bucketSpan { return }
        slide(to: now)
    }

    @inline(never)
    private mutating func slide(to now: Instant) {
        guard let start = currentStart else {
            currentStart = now
            return
        }
        let elapsed = now - start
        guard elapsed >= bucketSpan else { return }
        received[current] &+= pendingReceived
        lost[current] &+= pendingLost
        pendingReceived = 0
        pendingLost = 0
        let steps = elapsed.nanoseconds / bucketSpan.nanoseconds
        if steps >= Int64(received.count) {
            for i in 0..<received.count {
                received[i] = 0
                lost[i] = 0
            }
            receivedTotal = 0
            lostTotal = 0
            current = 0
        } else {
            for _ in 0..<steps {
                current = current + 1 == received.count ? 0 : current + 1
                receivedTotal -= Int(received[current])
                lostTotal -= Int(lost[current])
                received[current] = 0
                lost[current] = 0
            }
        }
        currentStart = start + bucketSpan * steps
    }

    /// Whether `advance(to: now)` would change anything: the first call anchors the buckets, and
    /// a later one changes them once a bucket's span has passed.
    public func wouldSlide(at now: Instant) -> Bool {
        guard let start = currentStart else { return true }
        return now - start >= bucketSpan
    }

    /// Adds outcomes settled at `now`.
    public mutating func add(received r: Int, lost l: Int, at now: Instant) {
        advance(to: now)
        pendingReceived &+= Int32(truncatingIfNeeded: r)
        pendingLost &+= Int32(truncatingIfNeeded: l)
        receivedTotal += r
        lostTotal += l
    }

    /// Packets in the window.
    public var samples: Int { receivedTotal + lostTotal }

    /// The loss ratio in the window, `nil` when empty.
    public var ratio: Double? {
        samples > 0 ? Double(lostTotal) / Double(samples) : nil
    }
}

/// Loss over the last `capacity` settled packets (a count-based window).
public struct CountLossWindow: Sendable {
    private var outcomes: [UInt8]
    private var next = 0
    /// Packets in the window and lost ones among them.
    public private(set) var samples = 0
    public private(set) var lost = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "a count window holds at least one packet")
        outcomes = [UInt8](repeating: 0, count: capacity)
    }

    public mutating func add(lost isLost: Bool) {
        let old = outcomes[next]
        if samples == outcomes.count { lost -= Int(old) } else { samples += 1 }
        // Written only when it changes (a received packet replacing a received one, or filling a
        // slot still 0, as most do): each array write checks the array's uniqueness.
        let new: UInt8 = isLost ? 1 : 0
        if new != old { outcomes[next] = new }
        if isLost { lost += 1 }
        next = next + 1 == outcomes.count ? 0 : next + 1
    }

    /// The loss ratio, `nil` when empty.
    public var ratio: Double? { samples > 0 ? Double(lost) / Double(samples) : nil }
}
