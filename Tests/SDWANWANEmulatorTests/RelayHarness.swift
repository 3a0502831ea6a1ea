import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANWANEmulator

/// A live emulator on loopback between test edge sockets and a test hub socket.
///
/// Two one-thread event loop groups (the relay's, and the test's for sending and receiving), so
/// the relay's timing is not disturbed by the test's own work more than a second core allows.
/// Every socket is closed and both groups are shut down by `shutdown()`.
///
/// Test packets carry `[seq: UInt32][link: UInt8][send instant: Int64 ns]` and padding; the
/// receivers read the monotonic clock once per batch, as the relay does.
final class RelayHarness: @unchecked Sendable {
    struct Arrival {
        var seq: UInt32
        var link: Int
        var sent: Instant
        var received: Instant
        var size: Int
        var source: UDPEndpoint
    }

    let relayGroup: MultiThreadedEventLoopGroup
    let testGroup: MultiThreadedEventLoopGroup
    let testLoop: EventLoop
    let emulator: WANEmulator
    let hub: UDPLinkSocket
    let edges: [UDPLinkSocket]
    /// Written only on `testLoop`.
    private var hubArrivals: [Arrival] = []
    private var edgeArrivals: [Arrival] = []
    /// The hub echoes every datagram back to its source (for the down direction).
    private let hubEchoes: Bool
    private let box: Box

    static let header = 13

    private init(
        relayGroup: MultiThreadedEventLoopGroup,
        testGroup: MultiThreadedEventLoopGroup,
        emulator: WANEmulator,
        hub: UDPLinkSocket,
        edges: [UDPLinkSocket],
        hubEchoes: Bool,
        box: Box
    ) {
        self.relayGroup = relayGroup
        self.testGroup = testGroup
        self.testLoop = testGroup.next()
        self.emulator = emulator
        self.hub = hub
        self.edges = edges
        self.hubEchoes = hubEchoes
        self.box = box
    }

    /// A one-branch topology from `links` (YAML of the link list, indented as list items).
    static func topology(_ links: String) throws -> Topology {
        try Topology.parse(
            """
            name: test
            hub: { name: hub }
            branches:
              - name: b
                links:
            \(links)
            """,
            file: "<test>"
        )
    }

    static func make(
        links yaml: String,
        timeline: Timeline = .empty,
        control: Bool = false,
        hubEchoes: Bool = false,
        seed: UInt64 = 1
    ) async throws -> RelayHarness {
        let topology = try topology(yaml)
        let relayGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let testGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let testLoop = testGroup.next()
        let box = Box()
        let loopback = UDPEndpoint("127.0.0.1:0")!
        let hub = try await UDPLinkSocket.open(UDPSocketConfiguration(local: loopback), on: testLoop) { batch in
            box.harness?.hubBatch(batch)
        }.get()
        var edges: [UDPLinkSocket] = []
        for index in topology.branches[0].links.indices {
            edges.append(
                try await UDPLinkSocket.open(UDPSocketConfiguration(local: loopback), on: testLoop) { batch in
                    box.harness?.edgeBatch(batch, link: index)
                }.get()
            )
        }
        let configuration = WANEmulatorConfiguration(
            hub: hub.localEndpoint,
            listen: loopback,
            control: control ? loopback : nil,
            seed: seed
        )
        let emulator: WANEmulator
        do {
            emulator = try await WANEmulator.start(
                topology: topology,
                timeline: timeline,
                configuration: configuration,
                on: relayGroup.next()
            )
        } catch {
            // Leave nothing open behind a failed start.
            try? await hub.close().get()
            for edge in edges { try? await edge.close().get() }
            try? await testGroup.shutdownGracefully()
            try? await relayGroup.shutdownGracefully()
            throw error
        }
        let harness = RelayHarness(
            relayGroup: relayGroup,
            testGroup: testGroup,
            emulator: emulator,
            hub: hub,
            edges: edges,
            hubEchoes: hubEchoes,
            box: box
        )
        try await testLoop.submit { box.harness = harness }.get()
        return harness
    }

    final class Box: @unchecked Sendable { var harness: RelayHarness? }

    private func parse(_ data: ByteBuffer, now: Instant, source: UDPEndpoint) -> Arrival? {
        var data = data
        let size = data.readableBytes
        guard let seq = data.readInteger(as: UInt32.self), let link = data.readInteger(as: UInt8.self),
            let sent = data.readInteger(as: Int64.self)
        else { return nil }
        return Arrival(
            seq: seq,
            link: Int(link),
            sent: Instant(nanoseconds: sent),
            received: now,
            size: size,
            source: source
        )
    }

    private func hubBatch(_ batch: [ReceivedDatagram]) {
        let now = Clocks.monotonic()
        for datagram in batch {
            if let arrival = parse(datagram.data, now: now, source: datagram.source) { hubArrivals.append(arrival) }
        }
        if hubEchoes {
            hub.send(batch.map { OutgoingDatagram(data: $0.data, destination: $0.source) })
        }
    }

