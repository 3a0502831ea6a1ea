import Logging
import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore

/// A running edge or hub with its status server and event loop: what `sdwan edge` / `sdwan hub`
/// start, reload on SIGHUP and stop on SIGTERM/SIGINT.
public final class NodeRunner: @unchecked Sendable {
    public let group: MultiThreadedEventLoopGroup
    public private(set) var configuration: NodeConfig
    public let edge: EdgeNode?
    public let hub: HubNode?
    public let statusServer: StatusServer
    let logger: Logger

    private init(
        group: MultiThreadedEventLoopGroup,
        configuration: NodeConfig,
        edge: EdgeNode?,
        hub: HubNode?,
        statusServer: StatusServer,
        logger: Logger
    ) {
        self.group = group
        self.configuration = configuration
        self.edge = edge
        self.hub = hub
        self.statusServer = statusServer
        self.logger = logger
    }

    /// Starts the node of `configuration` on a one-thread event loop group, then its status server.
    /// Blocks until both are up (or throws, having closed what it opened).
    public static func start(_ configuration: NodeConfig, logger: Logger) throws -> NodeRunner {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        var edge: EdgeNode?
        var hub: HubNode?
        do {
            switch configuration {
            case .edge(let c): edge = try EdgeNode.start(configuration: c, eventLoop: loop, logger: logger).wait()
            case .hub(let c): hub = try HubNode.start(configuration: c, eventLoop: loop, logger: logger).wait()
            }
            let server =
                if let edge {
                    try StatusServer.start(for: edge, at: configuration.statusListen).wait()
                } else {
                    try StatusServer.start(for: hub!, at: configuration.statusListen).wait()
                }
            logger.notice("status and metrics", metadata: ["address": .string("http://\(server.localEndpoint)/status")])
            return NodeRunner(
                group: group,
                configuration: configuration,
                edge: edge,
                hub: hub,
                statusServer: server,
                logger: logger
            )
        } catch {
            try? edge?.stop().wait()
            try? hub?.stop().wait()
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    /// SIGHUP: re-reads and validates `path`, then applies it live (`EdgeNode.apply`,
    /// `HubNode.apply`: no new handshake, unchanged classes lose nothing). A bad config, or one
    /// the node cannot apply (a socket that will not bind, a missing PSK file), is refused and
    /// logged, and the running one kept. Returns whether the new config runs now.
    @discardableResult
    public func reload(path: String) async -> Bool {
        let candidate: NodeConfig
        do {
            candidate = try NodeConfig.load(path: path)
            try candidate.verifySecrets()
        } catch {
            logger.error("reload refused: the running configuration is kept", metadata: ["error": .string("\(error)")])
            return false
        }
        for warning in candidate.warnings { logger.warning("\(warning)") }
        do {
            let lines: [String]
            switch (candidate, edge, hub) {
            case (.edge(let c), let edge?, _):
                lines = try await edge.apply(c).get()
                configuration = .edge(try await edge.eventLoop.submit { edge.configuration }.get())
            case (.hub(let c), _, let hub?):
                lines = try await hub.apply(c).get()
                configuration = .hub(try await hub.eventLoop.submit { hub.configuration }.get())
            default:
                throw ReloadRefused("the role changed (edge ↔ hub): restart with the other command")
            }
            if lines.isEmpty {
                logger.notice("reload: configuration unchanged")
            } else {
                logger.notice(
                    "reload applied",
                    metadata: ["changes": .array(lines.map { .string($0) }), "count": .stringConvertible(lines.count)]
                )
            }
            return true
        } catch {
            logger.error("reload refused: the running configuration is kept", metadata: ["error": .string("\(error)")])
            return false
        }
    }

    /// Graceful stop: stops reading (the nodes ignore batches once stopped), closes the status
    /// server and every socket (what the last batch queued was written and flushed with it), then
    /// shuts the event loop down.
    public func stop() async {
        try? await statusServer.close().get()
        try? await edge?.stop().get()
        try? await hub?.stop().get()
        try? await group.shutdownGracefully()
        logger.notice("stopped")
    }
}
