/// Cached timer deadlines of an engine's components (its links, its classes): `nextDeadline()`
/// runs after every input and most inputs touch one or two components, so only the entries marked
/// stale are asked again. Entry i is stale while bit i of `stale` is set; entries from 64 on are
/// asked on every refresh. A refresh also keeps the earliest entry, so the engine's own answer
/// reads one value per cache instead of walking the entries.
///
/// Noncopyable, so its storage is never shared: the entries live in memory the cache owns, read
/// and written without the uniqueness and bounds checks an array paid on every refresh (two
/// refreshes per input).
struct DeadlineCache: ~Copyable {
    /// Each entry's deadline in nanoseconds, `Int64.max` for none (plain integers: the minimum is
    /// a compare per entry, with no optional to unwrap); `entries[0..<count]` are in use.
    private var entries: UnsafeMutablePointer<Int64>
    private var count = 0
    private var capacity = 4
    private var stale: UInt64 = ~0
    /// The earliest entry after the last refresh (`Int64.max`: none).
    private var earliestNanoseconds: Int64 = .max
    /// The stale bits that name entries (those of entries 0..<min(count, 64)).
    private var validBits: UInt64 = 0

    init() {
        entries = .allocate(capacity: capacity)
    }

    deinit {
        entries.deallocate()
    }

    /// Entry `i`'s deadline as of the last refresh.
    @inline(__always)
    func deadline(_ i: Int) -> Instant? {
        precondition(UInt(bitPattern: i) < UInt(bitPattern: count), "no deadline entry \(i)")
        let n = entries[i]
        return n == .max ? nil : Instant(nanoseconds: n)
    }

    /// The earliest deadline as of the last refresh.
    var earliest: Instant? { earliestNanoseconds == .max ? nil : Instant(nanoseconds: earliestNanoseconds) }

    /// Marks entry `i` stale (call after changing the component's timer state).
    @inline(__always)
    mutating func touch(_ i: Int) {
        // Entries from 64 on are asked on every refresh anyway; their index, taken modulo 64 by
        // the masking shift, at most marks another entry for one more question (no branch).
        stale |= 1 &<< UInt64(truncatingIfNeeded: i)
    }

    /// Marks every entry stale.
    mutating func touchAll() { stale = ~0 }

    /// Asks `deadline` again for the stale entries of `count` components, lowest index first,
    /// then walks every entry for the earliest (for a few entries: an engine's links).
    @inline(__always)
    mutating func refresh(count: Int, _ deadline: (Int) -> Instant?) {
        guard var bits = staleBits(count: count) else { return }
        while bits != 0 {
            let i = bits.trailingZeroBitCount
            entries[i] = deadline(i)?.nanoseconds ?? .max
            bits &= bits &- 1
        }
        earliestNanoseconds = walk(deadline)
    }

    /// `refresh` that keeps the earliest entry up to date from the entries asked, and walks every
    /// entry only when one that held the earliest value moved later (for more entries: an
    /// engine's classes, where most refreshes ask one entry and the walk after every input cost
    /// more than this bookkeeping; for its three or four links the walk costs less).
    @inline(__always)
    mutating func refreshKeepingEarliest(count: Int, _ deadline: (Int) -> Instant?) {
        guard var bits = staleBits(count: count) else { return }
        let previousEarliest = earliestNanoseconds
        var earliest = previousEarliest
        var earliestMovedLater = count > 64
        while bits != 0 {
            let i = bits.trailingZeroBitCount
            let old = entries[i]
            let new = deadline(i)?.nanoseconds ?? .max
            entries[i] = new
            if new < earliest { earliest = new }
            if old == previousEarliest && new > old { earliestMovedLater = true }
            bits &= bits &- 1
        }
        earliestNanoseconds = earliestMovedLater ? walk(deadline) : earliest
    }

    /// The stale entries below 64 as bits, cleared; `nil` when there is nothing to ask (entries
    /// from 64 on are asked on every refresh). Sizes the entries to `count` first.
    @inline(__always)
    private mutating func staleBits(count: Int) -> UInt64? {
        if self.count != count {
            if count > capacity {
                entries.deallocate()
                capacity = max(count, capacity * 2)
                entries = .allocate(capacity: capacity)
            }
            entries.initialize(repeating: .max, count: count)
            self.count = count
            validBits = count >= 64 ? ~0 : (1 << UInt64(count)) &- 1
            earliestNanoseconds = .max
            stale = ~0
        }
        let bits = stale & validBits
        guard bits != 0 || count > 64 else { return nil }
        stale = 0
        return bits
    }

    /// The earliest entry, asking the entries from 64 on again.
    @inline(__always)
    private func walk(_ deadline: (Int) -> Instant?) -> Int64 {
        var earliest = Int64.max
        for i in 0..<count {
            if i >= 64 { entries[i] = deadline(i)?.nanoseconds ?? .max }
            earliest = min(earliest, entries[i])
        }
        return earliest
    }

    /// Checks that the kept earliest entry is the earliest of the entries (the engines' deadline
    /// verification mode, `TunnelEngine.verifiesDeadlineCaches`).
    func verifyEarliest() {
        let scanned = UnsafeBufferPointer(start: entries, count: count).min() ?? .max
        precondition(scanned == earliestNanoseconds, "stale earliest deadline: \(earliestNanoseconds) != \(scanned)")
    }
}
