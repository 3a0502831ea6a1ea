import SDWANCore

/// The `ingress: tun:` block of an edge or a hub (docs/operations.md, "TUN mode"): the layer-3
/// device inner packets enter and leave by. On the edge it faces the branch LAN, on the hub the
/// data centre.
///
/// ```yaml
/// ingress:
///   tun:
///     name: sdwan0                        # interface name (1–15 bytes)
///     addresses: [10.1.255.1/32, fd00:1:ff::1/128]   # the tunnel end's own addresses
///     routes: [10.200.0.0/16, fd00:200::/48]          # prefixes sent into the tunnel
///     mtu: 1400                           # default: the inner MTU (docs/operations.md)
/// ```
public struct TUNConfig: Equatable, Sendable {
    public var name: String
    /// The interface's addresses; the first of each family answers ICMP "too big".
    public var addresses: [InterfaceAddress]
    /// Prefixes routed into the device (the hub adds its branches' allowed prefixes when empty).
    public var routes: [IPPrefix]
    /// The interface MTU.
    public var mtu: Int
    /// Whether `mtu` was written in the file (otherwise computed from the links).
    public var mtuIsExplicit: Bool

    public init(name: String, addresses: [InterfaceAddress], routes: [IPPrefix], mtu: Int, mtuIsExplicit: Bool) {
        self.name = name
        self.addresses = addresses
        self.routes = routes
        self.mtu = mtu
        self.mtuIsExplicit = mtuIsExplicit
    }

    /// The first address of a family: the source of ICMP errors the tunnel sends toward the LAN.
    public func routerAddress(v4: Bool) -> IPAddress? { addresses.first { $0.address.isV4 == v4 }?.address }

    /// Bytes the tunnel adds inside the outer UDP payload in the worst case (docs/operations.md,
    /// "MTU"): transport header, timestamp and tag (36) + the largest frame an inner packet can
    /// become, a PARITY frame: frame header (3) + parity fields (10) + the largest DATA header (21).
    public static let tunnelOverhead =
        WireFormat.transportOverhead + WireFormat.frameHeaderLength + ParityFrame.fieldsLength
        + DataFrameHeader.maximumLength

    /// The hub's default TUN MTU: the inner MTU of a branch whose smallest link is a 1500-byte
    /// IPv4 path (1402). Packets for a branch with smaller links get ICMP "too big" from the hub.
    public static let hubDefaultMTU = EngineConfiguration(
        links: [EngineLinkConfiguration(id: 1, name: "reference", mtu: 1_500, ipv6Outer: false)]
    ).innerMTU
}

extension NodeConfig {
    static let tunFields = ["name", "addresses", "routes", "mtu"]

    /// Decodes `ingress.tun`. `innerMTU` is the largest packet the tunnel carries (the edge's, from
    /// its links) or `nil` (the hub: learnt per branch); an explicit MTU above it is refused.
    static func decodeTUN(_ value: ConfigValue, innerMTU: Int?) throws(ConfigError) -> TUNConfig {
        let m = try value.mapping(allowing: tunFields)
        let nameValue = try m.required("name", expected: "the interface name, e.g. sdwan0")
        let name = try nameValue.scalarText(expected: "the interface name, e.g. sdwan0")
        let validName =
            !name.isEmpty && name.utf8.count <= 15 && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { $0.isASCII && $0 != "/" && $0 != ":" && $0 != " " && $0.value > 32 }
        guard validName else {
            throw nameValue.error(
                "`\(name)` is not an interface name",
                expected: "1 to 15 ASCII characters without spaces, `/` or `:` (sdwan0)"
            )
        }
        var addresses: [InterfaceAddress] = []
        for av in try m["addresses"]?.sequence() ?? [] {
            let text = try av.scalarText(expected: "an address with prefix length: 10.1.255.1/32")
            guard let address = InterfaceAddress(text) else {
                throw av.error(
                    "`\(text)` is not an address with a prefix length",
                    expected: "10.1.255.1/32 or fd00:1:ff::1/128"
                )
            }
            if addresses.contains(where: { $0.address == address.address }) {
                throw av.error("address \(address.address) appears twice", expected: "each address once")
            }
            addresses.append(address)
        }
        var routes: [IPPrefix] = []
        for rv in try m["routes"]?.sequence() ?? [] {
            let prefix = try NodeConfigParsing.prefix(rv)
            if routes.contains(prefix) {
                throw rv.error("route \(prefix) appears twice", expected: "each prefix once")
            }
            routes.append(prefix)
        }
        let hasV6 = addresses.contains { !$0.address.isV4 } || routes.contains { !$0.address.isV4 }
        // RFC 8200 §5: IPv6 needs a link MTU of at least 1280; IPv4 576 (RFC 791).
        let floor = hasV6 ? 1_280 : 576
        let mtu: Int
        if let mv = m["mtu"] {
            mtu = try mv.int()
            let ceiling = innerMTU ?? 9_000
            guard mtu >= floor, mtu <= ceiling else {
                throw mv.error(
                    "MTU \(mtu) is out of range",
                    expected: innerMTU == nil
                        ? "\(floor) to 9000"
                        : "\(floor) to \(ceiling) (the inner MTU: smallest link MTU − outer IP/UDP − \(TUNConfig.tunnelOverhead))"
                )
            }
        } else {
            mtu = innerMTU ?? TUNConfig.hubDefaultMTU
            if hasV6 && mtu < 1_280 {
                throw value.error(
                    "the inner MTU of the links is \(mtu), below IPv6's minimum of 1280",
                    expected:
                        "links with an MTU of at least \(1_280 + TUNConfig.tunnelOverhead + WireFormat.outerIPv4UDPLength) "
                        + "(IPv4 outer) or \(1_280 + TUNConfig.tunnelOverhead + WireFormat.outerIPv6UDPLength) (IPv6 outer), "
                        + "or no IPv6 inside"
                )
            }
        }
        return TUNConfig(name: name, addresses: addresses, routes: routes, mtu: mtu, mtuIsExplicit: m["mtu"] != nil)
    }
}
