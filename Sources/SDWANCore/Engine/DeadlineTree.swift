/// The earliest of many deadlines, kept as a tournament tree (a complete binary tree whose inner
/// nodes hold the minimum of their children): setting one entry is O(log n), the earliest is one
/// read, and the due entries are found in index order without visiting the others.
///
/// The hub endpoint keeps one entry per branch engine: after every input it asked each branch for
/// its deadline, O(branches) per datagram (`sdwan-bench hub`: 8.8× the one-branch cost per datagram
/// at 1 000 branches, with the engines' answers already memoised).
public struct DeadlineTree: Sendable {
    /// `nodes[1]` is the root; the leaves are `nodes[capacity ..< 2 × capacity]`; `Int64.max` is
    /// "no deadline" (an unused leaf too).
    private var nodes: [Int64] = [.max, .max]
    /// Leaves: a power of two, at least `count`.
    private var capacity = 1
    /// Entries in use (indices `0 ..< count`).
    public private(set) var count = 0

    /// An empty tree.
    public init() {}

    /// The earliest deadline of all entries.
    public var earliest: Instant? { nodes[1] == .max ? nil : Instant(nanoseconds: nodes[1]) }

    /// Entry `i`'s deadline.
    public func deadline(_ i: Int) -> Instant? {
        let n = nodes[capacity + i]
        return n == .max ? nil : Instant(nanoseconds: n)
    }

    /// Adds an entry at index `count`.
    public mutating func append(_ deadline: Instant?) {
        if count == capacity {
            var leaves = Array(nodes[capacity..<2 * capacity])
            leaves.append(contentsOf: repeatElement(.max, count: capacity))
            capacity *= 2
            nodes = [Int64](repeating: .max, count: capacity) + leaves
            for node in stride(from: capacity - 1, through: 1, by: -1) {
                nodes[node] = min(nodes[2 * node], nodes[2 * node + 1])
            }
        }
        count += 1
        set(count - 1, deadline)
    }

    /// Replaces every entry (the branch table was renumbered).
    public mutating func rebuild(_ deadlines: [Instant?]) {
        self = DeadlineTree()
        for d in deadlines { append(d) }
    }

    /// Sets entry `i` and the minima above it.
    public mutating func set(_ i: Int, _ deadline: Instant?) {
        precondition(i >= 0 && i < count, "deadline entry out of range")
        var node = capacity + i
        nodes[node] = deadline?.nanoseconds ?? .max
        while node > 1 {
            node /= 2
            let smaller = min(nodes[2 * node], nodes[2 * node + 1])
            if nodes[node] == smaller { break }
            nodes[node] = smaller
        }
    }

    /// The lowest index at or after `start` whose deadline is at or before `limit`, or `nil`.
    public func firstDue(from start: Int, atOrBefore limit: Instant) -> Int? {
        guard start < count, nodes[1] <= limit.nanoseconds else { return nil }
        return search(node: 1, lower: 0, upper: capacity, from: start, limit: limit.nanoseconds)
    }

    private func search(node: Int, lower: Int, upper: Int, from start: Int, limit: Int64) -> Int? {
        guard upper > start, nodes[node] <= limit else { return nil }
        if upper - lower == 1 { return lower }
        let middle = (lower + upper) / 2
        return search(node: 2 * node, lower: lower, upper: middle, from: start, limit: limit)
            ?? search(node: 2 * node + 1, lower: middle, upper: upper, from: start, limit: limit)
    }
}
