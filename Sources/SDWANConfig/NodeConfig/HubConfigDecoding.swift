import SDWANCore

extension NodeConfig {
    static func decodeHub(_ root: ConfigValue) throws(ConfigError) -> HubConfig {
        let m = try root.mapping(allowing: hubFields)
        let name = try m.required("name", expected: "the hub's name").name()
        let privateKey = try decodeIdentity(m)
        let listenValue = try m.required("listen", expected: "a list of addresses to listen on")
        var listen: [UDPEndpoint] = []
        for value in try listenValue.sequence() {
            let endpoint = try NodeConfigParsing.endpoint(value)
            // NIO cannot choose a reply's source address: a wildcard socket would answer from
            // whatever address routing picks, which the branch's NAT or firewall drops.
            if NodeConfigParsing.isWildcard(endpoint.address) {
                throw value.error(
                    "a wildcard listen address cannot send replies from the address a branch used",
                    expected: "each of the hub's addresses listed on its own (192.0.2.1:51820, [2001:db8::1]:51820)"
                )
            }
            if listen.contains(endpoint) {
                throw value.error("listen address \(endpoint) appears twice", expected: "each address once")
            }
            listen.append(endpoint)
        }
        guard !listen.isEmpty else { throw listenValue.error("no listen address", expected: "at least one") }
        let branchesValue = try m.required("branches", expected: "a list of branches")
        var branches: [BranchConfig] = []
        var prefixValues: [(IPPrefix, String, ConfigValue)] = []
        for value in try branchesValue.sequence() {
            let b = try value.mapping(allowing: ["name", "public_key", "psk_file", "psk", "allowed_prefixes"])
            let nameValue = try b.required("name", expected: "the branch's name")
            let branchName = try nameValue.name()
            if branchName == name || branches.contains(where: { $0.name == branchName }) {
                throw nameValue.error(
                    "name `\(branchName)` is used twice",
                    expected: "names unique among hub and branches"
                )
            }
            let keyValue = try b.required("public_key", expected: "the branch's public key (`sdwan pubkey`)")
            let key = try NodeConfigParsing.publicKey(keyValue)
            if let other = branches.first(where: { $0.publicKey == key }) {
                throw keyValue.error("branch `\(other.name)` has the same public key", expected: "one key per branch")
            }
            let prefixesValue = try b.required("allowed_prefixes", expected: "the branch's inner prefixes")
            var prefixes: [IPPrefix] = []
            for pv in try prefixesValue.sequence() {
                let prefix = try NodeConfigParsing.prefix(pv)
                if let (other, owner, _) = prefixValues.first(where: { $0.0.overlaps(prefix) }) {
                    throw pv.error(
                        "\(prefix) overlaps \(other) of branch `\(owner)`",
                        expected: "allowed prefixes that do not overlap (cryptokey routing needs one owner per address)"
                    )
                }
                prefixValues.append((prefix, branchName, pv))
                prefixes.append(prefix)
            }
            guard !prefixes.isEmpty else { throw prefixesValue.error("no prefixes", expected: "at least one prefix") }
            branches.append(
                BranchConfig(
                    name: branchName,
                    publicKey: key,
                    presharedKey: try NodeConfigParsing.secret(b, "psk", required: false),
                    allowedPrefixes: prefixes
                )
            )
        }
        var rules: [BranchForwardingRule] = []
        for value in try m["forwarding"]?.sequence() ?? [] {
            let r = try value.mapping(allowing: ["from", "to", "sources", "destinations"])
            func branch(_ key: String) throws(ConfigError) -> String {
                let v = try r.required(key, expected: "a branch name")
                let text = try v.name()
                guard branches.contains(where: { $0.name == text }) else {
                    throw v.error(
                        "no branch is called `\(text)`",
                        expected: "one of: \(branches.map(\.name).joined(separator: ", "))"
                    )
                }
                return text
            }
            func prefixes(_ key: String) throws(ConfigError) -> [IPPrefix] {
                var list: [IPPrefix] = []
                for pv in try r[key]?.sequence() ?? [] { list.append(try NodeConfigParsing.prefix(pv)) }
                return list
            }
            rules.append(
                BranchForwardingRule(
                    fromBranch: try branch("from"),
                    toBranch: try branch("to"),
                    sources: try prefixes("sources"),
                    destinations: try prefixes("destinations")
                )
            )
        }
        var targets = UDPTargetsConfig()
        if let value = m["udp_targets"] {
            let t = try value.mapping(allowing: ["allowed", "max_flows", "idle_timeout"])
            for ev in try t["allowed"]?.sequence() ?? [] { targets.allowed.append(try NodeConfigParsing.endpoint(ev)) }
            targets.maxFlows = try t["max_flows"]?.int(in: 1...1_000_000) ?? targets.maxFlows
            targets.idleTimeout = try t["idle_timeout"]?.duration() ?? targets.idleTimeout
        }
        let classes = try m["classes"].map { v throws(ConfigError) in try ClassTable.decode(v, linkNames: nil) }
        var tun: TUNConfig?
        if let ingress = m["ingress"] {
            let im = try ingress.mapping(allowing: ["tun"])
            tun = try im["tun"].map { v throws(ConfigError) in try decodeTUN(v, innerMTU: nil) }
            // The hub's TUN routes every branch's prefixes unless the file names its own.
            if var t = tun, t.routes.isEmpty {
                t.routes = branches.flatMap(\.allowedPrefixes)
                tun = t
            }
        }
        return HubConfig(
            file: root.file,
            name: name,
            privateKey: privateKey,
            listen: listen,
            branches: branches,
            forwarding: rules,
            udpTargets: targets,
            classes: classes ?? .defaults,
            statusListen: try NodeConfigParsing.status(m["status"], default: NodeConfig.defaultHubStatus),
            warnings: [],
            tun: tun
        )
    }
}
