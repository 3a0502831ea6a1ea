import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANNode
import SDWANWANEmulator

/// Key files in a private temporary directory (mode 600), removed by `remove()`.
struct TestKeys {
    let directory: String
    let hubKeyPath: String
    let edgeKeyPaths: [String]
    let pskPath: String
    let hubPublic: PublicKey
    let edgePublics: [PublicKey]

    init(edges: Int = 1) throws {
        let directory = NSTemporaryDirectory() + "sdwan-node-\(UUID().uuidString)"
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var random = SystemRandomSource()
        func write(_ text: String, _ name: String) throws -> String {
            let path = "\(directory)/\(name)"
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            chmod(path, 0o600)
            return path
        }
        let hubKey = PrivateKey.generate(using: &random)
        hubPublic = hubKey.publicKey
        hubKeyPath = try write(hubKey.base64ForKeyFile(), "hub.key")
        var paths: [String] = []
        var publics: [PublicKey] = []
        for i in 0..<edges {
            let key = PrivateKey.generate(using: &random)
            publics.append(key.publicKey)
            paths.append(try write(key.base64ForKeyFile(), "edge\(i).key"))
        }
        edgeKeyPaths = paths
        edgePublics = publics
        pskPath = try write(PresharedKey.generate(using: &random).base64ForKeyFile(), "psk")
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// A UDP echo server on loopback (the forward's target on the hub's side).
final class EchoTarget: Sendable {
    let socket: UDPLinkSocket
    private let counter: NIOLockedValueBox<Int>

    /// Datagrams echoed so far.
    var echoed: Int { counter.withLockedValue { $0 } }

    private init(socket: UDPLinkSocket, counter: NIOLockedValueBox<Int>) {
        self.socket = socket
        self.counter = counter
    }

    static func start(on loop: EventLoop) async throws -> EchoTarget {
        let box = NIOLockedValueBox<UDPLinkSocket?>(nil)
        let counter = NIOLockedValueBox(0)
        let socket = try await UDPLinkSocket.open(
            UDPSocketConfiguration(local: UDPEndpoint("127.0.0.1:0")!, dontFragment: false),
            on: loop
        ) { batch in
            counter.withLockedValue { $0 += batch.count }
            let socket = box.withLockedValue { $0 }
            socket?.send(batch.map { OutgoingDatagram(data: $0.data, destination: $0.source) })
        }.get()
        box.withLockedValue { $0 = socket }
        return EchoTarget(socket: socket, counter: counter)
    }
}

/// A forward client: sends numbered datagrams to the edge's forward port and records each reply's
/// sequence number and arrival time.
final class ForwardClient: Sendable {
    let socket: UDPLinkSocket
    let replies: NIOLockedValueBox<[(seq: UInt32, at: Instant)]>

    private init(socket: UDPLinkSocket, replies: NIOLockedValueBox<[(seq: UInt32, at: Instant)]>) {
        self.socket = socket
        self.replies = replies
    }

    static func start(on loop: EventLoop) async throws -> ForwardClient {
        let replies = NIOLockedValueBox<[(seq: UInt32, at: Instant)]>([])
        let socket = try await UDPLinkSocket.open(
            UDPSocketConfiguration(local: UDPEndpoint("127.0.0.1:0")!, dontFragment: false),
            on: loop
        ) { batch in
            let now = Clocks.monotonic()
            replies.withLockedValue { list in
                for d in batch {
                    if let seq = d.data.getInteger(at: d.data.readerIndex, as: UInt32.self) { list.append((seq, now)) }
                }
            }
        }.get()
        return ForwardClient(socket: socket, replies: replies)
    }

    /// Sends `count` datagrams of `size` bytes at `rate` per second to `destination`.
    func send(to destination: UDPEndpoint, count: Int, rate: Double, size: Int = 200, firstSeq: UInt32 = 0) async throws
    {
        let spacing = UInt64(1e9 / rate)
        for i in 0..<count {
            var buffer = ByteBufferAllocator().buffer(capacity: size)
            buffer.writeInteger(firstSeq + UInt32(i))
            buffer.writeRepeatingByte(0x5A, count: size - 4)
            let datagram = OutgoingDatagram(data: buffer, destination: destination)
            try await socket.channel.eventLoop.submit { self.socket.send(CollectionOfOne(datagram)) }.get()
            try await Task.sleep(nanoseconds: spacing)
        }
    }

    var received: [(seq: UInt32, at: Instant)] { replies.withLockedValue { $0 } }
}

/// Config text builders for the live tests (the same YAML operators write).
enum LiveConfigs {
    static func hub(
        keys: TestKeys,
        listen: [String],
        targets: [UDPEndpoint],
        branchPrefixes: [String] = ["10.1.0.0/24"],
        maxFlows: Int = 64
    ) -> String {
        var text = """
            role: hub
            name: hub1
            identity: { private_key_file: "\(keys.hubKeyPath)" }
            listen: [\(listen.map { "\"\($0)\"" }.joined(separator: ", "))]
            branches:

            """
        for (i, key) in keys.edgePublics.enumerated() {
            text += """
                  - name: store\(i)
                    public_key: \(key)
                    psk_file: "\(keys.pskPath)"
                    allowed_prefixes: [\(branchPrefixes[i])]

                """
        }
        text += """
            udp_targets:
              allowed: [\(targets.map { "\"\($0)\"" }.joined(separator: ", "))]
              max_flows: \(maxFlows)
            status: { listen: "127.0.0.1:0" }

            """
        return text
    }

    static func edge(
        keys: TestKeys,
        index: Int = 0,
        links: [(name: String, local: String, hub: UDPEndpoint)],
        innerAddress: String = "10.1.0.1",
        target: UDPEndpoint,
        className: String = "default"
    ) -> String {
        edge(
            keys: keys,
            index: index,
            links: links.map { ($0.name, $0.local, $0.hub, "") },
            innerAddress: innerAddress,
            target: target,
            className: className
        )
    }
}

/// Waits until `condition` holds, polling every 20 ms, for at most `seconds`.
func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = Clocks.monotonic() + .nanoseconds(Int64(seconds * 1e9))
    while Clocks.monotonic() < end {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return try await condition()
}

/// A quiet logger for in-process nodes (warnings and worse only).
func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}
