import SDWANCore

extension ClassTable {
    static let classFields = [
        "name", "match", "sla", "mode", "copies", "links", "metered", "priority", "dscp", "fec", "hold",
        "switchMargin", "maxSwitchesPerMinute",
    ]
    static let matchFields = [
        "dscp", "protocol", "ports", "sourcePorts", "destinationPorts", "source", "destination",
    ]

    /// Decodes a `classes:` list (see the type's documentation). `linkNames`, when given, are the
    /// links a class's `links:` may name.
    public static func decode(_ value: ConfigValue, linkNames: [String]? = nil) throws(ConfigError) -> ClassTable {
        let items = try value.sequence()
        guard !items.isEmpty else { throw value.error("no classes", expected: "at least one class") }
        var classes: [TrafficClass] = []
        var fec: [ClassFECPolicy?] = []
        var matches: [(index: Int, rule: ClassRule)] = []
        var defaultIndex: Int?
        for item in items {
            let m = try item.mapping(allowing: classFields)
            let name = try m.required("name", expected: "the class's name").name()
            if classes.contains(where: { $0.name == name }) {
                throw m["name"]!.error("class `\(name)` is defined twice", expected: "class names unique")
            }
            let index = classes.count
            if let match = m["match"] {
                matches.append((index, try decodeMatch(match, classIndex: index)))
            } else if defaultIndex != nil {
                throw item.error(
                    "a second class without `match:`",
                    expected: "one default class (without `match:`); give this one a `match:`"
                )
            } else {
                defaultIndex = index
            }
            classes.append(try decodeClass(m, name: name, linkNames: linkNames))
            fec.append(try m["fec"].flatMap { (v) throws(ConfigError) in try decodeFEC(v) })
        }
        guard classes.count <= 255 else { throw value.error("too many classes", expected: "at most 255") }
        if defaultIndex == nil {
            defaultIndex = classes.count
            classes.append(DefaultClasses.standard)
            fec.append(nil)
        }
        return ClassTable(classes: classes, rules: matches.map(\.rule), defaultClassIndex: defaultIndex!, fec: fec)
    }

    static func decodeClass(_ m: ConfigMapping, name: String, linkNames: [String]?) throws(ConfigError) -> TrafficClass
    {
        var cls = TrafficClass(
            name: name,
            sla: try m["sla"].map { (v) throws(ConfigError) in try decodeSLA(v) } ?? .init()
        )
        let mode = try m["mode"]?.choice([("best", 0), ("duplicate", 1), ("balance", 2)]) ?? 0
        if let copies = m["copies"], mode != 1 {
            throw copies.error("`copies` applies only to `mode: duplicate`", expected: "no `copies:` here")
        }
        switch mode {
        case 1: cls.mode = .duplicate(copies: try m["copies"]?.int(in: 2...8) ?? 2)
        case 2: cls.mode = .balance
        default: cls.mode = .best
        }
        if let links = m["links"] {
            cls.allowedLinks = try links.sequence().map { (v) throws(ConfigError) in
                let link = try v.name()
                if let linkNames, !linkNames.contains(link) {
                    throw v.error("no link `\(link)`", expected: "one of: \(linkNames.joined(separator: ", "))")
                }
                return link
            }
        }
        cls.meteredAllowed = try m["metered"]?.bool() ?? true
        cls.priority =
            try m["priority"]?.choice([
                ("realtime", TrafficPriority.realtime), ("normal", .normal), ("bulk", .bulk),
            ]) ?? .normal
        cls.outerDSCP = try m["dscp"].map { (v) throws(ConfigError) in try decodeDSCP(v) }
        if let hold = m["hold"] {
            let h = try hold.mapping(allowing: ["wait", "packets"])
            cls.hold = TrafficClass.HoldPolicy(
                maxWait: try h["wait"]?.duration() ?? cls.hold.maxWait,
                maxPackets: try h["packets"]?.int(in: 0...1_000_000) ?? cls.hold.maxPackets
            )
        }
        if let margin = m["switchMargin"] { cls.switchMargin = try margin.duration() }
        if let limit = m["maxSwitchesPerMinute"] { cls.maxSwitchesPerMinute = try limit.int(in: 1...600) }
        return cls
    }

