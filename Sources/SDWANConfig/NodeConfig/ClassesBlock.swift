import SDWANCore

/// A node config's `classes:` block: the class table, its match rules and FEC policies, in the
/// engine's terms (docs/operations.md, "classes"). Absent: `DefaultClasses`.
///
/// A minimal decoder owned by the node config; the scenario format has its own and the two are to
/// be unified. The last class is the default class: it catches what no rule matches and must have
/// no `match`.
public struct ClassesBlock: Sendable {
    public var classes: [TrafficClass]
    public var rules: [ClassRule]
    public var fec: [ClassFECPolicy?]

    public init(classes: [TrafficClass], rules: [ClassRule], fec: [ClassFECPolicy?]) {
        self.classes = classes
        self.rules = rules
        self.fec = fec
    }

    /// The shipped table (docs/path-selection.md, "Default classes").
    public static let defaults = ClassesBlock(
        classes: DefaultClasses.classes,
        rules: DefaultClasses.rules,
        fec: DefaultClasses.classes.map { _ in nil }
    )

    /// The index of the class called `name`.
    public func index(of name: String) -> Int? { classes.firstIndex { $0.name == name } }

    static let classFields = [
        "name", "match", "sla", "mode", "copies", "links", "metered", "priority", "outer_dscp", "fec", "hold",
    ]
    static let matchFields = [
        "dscp", "protocol", "ports", "source_ports", "destination_ports", "source_prefixes", "destination_prefixes",
    ]

    /// Decodes a `classes:` list. `linkNames`, when given, are the names `links:` may use.
    public static func decode(_ value: ConfigValue, linkNames: [String]?) throws(ConfigError) -> ClassesBlock {
        let items = try value.sequence()
        guard !items.isEmpty else {
            throw value.error("no classes", expected: "at least one class; the last one is the default class")
        }
        guard items.count <= 255 else { throw value.error("more than 255 classes", expected: "at most 255 classes") }
        var block = ClassesBlock(classes: [], rules: [], fec: [])
        for (index, item) in items.enumerated() {
            let m = try item.mapping(allowing: classFields)
            let nameValue = try m.required("name", expected: "the class's name")
            let name = try nameValue.name()
            if block.classes.contains(where: { $0.name == name }) {
                throw nameValue.error("class name `\(name)` is used twice", expected: "class names unique")
            }
            var cls = TrafficClass(name: name, sla: try decodeSLA(m["sla"]))
            if let v = m["mode"] {
                cls.mode = try v.choice([
                    ("best", TrafficClass.Mode.best), ("duplicate", .duplicate(copies: 2)), ("balance", .balance),
                ])
            }
            if let v = m["copies"] {
                guard case .duplicate = cls.mode else {
                    throw v.error("`copies` needs `mode: duplicate`", expected: "remove `copies` or set the mode")
                }
                cls.mode = .duplicate(copies: try v.int(in: 2...8))
            }
            if let v = m["links"] {
                for linkValue in try v.sequence() {
                    let link = try linkValue.name()
                    if let linkNames, !linkNames.contains(link) {
                        throw linkValue.error(
                            "no link is called `\(link)`",
                            expected: "one of: \(linkNames.joined(separator: ", "))"
                        )
                    }
                    cls.allowedLinks.append(link)
                }
            }
            if let v = m["metered"] { cls.meteredAllowed = try v.bool() }
            if let v = m["priority"] {
                cls.priority = try v.choice([
                    ("realtime", TrafficPriority.realtime), ("normal", .normal), ("bulk", .bulk),
                ])
            }
            if let v = m["outer_dscp"] { cls.outerDSCP = UInt8(try v.int(in: 0...63)) }
            if let v = m["hold"] { cls.hold = try decodeHold(v) }
            let isLast = index == items.count - 1
            if let matchValue = m["match"] {
                if isLast {
                    throw matchValue.error(
                        "the last class is the default class and matches everything",
                        expected: "no `match` on the last class, or another class after it"
                    )
                }
                block.rules.append(try decodeMatch(matchValue, classIndex: index))
            } else if !isLast {
                throw m.value.error(
                    "class `\(name)` has no `match`",
                    expected: "a `match` block (only the last, default class has none)"
                )
            }
            block.fec.append(try m["fec"].map(decodeFEC) ?? nil)
            block.classes.append(cls)
        }
        return block
    }

