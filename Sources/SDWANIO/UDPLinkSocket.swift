import NIOCore
import NIOPosix
import SDWANCore

#if canImport(Glibc)
import Glibc
#endif

/// How to open one UDP socket of a link (edge) or a listen address (hub, WAN emulator).
public struct UDPSocketConfiguration: Sendable {
    /// Local address and port to bind (port 0: the kernel picks).
    public var local: UDPEndpoint
    /// Bind to this interface (SO_BINDTODEVICE), so the link leaves by its own WAN port whatever
    /// the routing table says. `nil`: routing decides (docs/operations.md, policy routing).
    public var interface: String?
    /// Datagrams per read syscall (recvmmsg through `datagramVectorReadMessageCount`).
    public var batchSize: Int
    /// Largest datagram expected; each of the `batchSize` receive slots gets this many bytes.
    public var maxDatagramSize: Int
    /// Set DF on outgoing packets (IP_PMTUDISC_DO / IPV6_DONTFRAG): the tunnel never relies on
    /// fragmentation, and an oversize send fails instead of fragmenting silently.
    public var dontFragment: Bool
    /// Kernel socket buffers in bytes. The default (~208 KiB) holds only ~100 full-size datagrams,
    /// which a burst across a batch boundary overflows; as root SO_RCVBUFFORCE lifts the cap.
    public var socketBufferBytes: Int

    public init(
        local: UDPEndpoint,
        interface: String? = nil,
        batchSize: Int = 32,
        maxDatagramSize: Int = 2_048,
        dontFragment: Bool = true,
        socketBufferBytes: Int = 4 << 20
    ) {
        self.socketBufferBytes = socketBufferBytes
        self.local = local
        self.interface = interface
        self.batchSize = batchSize
        self.maxDatagramSize = maxDatagramSize
        self.dontFragment = dontFragment
    }
}

/// A datagram read from a socket.
public struct ReceivedDatagram: Sendable {
    public var data: ByteBuffer
    public var source: UDPEndpoint
}

/// A datagram to write, with the DSCP its outer IP header should carry.
public struct OutgoingDatagram: Sendable {
    public var data: ByteBuffer
    public var destination: UDPEndpoint
    public var dscp: UInt8

    public init(data: ByteBuffer, destination: UDPEndpoint, dscp: UInt8 = 0) {
        self.data = data
        self.destination = destination
        self.dscp = dscp
    }
}

/// Why a socket could not be opened; each case names what to fix.
public struct UDPSocketError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// One UDP socket on SwiftNIO: batched reads handed over once per read loop, batched writes
/// flushed once, DSCP set per group of writes.
///
/// NIO cannot set a DSCP per datagram (its ECN metadata writes a TOS control message that zeroes
/// the DSCP bits, ../shared/MACHINE.md), so `send` groups datagrams by DSCP and sets IP_TOS /
/// IPV6_TCLASS on the socket before each group's flush. Never use NIO's `ecnState` on these sockets.
public final class UDPLinkSocket: @unchecked Sendable {
    public let channel: Channel
    public let configuration: UDPSocketConfiguration
    /// The bound local endpoint (with the kernel's port when 0 was asked for).
    public let localEndpoint: UDPEndpoint
    private var currentTOS: Int32 = -1

    private init(channel: Channel, configuration: UDPSocketConfiguration, localEndpoint: UDPEndpoint) {
        self.channel = channel
        self.configuration = configuration
        self.localEndpoint = localEndpoint
    }

