import SDWANCore
import SDWANLinkModel

extension Topology {
    /// Reads and validates the topology file at `path`.
    public static func load(path: String) throws(ConfigError) -> Topology {
        try decode(ConfigDocument.load(path: path))
    }

    /// Parses and validates topology text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> Topology {
        try decode(ConfigDocument.parse(text, file: file))
    }

    /// Decodes a topology from a parsed document (or from a `topology:` block of another file).
    public static func decode(_ root: ConfigValue) throws(ConfigError) -> Topology {
        let m = try root.mapping(allowing: ["name", "description", "hub", "branches"])
        let name = try m.required("name", expected: "the topology's name").name()
        let description = try m["description"]?.string()
        let hubMapping = try m.required("hub", expected: "a mapping with the hub's `name`").mapping(allowing: ["name"])
        let hub = TopologyHub(name: try hubMapping.required("name", expected: "the hub's name").name())
        let branchValues = try m.required("branches", expected: "a list of branches").sequence()
        guard !branchValues.isEmpty else {
            throw m["branches"]!.error("no branches", expected: "at least one branch with at least one link")
        }
        var branches: [TopologyBranch] = []
        for value in branchValues {
            let branch = try decodeBranch(value)
            if branch.name == hub.name || branches.contains(where: { $0.name == branch.name }) {
                throw value.error(
                    "node name `\(branch.name)` is used twice",
                    expected: "a name unique among the hub and branches"
                )
            }
            branches.append(branch)
        }
        return Topology(name: name, description: description, hub: hub, branches: branches)
    }

    static func decodeBranch(_ value: ConfigValue) throws(ConfigError) -> TopologyBranch {
        let m = try value.mapping(allowing: ["name", "links"])
        let name = try m.required("name", expected: "the branch's name").name()
        let linkValues = try m.required("links", expected: "a list of WAN links").sequence()
        guard !linkValues.isEmpty else { throw m["links"]!.error("no links", expected: "at least one link") }
        var links: [TopologyLink] = []
        for linkValue in linkValues {
            let link = try decodeLink(linkValue)
            if links.contains(where: { $0.name == link.name }) {
                throw linkValue.error(
                    "duplicate link name `\(link.name)` in branch `\(name)`",
                    expected: "link names unique within a branch"
                )
            }
            links.append(link)
        }
        return TopologyBranch(name: name, links: links)
    }

    static let linkFields = ["name", "kind", "preset", "tier", "cost", "metered", "up", "down"]

    /// A link: its own fields, then the model as preset ← symmetric fields ← `up:`/`down:` fields.
    static func decodeLink(_ value: ConfigValue) throws(ConfigError) -> TopologyLink {
        let m = try value.mapping(allowing: linkFields + DirectionDecoding.fields)
        let name = try m.required("name", expected: "the link's name").name()
        var up = DirectionSettings()
        var down = DirectionSettings()
        var kind: LinkKind?
        var metered = false
        var presetName: String?
        if let presetValue = m["preset"] {
            let names = LinkPreset.all.map(\.name)
            let preset = try presetValue.choice(names.map { ($0, $0) })
            guard let found = LinkPreset.named(preset) else { throw presetValue.error("unknown preset") }
            up = found.up
            down = found.down
            kind = found.kind
            metered = found.metered
            presetName = preset
        }
        if let k = m["kind"] { kind = try k.choice(LinkKind.allCases.map { ($0.rawValue, $0) }) }
        guard let kind else {
            throw m.value.error(
                "link `\(name)` needs a `kind` or a `preset`",
                expected: "kind: one of \(LinkKind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        if let v = m["metered"] { metered = try v.bool() }
        let tier = try m["tier"]?.int(in: 1...9) ?? 1
        let cost = try m["cost"]?.double(in: 0...1e9) ?? 0

        let symmetric = try DirectionDecoding.settings(from: m)
        up = up.overridden(by: symmetric)
        down = down.overridden(by: symmetric)
        if let v = m["up"] {
            up = up.overridden(by: try DirectionDecoding.settings(from: v.mapping(allowing: DirectionDecoding.fields)))
        }
        if let v = m["down"] {
            down = down.overridden(
                by: try DirectionDecoding.settings(from: v.mapping(allowing: DirectionDecoding.fields))
            )
        }
        for (direction, settings) in [("up", up), ("down", down)] where settings.queue != nil && settings.rate == nil {
            let at =
                m[direction].flatMap { try? $0.mapping(allowing: DirectionDecoding.fields)["queue"] } ?? m["queue"]
                ?? value
            throw at.error(
                "a queue needs a rate (\(direction) has none)",
                expected: "a `rate:` for that direction, or no `queue:`"
            )
        }
        return TopologyLink(
            name: name,
            kind: kind,
            tier: tier,
            cost: cost,
            metered: metered,
            preset: presetName,
            up: up.parameters,
            down: down.parameters
        )
    }
}

extension TopologyLink {
    /// The smaller of the two directions' MTUs, if either has one.
    public var mtu: Int? {
        switch (up.mtu, down.mtu) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }
}
