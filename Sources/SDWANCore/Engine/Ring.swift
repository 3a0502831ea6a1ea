/// A FIFO queue for a shaper's lanes (an engine's outputs use `OutputQueue`): a power-of-two ring of optionals
/// that moves elements in (`consuming` append) and out (`take` on pop).
///
/// NIO's `CircularBuffer` did the same job with a borrowed `append` (a retain of every buffer
/// going in and a release when the caller's copy died) and more general index arithmetic: ~120
/// instructions per append on the simulator's hot path, for five queues every packet passes.
@usableFromInline
struct Ring<Element> {
    @usableFromInline var storage: ContiguousArray<Element?>
    @usableFromInline var head = 0
    /// Elements queued.
    @usableFromInline private(set) var count = 0

    /// A ring with room for `initialCapacity` elements (rounded up to a power of two); it doubles
    /// when full.
    init(initialCapacity: Int) {
        var capacity = 1
        while capacity < initialCapacity { capacity <<= 1 }
        storage = ContiguousArray(repeating: nil, count: capacity)
    }

    var isEmpty: Bool { count == 0 }

    /// The oldest element, `nil` when empty.
    var first: Element? { count == 0 ? nil : storage[head] }

    /// Adds `element` at the end. Always inlined: the out-of-line specialisations for the engine's
    /// element types were merged into one that moved elements through type metadata.
    @inline(__always)
    mutating func append(_ element: consuming Element) {
        if count == storage.count { grow() }
        storage[(head &+ count) & (storage.count &- 1)] = consume element
        count &+= 1
    }

    /// Removes and returns the oldest element, `nil` when empty.
    @inlinable
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head].take()
        head = (head &+ 1) & (storage.count &- 1)
        count &-= 1
        return element
    }

    private mutating func grow() {
        var larger = ContiguousArray<Element?>(repeating: nil, count: storage.count * 2)
        for i in 0..<count { larger[i] = storage[(head + i) & (storage.count - 1)].take() }
        storage = larger
        head = 0
    }
}

/// The FIFO queue of an engine's or a hub's outputs (transmits, deliveries, events): a power-of-two
/// ring like `Ring`, in memory of its own. Noncopyable, so that memory is never shared: an append
/// or a pop needs no uniqueness check (an array-backed ring paid one on each, four per packet
/// through an engine and as many through the hub), and elements move in and out without the
/// optional `Ring` wraps them in.
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
