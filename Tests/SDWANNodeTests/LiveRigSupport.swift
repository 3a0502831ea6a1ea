import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANNode

/// What a live test opened, closed in reverse order whatever happened (sockets, nodes, relays,
/// then the event loops and the key directory).
final class LiveResources: @unchecked Sendable {
    private let lock = NIOLock()
    private var closers: [() async -> Void] = []

    /// Registers `close`; it runs before everything registered earlier.
    func onClose(_ close: @escaping () async -> Void) { lock.withLock { closers.insert(close, at: 0) } }

    func closeAll() async {
        let list = lock.withLock {
            let list = closers
            closers = []
            return list
        }
        for close in list { await close() }
    }

    /// Runs `body` with a fresh two-thread event loop group and closes everything afterwards.
    static func run(_ body: (LiveResources, MultiThreadedEventLoopGroup) async throws -> Void) async throws {
        let resources = LiveResources()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        resources.onClose { try? await group.shutdownGracefully() }
        do {
            try await body(resources, group)
        } catch {
            await resources.closeAll()
            throw error
        }
        await resources.closeAll()
    }

    func hub(_ text: String, on loop: EventLoop) async throws -> HubNode {
        guard case .hub(let configuration) = try NodeConfig.parse(text, file: "hub.yaml") else {
            throw LiveNodeTests.TestFailure("not a hub config")
        }
        let hub = try await HubNode.start(configuration: configuration, eventLoop: loop, logger: testLogger("hub"))
            .get()
        onClose { try? await hub.stop().get() }
        return hub
    }

    func edge(_ text: String, on loop: EventLoop) async throws -> EdgeNode {
        guard case .edge(let configuration) = try NodeConfig.parse(text, file: "edge.yaml") else {
            throw LiveNodeTests.TestFailure("not an edge config")
        }
        let edge = try await EdgeNode.start(configuration: configuration, eventLoop: loop, logger: testLogger("edge"))
            .get()
        onClose { try? await edge.stop().get() }
        return edge
    }

    func echo(on loop: EventLoop) async throws -> EchoTarget {
        let echo = try await EchoTarget.start(on: loop)
        onClose { try? await echo.socket.close().get() }
        return echo
    }

    func client(on loop: EventLoop) async throws -> ForwardClient {
        let client = try await ForwardClient.start(on: loop)
        onClose { try? await client.socket.close().get() }
        return client
    }

    func keys(edges: Int) throws -> TestKeys {
        let keys = try TestKeys(edges: edges)
        onClose { keys.remove() }
        return keys
    }
}

extension LiveConfigs {
    /// An edge config whose links may carry extra fields (`shaped_up: 8mbit`, …).
    static func edge(
        keys: TestKeys,
        index: Int,
        links: [(name: String, local: String, hub: UDPEndpoint, extra: String)],
        innerAddress: String,
        target: UDPEndpoint,
        className: String = "default"
    ) -> String {
        var text = """
            role: edge
            name: store\(index)
            identity: { private_key_file: "\(keys.edgeKeyPaths[index])" }
            hub: { name: hub1, public_key: \(keys.hubPublic), psk_file: "\(keys.pskPath)" }
            links:

            """
        for link in links {
            let extra = link.extra.isEmpty ? "" : ", \(link.extra)"
            text += "  - { name: \(link.name), local: \"\(link.local)\", hub_endpoint: \"\(link.hub)\"\(extra) }\n"
        }
        text += """
            ingress:
              address: \(innerAddress)
              udp_forwards:
                - { name: echo, listen: "127.0.0.1:0", target: "\(target)", class: \(className) }
            status: { listen: "127.0.0.1:0" }

            """
        return text
    }
}

/// A transparent UDP relay between an edge link and the next hop (the WAN emulator or the hub)
/// that keeps copies of the last transport datagrams the edge sent, so a test can replay them.
final class TapRelay: Sendable {
    let edgeFacing: UDPLinkSocket
    let upstream: UDPLinkSocket
    private let state: NIOLockedValueBox<State>

    struct State {
        var edgeSource: UDPEndpoint?
        var captured: [ByteBuffer] = []
    }

    /// Captured copies kept (oldest dropped first).
    static let captureLimit = 16

    private init(edgeFacing: UDPLinkSocket, upstream: UDPLinkSocket, state: NIOLockedValueBox<State>) {
        self.edgeFacing = edgeFacing
        self.upstream = upstream
        self.state = state
    }

    /// The transport datagrams (message type 4, docs/wire-format.md §2) captured so far.
    var captured: [ByteBuffer] { state.withLockedValue { $0.captured } }

