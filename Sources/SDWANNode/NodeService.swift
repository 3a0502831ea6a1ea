import Logging
import ServiceLifecycle
import UnixSignals

/// A running node as a swift-service-lifecycle `Service` (docs/operations.md "Lifecycle"): it
/// reloads on every SIGHUP until the service group's graceful shutdown (SIGTERM, SIGINT), then
/// stops the node gracefully and returns.
public struct NodeService: Service {
    public let runner: NodeRunner
    public let configPath: String
    let logger: Logger

    public init(runner: NodeRunner, configPath: String, logger: Logger) {
        self.runner = runner
        self.configPath = configPath
        self.logger = logger
    }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        logger.notice("running; SIGHUP reloads, SIGTERM or SIGINT stops", metadata: ["config": .string(configPath)])
        // Reloads run one at a time, in signal order; the sequence ends at graceful shutdown.
        for await _ in hangups.cancelOnGracefulShutdown() {
            logger.notice("SIGHUP: reloading", metadata: ["config": .string(configPath)])
            await runner.reload(path: configPath)
        }
        logger.notice("graceful shutdown: stop reading, flush, close sockets")
        await runner.stop()
    }
}
