/// A FIFO queue for an engine's outputs and a shaper's lanes: a power-of-two ring of optionals
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
