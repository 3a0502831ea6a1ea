import NIOCore
import NIOPosix
import SDWANConfig

/// An emulator with its own one-thread event loop group, for the command line: start and stop
/// block the calling thread (never call them on an event loop).
public final class WANEmulatorProcess: Sendable {
    public let emulator: WANEmulator
    private let group: MultiThreadedEventLoopGroup

    private init(emulator: WANEmulator, group: MultiThreadedEventLoopGroup) {
        self.emulator = emulator
        self.group = group
    }

    /// Starts an emulator on a new one-thread group (one core relays; the other is left to the
    /// edge and hub on a 2-core machine).
    public static func start(
        topology: Topology,
        timeline: Timeline,
        configuration: WANEmulatorConfiguration
    ) throws -> WANEmulatorProcess {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        do {
            let emulator = try loop.makeFutureWithTask {
                try await WANEmulator.start(
                    topology: topology,
                    timeline: timeline,
                    configuration: configuration,
                    on: loop
                )
            }.wait()
            return WANEmulatorProcess(emulator: emulator, group: group)
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    /// Closes every socket, shuts the group down and returns the final ground truth.
    public func stop() throws -> WANEmulatorStats {
        let emulator = self.emulator
        let stats = try emulator.eventLoop.makeFutureWithTask { try await emulator.stop() }.wait()
        try group.syncShutdownGracefully()
        return stats
    }

    /// One line per link: its name, where the edge sends and the hub-facing source.
    public func linkTable() throws -> String {
        let emulator = self.emulator
        return try emulator.eventLoop.makeFutureWithTask { try await emulator.execute("links") }.wait()
    }
}