    /// Opens and binds the socket on `eventLoop`. `onBatch` runs on that event loop with every
    /// datagram of one read loop; the array is reused, so copy out what must outlive the call.
    public static func open(
        _ configuration: UDPSocketConfiguration,
        on eventLoop: EventLoop,
        onBatch: @escaping @Sendable ([ReceivedDatagram]) -> Void
    ) -> EventLoopFuture<UDPLinkSocket> {
        let descriptor: CInt
        do {
            descriptor = try makeBoundSocket(configuration)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return DatagramBootstrap(group: eventLoop)
            .channelOption(.datagramVectorReadMessageCount, value: configuration.batchSize)
            .channelOption(
                .recvAllocator,
                value: FixedSizeRecvByteBufferAllocator(
                    capacity: configuration.batchSize * configuration.maxDatagramSize
                )
            )
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramBatchHandler(onBatch: onBatch))
                }
            }
            .withBoundSocket(descriptor)
            .flatMapThrowing { channel in
                guard let local = channel.localAddress.flatMap(UDPEndpoint.init) else {
                    throw UDPSocketError(description: "socket has no local address")
                }
                return UDPLinkSocket(channel: channel, configuration: configuration, localEndpoint: local)
            }
    }

    /// Writes `datagrams` and flushes once per DSCP group. Must run on the channel's event loop.
    public func send(_ datagrams: some Collection<OutgoingDatagram>) {
        channel.eventLoop.preconditionInEventLoop()
        guard !datagrams.isEmpty else { return }
        var pendingTOS: Int32 = -1
        for datagram in datagrams {
            let tos = Int32(datagram.dscp) << 2
            if tos != pendingTOS {
                if pendingTOS >= 0 { channel.flush() }
                setTOS(tos)
                pendingTOS = tos
            }
            let envelope = AddressedEnvelope(remoteAddress: datagram.destination.socketAddress, data: datagram.data)
            channel.write(envelope, promise: nil)
        }
        channel.flush()
    }

    /// Closes the socket.
    public func close() -> EventLoopFuture<Void> { channel.close() }

    private func setTOS(_ tos: Int32) {
        guard tos != currentTOS, let options = channel.syncOptions else { return }
        let option: ChannelOptions.Types.SocketOption
        if configuration.local.address.isV4 {
            option = .init(level: .ip, name: .init(rawValue: IP_TOS))
        } else {
            option = .init(level: .ipv6, name: .init(rawValue: IPV6_TCLASS))
        }
        if (try? options.setOption(option, value: SocketOptionValue(tos))) != nil { currentTOS = tos }
    }

    /// socket(2), options that NIO cannot set (SO_BINDTODEVICE, DF), bind(2).
    private static func makeBoundSocket(_ configuration: UDPSocketConfiguration) throws -> CInt {
        let v4 = configuration.local.address.isV4
        let fd = socket(v4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UDPSocketError(description: "socket(): \(String(cString: strerror(errno)))") }
        func option(_ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
            var v = value
            return setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0
        }
        // No SO_REUSEADDR: a UDP port it lets two sockets share splits their datagrams. Two nodes
        // (or two links) configured with one port would each get some of the other's traffic;
        // on port 0 Linux even hands out an ephemeral port another such socket holds (3 000 binds
        // on this machine shared 144 ports; `UDPLinkSocketTests`). A second bind fails with
        // EADDRINUSE instead; a reload releases an address before rebinding it (EdgeNode+Reload).
        var ok = true
        // Forced sizes need CAP_NET_ADMIN; without it fall back to the capped ones.
        let buffer = Int32(clamping: configuration.socketBufferBytes)
        if !option(SOL_SOCKET, SO_RCVBUFFORCE, buffer) { _ = option(SOL_SOCKET, SO_RCVBUF, buffer) }
        if !option(SOL_SOCKET, SO_SNDBUFFORCE, buffer) { _ = option(SOL_SOCKET, SO_SNDBUF, buffer) }
        if !v4 { ok = ok && option(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        if configuration.dontFragment {
            ok =
                ok
                && (v4
                    ? option(Int32(IPPROTO_IP), IP_MTU_DISCOVER, IP_PMTUDISC_DO)
                    : option(Int32(IPPROTO_IPV6), IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)
                        && option(Int32(IPPROTO_IPV6), IPV6_DONTFRAG, 1))
        }
        if let interface = configuration.interface {
            let bound = interface.withCString { name in
                setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1)) == 0
            }
            if !bound {
                let reason = String(cString: strerror(errno))
                Glibc.close(fd)
                throw UDPSocketError(description: "SO_BINDTODEVICE \(interface): \(reason)")
            }
        }
        guard ok else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw UDPSocketError(description: "setsockopt on \(configuration.local): \(reason)")
        }
        let bound = configuration.local.socketAddress.withSockAddr { address, length in
            bind(fd, address, socklen_t(length)) == 0
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw UDPSocketError(description: "bind \(configuration.local): \(reason)")
        }
        return fd
    }
}

/// Collects the datagrams of one read loop and hands them over at `channelReadComplete`.
final class DatagramBatchHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let onBatch: @Sendable ([ReceivedDatagram]) -> Void
    private var batch: [ReceivedDatagram] = []

    init(onBatch: @escaping @Sendable ([ReceivedDatagram]) -> Void) {
        self.onBatch = onBatch
        batch.reserveCapacity(64)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = UDPEndpoint(envelope.remoteAddress) else { return }
        batch.append(ReceivedDatagram(data: envelope.data, source: source))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard !batch.isEmpty else { return }
        onBatch(batch)
        batch.removeAll(keepingCapacity: true)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP errors surface as read errors on UDP sockets (ECONNREFUSED after an unreachable);
        // they must not close the link's socket.
    }
}