    static func start(towards next: UDPEndpoint, on loop: EventLoop, resources: LiveResources) async throws -> TapRelay
    {
        let sockets = NIOLockedValueBox<(edge: UDPLinkSocket?, up: UDPLinkSocket?)>((nil, nil))
        let state = NIOLockedValueBox(State())
        let settings = UDPSocketConfiguration(local: UDPEndpoint("127.0.0.1:0")!, dontFragment: false)
        let edge = try await UDPLinkSocket.open(settings, on: loop) { batch in
            state.withLockedValue { s in
                for d in batch {
                    s.edgeSource = d.source
                    guard d.data.getInteger(at: d.data.readerIndex, as: UInt8.self) == MessageType.transport.rawValue
                    else { continue }
                    var copy = ByteBufferAllocator().buffer(capacity: d.data.readableBytes)
                    copy.writeImmutableBuffer(d.data)
                    s.captured.append(copy)
                    if s.captured.count > captureLimit { s.captured.removeFirst() }
                }
            }
            sockets.withLockedValue { $0.up }?.send(batch.map { OutgoingDatagram(data: $0.data, destination: next) })
        }.get()
        resources.onClose { try? await edge.close().get() }
        let up = try await UDPLinkSocket.open(settings, on: loop) { batch in
            guard let source = state.withLockedValue({ $0.edgeSource }) else { return }
            let back = batch.filter { $0.source == next }.map { OutgoingDatagram(data: $0.data, destination: source) }
            sockets.withLockedValue { $0.edge }?.send(back)
        }.get()
        resources.onClose { try? await up.close().get() }
        sockets.withLockedValue { $0 = (edge, up) }
        return TapRelay(edgeFacing: edge, upstream: up, state: state)
    }
}

/// A socket that counts what reaches it (the replayer: the hub must never answer it).
final class CountingSocket: Sendable {
    let socket: UDPLinkSocket
    /// Datagrams received, by source: a port the kernel hands out may still be the target of a
    /// node an earlier test left sending, and that must not count as the one under test.
    private let counter: NIOLockedValueBox<[UDPEndpoint: Int]>

    var received: Int { counter.withLockedValue { $0.values.reduce(0, +) } }
    func received(from source: UDPEndpoint) -> Int { counter.withLockedValue { $0[source] ?? 0 } }
    var sources: [UDPEndpoint: Int] { counter.withLockedValue { $0 } }

    private init(socket: UDPLinkSocket, counter: NIOLockedValueBox<[UDPEndpoint: Int]>) {
        self.socket = socket
        self.counter = counter
    }

    static func start(on loop: EventLoop, resources: LiveResources) async throws -> CountingSocket {
        let counter = NIOLockedValueBox<[UDPEndpoint: Int]>([:])
        let socket = try await UDPLinkSocket.open(
            UDPSocketConfiguration(local: UDPEndpoint("127.0.0.1:0")!, dontFragment: false),
            on: loop
        ) { batch in
            counter.withLockedValue { counts in
                for datagram in batch { counts[datagram.source, default: 0] += 1 }
            }
        }.get()
        resources.onClose { try? await socket.close().get() }
        return CountingSocket(socket: socket, counter: counter)
    }
}

extension ForwardClient {
    /// Sends `size`-byte numbered datagrams at `rate` per second for `seconds`, in a batch every
    /// 2 ms sized from the elapsed time (so the average rate holds whatever the sleep granularity).
    /// Returns the number sent; ends after `seconds` however late the sleeps were.
    func sendPaced(to destination: UDPEndpoint, rate: Double, seconds: Double, size: Int) async throws -> Int {
        let total = Int(rate * seconds)
        let start = Clocks.monotonic()
        var sent = 0
        let allocator = ByteBufferAllocator()
        while sent < total {
            let due = min(total, Int(rate * (Clocks.monotonic() - start).seconds) + 1)
            if due > sent {
                var batch: [OutgoingDatagram] = []
                batch.reserveCapacity(due - sent)
                for seq in sent..<due {
                    var buffer = allocator.buffer(capacity: size)
                    buffer.writeInteger(UInt32(seq))
                    buffer.writeRepeatingByte(0x5A, count: size - 4)
                    batch.append(OutgoingDatagram(data: buffer, destination: destination))
                }
                let datagrams = batch
                try await socket.channel.eventLoop.submit { self.socket.send(datagrams) }.get()
                sent = due
            }
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        return sent
    }
}

/// The process's resident set (VmRSS of /proc/self/status), in bytes.
func residentBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
        return kilobytes * 1_024
    }
    return nil
}
