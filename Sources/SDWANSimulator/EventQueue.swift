import SDWANCore

/// Anything events can be scheduled into: an `EventQueue` or a whole `Simulation`.
public protocol EventScheduling<Event> {
    associatedtype Event
    /// Adds `event` at `at`; events at equal instants run in the order they were scheduled.
    mutating func schedule(_ event: consuming Event, at: Instant)
    /// Adds `event` at `at` to a lane made by `makeLane()` (same order as `schedule(_:at:)`; cheaper
    /// for a stream scheduled mostly in time order).
    mutating func schedule(_ event: consuming Event, at: Instant, lane: Int)
    /// A new lane.
    mutating func makeLane() -> Int
}

/// Pending events in virtual time: a binary min-heap keyed by (instant, sequence), with FIFO lanes.
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
/// Lanes: most events are a link direction's deliveries, which a FIFO link hands out in time
/// order. An event scheduled into a lane (`makeLane()`, `schedule(_:at:lane:)`) at or after the
/// lane's last one waits in the lane's ring, behind the lane's head; only the head is in the heap.
/// Popping a head puts the lane's next key in its place (one sift-down, no sift-up), and the heap
/// holds a key per busy lane instead of every packet in flight (~160 keys in the retail-hour
/// scenario, ~10 with lanes). An event earlier than its lane's last one (a duplicate, a reordered
/// packet) goes into the heap on its own. Every event still takes its sequence number when it is
/// scheduled and a lane's ring is sorted by (instant, sequence), so the pop order is exactly the
/// heap-only order.
///
/// Heap, slots, free list and lanes share one storage object: a value type still (a copied queue
/// is copied on its next change), but one uniqueness check per operation instead of one per array
/// access (four per schedule and four per pop over three arrays).
public struct EventQueue<Event>: EventScheduling {
    @usableFromInline
    struct Key {
        @usableFromInline var at: Instant
        @usableFromInline var sequence: UInt64
        @usableFromInline var slot: Int32
        /// The lane whose head this key is, −1 for none.
        @usableFromInline var lane: Int32

