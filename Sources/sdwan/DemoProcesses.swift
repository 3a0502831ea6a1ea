import Dispatch
import Foundation

/// The demo's child processes (hub, emulator, edge), tracked by PID and stopped in reverse order:
/// SIGTERM, then SIGKILL after a grace period. Their output goes to log files in the run's
/// directory, shown when something fails.
final class DemoChildren: @unchecked Sendable {
    struct Child {
        var name: String
        var process: Process
        var log: String
    }

    private let lock = NSLock()
    private var children: [Child] = []

    /// PIDs of the children started so far, in start order.
    var pids: [(name: String, pid: Int32)] {
        lock.lock()
        defer { lock.unlock() }
        return children.map { ($0.name, $0.process.processIdentifier) }
    }

    /// Starts `executable arguments…` with stdout and stderr appended to `log`.
    @discardableResult
    func start(_ name: String, executable: String, arguments: [String], log: String) throws -> Int32 {
        _ = FileManager.default.createFile(atPath: log, contents: nil, attributes: [.posixPermissions: 0o600])
        guard let output = FileHandle(forWritingAtPath: log) else { throw DemoError("cannot open \(log)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? output.close()
        lock.lock()
        children.append(Child(name: name, process: process, log: log))
        lock.unlock()
        return process.processIdentifier
    }

    /// The first child that has exited, with its status.
    func exited() -> (name: String, status: Int32, log: String)? {
        lock.lock()
        defer { lock.unlock() }
        for child in children where !child.process.isRunning {
            return (child.name, child.process.terminationStatus, child.log)
        }
        return nil
    }

    /// Stops every child, newest first: SIGTERM, up to `grace` seconds, then SIGKILL. Waits for
    /// each, so none is left behind (not even as a zombie).
    func stopAll(grace: Double = 3) {
        lock.lock()
        let list = children.reversed()
        children = []
        lock.unlock()
        for child in list where child.process.isRunning {
            kill(child.process.processIdentifier, SIGTERM)
        }
        let deadline = Date().addingTimeInterval(grace)
        for child in list {
            while child.process.isRunning && Date() < deadline { usleep(20_000) }
            if child.process.isRunning {
                kill(child.process.processIdentifier, SIGKILL)
                child.process.waitUntilExit()
            }
        }
    }

    /// The last `lines` lines of a child's log.
    static func tail(_ path: String, lines: Int = 15) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// SIGINT and SIGTERM set a flag the demo's loop checks between steps, so that it stops its
/// children and removes its directory instead of dying with them running.
final class DemoInterrupt: @unchecked Sendable {
    private let lock = NSLock()
    private var signalled: Int32?
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "sdwan.demo.signals")

    /// The signal received, if any.
    var received: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return signalled
    }

    func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [self] in
                lock.lock()
                if signalled == nil { signalled = number }
                lock.unlock()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Sleeps up to `seconds`, returning early (false) on a signal.
    func sleep(_ seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if received != nil { return false }
            usleep(UInt32(min(20_000, max(1_000, end.timeIntervalSinceNow * 1e6))))
        }
        return received == nil
    }
}
