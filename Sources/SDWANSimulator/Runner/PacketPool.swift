import NIOCore
import SDWANCore

/// Spent packet buffers, kept for the traffic sources to write their next packets into.
///
/// Every simulated packet was a fresh ByteBuffer (an object and its bytes: two allocations) that
/// died when its delivery had been counted: 3 % of a simulation's instructions went to
/// `malloc`, `free` and the runtime's deallocation. A delivered packet's buffer comes back here
/// instead. `take` resets the indices and the writer (`InnerPackets.make`) writes every header
/// and marker byte; the filler after them keeps the old bytes, which nothing reads (a fresh buffer
/// holds whatever its allocation held). A buffer something else still holds (an FEC decoder keeps
/// data packets for recovery) is not written to: `clear` gives this side fresh storage then, as
/// copy-on-write does.
///
/// Noncopyable, so its stack of spare buffers lives in memory of its own, taken from and given
/// back to without the uniqueness check and the optional of an array's `popLast`.
struct PacketPool: ~Copyable {
    /// Room for any packet the sources write (an Ethernet-sized IP packet) with the engine's
    /// headroom and tailroom, so a recycled buffer never has to grow.
    static let standardCapacity = TunnelEngine.headroom + 1_500 + TunnelEngine.tailroom
    /// Buffers kept at most: enough for the deliveries between two packets of a source; the rest die.
    static let limit = 256

    private let allocator = ByteBufferAllocator()
    /// `spare[0..<count]` are initialized.
    private let spare = UnsafeMutablePointer<ByteBuffer>.allocate(capacity: PacketPool.limit)
    private var count = 0

    init() {}

    deinit {
        spare.deinitialize(count: count)
        spare.deallocate()
    }

    /// An empty buffer with at least `capacity` bytes of room.
    mutating func take(capacity: Int) -> ByteBuffer {
        guard count > 0 else { return allocator.buffer(capacity: max(capacity, Self.standardCapacity)) }
        count -= 1
        var buffer = (spare + count).move()
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    /// Keeps `buffer` for a later `take` (its contents are dead); small ones (packets rebuilt from
    /// parity) are let go rather than grown later.
    mutating func recycle(_ buffer: consuming ByteBuffer) {
        guard count < Self.limit, buffer.storageCapacity >= Self.standardCapacity else { return }
        (spare + count).initialize(to: consume buffer)
        count += 1
    }
}
