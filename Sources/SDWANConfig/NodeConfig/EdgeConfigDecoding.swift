import SDWANCore

extension NodeConfig {
    /// Reads and validates the node config at `path` (refusing inline secrets others can read).
    public static func load(path: String) throws(ConfigError) -> NodeConfig {
        let root = try ConfigDocument.load(path: path)
        let config = try decode(root)
        try NodeConfigParsing.checkPrivate(path: path, holdsSecrets: config.holdsInlineSecrets)
        return config
    }

    /// Parses and validates node config text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> NodeConfig {
        try decode(ConfigDocument.parse(text, file: file))
    }

    static let edgeFields = [
        "role", "name", "identity", "hub", "hubs", "hub_selection", "links", "classes", "ingress", "status",
    ]
    static let hubFields = [
        "role", "name", "identity", "listen", "branches", "forwarding", "udp_targets", "classes", "status", "ingress",
    ]

    /// Decodes a parsed document; `role:` picks the schema.
    public static func decode(_ root: ConfigValue) throws(ConfigError) -> NodeConfig {
        let probe = try root.mapping(allowing: Array(Set(edgeFields + hubFields)).sorted())
        let role = try probe.required("role", expected: "edge or hub").choice([("edge", true), ("hub", false)])
        return role ? .edge(try decodeEdge(root)) : .hub(try decodeHub(root))
    }

    var holdsInlineSecrets: Bool {
        func inline(_ s: SecretReference?) -> Bool {
            if case .inline = s { return true }
            return false
        }
        switch self {
        case .edge(let c): return inline(c.privateKey) || c.hubs.contains { inline($0.presharedKey) }
        case .hub(let c): return inline(c.privateKey) || c.branches.contains { inline($0.presharedKey) }
        }
    }

    static func decodeIdentity(_ m: ConfigMapping) throws(ConfigError) -> SecretReference {
        let value = try m.required("identity", expected: "a mapping with `private_key_file`")
        let identity = try value.mapping(allowing: ["private_key_file", "private_key"])
        return try NodeConfigParsing.secret(identity, "private_key", required: true)!
    }

    static func decodeEdge(_ root: ConfigValue) throws(ConfigError) -> EdgeConfig {
        let m = try root.mapping(allowing: edgeFields)
        let file = root.file
        let name = try m.required("name", expected: "the branch's name").name()
        let privateKey = try decodeIdentity(m)
        let linkValues = try m.required("links", expected: "a list of WAN links").sequence()
        guard !linkValues.isEmpty, linkValues.count <= 255 else {
            throw m["links"]!.error("\(linkValues.count) links", expected: "1 to 255 links")
        }
        let linkNames = try linkValues.map { v throws(ConfigError) in
            try v.mapping(allowing: linkFields).required("name", expected: "the link's name").name()
        }
        var (hubs, listed) = try decodeHubs(m, linkNames: linkNames)
        var links: [NodeLinkConfig] = []
        for (index, value) in linkValues.enumerated() {
            if listed, let own = try value.mapping(allowing: linkFields)["hub_endpoint"] {
                throw own.error(
                    "a link's `hub_endpoint` is ambiguous with `hubs:`",
                    expected: "each hub's `endpoint:` or `endpoints: {\(linkNames[index]): …}`"
                )
            }
            let defaultHub = listed ? listedEndpoint(hubs, link: linkNames[index]) : hubs[0].endpoint
            if listed, defaultHub == nil {
                throw try m["hubs"]!.sequence()[0].error(
                    "hub `\(hubs[0].name)` has no endpoint for link `\(linkNames[index])`",
                    expected: "`endpoint:` for every link or `endpoints: {\(linkNames[index]): …}`"
                )
            }
            let link = try decodeLink(value, index: index, defaultHub: defaultHub)
            if links.contains(where: { $0.name == link.name }) {
                throw value.error("link name `\(link.name)` is used twice", expected: "link names unique")
            }
            if links.contains(where: { $0.id == link.id }) {
                throw value.error("link id \(link.id) is used twice", expected: "link ids unique (1 to 255)")
            }
            links.append(link)
        }
        if listed { try resolveHubEndpoints(&hubs, links: links, root: m) }
        let classes = try m["classes"].map { v throws(ConfigError) in
            try ClassTable.decode(v, linkNames: links.map(\.name))
        }
        let block = classes ?? .defaults
        var innerAddress: IPAddress?
        var forwards: [UDPForwardConfig] = []
        var tun: TUNConfig?
        if let ingress = m["ingress"] {
            let im = try ingress.mapping(allowing: ["address", "udp_forwards", "tun"])
            let innerMTU = block.engineConfiguration(links: links.map(\.engineLink)).innerMTU
            tun = try im["tun"].map { v throws(ConfigError) in try decodeTUN(v, innerMTU: innerMTU) }
            innerAddress = try im["address"].map(NodeConfigParsing.address)
            for value in try im["udp_forwards"]?.sequence() ?? [] {
                let forward = try decodeForward(value, classes: block)
                if forwards.contains(where: { $0.name == forward.name }) {
                    throw value.error("forward name `\(forward.name)` is used twice", expected: "names unique")
                }
                if forwards.contains(where: { $0.listen == forward.listen }) {
                    throw value.error(
                        "listen address \(forward.listen) is used twice",
                        expected: "one forward per port"
                    )
                }
                forwards.append(forward)
            }
            if !forwards.isEmpty {
                guard let address = innerAddress else {
                    throw ingress.error(
                        "UDP forwards need the branch's inner address",
                        expected: "`address:` inside one of the hub's allowed prefixes for this branch"
                    )
                }
                if let bad = forwards.first(where: { $0.target.address.isV4 != address.isV4 }) {
                    throw ingress.error(
                        "forward `\(bad.name)` targets \(bad.target) but the inner address \(address) is another family",
                        expected: "targets of the inner address's family"
                    )
                }
            }
        }
        return EdgeConfig(
            file: file,
            name: name,
            privateKey: privateKey,
            hubs: hubs,
            hubSelection: try decodeHubSelection(m["hub_selection"]),
            links: links,
            classes: block,
            innerAddress: innerAddress,
            forwards: forwards,
            statusListen: try NodeConfigParsing.status(m["status"], default: NodeConfig.defaultEdgeStatus),
            warnings: interfaceWarnings(links, values: linkValues, file: file),
            tun: tun
        )
    }

    static let linkFields = [
        "name", "id", "local", "interface", "family", "hub_endpoint", "tier", "cost", "metered", "mtu", "shaped_up",
        "shaped_down", "probe_interval", "standby_interval",
    ]

    static func decodeLink(
        _ value: ConfigValue,
        index: Int,
        defaultHub: UDPEndpoint?
    ) throws(ConfigError)
        -> NodeLinkConfig
    {
        let m = try value.mapping(allowing: linkFields)
        let name = try m.required("name", expected: "the link's name").name()
        let hubValue = m["hub_endpoint"]
        guard let hubEndpoint = try hubValue.map(NodeConfigParsing.endpoint) ?? defaultHub else {
            _ = try m.required("hub_endpoint", expected: "the hub's address for this link (or `hub.endpoint`)")
            throw value.error("no hub endpoint")
        }
        if let familyValue = m["family"] {
            let v6 = try familyValue.choice([("ipv4", false), ("ipv6", true)])
            if v6 == hubEndpoint.address.isV4 {
                throw familyValue.error(
                    "the hub endpoint \(hubEndpoint) is not \(v6 ? "IPv6" : "IPv4")",
                    expected: "a family matching `hub_endpoint`"
                )
            }
        }
        let wildcard = UDPEndpoint(address: hubEndpoint.address.isV4 ? .v4(0) : .v6(high: 0, low: 0), port: 0)
        let local = try m["local"].map(NodeConfigParsing.localAddress) ?? wildcard
        if local.address.isV4 != hubEndpoint.address.isV4 {
            throw m["local"]!.error(
                "local address \(local.address) and hub endpoint \(hubEndpoint) are of different families",
                expected: "a local address of the hub endpoint's family"
            )
        }
        var probe = ProbeScheduler.Configuration()
        let allowed = ProbeScheduler.Configuration.allowedIntervals
        func interval(_ key: String, _ fallback: TimeSpan) throws(ConfigError) -> TimeSpan {
            guard let v = m[key] else { return fallback }
            let span = try v.duration()
            guard allowed.contains(span) else {
                throw v.error("\(span) is out of range", expected: "an interval from 20ms to 5s")
            }
            return span
        }
        probe.interval = try interval("probe_interval", probe.interval)
        probe.standbyInterval = try interval("standby_interval", probe.standbyInterval)
        let minimumMTU = hubEndpoint.address.isV4 ? 576 : 1_280
        return NodeLinkConfig(
            name: name,
            id: UInt8(try m["id"]?.int(in: 1...255) ?? index + 1),
            local: local,
            interface: try m["interface"]?.name(),
            hubEndpoint: hubEndpoint,
            tier: try m["tier"]?.int(in: 0...15) ?? 1,
            cost: try m["cost"]?.int(in: 0...1_000_000) ?? 1,
            metered: try m["metered"]?.bool() ?? false,
            mtu: try m["mtu"]?.int(in: minimumMTU...9_000) ?? 1_500,
            shapedUpBitsPerSecond: try m["shaped_up"]?.bitRate() ?? 0,
            shapedDownBitsPerSecond: try m["shaped_down"]?.bitRate() ?? 0,
            probeInterval: probe.interval,
            standbyInterval: probe.standbyInterval
        )
    }

    static func decodeForward(_ value: ConfigValue, classes: ClassTable) throws(ConfigError) -> UDPForwardConfig {
        let m = try value.mapping(allowing: ["name", "listen", "target", "class", "max_flows", "idle_timeout"])
        let classValue = try m.required("class", expected: "the class the forward's traffic travels in")
        let className = try classValue.name()
        guard let classIndex = classes.index(of: className) else {
            throw classValue.error(
                "no class is called `\(className)`",
                expected: "one of: \(classes.classes.map(\.name).joined(separator: ", "))"
            )
        }
        return UDPForwardConfig(
            name: try m.required("name", expected: "the forward's name").name(),
            listen: try NodeConfigParsing.endpoint(m.required("listen", expected: NodeConfigParsing.endpointSyntax)),
            target: try NodeConfigParsing.endpoint(m.required("target", expected: NodeConfigParsing.endpointSyntax)),
            className: className,
            classIndex: classIndex,
            maxFlows: try m["max_flows"]?.int(in: 1...65_536) ?? 256,
            idleTimeout: try m["idle_timeout"]?.duration() ?? .seconds(60)
        )
    }

    /// glorytun's "always degraded" trap: two links that leave by one interface share its fate.
    static func interfaceWarnings(_ links: [NodeLinkConfig], values: [ConfigValue], file: String) -> [ConfigWarning] {
        var warnings: [ConfigWarning] = []
        for (i, link) in links.enumerated() {
            for (j, other) in links.enumerated() where j < i {
                let same: String?
                if let a = link.interface, let b = other.interface {
                    same = a == b ? "interface \(a)" : nil
                } else if link.interface == nil, other.interface == nil, link.local.address == other.local.address {
                    same = "the interface routing picks for \(link.local.address)"
                } else {
                    same = nil
                }
                guard let same else { continue }
                warnings.append(
                    ConfigWarning(
                        file: file,
                        line: values[i].line,
                        field: values[i].path.description,
                        message:
                            "links `\(other.name)` and `\(link.name)` would leave by \(same): they share its fate; "
                            + "set `interface:` per link or use policy routing (docs/operations.md)"
                    )
                )
            }
        }
        return warnings
    }
}
