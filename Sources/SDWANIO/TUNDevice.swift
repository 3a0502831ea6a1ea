import NIOCore
import NIOPosix
import SDWANCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Why a TUN device could not be opened or configured; each case names what to fix.
public struct TUNError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The packets of one read hand-over. `drain` passes each packet's last reference on, so the engine
/// can build its datagram in the packet's own buffer without a copy.
public final class TUNReadBatch: @unchecked Sendable {
    private var packets: [ByteBuffer]

    init(packets: [ByteBuffer]) { self.packets = packets }

    /// Packets in the batch (before `drain`).
    public var count: Int { packets.count }

    /// Hands every packet, in read order, to `body` and empties the batch. Call once, on the event loop.
    public func drain(_ body: (consuming ByteBuffer) -> Void) {
        let empty = ByteBuffer()
        for i in packets.indices {
            var packet = empty
            swap(&packet, &packets[i])
            body(consume packet)
        }
        packets.removeAll()
    }
}

/// A layer-3 TUN device (Linux `Documentation/networking/tuntap.rst`): `IFF_TUN | IFF_NO_PI`, so
/// every read(2) returns exactly one IP packet and every write(2) injects exactly one.
///
/// Reading happens on a dedicated thread, not on the event loop: NIO's pipe channel is a stream
/// channel (pending writes leave through `writev`, merging packets; its adaptive allocator truncates
/// reads), and a thread doing plain read(2) moved ~2.3× the packets per second of NIO's pipe
/// channel here (../shared/MACHINE.md). The thread waits in poll(2) on the device and a wake-up
/// pipe, reads packets until the device is empty (or `batchLimit`), each into its own buffer with
/// `headroom` bytes free in front and `tailroom` after (so the engine seals the datagram in place,
/// `TunnelEngine.headroom`), and hands the batch to the event loop in one task. At most
/// `maxPendingBatches` batches wait for the loop; beyond that the thread stops reading and the
/// kernel's queue (txqueuelen) takes the overflow, counted by the kernel as a TX drop.
///
/// Writes happen on the caller's thread (the event loop): one write(2) per packet.
public final class TUNDevice: Sendable {
    /// The interface name the kernel gave (the one asked for, or `tunN` for a pattern).
    public let name: String
    /// Largest packet a read returns intact (the interface MTU when opened).
    public let mtu: Int
    let descriptor: CInt
    let wakeRead: CInt
    let wakeWrite: CInt
    let pool: NIOThreadPool
    let pendingBatches = Atomic<Int>(0)
    let closed = Atomic<Bool>(false)
    let readCount = Atomic<UInt64>(0)
    let writeCount = Atomic<UInt64>(0)
    let writeFailures = Atomic<UInt64>(0)

    /// Packets read and handed to the event loop.
    public var packetsRead: UInt64 { readCount.load(ordering: .relaxed) }
    /// Packets written to the device.
    public var packetsWritten: UInt64 { writeCount.load(ordering: .relaxed) }
    /// Writes the kernel refused (device down, packet malformed or too large).
    public var writesFailed: UInt64 { writeFailures.load(ordering: .relaxed) }

    /// How the reader thread hands packets over.
    public struct ReadConfiguration: Sendable {
        /// Free bytes in front of each packet (`TunnelEngine.headroom`) and after it.
        public var headroom: Int
        public var tailroom: Int
        /// Packets per hand-over at most.
        public var batchLimit: Int
        /// Batches waiting for the event loop at most before the thread pauses reading.
        public var maxPendingBatches: Int

        public init(
            headroom: Int = TunnelEngine.headroom,
            tailroom: Int = TunnelEngine.tailroom,
            batchLimit: Int = 64,
            maxPendingBatches: Int = 16
        ) {
            self.headroom = headroom
            self.tailroom = tailroom
            self.batchLimit = batchLimit
            self.maxPendingBatches = maxPendingBatches
        }
    }

    private init(name: String, mtu: Int, descriptor: CInt, wake: (CInt, CInt), pool: NIOThreadPool) {
        self.name = name
        self.mtu = mtu
        self.descriptor = descriptor
        self.wakeRead = wake.0
        self.wakeWrite = wake.1
        self.pool = pool
    }

