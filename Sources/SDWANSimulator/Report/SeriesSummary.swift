/// The optional `series` section of the JSON summary (`sdwan simulate --report`,
/// docs/simulator.md "Time series"): values per sampling interval in virtual time. Every array
/// has one element per interval, in the order of `timesSeconds`; `null` where an interval had
/// nothing to measure.
public struct SeriesSummary: Codable, Sendable {
    /// The sampling interval.
    public var intervalSeconds: Double
    /// The end of each interval (the instant it was sampled).
    public var timesSeconds: [Double]
    /// Timeline steps and hub restarts, in time order.
    public var events: [SeriesEvent]
    public var links: [LinkSeries]
    public var classes: [ClassSeries]
}

/// Something the timeline did.
public struct SeriesEvent: Codable, Sendable, Equatable {
    public var atSeconds: Double
    /// `cut mpls`, `degrade lte up`, `restart hub`, …
    public var label: String
}

/// One branch link over time: the edge monitor's view beside the link models' truth.
public struct LinkSeries: Codable, Sendable {
    public var edge: String
    public var name: String
    /// The edge monitor's smoothed RTT (RFC 6298) at the sample, ms.
    public var rttMs: [Double?]
    /// Truth: the mean one-way delay up + down of the datagrams the models delivered in the
    /// interval, ms.
    public var truthRttMs: [Double?]
    /// The edge's view of the link at the sample: probing, up, degraded, down.
    public var status: [String]
    public var up: DirectionSeries
    public var down: DirectionSeries
}

/// One direction of a link over time.
public struct DirectionSeries: Codable, Sendable {
    /// The monitor's loss ratio over its short (SLA) window at the sample (up: the hub's report
    /// to the edge; down: the edge's own count).
    public var monitorLossRatio: [Double?]
    /// Truth: the model's drops ÷ datagrams offered in the interval.
    public var lossRatio: [Double?]
    /// Datagrams offered to the model in the interval.
    public var offered: [UInt64]
}

/// One class, one branch, one direction over time (as `classes[]`).
public struct ClassSeries: Codable, Sendable {
    public var edge: String
    public var name: String
    public var direction: String
    /// Inner packets the sources sent in the interval.
    public var sent: [UInt64]
    /// Of the packets sent in the interval, the share delivered by the end of the run.
    public var deliveryRatio: [Double?]
    /// One-way delay of the packets delivered in the interval (nearest-rank p50 and p99), ms.
    public var delayP50Ms: [Double?]
    public var delayP99Ms: [Double?]
    /// The links (names) the sending end had chosen for the class at the sample.
    public var links: [[String]]
}
