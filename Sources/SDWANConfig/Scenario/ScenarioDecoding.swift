import Foundation
import SDWANCore

extension Scenario {
    static let fields = [
        "name", "description", "topology", "seed", "duration", "drain", "traffic", "classes", "monitor", "shaping",
        "timeline", "expectations", "sweep",
    ]

    /// Reads a scenario and the topology it names (relative to the scenario's directory).
    public static func load(path: String) throws(ConfigError) -> Scenario {
        let root = try ConfigDocument.load(path: path)
        let directory = (path as NSString).deletingLastPathComponent
        return try decode(root) { (value, relative) throws(ConfigError) in
            let resolved = relative.hasPrefix("/") ? relative : (directory as NSString).appendingPathComponent(relative)
            guard FileManager.default.fileExists(atPath: resolved) else {
                throw value.error("topology file `\(resolved)` not found", expected: "a path relative to the scenario")
            }
            return try Topology.load(path: resolved)
        }
    }

    /// Decodes a scenario document; `loadTopology` reads the file its `topology:` names. A `sweep:`
    /// block is allowed and ignored here: only `ScenarioSweep.load(path:)` (`--sweep`) reads it.
    public static func decode(
        _ root: ConfigValue,
        loadTopology: (ConfigValue, String) throws(ConfigError) -> Topology
    ) throws(ConfigError) -> Scenario {
        let m = try root.mapping(allowing: fields)
        let name = try m.required("name", expected: "the scenario's name").name()
        let topologyValue = try m.required(
            "topology",
            expected: "a topology file, e.g. ../topologies/retail-branch.yaml"
        )
        let topologyPath = try topologyValue.string()
        let topology = try loadTopology(topologyValue, topologyPath)
        let seedValue = try m.required("seed", expected: "an integer seed, e.g. 1")
        let seedText = try seedValue.scalarText(expected: "a non-negative integer")
        guard let seed = UInt64(seedText) else {
            throw seedValue.error("`\(seedText)` is not a seed", expected: "0 … 2^64 − 1")
        }
        let durationValue = try m.required("duration", expected: "simulated time, e.g. 60s")
        let duration = try DirectionDecoding.positiveDuration(durationValue)
        let drain =
            try m["drain"].map { (v) throws(ConfigError) in try DirectionDecoding.nonNegativeDuration(v) }
            ?? .seconds(2)
        guard drain < duration else {
            throw (m["drain"] ?? durationValue).error(
                "the drain leaves no time for traffic",
                expected: "drain < duration"
            )
        }
        let linkNames = topology.branches.flatMap { $0.links.map(\.name) }
        let classes =
            try m["classes"].map { (v) throws(ConfigError) in try ClassTable.decode(v, linkNames: linkNames) }
            ?? .defaults
        let monitor =
            try m["monitor"].map { (v) throws(ConfigError) in try MonitorSettings.decode(v) }
            ?? PathMonitorConfiguration()
        let shaping = try m["shaping"]?.ratio() ?? 0.95
        var traffic: [TrafficFlowSpec] = []
        for item in try m.required("traffic", expected: "a list of flows (voice, video, transactions, bulk)").sequence()
        {
            traffic.append(try decodeFlow(item, topology: topology))
        }
        var timeline = Timeline.empty
        var restarts: [TimeSpan] = []
        if let list = m["timeline"] {
            for item in try list.sequence() {
                if let restart = try decodeHubRestart(item) {
                    restarts.append(restart)
                } else {
                    timeline.events.append(try Timeline.decodeEvent(item))
                }
            }
            try timeline.validate(against: topology)
        }
        var expectations: [Expectation] = []
        for item in try m["expectations"]?.sequence() ?? [] {
            expectations.append(try decodeExpectation(item, topology: topology, classes: classes))
        }
        return Scenario(
            name: name,
            description: try m["description"]?.string(),
            file: root.file,
            topologyPath: topologyPath,
            topology: topology,
            seed: seed,
            duration: duration,
            drain: drain,
            traffic: traffic,
            classes: classes,
            monitor: monitor,
            shaping: shaping,
            timeline: timeline,
            hubRestarts: restarts,
            expectations: expectations
        )
    }

