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

    /// SIGHUP: re-reads and validates `path`. A bad config is refused and logged, the running one
    /// kept. A valid one is accepted; what it changes is logged. Changes to links, classes,
    /// branches and forwards are not applied live yet (the engine's tables are fixed at start):
    /// they take effect at the next restart, and the log says so.
    @discardableResult
    public func reload(path: String) -> Bool {
        let candidate: NodeConfig
        do {
            candidate = try NodeConfig.load(path: path)
            try candidate.verifySecrets()
        } catch {
            logger.error("reload refused: the running configuration is kept", metadata: ["error": .string("\(error)")])
            return false
        }
        for warning in candidate.warnings { logger.warning("\(warning)") }
        let changes = ConfigDifference.describe(from: configuration, to: candidate)
        if changes.isEmpty {
            logger.notice("reload: configuration unchanged")
        } else {
            logger.notice(
                "reload: configuration valid; changes take effect at restart",
                metadata: ["changes": .string(changes.joined(separator: "; "))]
            )
        }
        return true
    }

    /// Stops the node and its status server and shuts the event loop down.
    public func stop() {
        try? statusServer.close().wait()
        try? edge?.stop().wait()
        try? hub?.stop().wait()
        try? group.syncShutdownGracefully()
        logger.notice("stopped")
    }
}

/// What a reload would change, for the log.
enum ConfigDifference {
    static func describe(from old: NodeConfig, to new: NodeConfig) -> [String] {
        switch (old, new) {
        case (.edge(let a), .edge(let b)):
            var out: [String] = []
            if a.links.map(\.name) != b.links.map(\.name) {
                out.append("links \(a.links.map(\.name)) → \(b.links.map(\.name))")
            }
            if a.classes.classes != b.classes.classes || a.classes.rules != b.classes.rules {
                out.append("classes changed")
            }
            if a.forwards.map(\.name) != b.forwards.map(\.name) { out.append("forwards changed") }
            return out
        case (.hub(let a), .hub(let b)):
            var out: [String] = []
            if a.branches.map(\.name) != b.branches.map(\.name) { out.append("branches changed") }
            if a.classes.classes != b.classes.classes || a.classes.rules != b.classes.rules {
                out.append("classes changed")
            }
            if a.listen != b.listen { out.append("listen addresses changed") }
            return out
        default:
            return ["role changed (edge ↔ hub): restart needed"]
        }
    }
}