        @usableFromInline
        init(at: Instant, sequence: UInt64, slot: Int32, lane: Int32) {
            self.at = at
            self.sequence = sequence
            self.slot = slot
            self.lane = lane
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

    /// A lane: whether its head is in the heap, the instant of its last event, and a ring of the
    /// keys behind the head (`ring[(start + i) % capacity]`, i < `count`).
    @usableFromInline
    struct Lane {
        @usableFromInline var busy = false
        @usableFromInline var lastAt = Instant.zero
        @usableFromInline var ring: UnsafeMutablePointer<Key>
        @usableFromInline var capacity: Int
        @usableFromInline var start = 0
        @usableFromInline var count = 0

        @usableFromInline
        init(capacity: Int) {
            ring = .allocate(capacity: capacity)
            self.capacity = capacity
        }

        /// A copy with a ring of its own.
        @usableFromInline
        func copy() -> Lane {
            var c = Lane(capacity: capacity)
            c.busy = busy
            c.lastAt = lastAt
            copyKeys(to: c.ring)
            c.count = count
            return c
        }

        /// Copies the ring's keys, oldest first, to the start of `target` (room for `count`).
        @usableFromInline
        func copyKeys(to target: UnsafeMutablePointer<Key>) {
            for i in 0..<count { (target + i).initialize(to: ring[(start + i) % capacity]) }
        }

        @inlinable @inline(__always)
        mutating func append(_ key: Key) {
            if count == capacity { grow() }
            var end = start + count
            if end >= capacity { end -= capacity }
            (ring + end).initialize(to: key)
            count += 1
        }

        /// Doubles the full ring.
        @usableFromInline
        mutating func grow() {
            let grown = UnsafeMutablePointer<Key>.allocate(capacity: capacity * 2)
            copyKeys(to: grown)
            ring.deallocate()
            ring = grown
            start = 0
            capacity *= 2
        }

        @inlinable @inline(__always)
        mutating func removeFirst() -> Key {
            let key = ring[start]
            start += 1
            if start == capacity { start = 0 }
            count -= 1
            return key
        }
    }

    /// `heap[0..<count]` is the heap; `slots[0..<slotCount]` hold the events, except the free
    /// slots, `free[0..<freeCount]`, which are uninitialized (no optional around each event: a
    /// pop moves its event out and a schedule moves one in, with nothing to check or destroy);
    /// `lanes[0..<laneCount]` are the lanes. `slotCount − freeCount == pending`.
    @usableFromInline
    final class Storage {
        @usableFromInline var heap: UnsafeMutablePointer<Key>
        @usableFromInline var slots: UnsafeMutablePointer<Event>
        @usableFromInline var free: UnsafeMutablePointer<Int32>
        @usableFromInline var capacity: Int
        @usableFromInline var count = 0
        @usableFromInline var slotCount = 0
        @usableFromInline var freeCount = 0
        @usableFromInline var lanes: UnsafeMutablePointer<Lane>
        @usableFromInline var laneCapacity: Int
        @usableFromInline var laneCount = 0
        /// Events pending in the heap and the lanes' rings.
        @usableFromInline var pending = 0

        @usableFromInline
        init(capacity: Int, laneCapacity: Int) {
            self.capacity = capacity
            self.laneCapacity = laneCapacity
            heap = .allocate(capacity: capacity)
            slots = .allocate(capacity: capacity)
            free = .allocate(capacity: capacity)
            lanes = .allocate(capacity: laneCapacity)
        }

        deinit {
            let live = liveSlots()
            for i in 0..<slotCount where live[i] { (slots + i).deinitialize(count: 1) }
            for l in 0..<laneCount { lanes[l].ring.deallocate() }
            heap.deallocate()
            slots.deallocate()
            free.deallocate()
            lanes.deallocate()
        }

        /// Which of `slots[0..<slotCount]` hold an event (the rest are on the free list).
        func liveSlots() -> [Bool] {
            var live = [Bool](repeating: true, count: slotCount)
            for i in 0..<freeCount { live[Int(free[i])] = false }
            return live
        }

        /// A copy with room for `capacity` slots (≥ this one's) and `laneCapacity` lanes.
        @usableFromInline
        func copy(capacity: Int, laneCapacity: Int) -> Storage {
            let copy = Storage(capacity: capacity, laneCapacity: laneCapacity)
            copy.heap.initialize(from: heap, count: count)
            let live = liveSlots()
            for i in 0..<slotCount where live[i] { (copy.slots + i).initialize(to: slots[i]) }
            copy.free.initialize(from: free, count: freeCount)
            for l in 0..<laneCount { (copy.lanes + l).initialize(to: lanes[l].copy()) }
            copy.count = count
            copy.slotCount = slotCount
            copy.freeCount = freeCount
            copy.laneCount = laneCount
            copy.pending = pending
            return copy
        }
    }

    @usableFromInline var storage = Storage(capacity: 64, laneCapacity: 8)
    // Sequence numbers only grow; 2^64 events outlast any run.
    @usableFromInline var nextSequence: UInt64 = 0

    public init() {}

    /// Number of pending events.
    public var count: Int { storage.pending }
    public var isEmpty: Bool { storage.pending == 0 }

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

    /// A new lane, for a stream of events mostly scheduled in time order (a link direction's
    /// deliveries).
    public mutating func makeLane() -> Int {
        if !isKnownUniquelyReferenced(&storage) || storage.laneCount == storage.laneCapacity {
            let needed = storage.laneCount == storage.laneCapacity ? storage.laneCapacity * 2 : storage.laneCapacity
            storage = storage.copy(capacity: storage.capacity, laneCapacity: needed)
        }
        let s = storage
        (s.lanes + s.laneCount).initialize(to: Lane(capacity: 16))
        s.laneCount += 1
        return s.laneCount - 1
    }

    /// Adds `event` at `at`; O(log n).
    @inlinable
    public mutating func schedule(_ event: consuming Event, at: Instant) {
        let slot = store(event)
        push(Key(at: at, sequence: takeSequence(), slot: slot, lane: -1))
    }

    /// Adds `event` at `at` to lane `lane` (from `makeLane()`): O(1) when the lane has a pending
    /// event and `at` is not before its last one, otherwise as `schedule(_:at:)`.
    @inlinable
    public mutating func schedule(_ event: consuming Event, at: Instant, lane: Int) {
        let slot = store(event)
        let s = storage
        precondition(lane >= 0 && lane < s.laneCount, "lane \(lane) was not made by this queue")
        let key = Key(at: at, sequence: takeSequence(), slot: slot, lane: Int32(lane))
        if s.lanes[lane].busy {
            if at >= s.lanes[lane].lastAt {
                s.lanes[lane].lastAt = at
                s.lanes[lane].append(key)
                s.pending += 1
            } else {
                var alone = key
                alone.lane = -1
                push(alone)
            }
        } else {
            s.lanes[lane].busy = true
            s.lanes[lane].lastAt = at
            push(key)
        }
    }

    /// Puts `event` in a slot (the storage made unique and roomy first).
    @inlinable @inline(__always)
    mutating func store(_ event: consuming Event) -> Int32 {
        if !isKnownUniquelyReferenced(&storage) || storage.slotCount == storage.capacity {
            // Slots only grow (a free one is reused first), so the heap and the free list, never
            // longer than the slots, fit whenever the slots do.
            let needed = storage.slotCount == storage.capacity ? storage.capacity * 2 : storage.capacity
            storage = storage.copy(capacity: needed, laneCapacity: storage.laneCapacity)
        }
        let s = storage
        if s.freeCount > 0 {
            s.freeCount -= 1
            let slot = s.free[s.freeCount]
            (s.slots + Int(slot)).initialize(to: consume event)
            return slot
        }
        (s.slots + s.slotCount).initialize(to: consume event)
        s.slotCount += 1
        return Int32(s.slotCount - 1)
    }

    /// Adds `key` to the heap (storage already unique).
    @inlinable @inline(__always)
    mutating func push(_ key: Key) {
        let s = storage
        // Sift up with a hole: parents move down until the key's place is found.
        let heap = s.heap
        var child = s.count
        s.count += 1
        s.pending += 1
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
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.copy(capacity: storage.capacity, laneCapacity: storage.laneCapacity)
        }
        let s = storage
        let heap = s.heap
        let top = heap[0]
        s.pending -= 1
        // The root's replacement: the lane's next key when the top was a lane's head (it comes
        // no earlier than the top, so it only sifts down), else the heap's last key.
        var last: Key
        if top.lane >= 0 && s.lanes[Int(top.lane)].count > 0 {
            last = s.lanes[Int(top.lane)].removeFirst()
        } else {
            if top.lane >= 0 { s.lanes[Int(top.lane)].busy = false }
            s.count -= 1
            last = heap[s.count]
        }
        let count = s.count
        if count > 0 {
            // Sift the replacement down from the root with a hole.
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
        let event = (s.slots + Int(top.slot)).move()
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
