/// One WAN link of a tunnel, as the engine needs it (the shell fills it from the YAML config).
public struct EngineLinkConfiguration: Equatable, Sendable {
    /// Link id on the wire (unique within the tunnel).
    public var id: UInt8
    public var name: String
    /// Preference tier (lower first) and relative cost (docs/path-selection.md).
    public var tier: Int
    public var cost: Int
    /// Billed by volume: probed at the standby interval while idle, avoided by bulk.
    public var metered: Bool
    /// The link's IP MTU (the outer packet's size limit), e.g. 1500, 1492 for PPPoE.
    public var mtu: Int
    /// Whether the outer header is IPv6 (48 bytes of IP+UDP) rather than IPv4 (28).
    public var ipv6Outer: Bool
    /// Our sending rate on this link in bit/s, shaped in sdwan (0: not shaped).
    public var shapedUpBitsPerSecond: Int64
    /// The rate the peer may send to us on this link (announced to it; 0: not shaped).
    public var shapedDownBitsPerSecond: Int64
    /// Where this link's datagrams go (the edge: the hub's address for this link). The hub learns
    /// it from authenticated packets instead.
    public var destination: UDPEndpoint?
    /// The path monitor's settings for this link.
    public var monitor: PathMonitorConfiguration

    public init(
        id: UInt8,
        name: String,
        tier: Int = 1,
        cost: Int = 1,
        metered: Bool = false,
        mtu: Int = 1_500,
        ipv6Outer: Bool = false,
        shapedUpBitsPerSecond: Int64 = 0,
        shapedDownBitsPerSecond: Int64 = 0,
        destination: UDPEndpoint? = nil,
        monitor: PathMonitorConfiguration = PathMonitorConfiguration()
    ) {
        self.id = id
        self.name = name
        self.tier = tier
        self.cost = cost
        self.metered = metered
        self.mtu = mtu
        self.ipv6Outer = ipv6Outer
        self.shapedUpBitsPerSecond = shapedUpBitsPerSecond
        self.shapedDownBitsPerSecond = shapedDownBitsPerSecond
        self.destination = destination
        self.monitor = monitor
        if metered { self.monitor.standby = true }
    }

    /// Bytes of outer IP + UDP header on this link.
    public var outerHeaderLength: Int { ipv6Outer ? WireFormat.outerIPv6UDPLength : WireFormat.outerIPv4UDPLength }
}

/// How a class uses XOR FEC (docs/fec.md).
public struct ClassFECPolicy: Equatable, Sendable {
    /// Members per group when FEC is on and not adaptive.
    public var groupSize: Int
    /// Interleaving stride (≥ the expected burst length).
    public var stride: Int
    /// A group closes when this much time has passed since its first member (the class's FEC
    /// delay budget).
    public var delayBudget: TimeSpan
    /// When set, k (or off) follows the measured loss of the class's links.
    public var adaptive: FECController.Configuration?

    public init(
        groupSize: Int = 4,
        stride: Int = 10,
        delayBudget: TimeSpan = .milliseconds(20),
        adaptive: FECController.Configuration? = nil
    ) {
        self.groupSize = groupSize
        self.stride = stride
        self.delayBudget = delayBudget
        self.adaptive = adaptive
    }
}

/// Everything one tunnel engine needs: its links, its classes and their policies.
public struct EngineConfiguration: Sendable {
    public var links: [EngineLinkConfiguration]
    /// The class table; `classRules` index into it and `defaultClassIndex` catches the rest. Both
    /// ends must use the same table (the class id on the wire is the index).
    public var classes: [TrafficClass]
    public var classRules: [ClassRule]
    public var defaultClassIndex: Int
    /// FEC per class (same indices as `classes`); `nil` = no FEC for that class.
    public var fec: [ClassFECPolicy?]
    /// Tunnel sequences tracked by the receive-side dedupe: must cover the largest delay skew
    /// between links times the packet rate (65 536 ≈ 650 ms at 100 000 packets/s).
    public var dedupeWindow: Int
    /// Rate limit of ICMP "too big" replies (per second) for oversize inner packets.
    public var icmpPerSecond: Int
    /// Address the tunnel answers ICMP from, per family (the TUN interface's addresses).
    public var routerAddressV4: IPAddress?
    public var routerAddressV6: IPAddress?
    /// Clamp the MSS of TCP SYNs to the inner MTU (L3 mode).
    public var clampMSS: Bool

    public init(
        links: [EngineLinkConfiguration],
        classes: [TrafficClass] = DefaultClasses.classes,
        classRules: [ClassRule] = DefaultClasses.rules,
        defaultClassIndex: Int? = nil,
        fec: [ClassFECPolicy?]? = nil,
        dedupeWindow: Int = 65_536,
        icmpPerSecond: Int = 10,
        routerAddressV4: IPAddress? = nil,
        routerAddressV6: IPAddress? = nil,
        clampMSS: Bool = true
    ) {
        precondition(!classes.isEmpty && classes.count <= 255, "1 to 255 classes")
        precondition(Set(links.map(\.id)).count == links.count, "link ids are unique")
        self.links = links
        self.classes = classes
        self.classRules = classRules
        self.defaultClassIndex = defaultClassIndex ?? classes.count - 1
        self.fec = fec ?? classes.map { _ in nil }
        precondition(self.fec.count == classes.count, "one FEC policy slot per class")
        self.dedupeWindow = dedupeWindow
        self.icmpPerSecond = icmpPerSecond
        self.routerAddressV4 = routerAddressV4
        self.routerAddressV6 = routerAddressV6
        self.clampMSS = clampMSS
    }

    /// The largest inner packet every link carries (docs/fec.md "MTU budget", wire-format.md §3):
    /// the smallest link MTU − outer IP/UDP − transport overhead (36) − the largest frame a packet
    /// may become: a PARITY frame (3 + 13 + longest DATA body), whose DATA body is the inner packet
    /// plus the largest DATA header (20).
    public var innerMTU: Int {
        let smallest = links.map { $0.mtu - $0.outerHeaderLength }.min() ?? 1_500 - WireFormat.outerIPv6UDPLength
        return smallest - WireFormat.transportOverhead - WireFormat.frameHeaderLength - ParityFrame.fieldsLength
            - DataFrameHeader.maximumLength
    }
}
