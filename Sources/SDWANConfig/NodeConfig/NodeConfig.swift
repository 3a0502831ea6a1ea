import SDWANCore

/// Where a secret (private key, PSK) comes from: a key file (refused when group or others can read
/// it) or inline in the config (then the config file itself must be private).
public enum SecretReference: Hashable, Sendable {
    case file(path: String)
    case inline(base64: String)
}

/// One hub as an edge knows it (docs/operations.md, "hubs").
public struct HubPeerConfig: Sendable {
    public var name: String
    public var publicKey: PublicKey
    public var presharedKey: SecretReference?
    /// The hub address links use unless they name their own.
    public var endpoint: UDPEndpoint?
    /// This hub's address per link name. With `hubs:` it holds every link (resolved when the config
    /// is decoded); with the old single `hub:` it is empty and each link's `hub_endpoint` applies.
    public var linkEndpoints: [String: UDPEndpoint] = [:]

    /// Where `link`'s datagrams to this hub go.
    public func endpoint(for link: NodeLinkConfig) -> UDPEndpoint {
        linkEndpoints[link.name] ?? link.hubEndpoint
    }
}

/// One WAN link of an edge (docs/operations.md, "links").
public struct NodeLinkConfig: Sendable {
    public var name: String
    public var id: UInt8
    /// Local address (and port; 0 = any) the link's socket binds to.
    public var local: UDPEndpoint
    /// Interface the socket is bound to (SO_BINDTODEVICE); `nil`: routing decides.
    public var interface: String?
    /// The hub's address for this link (its family is the link's outer family).
    public var hubEndpoint: UDPEndpoint
    public var tier: Int
    public var cost: Int
    public var metered: Bool
    public var mtu: Int
    public var shapedUpBitsPerSecond: Int64
    public var shapedDownBitsPerSecond: Int64
    public var probeInterval: TimeSpan
    public var standbyInterval: TimeSpan

    /// The engine's view of the link.
    public var engineLink: EngineLinkConfiguration {
        var monitor = PathMonitorConfiguration()
        monitor.probes.interval = probeInterval
        monitor.probes.standbyInterval = standbyInterval
        return EngineLinkConfiguration(
            id: id,
            name: name,
            tier: tier,
            cost: cost,
            metered: metered,
            mtu: mtu,
            ipv6Outer: !hubEndpoint.address.isV4,
            shapedUpBitsPerSecond: shapedUpBitsPerSecond,
            shapedDownBitsPerSecond: shapedDownBitsPerSecond,
            destination: hubEndpoint,
            monitor: monitor
        )
    }
}

/// A local UDP port on the edge carried to a UDP target on the hub's side (docs/operations.md,
/// "UDP port forwards").
public struct UDPForwardConfig: Sendable {
    public var name: String
    public var listen: UDPEndpoint
    public var target: UDPEndpoint
    public var className: String
    public var classIndex: Int
    /// Client flows (source address and port) tracked at once; more are refused and counted.
    public var maxFlows: Int
    public var idleTimeout: TimeSpan
}

/// The hub side of port forwards: which targets branches may reach and how many flows at once.
public struct UDPTargetsConfig: Sendable {
    public var allowed: [UDPEndpoint]
    public var maxFlows: Int
    public var idleTimeout: TimeSpan

    public init(allowed: [UDPEndpoint] = [], maxFlows: Int = 1_024, idleTimeout: TimeSpan = .seconds(60)) {
        self.allowed = allowed
        self.maxFlows = maxFlows
        self.idleTimeout = idleTimeout
    }
}

/// One branch as the hub's config names it.
public struct BranchConfig: Sendable {
    public var name: String
    public var publicKey: PublicKey
    public var presharedKey: SecretReference?
    public var allowedPrefixes: [IPPrefix]
}

/// Something `check` and start-up print but accept.
public struct ConfigWarning: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: String
    public var message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): warning: \(field.isEmpty ? "" : "\(field): ")\(message)"
    }
}

