import SDWANCore
import SDWANLinkModel

/// A network to simulate or emulate: one hub, its branch edges and each branch's WAN links with a
/// model per direction. No traffic and no assertions (those belong to scenarios).
///
/// Read with `Topology.load(path:)`; the schema is in topologies/README.md and docs/simulator.md.
public struct Topology: Hashable, Sendable {
    /// The topology's name.
    public var name: String
    /// Free text.
    public var description: String?
    /// The hub every branch connects to.
    public var hub: TopologyHub
    /// The branches, in file order.
    public var branches: [TopologyBranch]

    public init(name: String, description: String? = nil, hub: TopologyHub, branches: [TopologyBranch]) {
        self.name = name
        self.description = description
        self.hub = hub
        self.branches = branches
    }

    /// The branch named `name`.
    public func branch(named name: String) -> TopologyBranch? { branches.first { $0.name == name } }
}

/// The hub endpoint.
public struct TopologyHub: Hashable, Sendable {
    public var name: String

    public init(name: String) { self.name = name }
}

/// A branch edge and its WAN links.
public struct TopologyBranch: Hashable, Sendable {
    public var name: String
    /// The links, in file order (names unique within the branch).
    public var links: [TopologyLink]

    public init(name: String, links: [TopologyLink]) {
        self.name = name
        self.links = links
    }

    /// The link named `name`.
    public func link(named name: String) -> TopologyLink? { links.first { $0.name == name } }
}

/// What a WAN link is, for reports and for policies that prefer or avoid a kind.
public enum LinkKind: String, CaseIterable, Hashable, Sendable {
    case mpls
    case broadband
    case lte
    case satellite
    case ethernet
    case other
}

/// One WAN link between a branch and the hub, with a model per direction.
public struct TopologyLink: Hashable, Sendable {
    /// Unique within its branch.
    public var name: String
    public var kind: LinkKind
    /// Preference tier: 1 is primary, higher tiers are used when lower ones cannot serve.
    public var tier: Int
    /// Relative cost of sending on this link (≥ 0; e.g. per GB), for cost-aware policies.
    public var cost: Double
    /// Whether traffic is billed by volume (LTE, satellite plans): policies keep bulk off it.
    public var metered: Bool
    /// The preset the link started from, if any.
    public var preset: String?
    /// Edge → hub.
    public var up: LinkDirectionParameters
    /// Hub → edge.
    public var down: LinkDirectionParameters

    public init(
        name: String,
        kind: LinkKind,
        tier: Int = 1,
        cost: Double = 0,
        metered: Bool = false,
        preset: String? = nil,
        up: LinkDirectionParameters,
        down: LinkDirectionParameters
    ) {
        self.name = name
        self.kind = kind
        self.tier = tier
        self.cost = cost
        self.metered = metered
        self.preset = preset
        self.up = up
        self.down = down
    }
}
