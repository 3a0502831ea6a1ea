import Foundation
import NIOConcurrencyHelpers
import NIOCore
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANNode

/// `sdwan edge` / `sdwan hub` as real processes: the binary SwiftPM built beside this test
/// bundle, its stderr in a log file, stopped by PID (SIGKILL at cleanup if still running).
final class NodeProcess: @unchecked Sendable {
    let process: Process
    let logPath: String
    let statusAddress: UDPEndpoint

    /// The `sdwan` executable next to the test binary (`swift build` builds both).
    static var binary: URL? {
        guard let test = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        let url = URL(fileURLWithPath: test).deletingLastPathComponent().appendingPathComponent("sdwan")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    private init(process: Process, logPath: String, statusAddress: UDPEndpoint) {
        self.process = process
        self.logPath = logPath
        self.statusAddress = statusAddress
    }

    /// Starts `sdwan <role> --config <configPath>`; cleanup kills it by PID if it still runs.
    static func start(
        role: String,
        configPath: String,
        statusAddress: UDPEndpoint,
        logPath: String,
        resources: LiveResources
    ) throws -> NodeProcess {
        guard let binary else { throw LiveNodeTests.TestFailure("the sdwan binary is not built beside the tests") }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = binary
        process.arguments = [role, "--config", configPath]
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let node = NodeProcess(process: process, logPath: logPath, statusAddress: statusAddress)
        resources.onClose {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try? log.close()
        }
        return node
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// /status, or `nil` while the node does not answer.
    func status() async -> NodeStatus? {
        let address = statusAddress
        return try? await Task.detached { try StatusClient.status(from: address) }.value
    }

    /// Waits for the node to answer /status and to run its SIGHUP handler (logged at start).
    func ready(within seconds: Double) async -> Bool {
        await eventually(seconds) {
            guard log.contains("SIGHUP reloads") else { return false }
            return await status() != nil
        }
    }

    /// Waits at most `seconds` for the process to end; its exit status, or `nil` if it still runs.
    func exitStatus(within seconds: Double) async -> (reason: Process.TerminationReason, status: Int32)? {
        guard await eventually(seconds, { !process.isRunning }) else { return nil }
        return (process.terminationReason, process.terminationStatus)
    }
}

/// A loopback port nothing listens on now (bound to port 0 and released), for configs that must
/// name their ports before the process starts.
func freePort(udp: Bool) -> UInt16 {
    let fd = socket(AF_INET, udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    return bound ? UInt16(bigEndian: address.sin_port) : 0
}

/// A forward client that sends numbered datagrams every `interval` until stopped, remembering when
/// each left; replies are in `client.received`.
final class SteadySender: Sendable {
    let client: ForwardClient
    private let state = NIOLockedValueBox<(stop: Bool, sentAt: [Instant])>((false, []))
    private let task: NIOLockedValueBox<Task<Void, Error>?> = NIOLockedValueBox(nil)

    init(client: ForwardClient, to destination: UDPEndpoint, interval: TimeSpan) {
        self.client = client
        let state = self.state
        let spacing = UInt64(interval.nanoseconds)
        task.withLockedValue {
            $0 = Task {
                var seq: UInt32 = 0
                while !state.withLockedValue({ $0.stop }) {
                    var buffer = ByteBufferAllocator().buffer(capacity: 200)
                    buffer.writeInteger(seq)
                    buffer.writeRepeatingByte(0x5A, count: 196)
                    let datagram = OutgoingDatagram(data: buffer, destination: destination)
                    try await client.socket.channel.eventLoop.submit { client.socket.send(CollectionOfOne(datagram)) }
                        .get()
                    state.withLockedValue { $0.sentAt.append(Clocks.monotonic()) }
                    seq += 1
                    try await Task.sleep(nanoseconds: spacing)
                }
            }
        }
    }

    /// The instant each sequence number left (index = sequence number).
    var sentAt: [Instant] { state.withLockedValue { $0.sentAt } }

    func stop() async {
        state.withLockedValue { $0.stop = true }
        _ = await task.withLockedValue { $0 }?.result
    }
}

/// Runs `sdwan <arguments>` to completion (at most `seconds`, then killed): its exit status and
/// its stdout and stderr together.
func runSDWAN(_ arguments: [String], seconds: Double = 20) async throws -> (status: Int32?, output: String) {
    guard let binary = NodeProcess.binary else {
        throw LiveNodeTests.TestFailure("the sdwan binary is not built beside the tests")
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = Task.detached { String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
    let ended = await eventually(seconds) { !process.isRunning }
    if !ended {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
    return (ended ? process.terminationStatus : nil, await output.value)
}
