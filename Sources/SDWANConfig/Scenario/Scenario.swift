import SDWANCore

/// A simulator scenario (`simulator/*.yaml`, docs/simulator.md "Scenarios"): which topology, how
/// long, what traffic per class, the class policies, the timeline, and what the run must show.
public struct Scenario: Sendable {
    /// The scenario's name.
    public var name: String
    public var description: String?
    /// The file it was read from (errors and reports).
    public var file: String
    /// The topology file as written (relative to the scenario) and as loaded.
    public var topologyPath: String
    public var topology: Topology
    /// Seeds every generator of the run (keys, links, engines, traffic).
    public var seed: UInt64
    /// Simulated time; traffic stops `drain` before the end so packets in flight can land.
    public var duration: TimeSpan
    public var drain: TimeSpan
    public var traffic: [TrafficFlowSpec]
    /// The `classes:` block (both ends use the same table).
    public var classes: ClassTable
    /// The `monitor:` block, applied to every link at both ends.
    public var monitor: PathMonitorConfiguration
    /// Each edge shapes a link to this fraction of the topology's rate in that direction (and
    /// announces the down rate to the hub); 0 turns shaping off.
    public var shaping: Double
    /// Link events (cut, restore, flap, degrade, rebind) …
    public var timeline: Timeline
    /// … and hub restarts (`action: restart-hub`), offsets from the start.
    public var hubRestarts: [TimeSpan]
    public var expectations: [Expectation]

    public init(
        name: String,
        description: String? = nil,
        file: String = "<code>",
        topologyPath: String = "<code>",
        topology: Topology,
        seed: UInt64,
        duration: TimeSpan,
        drain: TimeSpan = .seconds(2),
        traffic: [TrafficFlowSpec],
        classes: ClassTable = .defaults,
        monitor: PathMonitorConfiguration = PathMonitorConfiguration(),
        shaping: Double = 0.95,
        timeline: Timeline = .empty,
        hubRestarts: [TimeSpan] = [],
        expectations: [Expectation] = []
    ) {
        self.name = name
        self.description = description
        self.file = file
        self.topologyPath = topologyPath
        self.topology = topology
        self.seed = seed
        self.duration = duration
        self.drain = drain
        self.traffic = traffic
        self.classes = classes
        self.monitor = monitor
        self.shaping = shaping
        self.timeline = timeline
        self.hubRestarts = hubRestarts
        self.expectations = expectations
    }
}

/// Which way a flow's packets go.
public enum FlowDirection: String, CaseIterable, Hashable, Sendable {
    /// Branch LAN → data centre (through the edge, then the hub).
    case up
    /// Data centre → branch LAN.
    case down
    /// One flow each way.
    case both
}

/// One `traffic:` entry.
public struct TrafficFlowSpec: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// `calls` G.711-like calls: 50 packets/s of `packetSize` bytes (IP, default 200) each way
        /// the direction says.
        case voice(calls: Int, packetSize: Int)
        /// Constant bit rate of `packetSize`-byte packets (video conferencing, camera uplinks).
        case video(bitsPerSecond: Int64, packetSize: Int)
        /// POS transactions: Poisson arrivals with mean interval `every`; each is `request` packets
        /// up, then `response` packets down when the last request packet arrives.
        case transactions(every: TimeSpan, request: Int, response: Int, packetSize: Int)
        /// `flows` AIMD flows (TCP-like, docs/simulator.md "Bulk"): a window in packets growing
        /// by 1/W per acknowledgement and halved on a loss (at most once per RTT), paced at most
        /// at `bitsPerSecond` each; acknowledgements ride back through the tunnel.
        case bulk(flows: Int, bitsPerSecond: Int64, packetSize: Int, maxWindow: Int)
    }

    public var kind: Kind
    /// The branch; `nil` means every branch of the topology.
    public var branch: String?
    public var direction: FlowDirection
    /// The inner packets' DSCP (the classifier's input).
    public var dscp: UInt8
    /// Inner IP protocol (17 UDP, 6 TCP) and destination port: classifier inputs.
    public var ipProtocol: UInt8
    public var port: UInt16
    public var start: TimeSpan
    /// `nil`: until the drain before the end.
    public var stop: TimeSpan?

    public init(
        kind: Kind,
        branch: String? = nil,
        direction: FlowDirection = .both,
        dscp: UInt8,
        ipProtocol: UInt8 = 17,
        port: UInt16 = 5_004,
        start: TimeSpan = .zero,
        stop: TimeSpan? = nil
    ) {
        self.kind = kind
        self.branch = branch
        self.direction = direction
        self.dscp = dscp
        self.ipProtocol = ipProtocol
        self.port = port
        self.start = start
        self.stop = stop
    }

    /// The word in files and reports.
    public var kindName: String {
        switch kind {
        case .voice: "voice"
        case .video: "video"
        case .transactions: "transactions"
        case .bulk: "bulk"
        }
    }
}

