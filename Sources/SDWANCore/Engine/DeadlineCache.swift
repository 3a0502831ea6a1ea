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

    /// Asks `deadline` again for the stale entries of `count` components, lowest index first.
    @inline(__always)
    mutating func refresh(count: Int, _ deadline: (Int) -> Instant?) {
        if entries.count != count {
            entries = [Int64](repeating: .max, count: count)
            earliestNanoseconds = .max
            stale = ~0
        }
        var bits = stale & (count >= 64 ? ~0 : (1 << UInt64(count)) &- 1)
        guard bits != 0 || count > 64 else { return }
        stale = 0
        // One uniqueness check for the whole refresh instead of one per write.
        earliestNanoseconds = entries.withUnsafeMutableBufferPointer { entries in
            while bits != 0 {
                let i = bits.trailingZeroBitCount
                entries[i] = deadline(i)?.nanoseconds ?? .max
                bits &= bits &- 1
            }
            var earliest = Int64.max
            for i in entries.indices {
                if i >= 64 { entries[i] = deadline(i)?.nanoseconds ?? .max }
                earliest = min(earliest, entries[i])
            }
            return earliest
        }
    }
}