    /// `{ at: 20s, action: restart-hub }`: a new hub endpoint with the same keys; every branch
    /// session is lost and the edges must notice and handshake again.
    static func decodeHubRestart(_ item: ConfigValue) throws(ConfigError) -> TimeSpan? {
        guard case .mapping(let raw) = item.node, raw["action"]?.string == "restart-hub" else { return nil }
        let m = try item.mapping(allowing: ["at", "action"])
        return try DirectionDecoding.nonNegativeDuration(m.required("at", expected: "the offset, e.g. 20s"))
    }

    static let flowFields = [
        "kind", "branch", "direction", "dscp", "protocol", "port", "start", "stop", "calls", "rate", "size",
        "every", "request", "response", "flows", "window",
    ]

    static func decodeFlow(_ item: ConfigValue, topology: Topology) throws(ConfigError) -> TrafficFlowSpec {
        let m = try item.mapping(allowing: flowFields)
        let kinds = ["voice", "video", "transactions", "bulk"]
        let kind = try m.required("kind", expected: "one of: \(kinds.joined(separator: ", "))").choice(
            kinds.map { ($0, $0) }
        )
        let owners: [String: [String]] = [
            "calls": ["voice"], "rate": ["video", "bulk"], "every": ["transactions"], "request": ["transactions"],
            "response": ["transactions"], "flows": ["bulk"], "window": ["bulk"],
        ]
        for key in m.keys {
            if let owner = owners[key], !owner.contains(kind) {
                throw m[key]!.error(
                    "`\(key)` applies only to \(owner.joined(separator: "/")) flows",
                    expected: "no `\(key)` on \(kind)"
                )
            }
        }
        let size = try m["size"]?.byteSize()
        if let size, !(64...9_000).contains(size) {
            throw m["size"]!.error("\(size) bytes is not a plausible IP packet", expected: "64 … 9000 bytes")
        }
        let spec: TrafficFlowSpec.Kind
        var dscp: UInt8
        var ipProtocol: UInt8 = 17
        var port: UInt16 = 5_004
        switch kind {
        case "voice":
            spec = .voice(calls: try m["calls"]?.int(in: 1...10_000) ?? 1, packetSize: size ?? 200)
            dscp = 46
        case "video":
            spec = .video(
                bitsPerSecond: try m.required("rate", expected: "the video's bit rate, e.g. 2mbit").bitRate(),
                packetSize: size ?? 1_200
            )
            dscp = 34
        case "transactions":
            let every = try DirectionDecoding.positiveDuration(m.required("every", expected: "mean interval, e.g. 2s"))
            spec = .transactions(
                every: every,
                request: try m["request"]?.int(in: 1...1_000) ?? 2,
                response: try m["response"]?.int(in: 0...1_000) ?? 4,
                packetSize: size ?? 400
            )
            dscp = 18
            ipProtocol = 6
            port = 443
        default:
            spec = .bulk(
                flows: try m["flows"]?.int(in: 1...1_000) ?? 1,
                bitsPerSecond: try m["rate"]?.bitRate() ?? 1_000_000_000,
                packetSize: size ?? 1_400,
                maxWindow: try m["window"]?.int(in: 2...100_000) ?? 1_000
            )
            dscp = 10
            ipProtocol = 6
            port = 445
        }
        if let v = m["dscp"] { dscp = try ClassTable.decodeDSCP(v) }
        if let v = m["protocol"] { ipProtocol = try ClassTable.decodeProtocol(v) }
        if let v = m["port"] { port = UInt16(try v.int(in: 1...65_535)) }
        let branch = try m["branch"]?.name()
        if let branch, topology.branch(named: branch) == nil {
            throw m["branch"]!.error(
                "no branch `\(branch)`",
                expected: "one of: \(topology.branches.map(\.name).joined(separator: ", "))"
            )
        }
        let direction = try m["direction"]?.choice(FlowDirection.allCases.map { ($0.rawValue, $0) }) ?? .both
        if kind == "transactions", let d = m["direction"] {
            throw d.error("a transaction is a request up and a response down", expected: "no `direction:`")
        }
        let start =
            try m["start"].map { (v) throws(ConfigError) in try DirectionDecoding.nonNegativeDuration(v) } ?? .zero
        let stop = try m["stop"].map { (v) throws(ConfigError) in try DirectionDecoding.positiveDuration(v) }
        if let stop, stop <= start { throw m["stop"]!.error("stops before it starts", expected: "stop > start") }
        return TrafficFlowSpec(
            kind: spec,
            branch: branch,
            direction: direction,
            dscp: dscp,
            ipProtocol: ipProtocol,
            port: port,
            start: start,
            stop: stop
        )
    }
}
