import NIOCore
import SDWANCore

/// Which way a packet crosses a link.
public enum RelayDirection: String, CaseIterable, Hashable, Sendable, Codable {
    /// Edge → hub.
    case up
    /// Hub → edge.
    case down
}

/// A datagram held until its delivery instant.
struct PendingDelivery {
    var due: Instant
    /// Insertion order: equal instants leave in the order they were scheduled.
    var sequence: UInt64
    var link: Int
    var direction: RelayDirection
    var data: ByteBuffer
}

/// A binary min-heap of pending deliveries ordered by (due, sequence): the relay's one timer
/// table. The event loop arms a single timer for `earliest`, so the cost of timers is per firing,
/// not per packet (one NIO scheduled task per packet would allocate per packet).
struct DeliveryHeap {
    private var items: [PendingDelivery] = []
    private var nextSequence: UInt64 = 0

    init() { items.reserveCapacity(4_096) }

    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }

    /// The earliest due instant.
    var earliest: Instant? { items.first?.due }

    mutating func push(due: Instant, link: Int, direction: RelayDirection, data: ByteBuffer) {
        items.append(
            PendingDelivery(due: due, sequence: nextSequence, link: link, direction: direction, data: data)
        )
        nextSequence &+= 1
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest delivery if it is due at `now`.
    mutating func popDue(at now: Instant) -> PendingDelivery? {
        guard let first = items.first, first.due <= now else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { break }
            var smallest = left
            if left + 1 < items.count && Self.precedes(items[left + 1], items[left]) { smallest = left + 1 }
            guard Self.precedes(items[smallest], items[parent]) else { break }
            items.swapAt(smallest, parent)
            parent = smallest
        }
        return first
    }

    /// Pending deliveries of one link and direction (for the stats; linear, off the hot path).
    func count(link: Int, direction: RelayDirection) -> Int {
        items.reduce(0) { $0 + ($1.link == link && $1.direction == direction ? 1 : 0) }
    }

    mutating func removeAll() { items.removeAll() }

    private static func precedes(_ a: PendingDelivery, _ b: PendingDelivery) -> Bool {
        a.due != b.due ? a.due < b.due : a.sequence < b.sequence
    }
}
