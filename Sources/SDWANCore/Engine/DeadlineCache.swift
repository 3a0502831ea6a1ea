/// Cached timer deadlines of an engine's components (its links, its classes): `nextDeadline()`
/// runs after every input and most inputs touch one or two components, so only the entries marked
/// stale are asked again. Entry i is stale while bit i of `stale` is set; entries from 64 on are
/// asked on every refresh. A refresh also keeps the earliest entry, so the engine's own answer
/// reads one value per cache instead of walking the entries.
struct DeadlineCache {
    /// Each entry's deadline in nanoseconds, `Int64.max` for none (plain integers: the minimum is
    /// a compare per entry, with no optional to unwrap).
    private var entries: [Int64] = []
    private var stale: UInt64 = ~0
    /// The earliest entry after the last refresh (`Int64.max`: none).
    private var earliestNanoseconds: Int64 = .max

    /// Entry `i`'s deadline as of the last refresh.
    @inline(__always)
    func deadline(_ i: Int) -> Instant? {
        let n = entries[i]
        return n == .max ? nil : Instant(nanoseconds: n)
    }

    /// The earliest deadline as of the last refresh.
    var earliest: Instant? { earliestNanoseconds == .max ? nil : Instant(nanoseconds: earliestNanoseconds) }

    /// Marks entry `i` stale (call after changing the component's timer state).
    @inline(__always)
    mutating func touch(_ i: Int) {
        if i < 64 { stale |= 1 << UInt64(i) }
    }

    /// Marks every entry stale.
    mutating func touchAll() { stale = ~0 }

    /// Asks `deadline` again for the stale entries of `count` components, lowest index first,
    /// then walks every entry for the earliest (for a few entries: an engine's links).
    @inline(__always)
    mutating func refresh(count: Int, _ deadline: (Int) -> Instant?) {
        guard var bits = staleBits(count: count) else { return }
        // One uniqueness check for the whole refresh instead of one per write.
        earliestNanoseconds = entries.withUnsafeMutableBufferPointer { entries in
            while bits != 0 {
                let i = bits.trailingZeroBitCount
                entries[i] = deadline(i)?.nanoseconds ?? .max
                bits &= bits &- 1
            }
            return Self.walk(entries, count: count, deadline)
        }
    }

    /// `refresh` that keeps the earliest entry up to date from the entries asked, and walks every
    /// entry only when one that held the earliest value moved later (for more entries: an
    /// engine's classes, where most refreshes ask one entry and the walk after every input cost
    /// more than this bookkeeping; for its three or four links the walk costs less).
    @inline(__always)
    mutating func refreshKeepingEarliest(count: Int, _ deadline: (Int) -> Instant?) {
        guard var bits = staleBits(count: count) else { return }
        let previousEarliest = earliestNanoseconds
        earliestNanoseconds = entries.withUnsafeMutableBufferPointer { entries in
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
            return earliestMovedLater ? Self.walk(entries, count: count, deadline) : earliest
        }
    }

    /// The stale entries below 64 as bits, cleared; `nil` when there is nothing to ask (entries
    /// from 64 on are asked on every refresh). Sizes the entries to `count` first.
    @inline(__always)
    private mutating func staleBits(count: Int) -> UInt64? {
        if entries.count != count {
            entries = [Int64](repeating: .max, count: count)
            earliestNanoseconds = .max
            stale = ~0
        }
        let bits = stale & (count >= 64 ? ~0 : (1 << UInt64(count)) &- 1)
        guard bits != 0 || count > 64 else { return nil }
        stale = 0
        return bits
    }

    /// The earliest entry, asking the entries from 64 on again.
    @inline(__always)
    private static func walk(
        _ entries: UnsafeMutableBufferPointer<Int64>,
        count: Int,
        _ deadline: (Int) -> Instant?
    ) -> Int64 {
        var earliest = Int64.max
        for i in entries.indices {
            if i >= 64 { entries[i] = deadline(i)?.nanoseconds ?? .max }
            earliest = min(earliest, entries[i])
        }
        return earliest
    }

    /// Checks that the kept earliest entry is the earliest of the entries (the engines' deadline
    /// verification mode, `TunnelEngine.verifiesDeadlineCaches`).
    func verifyEarliest() {
        let scanned = entries.min() ?? .max
        precondition(scanned == earliestNanoseconds, "stale earliest deadline: \(earliestNanoseconds) != \(scanned)")
    }
}
