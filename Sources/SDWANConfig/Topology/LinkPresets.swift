import SDWANCore
import SDWANLinkModel

/// Ready-made link models from ../shared/REFERENCE.md ("Typical branch WAN links" and the
/// Gilbert–Elliott preset table), usable as `preset: lte-typical` with any field overridden.
///
/// One-way delay is half the table's RTT; loss is Gilbert–Elliott fitted from the table's loss
/// ratio and mean burst (per packet). Figures the reference does not give (download rates, jitter
/// shapes, the poor cell's rates) are assumptions stated in `summary` and in topologies/README.md.
public struct LinkPreset: Sendable {
    public let name: String
    public let kind: LinkKind
    public let metered: Bool
    /// One line: what the numbers are and where they come from.
    public let summary: String
    let up: DirectionSettings
    let down: DirectionSettings

    /// Edge → hub parameters of the preset alone.
    public var upParameters: LinkDirectionParameters { up.parameters }
    /// Hub → edge parameters of the preset alone.
    public var downParameters: LinkDirectionParameters { down.parameters }

    /// Every preset, in documentation order.
    public static let all: [LinkPreset] = [mpls, broadbandBusyHour, lteTypical, ltePoorCell, starlink]

    /// The preset named `name`.
    public static func named(_ name: String) -> LinkPreset? { all.first { $0.name == name } }

    static func settings(
        delayMs: Int64,
        jitter: JitterDistribution,
        loss: Double,
        burst: Double,
        rate: Int64,
        schedules: [ScheduledImpairment]? = nil
    ) -> DirectionSettings {
        var s = DirectionSettings()
        s.delay = .milliseconds(delayMs)
        s.jitter = jitter
        s.loss = .gilbert(lossRatio: loss, meanBurst: burst)
        s.rate = .bitsPerSecond(rate)
        s.mtu = 1500
        s.schedules = schedules
        return s
    }

    /// MPLS: RTT 30–60 ms → 20 ms one way; jitter "few ms" → normal σ 1 ms; 0.05 %, burst 1.2;
    /// 20 Mbit/s each way (table: 1–100).
    static let mpls = LinkPreset(
        name: "mpls",
        kind: .mpls,
        metered: false,
        summary: "RTT 40 ms, σ 1 ms, loss 0.05 % (burst 1.2), 20/20 Mbit/s",
        up: settings(delayMs: 20, jitter: .normal(std: .milliseconds(1)), loss: 0.0005, burst: 1.2, rate: 20_000_000),
        down: settings(delayMs: 20, jitter: .normal(std: .milliseconds(1)), loss: 0.0005, burst: 1.2, rate: 20_000_000)
    )

    /// Cable/DSL in the busy hour: idle RTT 13–16 ms → 7 ms one way, plus tens of ms under upload
    /// load → exponential jitter, mean 15 ms up and 5 ms down (assumed); 0.5 %, burst 2; 24 Mbit/s
    /// up (median), 100 Mbit/s down (assumed).
    static let broadbandBusyHour = LinkPreset(
        name: "broadband-busy-hour",
        kind: .broadband,
        metered: false,
        summary: "RTT 14 ms idle + exponential jitter (15 ms up, 5 ms down), loss 0.5 % (burst 2), 24/100 Mbit/s",
        up: settings(
            delayMs: 7,
            jitter: .exponential(mean: .milliseconds(15)),
            loss: 0.005,
            burst: 2,
            rate: 24_000_000
        ),
        down: settings(
            delayMs: 7,
            jitter: .exponential(mean: .milliseconds(5)),
            loss: 0.005,
            burst: 2,
            rate: 100_000_000
        )
    )

    /// LTE, typical: RTT 48–63 ms → 27 ms one way; "high, load dependent" jitter → exponential, mean
    /// 8 ms (assumed); 1 %, burst 3; 12 Mbit/s up (table: 9–15), 40 Mbit/s down (assumed).
    static let lteTypical = LinkPreset(
        name: "lte-typical",
        kind: .lte,
        metered: true,
        summary: "RTT 54 ms + exponential jitter 8 ms, loss 1 % (burst 3), 12/40 Mbit/s",
        up: settings(delayMs: 27, jitter: .exponential(mean: .milliseconds(8)), loss: 0.01, burst: 3, rate: 12_000_000),
        down: settings(
            delayMs: 27,
            jitter: .exponential(mean: .milliseconds(8)),
            loss: 0.01,
            burst: 3,
            rate: 40_000_000
        )
    )

    /// LTE, poor cell: 3 %, burst 5 (table); RTT 80 ms, exponential jitter 20 ms, 3/8 Mbit/s
    /// (assumed: below the typical range).
    static let ltePoorCell = LinkPreset(
        name: "lte-poor-cell",
        kind: .lte,
        metered: true,
        summary: "RTT 80 ms + exponential jitter 20 ms, loss 3 % (burst 5), 3/8 Mbit/s",
        up: settings(delayMs: 40, jitter: .exponential(mean: .milliseconds(20)), loss: 0.03, burst: 5, rate: 3_000_000),
        down: settings(
            delayMs: 40,
            jitter: .exponential(mean: .milliseconds(20)),
            loss: 0.03,
            burst: 5,
            rate: 8_000_000
        )
    )

    /// Starlink-like: RTT ~26 ms → 13 ms one way, normal jitter σ 3 ms (assumed: "terminal
    /// dependent"); 0.5 %, burst 2, plus an outage of 50–150 ms every 15 s, at 12, 27, 42 and 57 s
    /// past each minute (the satellite reassignment instants); 15 Mbit/s up (table: 10–25), 100 down
    /// (assumed).
    static let starlink = LinkPreset(
        name: "starlink",
        kind: .satellite,
        metered: false,
        summary: "RTT 26 ms, σ 3 ms, loss 0.5 % (burst 2), 50–150 ms brownout every 15 s, 15/100 Mbit/s",
        up: settings(
            delayMs: 13,
            jitter: .normal(std: .milliseconds(3)),
            loss: 0.005,
            burst: 2,
            rate: 15_000_000,
            schedules: [brownout]
        ),
        down: settings(
            delayMs: 13,
            jitter: .normal(std: .milliseconds(3)),
            loss: 0.005,
            burst: 2,
            rate: 100_000_000,
            schedules: [brownout]
        )
    )

    /// REFERENCE.md: "a 50–150 ms brownout every 15 s".
    static let brownout = ScheduledImpairment.periodic(
        period: .seconds(15),
        offset: .seconds(12),
        minDuration: .milliseconds(50),
        maxDuration: .milliseconds(150),
        effect: .outage
    )
}