    /// Opens `/dev/net/tun` as the interface `name` (created if absent; needs CAP_NET_ADMIN) and
    /// starts the reader thread. `onBatch` runs on `eventLoop` with the packets of one hand-over,
    /// each with its reader index at `read.headroom`. The device's MTU must already be ≤ `mtu`
    /// or be set to it before traffic flows (`TUNInterface.configure`); reads are sized for `mtu`.
    public static func open(
        name: String,
        mtu: Int,
        read: ReadConfiguration = ReadConfiguration(),
        eventLoop: EventLoop,
        onBatch: @escaping @Sendable (TUNReadBatch) -> Void
    ) throws(TUNError) -> TUNDevice {
        guard !name.isEmpty, name.utf8.count < Int(IFNAMSIZ) else {
            throw TUNError("interface name `\(name)` must be 1 to \(IFNAMSIZ - 1) bytes")
        }
        let fd = Glibc.open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw TUNError("open /dev/net/tun: \(String(cString: strerror(errno)))") }
        // struct ifreq: ifr_name[IFNAMSIZ] then the union, whose first short is ifr_flags.
        var request = [UInt8](repeating: 0, count: 40)
        for (i, byte) in name.utf8.enumerated() { request[i] = byte }
        let flags = Self.iffTUN | Self.iffNoPI
        request[16] = UInt8(truncatingIfNeeded: flags)
        request[17] = UInt8(truncatingIfNeeded: flags >> 8)
        let result = request.withUnsafeMutableBytes { ioctl(fd, UInt(Self.tunSetIff), $0.baseAddress!) }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw TUNError("TUNSETIFF \(name): \(reason) (needs root or CAP_NET_ADMIN)")
        }
        let actual = String(decoding: request[0..<16].prefix { $0 != 0 }, as: UTF8.self)
        var pipeFDs: [CInt] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            Glibc.close(fd)
            throw TUNError("pipe: \(String(cString: strerror(errno)))")
        }
        for end in pipeFDs {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
        }
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let device = TUNDevice(name: actual, mtu: mtu, descriptor: fd, wake: (pipeFDs[0], pipeFDs[1]), pool: pool)
        pool.submit { state in
            guard case .active = state else { return }
            device.readLoop(read, eventLoop: eventLoop, onBatch: onBatch)
        }
        return device
    }

    /// <linux/if_tun.h>: no packet-information prefix, a layer-3 device.
    static let iffTUN: UInt16 = 0x0001
    static let iffNoPI: UInt16 = 0x1000
    /// `_IOW('T', 202, int)`.
    static let tunSetIff: UInt32 = 0x4004_54CA

    /// Writes one packet (its readable bytes) to the device. `false` when the kernel refused it.
    @discardableResult
    public func write(_ packet: ByteBuffer) -> Bool {
        let written = packet.withUnsafeReadableBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == packet.readableBytes else {
            writeFailures.add(1, ordering: .relaxed)
            return false
        }
        writeCount.add(1, ordering: .relaxed)
        return true
    }

    /// Stops the reader thread, then closes the device (the interface disappears with its last
    /// descriptor). Safe to call from the event loop; idempotent.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiring) else { return }
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
        let fds = (descriptor, wakeRead, wakeWrite)
        pool.shutdownGracefully { _ in
            Glibc.close(fds.0)
            Glibc.close(fds.1)
            Glibc.close(fds.2)
        }
    }

    private func readLoop(
        _ configuration: ReadConfiguration,
        eventLoop: EventLoop,
        onBatch: @escaping @Sendable (TUNReadBatch) -> Void
    ) {
        let allocator = ByteBufferAllocator()
        let capacity = configuration.headroom + mtu + configuration.tailroom
        var fds = [
            pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        var batch: [ByteBuffer] = []
        batch.reserveCapacity(configuration.batchLimit)
        while !closed.load(ordering: .relaxed) {
            // Back-pressure: let the kernel queue hold what the event loop cannot take yet.
            if pendingBatches.load(ordering: .acquiring) >= configuration.maxPendingBatches {
                usleep(50)
                continue
            }
            fds[0].revents = 0
            fds[1].revents = 0
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            // One read(2) = one packet; read until the device is empty or the batch is full.
            while batch.count < configuration.batchLimit {
                var buffer = allocator.buffer(capacity: capacity)
                buffer.moveWriterIndex(forwardBy: configuration.headroom)
                buffer.moveReaderIndex(forwardBy: configuration.headroom)
                let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: mtu) { raw in
                    let got = Glibc.read(descriptor, raw.baseAddress, mtu)
                    return max(got, 0)
                }
                if n <= 0 { break }
                batch.append(buffer)
            }
            guard !batch.isEmpty else {
                if fds[0].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { return }
                continue
            }
            readCount.add(UInt64(batch.count), ordering: .relaxed)
            pendingBatches.add(1, ordering: .releasing)
            let handed = TUNReadBatch(packets: batch)
            batch.removeAll(keepingCapacity: true)
            eventLoop.execute { [self] in
                pendingBatches.subtract(1, ordering: .releasing)
                onBatch(handed)
            }
        }
    }
}
