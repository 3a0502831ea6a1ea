import SDWANCore
import SDWANLinkModel

/// A scenario's `sweep:` block (docs/simulator.md, "Sweeps"): a grid of raw loss rates × class
/// policies, run with `sdwan simulate --sweep` (every other run ignores the block) or, policies
/// alone at the scenario's own conditions, with `--compare`.
///
/// ```yaml
/// sweep:
///   class: voice                    # the class whose policy changes
///   links: [mpls, broadband]        # links whose loss is set to each rate, both directions
///   loss: [1%, 2%, 5%, 10%]         # raw loss rates (Bernoulli; `burst: 3` makes them Gilbert)
///   duration: 12s                   # per run (default: the scenario's)
///   policies:
///     - { name: none, links: [mpls] }
///     - { name: duplicate, mode: duplicate, links: [mpls, broadband] }
///     - { name: fec-k4, links: [mpls], fec: { k: 4, stride: 1, budget: 30ms } }
/// ```
public struct ScenarioSweep: Sendable {
    /// The class whose policy each grid point replaces.
    public var className: String
    /// Links (in every branch that has them) whose loss is set to the grid's rate, both directions.
    public var links: [String]
    /// Raw loss rates; empty: only policies (the `--compare` grid).
    public var losses: [Double]
    /// Mean burst length of the loss (Gilbert–Elliott fitted from rate and burst); `nil`: Bernoulli.
    public var meanBurst: Double?
    /// Simulated time per run; `nil`: the scenario's.
    public var duration: TimeSpan?
    public var policies: [SweepPolicy]

    public init(
        className: String,
        links: [String],
        losses: [Double],
        meanBurst: Double? = nil,
        duration: TimeSpan? = nil,
        policies: [SweepPolicy]
    ) {
        self.className = className
        self.links = links
        self.losses = losses
        self.meanBurst = meanBurst
        self.duration = duration
        self.policies = policies
    }

    /// The loss model a grid point puts on the swept links.
    public func lossModel(_ rate: Double) -> LossModel {
        guard rate > 0 else { return .none }
        if let meanBurst, meanBurst > 1 { return .gilbert(lossRatio: rate, meanBurst: meanBurst) }
        return .bernoulli(p: rate)
    }

    /// Reads the scenario at `path` and its `sweep:` block (an error when it has none).
    public static func load(path: String) throws(ConfigError) -> (scenario: Scenario, sweep: ScenarioSweep) {
        let scenario = try Scenario.load(path: path)
        let root = try ConfigDocument.load(path: path)
        let m = try root.mapping(allowing: Scenario.fields)
        let block = try m.required("sweep", expected: "a `sweep:` block (docs/simulator.md, \"Sweeps\")")
        return (scenario, try decode(block, scenario: scenario))
    }

    static let fields = ["class", "links", "loss", "burst", "duration", "policies"]

