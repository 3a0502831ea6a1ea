import SDWANCore

/// Anything events can be scheduled into: an `EventQueue` or a whole `Simulation`.
public protocol EventScheduling<Event> {
    associatedtype Event
    /// Adds `event` at `at`; events at equal instants run in the order they were scheduled.
    mutating func schedule(_ event: consuming Event, at: Instant)
}

/// Pending events in virtual time: a binary min-heap keyed by (instant, sequence).
///
/// Ties are broken by insertion order (the sequence number), never by the events' contents or by
/// memory addresses, so a run is reproducible bit for bit from its seed: two packets delivered at
/// the same nanosecond are handled in the order they were scheduled.
///
/// The heap holds only plain keys (instant, sequence, slot); the events themselves wait in a slab
/// of slots reused through a free list. Sifting moves 24-byte keys instead of events that hold
/// ByteBuffers (each move of those was a retain/release pair and an outlined copy: a fifth of the
/// simulator's time under callgrind), and a steady-state run allocates nothing per event.
public struct EventQueue<Event>: EventScheduling {
    @usableFromInline
    struct Key {
        @usableFromInline var at: Instant
        @usableFromInline var sequence: UInt64
        @usableFromInline var slot: Int

        @usableFromInline
        init(at: Instant, sequence: UInt64, slot: Int) {
            self.at = at
            self.sequence = sequence
            self.slot = slot
        }

        @inlinable
        func precedes(_ other: Key) -> Bool {
            at < other.at || (at == other.at && sequence < other.sequence)
        }
    }

    @usableFromInline var heap: [Key] = []
    @usableFromInline var slots: [Event?] = []
    @usableFromInline var freeSlots: [Int] = []
    // Sequence numbers only grow; 2^64 events outlast any run.
    @usableFromInline var nextSequence: UInt64 = 0

    public init() {}

    /// Number of pending events.
    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }

    /// When the earliest pending event is due.
    @inlinable
    public var nextInstant: Instant? { heap.first?.at }

    /// The instant and sequence number of the earliest pending event.
    @inlinable
    public var nextKey: (at: Instant, sequence: UInt64)? { heap.first.map { ($0.at, $0.sequence) } }

    /// Takes a sequence number without scheduling anything: a caller that keeps entries of its
    /// own (the simulation's timers) orders them among the queue's events by (instant, sequence).
    @inlinable
    public mutating func takeSequence() -> UInt64 {
        defer { nextSequence &+= 1 }
        return nextSequence
    }

    /// Adds `event` at `at`; O(log n).
    @inlinable
    public mutating func schedule(_ event: consuming Event, at: Instant) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = consume event
        } else {
            slot = slots.count
            slots.append(consume event)
        }
        let key = Key(at: at, sequence: takeSequence(), slot: slot)
        // Sift up with a hole: parents move down until the key's place is found. Through one
        // unsafe buffer: the checked subscripts' uniqueness and bounds checks cost more than the
        // sift itself.
        heap.append(key)
        heap.withUnsafeMutableBufferPointer { heap in
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard key.precedes(heap[parent]) else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = key
        }
    }

    /// Removes and returns the earliest event (first scheduled among equals); O(log n).
    @inlinable
    public mutating func popNext() -> (at: Instant, event: Event)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        heap.withUnsafeMutableBufferPointer { heap in
            let count = heap.count
            guard count > 0 else { return }
            // Sift the last key down from the root with a hole.
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                var smallest = left
                let right = left + 1
                if right < count && heap[right].precedes(heap[left]) { smallest = right }
                guard heap[smallest].precedes(last) else { break }
                heap[parent] = heap[smallest]
                parent = smallest
            }
            heap[parent] = last
        }
        let event = slots[top.slot].take()!
        freeSlots.append(top.slot)
        return (top.at, event)
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