/// One `expectations:` entry: a metric of the JSON summary, which entries it applies to, a bound
/// and the formula behind it.
public struct Expectation: Hashable, Sendable {
    /// How a bound is computed; computed bounds carry their inputs in the file.
    public enum Bound: Hashable, Sendable {
        case value(Double)
        /// XOR FEC residual loss at random loss p with k members: p·[1 − (1 − p)^k] plus
        /// `sigmas` standard errors √(v·q(1 − q)/N), N the entry's `sent`, v a variance factor
        /// (1 for independent loss, (1 + ρ)/(1 − ρ) for a Gilbert chain).
        case fecResidual(loss: Double, k: Int, varianceFactor: Double, sigmas: Double)
        /// A loss ratio q from the math (REFERENCE.md tables, p1·p2 for duplication) plus `sigmas`
        /// standard errors √(v·q(1 − q)/N).
        case lossRatio(q: Double, varianceFactor: Double, sigmas: Double)
        /// A detection time in ms: max(M × interval, base + N × rtt) + `plus` (the liveness rule
        /// of docs/path-selection.md with the scenario's own figures, written out).
        case detection(
            interval: TimeSpan,
            missed: Int64,
            base: TimeSpan,
            rttMultiplier: Int64,
            rtt: TimeSpan,
            plus: TimeSpan
        )

        /// The bound for an entry of `samples` packets.
        public func value(samples: UInt64) -> Double {
            let n = Double(Swift.max(samples, 1))
            switch self {
            case .value(let v): return v
            case .fecResidual(let p, let k, let v, let sigmas):
                let q = p * (1 - pow(1 - p, k))
                return q + sigmas * (v * q * (1 - q) / n).squareRoot()
            case .lossRatio(let q, let v, let sigmas):
                return q + sigmas * (v * q * (1 - q) / n).squareRoot()
            case .detection(let interval, let missed, let base, let multiplier, let rtt, let plus):
                return Swift.max(interval * missed, base + rtt * multiplier).milliseconds + plus.milliseconds
            }
        }
    }

    /// Which part of the summary the metric lives in.
    public enum Scope: Hashable, Sendable {
        case classes(name: String)
        case links(name: String)
    }

    public var name: String
    public var scope: Scope
    /// Restricts to one branch (`edge` in the summary).
    public var edge: String?
    /// Restricts class entries to one direction (`up`/`down`).
    public var direction: FlowDirection?
    /// A field of the entry (`residualLossRatio`, `longestGapMs`, `detectedAfterMs`, …).
    public var metric: String
    public var max: Bound?
    public var min: Bound?
    /// The formula and tolerance, in words.
    public var why: String

    public init(
        name: String,
        scope: Scope,
        edge: String? = nil,
        direction: FlowDirection? = nil,
        metric: String,
        max: Bound? = nil,
        min: Bound? = nil,
        why: String
    ) {
        self.name = name
        self.scope = scope
        self.edge = edge
        self.direction = direction
        self.metric = metric
        self.max = max
        self.min = min
        self.why = why
    }

    /// Metrics of `classes[]` entries an expectation may name.
    public static let classMetrics = [
        "residualLossRatio", "deliveryRatio", "longestGapMs", "oneWayDelayP50Ms", "oneWayDelayP99Ms",
        "oneWayDelayMaxMs", "rFactor", "mos", "goodputMbps", "overheadRatio", "pathChangesPerMinute",
        "recoveredByFEC", "rebuiltBeforeOriginal", "duplicatesDropped",
    ]
    /// Metrics of `links[]` entries (`detectedAfterMs`, `steeredAfterMs`: every blackout's).
    public static let linkMetrics = ["rawLossRatio", "detectedAfterMs", "steeredAfterMs", "stateChanges"]
}

/// Integer powers without Foundation.
func pow(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<exponent { result *= base }
    return result
}