    private func edgeBatch(_ batch: [ReceivedDatagram], link: Int) {
        let now = Clocks.monotonic()
        for datagram in batch {
            if let arrival = parse(datagram.data, now: now, source: datagram.source) { edgeArrivals.append(arrival) }
        }
    }

    /// Sends `count` packets from edge `link` to its edge-facing socket at `rate` packets per
    /// second (a 1 ms tick sends what is due), with sizes from `size(seq)`; returns when all are
    /// sent, with the first and last send instants.
    @discardableResult
    func send(
        link: Int,
        count: Int,
        rate: Double,
        firstSeq: UInt32 = 0,
        size: @escaping @Sendable (Int) -> Int = { _ in 200 }
    ) async throws -> (first: Instant, last: Instant) {
        guard let target = try await emulator.edgeFacingEndpoint(link: link) else {
            throw WANEmulatorError("no socket")
        }
        let socket = edges[link]
        let promise = testLoop.makePromise(of: (first: Instant, last: Instant).self)
        let state = SendState()
        let allocator = ByteBufferAllocator()
        let task = testLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { task in
            let now = Clocks.monotonic()
            if state.start == nil { state.start = now }
            let due = min(count, Int(((now - state.start!).seconds * rate).rounded(.down)) + 1)
            var datagrams: [OutgoingDatagram] = []
            while state.sent < due {
                let seq = firstSeq + UInt32(state.sent)
                let total = max(size(state.sent), Self.header)
                var buffer = allocator.buffer(capacity: total)
                buffer.writeInteger(seq)
                buffer.writeInteger(UInt8(link))
                buffer.writeInteger(now.nanoseconds)
                buffer.writeRepeatingByte(0xA5, count: total - Self.header)
                datagrams.append(OutgoingDatagram(data: buffer, destination: target))
                state.sent += 1
            }
            socket.send(datagrams)
            if !datagrams.isEmpty { state.last = now }
            if state.sent >= count {
                task.cancel()
                promise.succeed((state.start!, state.last!))
            }
        }
        _ = task
        return try await promise.futureResult.get()
    }

    final class SendState: @unchecked Sendable {
        var start: Instant?
        var last: Instant?
        var sent = 0
    }

    /// Waits until nothing is in flight in the relay and the receivers have seen everything it
    /// sent, or `limit` passes (bounded: a broken relay fails the test instead of hanging it).
    /// Waits (at most `limit`) until `count` datagrams reached the edge side; whether they did.
    func waitForEdgeArrivals(_ count: Int, limit: TimeSpan = .seconds(5)) async throws -> Bool {
        let deadline = Clocks.monotonic() + limit
        while Clocks.monotonic() < deadline {
            if try await arrivalsAtEdge().count >= count { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await arrivalsAtEdge().count >= count
    }

    func settle(limit: TimeSpan = .seconds(3)) async throws {
        let deadline = Clocks.monotonic() + limit
        while Clocks.monotonic() < deadline {
            let stats = try await emulator.stats()
            let sentUp = stats.links.reduce(0) { $0 + $1.up.relay.sent }
            let sentDown = stats.links.reduce(0) { $0 + $1.down.relay.sent }
            let pending = stats.links.reduce(0) { $0 + $1.up.relay.inFlight + $1.down.relay.inFlight }
            let (hubCount, edgeCount) = try await testLoop.submit { (self.hubArrivals.count, self.edgeArrivals.count) }
                .get()
            if pending == 0 && UInt64(hubCount) >= sentUp && UInt64(edgeCount) >= sentDown { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func arrivalsAtHub() async throws -> [Arrival] { try await testLoop.submit { self.hubArrivals }.get() }
    func arrivalsAtEdge() async throws -> [Arrival] { try await testLoop.submit { self.edgeArrivals }.get() }

    /// Stops the emulator, closes every test socket and shuts both groups down.
    @discardableResult
    func shutdown() async throws -> WANEmulatorStats {
        let stats = try await emulator.stop()
        try await testLoop.submit { self.box.harness = nil }.get()
        try await hub.close().get()
        for edge in edges { try await edge.close().get() }
        try await testGroup.shutdownGracefully()
        try await relayGroup.shutdownGracefully()
        return stats
    }
}

/// Sample statistics for the tests.
enum Sample {
    static func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }

    static func standardDeviation(_ xs: [Double]) -> Double {
        let m = mean(xs)
        return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
    }

    /// The q-quantile (nearest rank).
    static func quantile(_ xs: [Double], _ q: Double) -> Double {
        let sorted = xs.sorted()
        let rank = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[rank]
    }
}

extension RelayHarness {
    /// Runs `body` with a live harness and always shuts it down (sockets closed, groups shut down),
    /// also when the body throws.
    static func with<T>(
        links yaml: String,
        timeline: Timeline = .empty,
        control: Bool = false,
        hubEchoes: Bool = false,
        _ body: (RelayHarness) async throws -> T
    ) async throws -> T {
        let harness = try await make(links: yaml, timeline: timeline, control: control, hubEchoes: hubEchoes)
        do {
            let result = try await body(harness)
            try await harness.shutdown()
            return result
        } catch {
            _ = try? await harness.shutdown()
            throw error
        }
    }
}