    static func decodeSLA(_ value: ConfigValue?) throws(ConfigError) -> ServiceLevel {
        guard let value else { return ServiceLevel() }
        let m = try value.mapping(allowing: ["max_loss", "max_rtt", "max_jitter", "min_r", "min_r_stay"])
        var sla = ServiceLevel()
        if let v = m["max_loss"] { sla.maxLossRatio = try v.ratio() }
        if let v = m["max_rtt"] { sla.maxRTT = try v.duration() }
        if let v = m["max_jitter"] { sla.maxJitter = try v.duration() }
        if let v = m["min_r"] { sla.minRFactorToEnter = try v.double(in: 0...100) }
        if let v = m["min_r_stay"] { sla.minRFactorToStay = try v.double(in: 0...100) }
        return sla
    }

    static func decodeHold(_ value: ConfigValue) throws(ConfigError) -> TrafficClass.HoldPolicy {
        let m = try value.mapping(allowing: ["max_wait", "max_packets"])
        var hold = TrafficClass.HoldPolicy()
        if let v = m["max_wait"] { hold.maxWait = try v.duration() }
        if let v = m["max_packets"] { hold.maxPackets = try v.int(in: 0...65_536) }
        return hold
    }

    /// `fec: off`, `fec: adaptive`, or `{ group: 4, stride: 10, delay: 20ms, adaptive: false }`.
    static func decodeFEC(_ value: ConfigValue) throws(ConfigError) -> ClassFECPolicy? {
        if !value.isMapping {
            return try value.choice([
                ("off", ClassFECPolicy?.none),
                ("on", ClassFECPolicy()),
                ("adaptive", ClassFECPolicy(adaptive: FECController.Configuration())),
            ])
        }
        let m = try value.mapping(allowing: ["group", "stride", "delay", "adaptive"])
        var policy = ClassFECPolicy()
        if let v = m["group"] { policy.groupSize = try v.int(in: 2...16) }
        if let v = m["stride"] { policy.stride = try v.int(in: 1...64) }
        if let v = m["delay"] { policy.delayBudget = try v.duration() }
        if let v = m["adaptive"], try v.bool() { policy.adaptive = FECController.Configuration() }
        return policy
    }

    static let protocolNames: [(String, UInt8)] = [("tcp", 6), ("udp", 17), ("icmp", 1), ("icmpv6", 58)]

    static func decodeMatch(_ value: ConfigValue, classIndex: Int) throws(ConfigError) -> ClassRule {
        let m = try value.mapping(allowing: matchFields)
        guard !m.keys.isEmpty else {
            throw value.error("an empty `match`", expected: "at least one of: \(matchFields.joined(separator: ", "))")
        }
        var dscp: [UInt8] = []
        if let v = m["dscp"] {
            for item in try v.sequence() { dscp.append(UInt8(try item.int(in: 0...63))) }
        }
        var protocols: [UInt8] = []
        if let v = m["protocol"] {
            for item in try v.sequence() {
                let text = try item.string()
                if let number = UInt8(text) {
                    protocols.append(number)
                } else {
                    protocols.append(try item.choice(protocolNames))
                }
            }
        }
        func ports(_ key: String) throws(ConfigError) -> [ClosedRange<UInt16>] {
            guard let v = m[key] else { return [] }
            var ranges: [ClosedRange<UInt16>] = []
            for item in try v.sequence() {
                let text = try item.string()
                let parts = text.split(separator: "-", omittingEmptySubsequences: false)
                guard parts.count <= 2, let low = UInt16(parts[0]), let high = UInt16(parts.last!), low <= high else {
                    throw item.error(
                        "`\(text)` is not a port or a range",
                        expected: "a port (53) or a range (10000-20000)"
                    )
                }
                ranges.append(low...high)
            }
            return ranges
        }
        func prefixes(_ key: String) throws(ConfigError) -> [IPPrefix] {
            guard let v = m[key] else { return [] }
            var list: [IPPrefix] = []
            for item in try v.sequence() { list.append(try NodeConfigParsing.prefix(item)) }
            return list
        }
        return ClassRule(
            classIndex: classIndex,
            dscp: dscp,
            protocols: protocols,
            ports: try ports("ports"),
            sourcePorts: try ports("source_ports"),
            destinationPorts: try ports("destination_ports"),
            sourcePrefixes: try prefixes("source_prefixes"),
            destinationPrefixes: try prefixes("destination_prefixes")
        )
    }
}