    static func decodeSLA(_ value: ConfigValue) throws(ConfigError) -> ServiceLevel {
        let m = try value.mapping(allowing: ["loss", "rtt", "jitter", "rEnter", "rStay"])
        var sla = ServiceLevel()
        sla.maxLossRatio = try m["loss"]?.ratio()
        sla.maxRTT = try m["rtt"]?.duration()
        sla.maxJitter = try m["jitter"]?.duration()
        sla.minRFactorToEnter = try m["rEnter"]?.double(in: 0...100)
        sla.minRFactorToStay = try m["rStay"]?.double(in: 0...100)
        if let enter = sla.minRFactorToEnter, let stay = sla.minRFactorToStay, stay > enter {
            throw m["rStay"]!.error("`rStay` above `rEnter` would leave a link it just entered", expected: "≤ \(enter)")
        }
        return sla
    }

    /// `fec: off`, or `{ k: 4, stride: 10, budget: 20ms }` (docs/fec.md).
    static func decodeFEC(_ value: ConfigValue) throws(ConfigError) -> ClassFECPolicy? {
        if !value.isMapping {
            _ = try value.choice([("off", 0)])
            return nil
        }
        let m = try value.mapping(allowing: ["k", "stride", "budget", "adaptive"])
        var policy = ClassFECPolicy()
        policy.groupSize = try m["k"]?.int(in: 1...FECLimits.maxGroupSize) ?? policy.groupSize
        policy.stride = try m["stride"]?.int(in: 1...64) ?? policy.stride
        if let budget = m["budget"] {
            policy.delayBudget = try budget.duration()
            guard policy.delayBudget > .zero else { throw budget.error("must be positive", expected: "e.g. 20ms") }
        }
        // `adaptive: true`: k (or off) follows the measured loss (docs/fec.md, "Adaptation").
        if let adaptive = m["adaptive"], try adaptive.bool() { policy.adaptive = FECController.Configuration() }
        return policy
    }

    static func decodeMatch(_ value: ConfigValue, classIndex: Int) throws(ConfigError) -> ClassRule {
        let m = try value.mapping(allowing: matchFields)
        guard !m.keys.isEmpty else {
            throw value.error("an empty match", expected: "at least one of: \(matchFields.joined(separator: ", "))")
        }
        func list<T>(_ key: String, _ decode: (ConfigValue) throws(ConfigError) -> T) throws(ConfigError) -> [T] {
            guard let v = m[key] else { return [] }
            let items = try v.sequence()
            guard !items.isEmpty else { throw v.error("an empty list matches nothing", expected: "at least one entry") }
            var out: [T] = []
            for item in items { out.append(try decode(item)) }
            return out
        }
        return ClassRule(
            classIndex: classIndex,
            dscp: try list("dscp", decodeDSCP),
            protocols: try list("protocol", decodeProtocol),
            ports: try list("ports", decodePortRange),
            sourcePorts: try list("sourcePorts", decodePortRange),
            destinationPorts: try list("destinationPorts", decodePortRange),
            sourcePrefixes: try list("source", decodePrefix),
            destinationPrefixes: try list("destination", decodePrefix)
        )
    }

    static let dscpNames: [(String, UInt8)] = {
        var names: [(String, UInt8)] = [("ef", 46), ("be", 0), ("va", 44)]
        for c in 1...4 {
            for d in 1...3 { names.append(("af\(c)\(d)", UInt8(8 * c + 2 * d))) }
        }
        for c in 0...7 { names.append(("cs\(c)", UInt8(8 * c))) }
        return names
    }()

    /// A DSCP: a name (ef, af41, cs1, be) or a number 0…63.
    public static func decodeDSCP(_ value: ConfigValue) throws(ConfigError) -> UInt8 {
        let text = try value.scalarText(expected: "a DSCP name (ef, af41, cs1) or 0…63")
        if let n = UInt8(text), n < 64 { return n }
        return try value.choice(dscpNames)
    }

    static func decodeProtocol(_ value: ConfigValue) throws(ConfigError) -> UInt8 {
        let text = try value.scalarText(expected: "tcp, udp, icmp or a protocol number")
        if let n = UInt8(text) { return n }
        return try value.choice([("tcp", 6), ("udp", 17), ("icmp", 1), ("icmpv6", 58)])
    }

    static func decodePortRange(_ value: ConfigValue) throws(ConfigError) -> ClosedRange<UInt16> {
        let expected = "a port (443) or a range (10000-20000)"
        let text = try value.scalarText(expected: expected)
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let low = UInt16(parts[0]), let high = UInt16(parts.last!), low <= high
        else { throw value.error("`\(text)` is not a port or port range", expected: expected) }
        return low...high
    }

    static func decodePrefix(_ value: ConfigValue) throws(ConfigError) -> IPPrefix {
        let text = try value.string()
        guard let prefix = IPPrefix(text) else {
            throw value.error("`\(text)` is not a prefix", expected: "an address/length, e.g. 10.200.0.0/16")
        }
        return prefix
    }
}
