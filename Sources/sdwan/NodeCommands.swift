import ArgumentParser
import Dispatch
import Foundation
import Logging
import SDWANConfig
import SDWANCore
import SDWANNode
import ServiceLifecycle

/// `sdwan check FILE`: validates a node config (and reads its key files); starts nothing.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate an edge or hub config and its key files; start nothing (docs/operations.md)."
    )

    @Argument(help: "The config file.")
    var file: String

    func run() throws {
        let config: NodeConfig
        do {
            config = try NodeConfig.load(path: file)
            try config.verifySecrets()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        for warning in config.warnings { FileHandle.standardError.write(Data("\(warning)\n".utf8)) }
        switch config {
        case .edge(let c):
            print(
                "\(file): edge \(c.name): \(c.links.count) links, \(c.classes.classes.count) classes, \(c.forwards.count) forwards"
            )
            if let tun = c.tun { print(Self.describe(tun, defaultRoutes: "none")) }
        case .hub(let c):
            print("\(file): hub \(c.name): \(c.listen.count) listen addresses, \(c.branches.count) branches")
            if let tun = c.tun { print(Self.describe(tun, defaultRoutes: "the branches' allowed prefixes")) }
        }
    }

    /// The TUN device as the node will set it up (docs/operations.md, "L3 mode"), so an engineer
    /// sees the computed MTU before starting anything.
    static func describe(_ tun: TUNConfig, defaultRoutes: String) -> String {
        let addresses = tun.addresses.map(\.description).joined(separator: ", ")
        let routes = tun.routes.isEmpty ? defaultRoutes : tun.routes.map(\.description).joined(separator: ", ")
        let mtu = tun.mtuIsExplicit ? "as configured" : "from the smallest link MTU"
        return "  tun \(tun.name): addresses \(addresses); routes \(routes); MTU \(tun.mtu) (\(mtu))"
    }
}

/// Runs a node until SIGTERM/SIGINT (graceful: exit 0); SIGHUP re-reads and applies the config.
func runNode(configPath: String, expectEdge: Bool) throws {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .info
        return handler
    }
    let logger = Logger(label: expectEdge ? "sdwan.edge" : "sdwan.hub")
    let config: NodeConfig
    do {
        config = try NodeConfig.load(path: configPath)
        try config.verifySecrets()
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
    switch config {
    case .edge where !expectEdge, .hub where expectEdge:
        FileHandle.standardError.write(
            Data(
                "error: \(configPath): role is \(expectEdge ? "hub" : "edge"); use `sdwan \(expectEdge ? "hub" : "edge")`\n"
                    .utf8
            )
        )
        throw ExitCode(1)
    default:
        break
    }
    for warning in config.warnings { logger.warning("\(warning)") }

    // Until the service group and the reload stream own them, these signals are ignored rather
    // than kill the half-started node.
    for number in [SIGINT, SIGTERM, SIGHUP] { signal(number, SIG_IGN) }
    let runner: NodeRunner
    do {
        runner = try NodeRunner.start(config, logger: logger)
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
    // swift-service-lifecycle: SIGTERM and SIGINT shut the group down gracefully (the service
    // stops the node and returns); SIGHUP reloads inside the service.
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [.init(service: NodeService(runner: runner, configPath: configPath, logger: logger))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
    )
    // ArgumentParser runs this command synchronously: the group runs in a task while the main
    // thread waits.
    let finished = DispatchSemaphore(value: 0)
    let failure = ErrorBox()
    Task {
        do { try await group.run() } catch { failure.error = "\(error)" }
        finished.signal()
    }
    finished.wait()
    if let error = failure.error {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// The service group's error, handed from its task to the waiting main thread (the semaphore
/// orders the accesses).
private final class ErrorBox: @unchecked Sendable {
    var error: String?
}

struct Edge: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the branch edge (docs/operations.md).")
    @Option(help: "The edge's config file.")
    var config: String
    func run() throws { try runNode(configPath: config, expectEdge: true) }
}

struct Hub: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the hub concentrator (docs/operations.md).")
    @Option(help: "The hub's config file.")
    var config: String
    func run() throws { try runNode(configPath: config, expectEdge: false) }
}

/// `sdwan status`: asks a running node.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a running node's links, classes and drops.")
    @Option(help: "The node's status address (default 127.0.0.1:9470, the edge's; the hub's is :9471).")
    var address: String?
    @Option(help: "Read the status address from this config file.")
    var config: String?
    @Flag(help: "Print the /status JSON as served.")
    var json = false

    func run() throws {
        var endpoint = NodeConfig.defaultEdgeStatus
        if let config {
            do { endpoint = try NodeConfig.load(path: config).statusListen } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        if let address {
            guard let parsed = UDPEndpoint(address) else {
                throw ValidationError("--address `\(address)` is not an address and port (127.0.0.1:9470)")
            }
            endpoint = parsed
        }
        do {
            if json {
                print(try StatusClient.get("/status", from: endpoint), terminator: "")
            } else {
                print(try StatusClient.status(from: endpoint).table)
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
