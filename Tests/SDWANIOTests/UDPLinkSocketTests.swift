import NIOCore
import NIOPosix
import SDWANCore
import SDWANIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Loopback only; every socket is closed and the event loop group shut down at the end.
@Suite struct UDPLinkSocketTests {
    final class Collector: @unchecked Sendable {
        var received: [ReceivedDatagram] = []
        var batches = 0
    }

    @Test(arguments: ["127.0.0.1:0", "[::1]:0"])
    func datagramsArriveIntactInBatchesWithTheirSource(local: String) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let collector = Collector()
        let receiver = try await UDPLinkSocket.open(
            UDPSocketConfiguration(local: UDPEndpoint(local)!),
            on: loop
        ) { batch in
            collector.batches += 1
            collector.received += batch
        }.get()
        let sender = try await UDPLinkSocket.open(UDPSocketConfiguration(local: UDPEndpoint(local)!), on: loop) { _ in }
            .get()
        let sizes = (0..<200).map { 60 + ($0 * 37) % 1_400 }
        try await loop.submit {
            let datagrams = sizes.enumerated().map { i, size in
                var b = ByteBufferAllocator().buffer(capacity: size)
                b.writeInteger(UInt32(i))
                b.writeRepeatingByte(UInt8(truncatingIfNeeded: i), count: size - 4)
                return OutgoingDatagram(data: b, destination: receiver.localEndpoint, dscp: i % 2 == 0 ? 46 : 0)
            }
            sender.send(datagrams)
        }.get()
        for _ in 0..<200 {
            let count = try await loop.submit { collector.received.count }.get()
            if count == sizes.count { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let received = try await loop.submit { collector.received }.get()
        #expect(received.count == sizes.count)
        for datagram in received {
            var data = datagram.data
            let i = Int(data.readInteger(as: UInt32.self)!)
            #expect(data.readableBytes == sizes[i] - 4)
            #expect(data.readableBytesView.allSatisfy { $0 == UInt8(truncatingIfNeeded: i) })
            #expect(datagram.source == sender.localEndpoint)
        }
        let batches = try await loop.submit { collector.batches }.get()
        #expect(batches < sizes.count, "reads were not batched")
        try await sender.close().get()
        try await receiver.close().get()
        try await group.shutdownGracefully()
    }

    /// Sockets bound to an ephemeral port (port 0) never share it: with SO_REUSEADDR set, Linux
    /// handed out ports other such sockets held, and one socket of the pair could receive nothing
    /// (600 binds would share ~6 ports: (600² / 2) / 28 232 ports in 32768–60999).
    @Test func ephemeralBindsNeverShareAPort() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var sockets: [UDPLinkSocket] = []
        for _ in 0..<600 {
            sockets.append(
                try await UDPLinkSocket.open(
                    UDPSocketConfiguration(local: UDPEndpoint("127.0.0.1:0")!),
                    on: group.next()
                ) {
                    _ in
                }.get()
            )
        }
        let ports = sockets.map(\.localEndpoint.port)
        #expect(Set(ports).count == ports.count, "\(ports.count - Set(ports).count) ports shared")
        for socket in sockets { try await socket.close().get() }
        try await group.shutdownGracefully()
    }

    /// An explicit port is never shared either: a second socket on it fails with EADDRINUSE
    /// (with SO_REUSEADDR both bound, and the datagrams were split between them).
    @Test func aSecondBindOnAnExplicitPortFails() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // Both sockets name the port (an ephemeral one found first, then released).
        let probe = try await UDPLinkSocket.open(
            UDPSocketConfiguration(local: UDPEndpoint("127.0.0.1:0")!),
            on: group.next()
        ) { _ in }.get()
        let taken = probe.localEndpoint
        try await probe.close().get()
        let first = try await UDPLinkSocket.open(UDPSocketConfiguration(local: taken), on: group.next()) { _ in }.get()
        do {
            let second = try await UDPLinkSocket.open(UDPSocketConfiguration(local: taken), on: group.next()) { _ in }
                .get()
            Issue.record("two sockets bound \(taken)")
            try await second.close().get()
        } catch {
            #expect("\(error)".contains("in use"), "\(error)")
        }
        // Once the first is closed the port is free again (what a reload and a rebuild rely on).
        try await first.close().get()
        let again = try await UDPLinkSocket.open(UDPSocketConfiguration(local: taken), on: group.next()) { _ in }.get()
        #expect(again.localEndpoint == taken)
        try await again.close().get()
        try await group.shutdownGracefully()
    }

    @Test func bindingToAMissingInterfaceNamesIt() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            _ = try await UDPLinkSocket.open(
                UDPSocketConfiguration(local: UDPEndpoint("127.0.0.1:0")!, interface: "nosuchif0"),
                on: group.next()
            ) { _ in }.get()
            Issue.record("bound to a missing interface")
        } catch {
            #expect("\(error)".contains("nosuchif0"))
        }
        try await group.shutdownGracefully()
    }
}
