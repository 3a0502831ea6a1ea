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
///
/// Heap, slots and free list share one storage object: a value type still (a copied queue is
/// copied on its next change), but one uniqueness check per operation instead of one per array
/// access (four per schedule and four per pop over three arrays).
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

        /// `precedes` as 1 or 0, from all four fields with no short-circuit (compiled to flag
        /// arithmetic, not jumps).
        @inlinable @inline(__always)
        func precedesWithoutBranch(_ other: Key) -> Int {
            let earlier = at.nanoseconds < other.at.nanoseconds ? 1 : 0
            let same = at.nanoseconds == other.at.nanoseconds ? 1 : 0
            let before = sequence < other.sequence ? 1 : 0
            return earlier | (same & before)
        }
    }

    /// `heap[0..<count]` is the heap; `slots[0..<slotCount]` hold the events (`nil` when free);
    /// `free[0..<freeCount]` are the free slots' numbers. `slotCount − freeCount == count`.
    @usableFromInline
    final class Storage {
        @usableFromInline var heap: UnsafeMutablePointer<Key>
        @usableFromInline var slots: UnsafeMutablePointer<Event?>
        @usableFromInline var free: UnsafeMutablePointer<Int>
        @usableFromInline var capacity: Int
        @usableFromInline var count = 0
        @usableFromInline var slotCount = 0
        @usableFromInline var freeCount = 0

        @usableFromInline
        init(capacity: Int) {
            self.capacity = capacity
            heap = .allocate(capacity: capacity)
            slots = .allocate(capacity: capacity)
            free = .allocate(capacity: capacity)
        }

        deinit {
            slots.deinitialize(count: slotCount)
            heap.deallocate()
            slots.deallocate()
            free.deallocate()
        }

        /// A copy with room for `capacity` (≥ this one's).
        @usableFromInline
        func copy(capacity: Int) -> Storage {
            let copy = Storage(capacity: capacity)
            copy.heap.initialize(from: heap, count: count)
            copy.slots.initialize(from: slots, count: slotCount)
            copy.free.initialize(from: free, count: freeCount)
            copy.count = count
            copy.slotCount = slotCount
            copy.freeCount = freeCount
            return copy
        }
    }

    @usableFromInline var storage = Storage(capacity: 64)
    // Sequence numbers only grow; 2^64 events outlast any run.
    @usableFromInline var nextSequence: UInt64 = 0

    public init() {}

    /// Number of pending events.
    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.count == 0 }

    /// When the earliest pending event is due.
    @inlinable
    public var nextInstant: Instant? { storage.count == 0 ? nil : storage.heap[0].at }

    /// The instant and sequence number of the earliest pending event.
    @inlinable
    public var nextKey: (at: Instant, sequence: UInt64)? {
        storage.count == 0 ? nil : (storage.heap[0].at, storage.heap[0].sequence)
    }

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
        if !isKnownUniquelyReferenced(&storage) || storage.slotCount == storage.capacity {
            // Slots only grow (a free one is reused first), so the heap and the free list, never
            // longer than the slots, fit whenever the slots do.
            let needed = storage.slotCount == storage.capacity ? storage.capacity * 2 : storage.capacity
            storage = storage.copy(capacity: needed)
        }
        let s = storage
        let slot: Int
        if s.freeCount > 0 {
            s.freeCount -= 1
            slot = s.free[s.freeCount]
            s.slots[slot] = consume event
        } else {
            slot = s.slotCount
            (s.slots + slot).initialize(to: consume event)
            s.slotCount += 1
        }
        let key = Key(at: at, sequence: takeSequence(), slot: slot)
        // Sift up with a hole: parents move down until the key's place is found.
        let heap = s.heap
        var child = s.count
        s.count += 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard key.precedes(heap[parent]) else { break }
            (heap + child).initialize(to: heap[parent])
            child = parent
        }
        (heap + child).initialize(to: key)
    }

    /// Removes and returns the earliest event (first scheduled among equals); O(log n).
    @inlinable
    public mutating func popNext() -> (at: Instant, event: Event)? {
        guard storage.count > 0 else { return nil }
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy(capacity: storage.capacity) }
        let s = storage
        let heap = s.heap
        let top = heap[0]
        s.count -= 1
        let count = s.count
        if count > 0 {
            // Sift the last key down from the root with a hole.
            let last = heap[count]
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                var smallest = left
                let right = left + 1
                if right < count {
                    // Which child comes first is a coin toss: chosen without a branch (a branch
                    // here was mispredicted half the time, the pop's largest cost under perf).
                    smallest = left &+ heap[right].precedesWithoutBranch(heap[left])
                }
                guard heap[smallest].precedes(last) else { break }
                heap[parent] = heap[smallest]
                parent = smallest
            }
            heap[parent] = last
        }
        let event = s.slots[top.slot].take()!
        s.free[s.freeCount] = top.slot
        s.freeCount += 1
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
