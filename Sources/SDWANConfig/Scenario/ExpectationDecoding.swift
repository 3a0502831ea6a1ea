import SDWANCore

extension Scenario {
    static let expectationFields = ["name", "class", "link", "edge", "direction", "metric", "max", "min", "why"]

    /// ```yaml
    /// - name: residual voice loss within the XOR FEC formula
    ///   class: voice                 # or `link: mpls` for link metrics
    ///   edge: store-12               # optional: one branch
    ///   direction: up                # optional (classes): up | down
    ///   metric: residualLossRatio
    ///   max: { fecResidual: { loss: 2%, k: 4, sigmas: 3 } }   # or a number, lossRatio, detection
    ///   why: "p·[1 − (1 − p)^k] at p = 2 %, k = 4 (0.155 %) + 3 SE √(q(1 − q)/N)"
    /// ```
    static func decodeExpectation(
        _ item: ConfigValue,
        topology: Topology,
        classes: ClassTable
    ) throws(ConfigError) -> Expectation {
        let m = try item.mapping(allowing: expectationFields)
        let name = try m.required("name", expected: "what the expectation checks").string()
        let scope: Expectation.Scope
        let metrics: [String]
        switch (m["class"], m["link"]) {
        case (let c?, nil):
            let className = try c.name()
            guard classes.index(of: className) != nil else {
                throw c.error(
                    "no class `\(className)`",
                    expected: "one of: \(classes.classes.map(\.name).joined(separator: ", "))"
                )
            }
            scope = .classes(name: className)
            metrics = Expectation.classMetrics
        case (nil, let l?):
            let linkName = try l.name()
            let names = topology.branches.flatMap { $0.links.map(\.name) }
            guard names.contains(linkName) else {
                throw l.error("no link `\(linkName)`", expected: "one of: \(names.joined(separator: ", "))")
            }
            scope = .links(name: linkName)
            metrics = Expectation.linkMetrics
        default:
            throw item.error("an expectation names one `class:` or one `link:`", expected: "exactly one of them")
        }
        let metric = try m.required("metric", expected: "one of: \(metrics.joined(separator: ", "))").choice(
            metrics.map { ($0, $0) }
        )
        let edge = try m["edge"]?.name()
        if let edge, let e = m["edge"], topology.branch(named: edge) == nil {
            throw e.error(
                "no branch `\(edge)`",
                expected: "one of: \(topology.branches.map(\.name).joined(separator: ", "))"
            )
        }
        var direction: FlowDirection?
        if let d = m["direction"] {
            guard case .classes = scope else {
                throw d.error("`direction` applies to class metrics", expected: "no `direction:`")
            }
            direction = try d.choice([("up", FlowDirection.up), ("down", .down)])
        }
        let max = try m["max"].map { (v) throws(ConfigError) in try decodeBound(v) }
        let min = try m["min"].map { (v) throws(ConfigError) in try decodeBound(v) }
        guard max != nil || min != nil else { throw item.error("no bound", expected: "`max:` and/or `min:`") }
        let why = try m.required("why", expected: "the formula and tolerance behind the bound").string()
        return Expectation(
            name: name,
            scope: scope,
            edge: edge,
            direction: direction,
            metric: metric,
            max: max,
            min: min,
            why: why
        )
    }

    static func decodeBound(_ value: ConfigValue) throws(ConfigError) -> Expectation.Bound {
        guard value.isMapping else { return .value(try value.double()) }
        let outer = try value.mapping(allowing: ["fecResidual", "lossRatio", "detection"])
        guard outer.keys.count == 1, let key = outer.keys.first, let inner = outer[key] else {
            throw value.error("one computed bound per `max:`/`min:`", expected: "fecResidual, lossRatio or detection")
        }
        switch key {
        case "fecResidual":
            let m = try inner.mapping(allowing: ["loss", "k", "varianceFactor", "sigmas"])
            return .fecResidual(
                loss: try m.required("loss", expected: "the link's loss ratio p").ratio(),
                k: try m.required("k", expected: "members per group").int(in: 1...64),
                varianceFactor: try m["varianceFactor"]?.double(in: 1...1_000) ?? 1,
                sigmas: try m["sigmas"]?.double(in: 0...10) ?? 3
            )
        case "lossRatio":
            let m = try inner.mapping(allowing: ["q", "varianceFactor", "sigmas"])
            return .lossRatio(
                q: try m.required("q", expected: "the loss ratio from the math").ratio(),
                varianceFactor: try m["varianceFactor"]?.double(in: 1...1_000) ?? 1,
                sigmas: try m["sigmas"]?.double(in: 0...10) ?? 3
            )
        default:
            let m = try inner.mapping(allowing: ["interval", "missed", "base", "rttMultiplier", "rtt", "plus"])
            return .detection(
                interval: try m.required("interval", expected: "the probe interval").duration(),
                missed: Int64(try m.required("missed", expected: "M").int(in: 1...100)),
                base: try m["base"]?.duration() ?? .milliseconds(100),
                rttMultiplier: Int64(try m["rttMultiplier"]?.int(in: 0...100) ?? 4),
                rtt: try m.required("rtt", expected: "the link's RTT").duration(),
                plus: try m["plus"]?.duration() ?? .zero
            )
        }
    }
}
