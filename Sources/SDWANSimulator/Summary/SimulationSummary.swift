/// The JSON summary of a run (`sdwan simulate --json FILE`; docs/simulator.md, "JSON summary").
/// Field names are a stable interface: add fields, never rename or remove them. Encoded with
/// sorted keys, so two runs with the same seed give byte-identical files apart from
/// `wallSeconds` and `simulatedPacketsPerWallSecond`.
public struct SimulationSummary: Codable, Sendable {
    public var scenario: String
    public var topology: String
    public var seed: UInt64
    public var simulatedSeconds: Double
    public var wallSeconds: Double
    /// Datagrams carried by simulated links (probes, parity, handshakes included) per wall second.
    public var simulatedPacketsPerWallSecond: Double
    public var simulatedPackets: UInt64
    /// Whether the simulation-only null cipher replaced ChaCha20-Poly1305.
    public var nullCipher: Bool
    public var links: [LinkSummary]
    public var classes: [ClassSummary]
    public var expectations: [ExpectationResult]
    /// Every expectation held.
    public var passed: Bool
    /// Time series, only when asked for (`--report`; docs/simulator.md, "Time series").
    public var series: SeriesSummary?
}

/// One branch link (`links[]`).
public struct LinkSummary: Codable, Sendable {
    public var edge: String
    public var name: String
    /// Drops by the link models ÷ datagrams offered, both directions (this run's ground truth).
    public var rawLossRatio: Double
    /// The edge monitor's RTT percentiles over its last samples (ms); `null` before any sample.
    public var rttMs: Percentiles
    /// The edge monitor's RFC 3550 jitter, the larger of its two directions (ms).
    public var jitterMs: Double
    public var up: DirectionSummary
    public var down: DirectionSummary
    /// The edge's view of the link at the end: probing, up, degraded, down.
    public var finalStatus: String
    public var stateChanges: [StateChangeSummary]
    public var blackouts: [BlackoutSummary]

    public struct Percentiles: Codable, Sendable {
        public var p50: Double?
        public var p99: Double?
    }
}

/// One direction of a link (`up`: edge → hub, `down`: hub → edge): the model's truth beside the
/// path monitor's estimate.
public struct DirectionSummary: Codable, Sendable {
    public var offered: UInt64
    public var dropped: UInt64
    /// dropped ÷ offered (model truth).
    public var lossRatio: Double
    /// Drops by cause: loss, congestion, mtu, outage, cut.
    public var drops: [String: UInt64]
    /// The monitor's cumulative loss estimate (lost ÷ (received + lost) by per-link sequence
    /// numbers; the edge's reverse direction, or the hub's report of the forward one).
    public var monitorLossRatio: Double?
    /// E|D_j − D_i| over consecutive delivered datagrams (what RFC 3550 J estimates), ms.
    public var jitterMs: Double
    /// The monitor's RFC 3550 J at the end of the run, ms.
    public var monitorJitterMs: Double
    /// Mean one-way delay of delivered datagrams (model truth), ms.
    public var meanDelayMs: Double
}

public struct StateChangeSummary: Codable, Sendable {
    public var atSeconds: Double
    public var to: String
    public var reason: String
}

/// A timeline cut of the link (either direction) until its restore.
public struct BlackoutSummary: Codable, Sendable {
    public var startedAtSeconds: Double
    public var endedAtSeconds: Double?
    /// From the cut to the edge's monitor declaring the link down; `null`: never detected.
    public var detectedAfterMs: Double?
    /// From the cut until no class at either end used the link; 0 when none did; `null`: never.
    public var steeredAfterMs: Double?

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(startedAtSeconds, forKey: .startedAtSeconds)
        try c.encode(endedAtSeconds, forKey: .endedAtSeconds)
        try c.encode(detectedAfterMs, forKey: .detectedAfterMs)
        try c.encode(steeredAfterMs, forKey: .steeredAfterMs)
    }
}

/// One class, one branch, one direction (`classes[]`).
public struct ClassSummary: Codable, Sendable {
    public var edge: String
    public var name: String
    /// `up` (branch → data centre) or `down`.
    public var direction: String
    /// Inner packets the sources sent (bulk acknowledgements are not counted).
    public var sent: UInt64
    /// Distinct inner packets delivered to the far side.
    public var delivered: UInt64
    /// Copies the receiving engine's dedupe dropped.
    public var duplicatesDropped: UInt64
    /// Losses the receiving engine repaired from parity (rebuilt, and the original never came).
    public var recoveredByFEC: UInt64
    /// Members the receiving engine rebuilt from parity before their original arrived (parity on
    /// a faster link): delivered early, not losses repaired.
    public var rebuiltBeforeOriginal: UInt64
    /// 1 − delivered ÷ sent.
    public var residualLossRatio: Double
    public var oneWayDelayMs: Delay
    /// The longest interval between two successive deliveries of one flow (max over flows), ms.
    public var longestGapMs: Double
    /// Bytes the sending engine put on the wire for the class (copies, parity, transport header
    /// and tag; outer IP/UDP excluded) ÷ inner payload bytes offered.
    public var overheadRatio: Double?
    /// Changes of the class's link set at the sending end, per simulated minute.
    public var pathChangesPerMinute: Double
    /// Delivered inner bytes × 8 ÷ the flows' active time, Mbit/s.
    public var goodputMbps: Double
    /// Voice only: G.107 R and MOS from d = p50 + max(20 ms, p99 − p50) and the residual loss
    /// with its burst ratio.
    public var rFactor: Double?
    public var mos: Double?

    public struct Delay: Codable, Sendable {
        public var p50: Double?
        public var p99: Double?
        public var max: Double?
    }
}

/// One expectation of the scenario, checked.
public struct ExpectationResult: Codable, Sendable {
    public var name: String
    public var metric: String
    /// What it applies to (`class voice`, `link mpls`), with edge and direction when given.
    public var scope: String
    public var max: Double?
    public var min: Double?
    /// The value furthest from the bound over the matching entries (`null`: none, or a blackout
    /// never detected or steered).
    public var worst: Double?
    public var entries: Int
    public var passed: Bool
    public var why: String

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(metric, forKey: .metric)
        try c.encode(scope, forKey: .scope)
        try c.encode(max, forKey: .max)
        try c.encode(min, forKey: .min)
        try c.encode(worst, forKey: .worst)
        try c.encode(entries, forKey: .entries)
        try c.encode(passed, forKey: .passed)
        try c.encode(why, forKey: .why)
    }
}
