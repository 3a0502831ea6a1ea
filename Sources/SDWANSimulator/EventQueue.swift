import SDWANCore

/// Anything events can be scheduled into: an `EventQueue` or a whole `Simulation`.
public protocol EventScheduling<Event> {
    associatedtype Event
    /// Adds `event` at `at`; events at equal instants run in the order they were scheduled.
    mutating func schedule(_ event: Event, at: Instant)
}

/// Pending events in virtual time: a binary min-heap keyed by (instant, sequence).
///
/// Ties are broken by insertion order (the sequence number), never by the events' contents or by
/// memory addresses, so a run is reproducible bit for bit from its seed: two packets delivered at
/// the same nanosecond are handled in the order they were scheduled.
public struct EventQueue<Event>: EventScheduling {
    @usableFromInline
    struct Entry {
        @usableFromInline let at: Instant
        @usableFromInline let sequence: UInt64
        @usableFromInline let event: Event

        @usableFromInline
        init(at: Instant, sequence: UInt64, event: Event) {
            self.at = at
            self.sequence = sequence
            self.event = event
        }

        @inlinable
        func precedes(_ other: Entry) -> Bool {
            at < other.at || (at == other.at && sequence < other.sequence)
        }
    }

    @usableFromInline var heap: [Entry] = []
    // Sequence numbers only grow; 2^64 events outlast any run.
    @usableFromInline var nextSequence: UInt64 = 0

    public init() {}

    /// Number of pending events.
    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }

    /// When the earliest pending event is due.
    @inlinable
    public var nextInstant: Instant? { heap.first?.at }

    /// Adds `event` at `at`; O(log n).
    @inlinable
    public mutating func schedule(_ event: Event, at: Instant) {
        heap.append(Entry(at: at, sequence: nextSequence, event: event))
        nextSequence &+= 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest event (first scheduled among equals); O(log n).
    @inlinable
    public mutating func popNext() -> (at: Instant, event: Event)? {
        guard !heap.isEmpty else { return nil }
        let last = heap.count - 1
        heap.swapAt(0, last)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            var smallest = left
            let right = left + 1
            if right < heap.count && heap[right].precedes(heap[left]) { smallest = right }
            guard heap[smallest].precedes(heap[parent]) else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return (top.at, top.event)
    }
}

/// Virtual time: only ever moves forward, and only when the event loop says so.
public struct VirtualClock: Sendable {
    public private(set) var now: Instant

    public init(start: Instant = .zero) {
        now = start
    }

    /// Moves to `instant`, which must not be in the past.
    public mutating func advance(to instant: Instant) {
        precondition(instant >= now, "virtual time cannot go backwards (\(instant) < \(now))")
        now = instant
    }
}