/// `sdwan edge`'s configuration.
public struct EdgeConfig: Sendable {
    public var file: String
    public var name: String
    public var privateKey: SecretReference
    /// The hubs in order of preference (the old single `hub:` is a one-element list); never empty.
    public var hubs: [HubPeerConfig]
    /// When traffic returns to a preferred hub (`hub_selection:`).
    public var hubSelection: HubSelector.Configuration
    public var links: [NodeLinkConfig]
    public var classes: ClassTable
    /// The branch's inner address: the source of forwarded flows (inside the hub's allowed
    /// prefixes for this branch).
    public var innerAddress: IPAddress?
    public var forwards: [UDPForwardConfig]
    /// TCP address of /status and /metrics (loopback by default).
    public var statusListen: UDPEndpoint
    public var warnings: [ConfigWarning]
    /// The TUN device facing the branch LAN (`ingress.tun`), if any.
    public var tun: TUNConfig? = nil

    /// The config field naming hub `index`'s PSK file (for errors).
    public func hubPSKField(_ index: Int) -> String { hubsListed ? "hubs[\(index)].psk_file" : "hub.psk_file" }

    /// Whether the config used `hubs:` (rather than the single `hub:`).
    public var hubsListed: Bool { hubs.count > 1 || !hubs[0].linkEndpoints.isEmpty }

    /// The first (preferred) hub.
    public var hub: HubPeerConfig { hubs[0] }

    /// The engine configuration the edge runs towards the first hub.
    public var engineConfiguration: EngineConfiguration { engineConfiguration(hub: 0) }

    /// The engine configuration of the tunnel to `hubs[hub]`: the same links and classes, each
    /// link aimed at that hub's endpoint for it, and the TUN's router addresses (the source of
    /// the engine's ICMP replies).
    public func engineConfiguration(hub: Int) -> EngineConfiguration {
        var c = classes.engineConfiguration(
            links: links.map { link in
                var engineLink = link.engineLink
                engineLink.destination = hubs[hub].endpoint(for: link)
                return engineLink
            }
        )
        c.routerAddressV4 = tun?.routerAddress(v4: true)
        c.routerAddressV6 = tun?.routerAddress(v4: false)
        return c
    }
}

/// `sdwan hub`'s configuration.
public struct HubConfig: Sendable {
    public var file: String
    public var name: String
    public var privateKey: SecretReference
    /// One socket per address; replies leave from the address the branch sent to.
    public var listen: [UDPEndpoint]
    public var branches: [BranchConfig]
    public var forwarding: [BranchForwardingRule]
    public var udpTargets: UDPTargetsConfig
    public var classes: ClassTable
    public var statusListen: UDPEndpoint
    public var warnings: [ConfigWarning]
    /// The TUN device facing the data centre (`ingress.tun`), if any.
    public var tun: TUNConfig? = nil

    /// The engine configuration of every branch's tunnel (links come from announcements).
    public var engineConfiguration: EngineConfiguration {
        var c = classes.engineConfiguration(links: [])
        c.routerAddressV4 = tun?.routerAddress(v4: true)
        c.routerAddressV6 = tun?.routerAddress(v4: false)
        return c
    }
}

/// A node config: `role: edge` or `role: hub`.
public enum NodeConfig: Sendable {
    case edge(EdgeConfig)
    case hub(HubConfig)

    public var warnings: [ConfigWarning] {
        switch self {
        case .edge(let c): c.warnings
        case .hub(let c): c.warnings
        }
    }

    public var statusListen: UDPEndpoint {
        switch self {
        case .edge(let c): c.statusListen
        case .hub(let c): c.statusListen
        }
    }

    /// The default /status address of each role.
    public static let defaultEdgeStatus = UDPEndpoint(address: .v4(0x7F00_0001), port: 9_470)
    public static let defaultHubStatus = UDPEndpoint(address: .v4(0x7F00_0001), port: 9_471)
}
