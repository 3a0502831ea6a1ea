/// The engine's per-link and per-class components, stored where they stay: a table with reference
/// semantics whose elements are read and changed in place.
///
/// An `Array` property of a class pays for its value semantics on every element access: a
/// mutation checks that the buffer is uniquely referenced (`swift_isUniquelyReferenced`, ~48 per
/// simulated packet, 4 % of the simulator's instructions), and a non-mutating method called on an
/// element copied the whole element first unless the call was made `mutating`. The engine never
/// shares these arrays — each engine owns its table for its whole life (a `let`) — so the copy
/// on write protects nothing there. `ComponentTable` hands out the element's address instead.
///
/// Rules that keep that sound, all kept by `TunnelEngine`: the table is never copied to be read
/// later as a snapshot (it is a reference: a copy sees later changes), and the table's element
/// count does not change while an element is being accessed (`append` and `replaceAll` run only
/// in the engine's start-up and reconfiguration, never from inside a component's method).
/// Bounds are checked on every access. On the same terms a transport session keeps its send
/// counters and replay windows in tables, and the simulator's network its drain depths.
public final class ComponentTable<Element>: RandomAccessCollection, MutableCollection {
    @usableFromInline var base: UnsafeMutablePointer<Element>
    @usableFromInline var capacity: Int
    public private(set) var count: Int

    public init(_ elements: [Element] = []) {
        capacity = Swift.max(elements.count, 4)
        base = .allocate(capacity: capacity)
        count = elements.count
        elements.withUnsafeBufferPointer { source in
            if let start = source.baseAddress { base.initialize(from: start, count: source.count) }
        }
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    /// Bounds-checked with one unsigned comparison (a negative index is a huge unsigned one): the
    /// engine's hot paths access links and classes a few dozen times per packet.
    @inlinable
    public subscript(i: Int) -> Element {
        unsafeAddress {
            precondition(UInt(bitPattern: i) < UInt(bitPattern: count), "component index out of range")
            return UnsafePointer(base + i)
        }
        unsafeMutableAddress {
            precondition(UInt(bitPattern: i) < UInt(bitPattern: count), "component index out of range")
            return base + i
        }
    }

    /// Element `i`'s address, its bounds checked once, for a function that reads and changes one
    /// element many times in a row (each subscript access checks the bounds and computes the
    /// address again: a few dozen times per packet in the engine's send and receive paths). The
    /// subscript's rules hold: valid while the table's count does not change.
    @inlinable @inline(__always)
    public func address(of i: Int) -> UnsafeMutablePointer<Element> {
        precondition(UInt(bitPattern: i) < UInt(bitPattern: count), "component index out of range")
        return base + i
    }

    /// Adds `element` at the end.
    public func append(_ element: consuming Element) {
        if count == capacity {
            let larger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
            larger.moveInitialize(from: base, count: count)
            base.deallocate()
            base = larger
            capacity *= 2
        }
        (base + count).initialize(to: element)
        count += 1
    }

    /// Replaces every element with `elements`, in their order.
    public func replaceAll(with elements: [Element]) {
        base.deinitialize(count: count)
        count = 0
        for element in elements { append(element) }
    }
}
