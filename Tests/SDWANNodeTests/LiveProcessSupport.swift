import Foundation
import NIOConcurrencyHelpers
import NIOCore
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANNode

/// `sdwan edge` / `sdwan hub` as real processes: the binary SwiftPM built beside this test
/// bundle, its stderr in a log file, stopped by PID (SIGKILL at cleanup if still running).
///
/// Every address in their configs is port 0 and read back from the log: a port picked free
/// beforehand could be handed to another test's socket in between (suites run in parallel).
final class NodeProcess: @unchecked Sendable {
    let process: Process
    let logPath: String

    /// The `sdwan` executable next to the test binary (`swift build` builds both).
    static var binary: URL? {
        guard let test = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        let url = URL(fileURLWithPath: test).deletingLastPathComponent().appendingPathComponent("sdwan")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    private init(process: Process, logPath: String) {
        self.process = process
        self.logPath = logPath
    }

    /// Starts `sdwan <role> --config <configPath>` (inside network namespace `namespace` through
    /// `ip netns exec`, which execs in place: the PID is the node's); cleanup kills it by PID if
    /// it still runs.
    static func start(
        role: String,
        configPath: String,
        logPath: String,
        resources: LiveResources,
        namespace: String? = nil
    ) throws -> NodeProcess {
        guard let binary else { throw LiveNodeTests.TestFailure("the sdwan binary is not built beside the tests") }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace, binary.path, role, "--config", configPath]
        } else {
            process.executableURL = binary
            process.arguments = [role, "--config", configPath]
        }
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let node = NodeProcess(process: process, logPath: logPath)
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

    /// The values of metadata `key` on the log lines that contain `message`, in log order.
    func logged(_ key: String, on message: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains(message) }.compactMap { line in
            guard let start = line.range(of: "\(key)=") else { return nil }
            return String(line[start.upperBound...].prefix { $0 != " " })
        }
    }

    /// The bound address of every listen address (the hub) or link (the edge), as logged.
    var listening: [UDPEndpoint] { logged("address", on: "] listening").compactMap { UDPEndpoint($0) } }

    /// The forward's bound address (the edge).
    var forwardAddress: UDPEndpoint? { logged("listen", on: "forward listening").first.flatMap { UDPEndpoint($0) } }

    /// The status server's address, from `address=http://HOST:PORT/status`.
    var statusAddress: UDPEndpoint? {
        logged("address", on: "status and metrics").first.flatMap {
            UDPEndpoint($0.replacingOccurrences(of: "http://", with: "").replacingOccurrences(of: "/status", with: ""))
        }
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// /status, or `nil` while the node does not answer.
    func status() async -> NodeStatus? {
        guard let address = statusAddress else { return nil }
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
