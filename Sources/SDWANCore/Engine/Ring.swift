/// A FIFO queue for a shaper's lanes (an engine's outputs use `OutputQueue`): a power-of-two ring
/// that moves elements in (`consuming` append) and out (moved on pop).
///
/// NIO's `CircularBuffer` did the same job with a borrowed `append` (a retain of every buffer
/// going in and a release when the caller's copy died) and more general index arithmetic: ~120
/// instructions per append on the simulator's hot path. A ring of optionals in a `ContiguousArray`
/// came next; this one keeps its elements in memory of a class of its own, with no optional around
/// each element, and copies that memory when a copied ring changes (a value type still: one
/// uniqueness check per append or pop, as the array made).
struct Ring<Element> {
    final class Buffer {
        var storage: UnsafeMutablePointer<Element>
        /// A power of two.
        var capacity: Int
        var head = 0
        /// Elements queued: `storage[(head + i) & (capacity − 1)]` for i < `count` are initialized.
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            storage = .allocate(capacity: capacity)
        }

        deinit {
            for i in 0..<count { (storage + ((head + i) & (capacity - 1))).deinitialize(count: 1) }
            storage.deallocate()
        }

        /// A buffer of its own with the same elements, oldest first.
        func copy() -> Buffer {
            let copy = Buffer(capacity: capacity)
            for i in 0..<count { (copy.storage + i).initialize(to: storage[(head + i) & (capacity - 1)]) }
            copy.count = count
            return copy
        }

        /// Doubles the full ring.
        func grow() {
            let larger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
            for i in 0..<count { (larger + i).initialize(to: (storage + ((head + i) & (capacity - 1))).move()) }
            storage.deallocate()
            storage = larger
            head = 0
            capacity *= 2
        }
    }

    private var buffer: Buffer

    /// A ring with room for `initialCapacity` elements (rounded up to a power of two); it doubles
    /// when full.
    init(initialCapacity: Int) {
        var capacity = 1
        while capacity < initialCapacity { capacity <<= 1 }
        buffer = Buffer(capacity: capacity)
    }

    var isEmpty: Bool { buffer.count == 0 }

    /// Elements queued.
    var count: Int { buffer.count }

    /// The oldest element, `nil` when empty.
    var first: Element? { buffer.count == 0 ? nil : buffer.storage[buffer.head] }

    /// Adds `element` at the end. Always inlined: the out-of-line specialisations for the engine's
    /// element types were merged into one that moved elements through type metadata.
    @inline(__always)
    mutating func append(_ element: consuming Element) {
        if !isKnownUniquelyReferenced(&buffer) { buffer = buffer.copy() }
        if buffer.count == buffer.capacity { buffer.grow() }
        (buffer.storage + ((buffer.head &+ buffer.count) & (buffer.capacity &- 1))).initialize(to: consume element)
        buffer.count &+= 1
    }

    /// Removes and returns the oldest element, `nil` when empty.
    @inline(__always)
    mutating func popFirst() -> Element? {
        guard buffer.count > 0 else { return nil }
        if !isKnownUniquelyReferenced(&buffer) { buffer = buffer.copy() }
        let element = (buffer.storage + buffer.head).move()
        buffer.head = (buffer.head &+ 1) & (buffer.capacity &- 1)
        buffer.count &-= 1
        return element
    }
}

/// The FIFO queue of an engine's or a hub's outputs (transmits, deliveries, events): a power-of-two
/// ring like `Ring`, in memory of its own. Noncopyable, so that memory is never shared: an append
/// or a pop needs no uniqueness check (an array-backed ring paid one on each, four per packet
/// through an engine and as many through the hub), and elements move in and out without an
/// optional around each.
@usableFromInline
struct OutputQueue<Element>: ~Copyable {
    @usableFromInline var storage: UnsafeMutablePointer<Element>
    /// A power of two.
    @usableFromInline var capacity: Int
    @usableFromInline var head = 0
    /// Elements queued: `storage[(head + i) & (capacity − 1)]` for i < `count` are initialized.
    @usableFromInline var count = 0

    /// A queue with room for `initialCapacity` elements (rounded up to a power of two); it
    /// doubles when full.
    init(initialCapacity: Int) {
        var capacity = 1
        while capacity < initialCapacity { capacity <<= 1 }
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    @inlinable
    deinit {
        for i in 0..<count { (storage + ((head + i) & (capacity - 1))).deinitialize(count: 1) }
        storage.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    /// Adds `element` at the end (always inlined, as `Ring.append`).
    @inline(__always)
    mutating func append(_ element: consuming Element) {
        if count == capacity { grow() }
        (storage + ((head &+ count) & (capacity &- 1))).initialize(to: consume element)
        count &+= 1
    }

    /// Removes and returns the oldest element, `nil` when empty.
    @inlinable
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = (storage + head).move()
        head = (head &+ 1) & (capacity &- 1)
        count &-= 1
        return element
    }

    @usableFromInline
    mutating func grow() {
        let larger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        for i in 0..<count { (larger + i).initialize(to: (storage + ((head + i) & (capacity - 1))).move()) }
        storage.deallocate()
        storage = larger
        head = 0
        capacity *= 2
    }
}