    /// Decodes a `sweep:` block against the scenario it belongs to.
    public static func decode(_ value: ConfigValue, scenario: Scenario) throws(ConfigError) -> ScenarioSweep {
        let m = try value.mapping(allowing: fields)
        let classValue = try m.required("class", expected: "the class whose policy changes, e.g. voice")
        let className = try classValue.name()
        let classNames = scenario.classes.classes.map(\.name)
        guard classNames.contains(className) else {
            throw classValue.error("no class `\(className)`", expected: "one of: \(classNames.joined(separator: ", "))")
        }
        let linkNames = scenario.topology.branches.flatMap { $0.links.map(\.name) }
        func link(_ v: ConfigValue) throws(ConfigError) -> String {
            let name = try v.name()
            guard linkNames.contains(name) else {
                throw v.error("no link `\(name)`", expected: "one of: \(linkNames.joined(separator: ", "))")
            }
            return name
        }
        let links = try m["links"]?.sequence().map(link) ?? []
        let losses = try m["loss"]?.sequence().map { (v) throws(ConfigError) in try v.ratio(upTo: 0.5) } ?? []
        if !losses.isEmpty && links.isEmpty {
            throw (m["loss"] ?? value).error("a loss grid needs the links it applies to", expected: "`links: [...]`")
        }
        let burst = try m["burst"]?.double(in: 1...1_000)
        let duration = try m["duration"].map { (v) throws(ConfigError) in try DirectionDecoding.positiveDuration(v) }
        let list = try m.required("policies", expected: "a list of policies, e.g. [{ name: none }]").sequence()
        guard !list.isEmpty else { throw value.error("no policies", expected: "at least one policy") }
        var policies: [SweepPolicy] = []
        for item in list {
            let p = try item.mapping(allowing: ["name", "mode", "copies", "links", "fec"])
            let name = try p.required("name", expected: "the policy's name, e.g. fec-k4").name()
            if policies.contains(where: { $0.name == name }) {
                throw p["name"]!.error("policy `\(name)` is listed twice", expected: "policy names unique")
            }
            var policy = SweepPolicy(name: name)
            if let modeValue = p["mode"] {
                let mode = try modeValue.choice([("best", 0), ("duplicate", 1), ("balance", 2)])
                switch mode {
                case 1: policy.mode = .duplicate(copies: try p["copies"]?.int(in: 2...8) ?? 2)
                case 2: policy.mode = .balance
                default: policy.mode = .best
                }
            }
            if let copies = p["copies"], policy.mode.map({ if case .duplicate = $0 { false } else { true } }) ?? true {
                throw copies.error("`copies` applies only to `mode: duplicate`", expected: "no `copies:` here")
            }
            policy.links = try p["links"]?.sequence().map(link)
            if let fec = p["fec"] { policy.fec = .some(try ClassTable.decodeFEC(fec)) }
            policies.append(policy)
        }
        return ScenarioSweep(
            className: className,
            links: links,
            losses: losses,
            meanBurst: burst,
            duration: duration,
            policies: policies
        )
    }
}

/// One policy of a sweep: what replaces the class's mode, links and FEC (unset fields keep the
/// scenario's).
public struct SweepPolicy: Equatable, Sendable {
    public var name: String
    public var mode: TrafficClass.Mode?
    public var links: [String]?
    /// `.some(nil)`: FEC off; `nil`: keep the class's.
    public var fec: ClassFECPolicy??

    public init(name: String, mode: TrafficClass.Mode? = nil, links: [String]? = nil, fec: ClassFECPolicy?? = nil) {
        self.name = name
        self.mode = mode
        self.links = links
        self.fec = fec
    }
}

extension Scenario {
    /// This scenario with `policy` on class `sweep.className` and, when `loss` is given, that raw
    /// loss on the sweep's links in both directions of every branch that has them (replacing the
    /// timeline's loss degrades of those links).
    public func applying(_ policy: SweepPolicy, of sweep: ScenarioSweep, loss: Double?) -> Scenario {
        var s = self
        if let c = s.classes.index(of: sweep.className) {
            if let mode = policy.mode { s.classes.classes[c].mode = mode }
            if let links = policy.links { s.classes.classes[c].allowedLinks = links }
            if let fec = policy.fec { s.classes.fec[c] = fec }
        }
        if let loss {
            // The grid's loss replaces the scenario's own on the swept links: loss degrades of
            // theirs are dropped from the timeline.
            s.timeline.events.removeAll { event in
                guard sweep.links.contains(event.link), case .degrade(let d, _) = event.action else { return false }
                return d.loss != nil
            }
            let model = sweep.lossModel(loss)
            for b in s.topology.branches.indices {
                for l in s.topology.branches[b].links.indices
                where sweep.links.contains(s.topology.branches[b].links[l].name) {
                    s.topology.branches[b].links[l].up.loss = model
                    s.topology.branches[b].links[l].down.loss = model
                }
            }
        }
        if let duration = sweep.duration {
            s.duration = duration
            s.drain = min(s.drain, duration / 2)
        }
        return s
    }
}
