import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Shell helpers for the namespace tests: every command bounded in time, every process ended by
/// its own PID. Anything that blocks (waiting for a process, polling a log) runs on a Dispatch
/// thread via `offPool`, never on Swift's cooperative pool: that pool has one thread per core (two
/// here), and a test blocking one of them starves every async suite running beside it.
enum Netns {
    /// Runs blocking `body` on a Dispatch thread and awaits it.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// `runBlocking` off the cooperative pool.
    @discardableResult
    static func run(_ arguments: [String], timeout: Double = 20, input: String? = nil) async throws -> Output {
        try await offPool { try runBlocking(arguments, timeout: timeout, input: input) }
    }

    /// Root with /dev/net/tun and iproute2: the namespace tests run (CI runs as root).
    static var available: Bool {
        getuid() == 0 && FileManager.default.fileExists(atPath: "/dev/net/tun")
            && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
    }

    /// Whether every tool the full namespace test needs is installed (scripts/install-deps).
    static func haveTools(_ tools: [String]) -> Bool {
        tools.allSatisfy { tool in
            ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"].contains {
                FileManager.default.isExecutableFile(atPath: $0 + tool)
            }
        }
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var ok: Bool { status == 0 }
    }

    struct CommandError: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `arguments` (the first is the program, looked up in PATH) and waits at most `timeout`
    /// seconds (then kills it by PID).
    @discardableResult
    static func runBlocking(_ arguments: [String], timeout: Double = 20, input: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inPipe.fileHandleForWriting.close()
        }
        // Read both pipes while the process runs, so a chatty command cannot fill a pipe and stall.
        let outData = LockedData()
        let errData = LockedData()
        let group = DispatchGroup()
        for (pipe, sink) in [(out, outData), (err, errData)] {
            group.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        let pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
        group.wait()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: outData.get(), as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self)
        )
    }

    /// Runs and throws with the command's stderr when it fails.
    @discardableResult
    static func must(_ arguments: [String], timeout: Double = 20) async throws -> String {
        let output = try await run(arguments, timeout: timeout)
        guard output.ok else {
            throw CommandError(
                description: "\(arguments.joined(separator: " ")): exit \(output.status): \(output.stderr)"
            )
        }
        return output.stdout
    }

    /// A process left running (a node, a server, a capture), stopped by `stop()` with SIGTERM,
    /// then SIGKILL after a second. Its output goes to `logPath`.
    final class Background: @unchecked Sendable {
        let process = Process()
        let logPath: String

        init(_ arguments: [String], logPath: String) throws {
            self.logPath = logPath
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        /// Waits until the log contains `text` (at most `timeout` seconds).
        func waitForLog(_ text: String, timeout: Double = 10) async -> Bool {
            (try? await Netns.offPool { self.waitForLogBlocking(text, timeout: timeout) }) ?? false
        }

        func waitForLogBlocking(_ text: String, timeout: Double) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if log.contains(text) { return true }
                if !process.isRunning { return log.contains(text) }
                usleep(50_000)
            }
            return false
        }

        func stop() {
            let pid = process.processIdentifier
            guard process.isRunning else { return }
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(2)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }

        /// Waits for the process to exit by itself (at most `timeout` seconds), else stops it.
        func wait(timeout: Double) async {
            _ = try? await Netns.offPool { self.waitBlocking(timeout: timeout) }
        }

        func waitBlocking(timeout: Double) {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            stop()
        }
    }
}

/// Data set by one reader thread and read after it finished.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}
