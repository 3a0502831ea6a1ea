/// Cached timer deadlines of an engine's components (its links, its classes): `nextDeadline()`
/// runs after every input and most inputs touch one or two components, so only the entries marked
/// stale are asked again. Entry i is stale while bit i of `stale` is set; entries from 64 on are
/// asked on every refresh.
struct DeadlineCache {
    private(set) var deadlines: [Instant?] = []
    private var stale: UInt64 = ~0

    /// Marks entry `i` stale (call after changing the component's timer state).
    @inline(__always)
    mutating func touch(_ i: Int) {
        if i < 64 { stale |= 1 << UInt64(i) }
    }

    /// Marks every entry stale.
    mutating func touchAll() { stale = ~0 }

    /// Asks `deadline` again for the stale entries of `count` components, lowest index first.
    mutating func refresh(count: Int, _ deadline: (Int) -> Instant?) {
        if deadlines.count != count {
            deadlines = [Instant?](repeating: nil, count: count)
            stale = ~0
        }
        var bits = stale & (count >= 64 ? ~0 : (1 << UInt64(count)) &- 1)
        stale = 0
        while bits != 0 {
            let i = bits.trailingZeroBitCount
            deadlines[i] = deadline(i)
            bits &= bits &- 1
        }
        for i in deadlines.indices.dropFirst(64) { deadlines[i] = deadline(i) }
    }
}
